"""Facts about this machine: package versions, ONNX Runtime providers that really work, the GPU.

onnxruntime-gpu lists CUDA and TensorRT as *available* even where they cannot run (no GPU, no CUDA
libraries) and then silently falls back to the CPU. The truth is the provider list of a session
that was actually created, so :func:`usable_providers` creates a tiny session per provider.
Nothing here imports Qt; ONNX Runtime is imported only when asked for.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import io
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from workbench import __version__
from workbench.resources import resources_dir

PROVIDER_NAMES = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cpu": "CPUExecutionProvider",
}

_PIP_GPU_HELP = (
    "To use an NVIDIA GPU: install the CUDA and cuDNN libraries with "
    "`pip install 'onnxruntime-gpu[cuda,cudnn]'` (or `pip install -e '.[cuda]'`); Workbench then "
    "calls onnxruntime.preload_dlls() so they are found. TensorRT also needs the TensorRT "
    "libraries on LD_LIBRARY_PATH."
)
_BUNDLE_GPU_HELP = (
    "To use an NVIDIA GPU with this bundle: install NVIDIA's CUDA 13 runtime with cuBLAS and "
    "cuDNN 9 (and TensorRT 10 for the TensorRT provider) so that their libraries are on the "
    "loader path (e.g. LD_LIBRARY_PATH), then start Workbench again."
)
_CPU_BUNDLE_GPU_HELP = (
    "This bundle was built without GPU support (build_bundle.py --cpu-only); use the full "
    "bundle, or the pip-installed Workbench with `pip install 'onnxruntime-gpu[cuda,cudnn]'`."
)


def _gpu_help() -> str:
    """How to enable the GPU, in the terms of how this Workbench was installed."""
    if not getattr(sys, "frozen", False):
        return _PIP_GPU_HELP
    spec = importlib.util.find_spec("onnxruntime")
    capi = Path(next(iter(spec.submodule_search_locations))) / "capi" if spec else None
    if capi is not None and not any(capi.glob("libonnxruntime_providers_cuda*")):
        return _CPU_BUNDLE_GPU_HELP
    return _BUNDLE_GPU_HELP


GPU_HELP = _gpu_help()


def package_version(name: str, module: str | None = None) -> str:
    """The installed version of distribution *name*; in a frozen bundle, which carries no
    package metadata, the ``__version__`` of its import *module* instead."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        pass
    if module is None:
        return "not installed"
    try:
        return str(getattr(importlib.import_module(module), "__version__", "unknown version"))
    except ImportError:
        return "not installed"


def onnxruntime_version() -> str:
    version = package_version("onnxruntime-gpu")
    return version if version != "not installed" else package_version("onnxruntime", "onnxruntime")


def import_onnxruntime():
    """Import ONNX Runtime with its log quiet and the pip-installed CUDA libraries preloaded."""
    import onnxruntime as ort

    ort.set_default_logger_severity(4)  # errors about missing CUDA libraries are ours to explain
    preload = getattr(ort, "preload_dlls", None)
    if preload is not None and "CUDAExecutionProvider" in ort.get_available_providers():
        with contextlib.suppress(Exception), contextlib.redirect_stdout(io.StringIO()):
            preload()
    return ort


def quiet_session(model, providers: list, options=None):
    """Create an InferenceSession without ORT printing fallback banners to stdout."""
    ort = import_onnxruntime()
    if options is None:
        options = ort.SessionOptions()
    options.log_severity_level = 4
    with contextlib.redirect_stdout(io.StringIO()):
        return ort.InferenceSession(model, options, providers=providers)


@functools.lru_cache(maxsize=1)
def usable_providers() -> tuple[str, ...]:
    """Providers that a session really runs on here, best first (always ends with CPU)."""
    ort = import_onnxruntime()
    probe_path = resources_dir() / "models" / "provider_probe.onnx"
    if not probe_path.is_file():
        raise FileNotFoundError(f"the provider probe model is missing: {probe_path} "
                                "(a broken installation: reinstall Workbench)")
    probe = str(probe_path)
    usable = []
    for name in ort.get_available_providers():
        if name == "CPUExecutionProvider":
            continue
        try:
            session = quiet_session(probe, [name, "CPUExecutionProvider"])
        except Exception:
            continue
        if session.get_providers() and session.get_providers()[0] == name:
            usable.append(name)
    usable.append("CPUExecutionProvider")
    return tuple(usable)


def gpu_name() -> str | None:
    """The NVIDIA GPU's name from nvidia-smi, or None."""
    exe = shutil.which("nvidia-smi")
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "--query-gpu=name", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    names = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    return ", ".join(names) if out.returncode == 0 and names else None


def system_report(probe_providers: bool = True) -> dict[str, str]:
    """What ``workbench info`` and the About dialog show."""
    from workbench.pyramid.levels import reduce_backend

    try:  # the headless commands need no Qt; report it when it is there
        from PySide6 import QtCore

        qt = QtCore.qVersion()
    except ImportError as exc:
        qt = f"not importable ({exc})"
    report = {
        "Workbench": __version__,
        "Python": f"{platform.python_version()} ({sys.executable})",
        "Platform": platform.platform(),
        "Qt / PySide6": f"{qt} / {package_version('PySide6-Essentials', 'PySide6')}",
        "NumPy": package_version("numpy", "numpy"),
        "OpenCV": package_version("opencv-python-headless", "cv2"),
        "SciPy": package_version("scipy", "scipy"),
        "pyqtgraph": package_version("pyqtgraph", "pyqtgraph"),
        "scikit-image": package_version("scikit-image", "skimage")
        if not getattr(sys, "frozen", False) else "not bundled (only tests and tools use it)",
        "ONNX Runtime": onnxruntime_version(),
        "Pyramid REDUCE": reduce_backend(),
    }
    if probe_providers:
        ort = import_onnxruntime()
        listed = list(ort.get_available_providers())
        usable = list(usable_providers())
        report["ORT providers listed"] = ", ".join(listed)
        report["ORT providers usable"] = ", ".join(usable)
        gpu = gpu_name()
        report["GPU"] = gpu or "none found"
        if usable == ["CPUExecutionProvider"]:
            report["GPU inference"] = "not available — running on the CPU. " + GPU_HELP
        else:
            report["GPU inference"] = f"available ({usable[0]})"
    else:
        report["ORT providers"] = "checking…"
    return report
