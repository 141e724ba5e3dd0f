"""Colorize many files: the Colorize panel's folder batch and ``workbench colorize``. No Qt.

Built on :mod:`workbench.batch`: inline by default, on local processes or on Dask, resumable.
Each input is read safely, colorized at its own size and written as ``<stem>.png`` into the
output folder; a file that fails is reported and skipped, never stopping the batch or losing what
was already written (each output is written atomically by ``write_image``). The ONNX session is
loaded once per worker, with the provider chosen there (a GPU worker uses its GPU).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from workbench.batch import (
    BatchReport,
    Task,
    expand_inputs,
    make_out_dir,
    run_batch,
    tasks_for,
)
from workbench.errors import InputError
from workbench.imaging.io import SUPPORTED_READ_EXTENSIONS, read_image, write_image

__all__ = ["BatchReport", "ColorizeJob", "colorize_files", "images_in", "output_paths"]


def images_in(folder: str | Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"'{folder}' is not a folder.")
    return expand_inputs([folder], SUPPORTED_READ_EXTENSIONS)


def output_paths(inputs: Sequence[Path], out_dir: Path) -> list[Path]:
    """``<stem>.png`` per input; inputs that share a stem get ``<stem>_2.png``, … (no overwrite
    of one result by another)."""
    return [Path(t.output) for t in tasks_for(inputs, out_dir)]


@dataclass(frozen=True)
class ColorizeJob:
    """Colorize one photo per task with a model loaded once per worker."""

    model: str | None = None  # None: the shipped model
    provider: str = "auto"
    temperature: float | None = None
    saturation: float = 1.0
    name: str = "colorize"

    def setup(self):
        from workbench.colorize.engine import Colorizer

        return Colorizer(self.model, provider=self.provider)

    def run(self, colorizer, task: Task) -> None:
        image = read_image(task.source)
        write_image(task.output, colorizer.colorize(image, self.temperature, self.saturation))


def colorize_files(
    colorizer,
    inputs: Iterable[str | Path],
    out_dir: str | Path,
    *,
    temperature: float | None = None,
    saturation: float = 1.0,
    progress: Callable[[int, int, Path], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    model: str | None = None,
    provider: str = "auto",
    workers: int = 0,
    scheduler: str | None = None,
    resume: bool = False,
    on_start=None,
) -> BatchReport:
    """Colorize ``inputs`` (files or folders) into ``out_dir`` (created if needed).

    Inline with ``colorizer``, a loaded :class:`~workbench.colorize.engine.Colorizer` (the
    panel's). With ``workers`` local processes or a Dask ``scheduler``, pass ``colorizer=None``:
    each worker loads ``model`` (None: the shipped one) on ``provider`` itself. The rest as in
    :func:`workbench.batch.run_batch`.
    """
    files = expand_inputs(inputs, SUPPORTED_READ_EXTENSIONS)
    out_dir = make_out_dir(out_dir)
    if colorizer is not None:
        model, provider = str(colorizer.model_path), colorizer.provider
    job = ColorizeJob(model, provider, temperature, saturation)
    step = None
    if progress is not None:
        def step(done, total, task):
            progress(done, total, Path(task.source))
    inline = workers == 0 and not scheduler
    return run_batch(job, tasks_for(files, out_dir), workers=workers, scheduler=scheduler,
                     resume=resume, state=colorizer if inline else None, progress=step,
                     cancelled=cancelled, on_start=on_start)
