"""Colorize many files: the folder batch of the Colorize panel and ``workbench colorize``. No Qt.

Each input is read safely, colorized at its own size and written as ``<stem>.png`` into the output
folder; a file that fails is reported and skipped, never stopping the batch or losing what was
already written (each output is written atomically by ``write_image``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.imaging.io import SUPPORTED_READ_EXTENSIONS, read_image, write_image


@dataclass
class BatchReport:
    written: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0


def images_in(folder: str | Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise WorkbenchError(f"'{folder}' is not a folder.")
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in SUPPORTED_READ_EXTENSIONS)


def output_paths(inputs: Sequence[Path], out_dir: Path) -> list[Path]:
    """``<stem>.png`` per input; inputs that share a stem get ``<stem>_2.png``, … (no overwrite
    of one result by another)."""
    seen: dict[str, int] = {}
    paths = []
    for p in inputs:
        n = seen.get(p.stem, 0) + 1
        seen[p.stem] = n
        paths.append(out_dir / (f"{p.stem}.png" if n == 1 else f"{p.stem}_{n}.png"))
    return paths


def colorize_files(
    colorizer,
    inputs: Iterable[str | Path],
    out_dir: str | Path,
    *,
    temperature: float | None = None,
    saturation: float = 1.0,
    progress: Callable[[int, int, Path], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> BatchReport:
    """Colorize ``inputs`` into ``out_dir`` (created if needed); see the module docstring."""
    import time

    start = time.perf_counter()
    inputs = [Path(p) for p in inputs]
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkbenchError(f"Cannot create output folder '{out_dir}': {exc.strerror}") from exc
    report = BatchReport()
    for i, (src, dst) in enumerate(zip(inputs, output_paths(inputs, out_dir), strict=True)):
        if cancelled is not None and cancelled():
            report.cancelled = True
            break
        if progress is not None:
            progress(i, len(inputs), src)
        try:
            image = read_image(src)
            write_image(dst, colorizer.colorize(image, temperature, saturation))
        except WorkbenchError as exc:
            report.failed.append((src, str(exc)))
            continue
        report.written.append(dst)
    report.seconds = time.perf_counter() - start
    return report
