"""Colorize images with an ONNX colorizer through ONNX Runtime (GPU when it works, else CPU).

Pipeline (Zhang, Isola & Efros 2016): RGB or grey in -> CIE L at full resolution -> L resized
to the network's size -> inference -> ab decoded (for bin outputs: annealed mean at
temperature T) -> ab upsampled bilinearly to full resolution -> recombined with the
full-resolution L -> sRGB ``uint8``. No Qt here: a panel drives :class:`Colorizer` from one
worker thread, the command line loops over files with it.

Using it
--------
>>> colorizer = Colorizer("model.onnx")                 # doctest: +SKIP
>>> rgb = colorizer.colorize(image, temperature=0.38)   # doctest: +SKIP
>>> result = colorizer.predict(image)                   # doctest: +SKIP
>>> warmer = result.recolor(temperature=0.2)            # doctest: +SKIP
>>> entropy = result.uncertainty()                      # doctest: +SKIP
>>> result.timings.as_ms()                              # doctest: +SKIP

``recolor`` decodes the cached output again (no network run); ``uncertainty`` is the
per-pixel entropy (0..1) of a bins model's distribution; ``timings`` the per-stage latency.

Colour hints
------------
A hint model (:attr:`Colorizer.takes_hints`; inputs ``L``, ``hint_ab``, ``hint_mask``, see
:mod:`workbench.colorize.contract`) takes user colour hints (Zhang, Zhu, Isola et al. 2017):

>>> from workbench.colorize.hints import Hint                       # doctest: +SKIP
>>> result = colorizer.predict(image, hints=[Hint(120, 45, (208, 48, 32))])  # doctest: +SKIP
>>> result.suggestions(120, 45)          # the model's own colours there   # doctest: +SKIP

``hints=None`` or ``[]`` runs a hint model without hints; hints given to an L-only model raise
:class:`~workbench.colorize.hints.HintError`. Temperature and saturation still re-decode the
kept result without a network run.

Colour inputs are reduced to their L (the network only sees L; the panel's "ground truth"
view is the input itself). RGBA inputs give RGB results; the alpha channel is kept aside in
:attr:`ColorizeResult.alpha`. Out-of-gamut colours are desaturated at constant L by default
(``gamut="keep-lightness"``); ``gamut="clip"`` is cheaper for live video when a model
predicts many colours sRGB cannot show (see the benchmark).

Providers
---------
``provider="auto"`` tries CUDA, then TensorRT, then takes the CPU. CUDA comes first because
TensorRT compiles an engine for every new input shape (tens of seconds or more the first
time), which stalls a live view; ask for ``"tensorrt"`` explicitly to use it (engines are
cached on disk). Whether a provider works is decided by the session that was actually created
(``session.get_providers()``), not by ``onnxruntime.get_available_providers()``, which lists
CUDA wherever the GPU package is installed. An explicit provider that does not work falls
back to the CPU with an explanation in :attr:`Colorizer.provider_note` instead of raising,
so a GUI keeps working; :attr:`Colorizer.fell_back` tells a command line to warn.

On CUDA, ``cudnn_conv_algo_search`` is ``HEURISTIC``: the default, ``EXHAUSTIVE``, benchmarks
every convolution algorithm for every new input shape, which makes the first frames (and each
change of size) take seconds; the heuristic choice is near the best for ordinary 3x3
convolutions and costs nothing. Frames go through I/O binding: the input is copied once into a
device buffer that is reused while the size stays the same, and the output is copied back once.

Threads
-------
One :class:`Colorizer` serves one worker thread at a time; calls from several threads are
serialised by an internal lock (ONNX Runtime itself parallelises each run, with its worker
threads told not to busy-wait between runs: on 2 cores the spinning threads halved the speed
of the decoding and recombining that follow each run). A :class:`ColorizeResult` holds its
own arrays and no session, so it can be recoloured on another thread than the one that
predicted it (one thread at a time per result). Nothing here can be cancelled midway; a
single frame is short, so a live view drops stale frames and a batch checks between files.

References
----------
.. [1] R. Zhang, P. Isola and A. A. Efros, "Colorful Image Colorization", ECCV 2016,
       arXiv:1603.08511.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from workbench.colorize.contract import (
    ColorizeError,
    ModelContract,
    ModelContractError,
    ModelLoadError,
    TensorSpec,
    resolve_contract,
)
from workbench.colorize.hints import Hint, HintError, rasterize, validate_hints
from workbench.imaging.color import (
    ColorInputError,
    lightness,
    lightness_ab_to_rgb,
)
from workbench.resources import resources_dir

__all__ = [
    "PROVIDERS",
    "ColorizeResult",
    "Colorizer",
    "StageTimings",
    "shipped_hint_model_path",
    "shipped_model_path",
]

#: Provider names accepted by :class:`Colorizer`.
PROVIDERS = ("auto", "tensorrt", "cuda", "cpu")
_ORT_NAMES = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
_LABELS = {"tensorrt": "TensorRT", "cuda": "CUDA", "cpu": "CPU"}
_AUTO_ORDER = ("cuda", "tensorrt")
Gamut = Literal["keep-lightness", "clip"]
_ORT_DTYPES = {
    "tensor(float)": "float32", "tensor(float16)": "float16", "tensor(double)": "float64",
    "tensor(uint8)": "uint8", "tensor(int64)": "int64", "tensor(int32)": "int32",
}


def shipped_model_path() -> Path:
    """Where the model that ships with Workbench lives (``resources/models/colorizer.onnx``)."""
    return resources_dir() / "models" / "colorizer.onnx"


def shipped_hint_model_path() -> Path:
    """Where the hint-taking model that ships with Workbench lives
    (``resources/models/colorizer_hints.onnx``)."""
    return resources_dir() / "models" / "colorizer_hints.onnx"


@dataclass
class StageTimings:
    """Seconds spent per stage of the last colorization (0 for stages that did not run).

    ``preprocess``: L at full resolution, resized and scaled for the network.
    ``inference``: the network (ONNX Runtime, including host<->device copies).
    ``decode``: ab from the output (annealed mean for bins), saturation, upsampling.
    ``recombine``: full-resolution L + ab -> sRGB uint8.
    """

    preprocess: float = 0.0
    inference: float = 0.0
    decode: float = 0.0
    recombine: float = 0.0

    @property
    def total(self) -> float:
        return self.preprocess + self.inference + self.decode + self.recombine

    def as_ms(self) -> dict[str, float]:
        """Milliseconds per stage and in total, for an fps/latency readout."""
        return {
            "preprocess": self.preprocess * 1e3,
            "inference": self.inference * 1e3,
            "decode": self.decode * 1e3,
            "recombine": self.recombine * 1e3,
            "total": self.total * 1e3,
        }


# --------------------------------------------------------------------------------------------
# Result of one network run: decodes again cheaply
# --------------------------------------------------------------------------------------------


class ColorizeResult:
    """One network run on one image; decoding at any temperature/saturation reuses it.

    Attributes
    ----------
    lightness : ndarray of float32, shape (H, W)
        L of the input at full resolution (the output keeps it).
    alpha : ndarray or None
        The input's alpha channel (RGBA inputs), unchanged; the colorized image is RGB, so
        a caller that wants RGBA stacks it back (``np.dstack``).
    output : ndarray of float32, shape (C, h, w)
        The network's output for this image (ab, bin probabilities or logits).
    contract : ModelContract
    timings : StageTimings
        Of the network run plus the latest decode/recombine.
    hints : tuple of Hint
        The colour hints this run was given (empty for none or an L-only model).
    """

    def __init__(
        self,
        lightness_plane: NDArray[np.float32],
        alpha: NDArray | None,
        output: NDArray[np.float32],
        contract: ModelContract,
        timings: StageTimings,
        gamut: Gamut = "keep-lightness",
        hints: tuple[Hint, ...] = (),
    ) -> None:
        self.lightness = lightness_plane
        self.hints = tuple(hints)
        self.alpha = alpha
        self.output = output
        self.contract = contract
        self.timings = timings
        self._uncertainty: NDArray[np.float32] | None = None  # computed on first request
        self.gamut = gamut
        self._log_scores: NDArray[np.float32] | None = None  # (Q, h*w); see _scores
        self._peak = 0.0

    @property
    def size(self) -> tuple[int, int]:
        """(H, W) of the input and of every full-resolution product."""
        return self.lightness.shape  # type: ignore[return-value]

    # Decoding ------------------------------------------------------------------------------

    def _scores(self) -> tuple[NDArray[np.float32], float]:
        """Bin scores as (Q, h*w) logits or log-probabilities, and their global maximum."""
        if self._log_scores is None:
            q = self.output.shape[0]
            scores = self.output.reshape(q, -1)
            if self.contract.output == "bins":  # probabilities -> log-probabilities
                if scores.size < 16:  # OpenCV reads arrays of <= 4 elements as scalars
                    scores = np.log(np.maximum(scores, np.float32(1e-30)))
                else:  # OpenCV's log measured several times faster than numpy's here
                    scores = cv2.log(cv2.max(scores, 1e-30))
            self._peak = float(scores.max())  # before _log_scores: another thread reading
            self._log_scores = scores          # the result sees both or neither
        return self._log_scores, self._peak

    def ab(self, temperature: float | None = None, saturation: float = 1.0) -> NDArray[np.float32]:
        """ab at the network's output resolution, ``(h, w, 2)`` float32 in Lab units.

        Bin outputs are decoded by the annealed mean, ``softmax(z / T)`` of the scores ``z``
        (logits, or log-probabilities), averaged over the bin centres (Zhang et al. 2016,
        Eq. 5). For speed the scores are shifted by their *global* maximum rather than each
        pixel's (one fused affine pass, then exp in place, then one 3 x Q product giving
        sum(w a), sum(w b) and sum(w)); the rare pixels whose every bin then underflows are
        redone with their own maximum.
        """
        _check_knobs(temperature, saturation)
        c = self.contract
        h, w = self.output.shape[1:]
        if c.output == "ab":
            gain = np.float32(c.ab_scale * saturation)
            ab = np.ascontiguousarray(np.moveaxis(self.output[:2], 0, -1))
            if gain != 1.0:
                ab *= gain
            return ab
        t = c.temperature if temperature is None else float(temperature)
        scores, peak = self._scores()
        centres = np.ones((3, len(c.bin_centres)), np.float32)
        centres[:2] = c.bin_centres.T
        if t == 0:
            weights = (scores == scores.max(axis=0, keepdims=True)).astype(np.float32)
        else:
            weights = _exp_affine(scores, 1.0 / t, -peak / t)
        # einsum's own loop: BLAS (np.dot) was 10x slower here with ORT's threads around
        sums = np.einsum("kq,qn->kn", centres, weights)
        lost = np.flatnonzero(~(sums[2] > 1e-30))
        if lost.size:
            z = scores[:, lost]
            z = (z - z.max(axis=0, keepdims=True)) * np.float32(1.0 / t)
            sums[:, lost] = np.einsum("kq,qn->kn", centres, np.exp(z))
        gain = np.float32(saturation) / sums[2]
        return np.stack([sums[0] * gain, sums[1] * gain], axis=-1).reshape(h, w, 2)

    def recolor(
        self,
        temperature: float | None = None,
        saturation: float = 1.0,
        gamut: Gamut | None = None,
    ) -> NDArray:
        """The colorized image at this temperature and saturation, without running the network.

        Parameters
        ----------
        temperature : float, optional
            Annealed-mean temperature T >= 0 for bin outputs (0: the most likely bin, 1: the
            mean); default the model's (0.38 unless its metadata says otherwise). Ignored
            for ab outputs.
        saturation : float, optional
            Gain on ab (0 gives grey, 1 the prediction as it is).
        gamut : {"keep-lightness", "clip"}, optional
            Colours sRGB cannot show at their L: desaturated towards grey so that L is kept
            exactly (default, set by the :class:`Colorizer`), or clipped per channel (faster
            when many pixels are out of gamut; changes their L). See
            :func:`workbench.imaging.color.lab_to_rgb`.

        Returns
        -------
        ndarray of uint8, shape (H, W, 3)
            sRGB; with ``"keep-lightness"`` its L equals the input's L up to uint8 rounding.
        """
        start = time.perf_counter()
        ab_small = self.ab(temperature, saturation)
        height, width = self.size
        ab_full = cv2.resize(ab_small, (width, height), interpolation=cv2.INTER_LINEAR)
        if ab_full.ndim == 2:  # OpenCV drops a 1-wide channel axis
            ab_full = ab_full.reshape(height, width, 2)
        decoded = time.perf_counter()
        rgb = lightness_ab_to_rgb(self.lightness, ab_full, gamut=gamut or self.gamut)
        self.timings.decode = decoded - start
        self.timings.recombine = time.perf_counter() - decoded
        return rgb

    def suggestions(self, x: float, y: float, k: int = 5) -> list[tuple[int, int, int]]:
        """Colours the model itself finds likely at input pixel (``x``, ``y``), strongest first.

        The modes of the predicted bin distribution at that pixel's output cell (bins whose
        probability is at least that of each neighbouring bin on the ab grid), as ideepcolor's
        palette offers them (Zhang et al. 2017), each shown as the sRGB colour of that ab at the
        pixel's own L (desaturated at constant L when out of gamut). When the distribution has
        fewer than ``k`` modes, the most probable remaining bins follow; identical colours are
        listed once. An ab-output model has a single suggestion, its prediction.

        Raises
        ------
        HintError
            (``x``, ``y``) outside the image, or ``k`` < 1.
        """
        height, width = self.size
        if not (np.isfinite(x) and np.isfinite(y) and 0 <= x < width and 0 <= y < height):
            raise HintError(f"({x:g}, {y:g}) is outside the {width}x{height} image")
        if int(k) < 1:
            raise HintError(f"k must be at least 1, got {k}")
        h, w = self.output.shape[1:]
        cx = min(w - 1, int((x + 0.5) * w / width))
        cy = min(h - 1, int((y + 0.5) * h / height))
        light = float(self.lightness[min(height - 1, int(y)), min(width - 1, int(x))])
        if self.contract.output == "ab":
            ab = self.ab()[cy, cx]
            candidates = [ab]
        else:
            scores, _ = self._scores()
            column = scores[:, cy * w + cx].astype(np.float64)
            p = np.exp(column - column.max())
            neighbours = _bin_neighbours(self.contract.bin_centres)
            is_mode = np.array([p[q] >= p[nb].max(initial=0.0) for q, nb in
                                enumerate(neighbours)])
            order = np.argsort(-p, kind="stable")
            ranked = [q for q in order if is_mode[q]] + [q for q in order if not is_mode[q]]
            candidates = [self.contract.bin_centres[q] for q in ranked]
        out: list[tuple[int, int, int]] = []
        for ab in candidates:
            lab = np.array([[[light, float(ab[0]), float(ab[1])]]], np.float32)
            rgb = lightness_ab_to_rgb(lab[..., 0], lab[..., 1:], gamut="keep-lightness")
            colour = tuple(int(c) for c in rgb[0, 0, :3])
            if colour not in out:
                out.append(colour)  # type: ignore[arg-type]
            if len(out) == int(k):
                break
        return out

    def uncertainty(self) -> NDArray[np.float32]:
        """Per-pixel entropy of the predicted bin distribution, 0 (one bin) .. 1 (uniform).

        Normalised by log Q and upsampled to the input's size. Independent of the
        temperature (it describes the network's distribution itself), so it is computed once
        per result and the same (read-only) array is returned after that.

        Raises
        ------
        ColorizeError
            The model predicts ab directly, so there is no distribution.
        """
        if self.contract.output == "ab":
            raise ColorizeError(
                "This model predicts ab directly; an uncertainty map needs a model that "
                "predicts a distribution over ab bins."
            )
        if self._uncertainty is not None:
            return self._uncertainty
        scores, _ = self._scores()
        q = scores.shape[0]
        z = scores - scores.max(axis=0, keepdims=True)
        p = np.exp(z)
        total = p.sum(axis=0)
        # H = log Z - sum(p z) / Z with Z = sum(exp z)
        entropy = np.log(total) - np.einsum("qn,qn->n", p, z) / total
        entropy *= np.float32(1.0 / np.log(q))
        np.clip(entropy, 0.0, 1.0, out=entropy)
        h, w = self.output.shape[1:]
        height, width = self.size
        self._uncertainty = cv2.resize(
            entropy.reshape(h, w).astype(np.float32), (width, height),
            interpolation=cv2.INTER_LINEAR,
        )
        self._uncertainty.setflags(write=False)
        return self._uncertainty


_NEIGHBOURS: dict[int, list[NDArray[np.intp]]] = {}


def _bin_neighbours(centres: NDArray[np.float32]) -> list[NDArray[np.intp]]:
    """For each bin, the bins next to it on the ab grid (within 1.5 grid steps: the 8-neighbours
    of a regular grid), cached per centres array."""
    key = id(centres)
    found = _NEIGHBOURS.get(key)
    if found is None or len(found) != len(centres):
        c = np.asarray(centres, np.float64)
        d = np.sqrt(((c[:, None, :] - c[None, :, :]) ** 2).sum(-1))
        step = float(np.min(d[d > 0])) if len(c) > 1 else 1.0
        near = (d > 0) & (d <= 1.5 * step)
        found = [np.flatnonzero(row) for row in near]
        _NEIGHBOURS[key] = found
    return found


def _exp_affine(values: NDArray[np.float32], scale: float, offset: float) -> NDArray[np.float32]:
    """``exp(values * scale + offset)`` of a 2-D float32 array in two OpenCV passes.

    OpenCV's exp measured ~3-7x numpy's here; tiny arrays go to numpy, because OpenCV's
    Python bindings read arrays of <= 4 elements as scalars.
    """
    if values.size < 16:
        return np.exp(values * np.float32(scale) + np.float32(offset))
    rows, cols = values.shape
    affine = np.array([[scale, offset]], dtype=np.float32)
    out = cv2.transform(values.reshape(rows, cols, 1), affine).reshape(rows, cols)
    return cv2.exp(out, dst=out)


def _check_knobs(temperature: float | None, saturation: float) -> None:
    if temperature is not None and not (np.isfinite(temperature) and temperature >= 0):
        raise ColorizeError(f"temperature must be a number >= 0, got {temperature}")
    if not (np.isfinite(saturation) and saturation >= 0):
        raise ColorizeError(f"saturation must be a number >= 0, got {saturation}")


# --------------------------------------------------------------------------------------------
# The engine
# --------------------------------------------------------------------------------------------


class Colorizer:
    """An ONNX colorizer ready to run.

    Parameters
    ----------
    model_path : str or os.PathLike, optional
        An ONNX colorizer (see :mod:`workbench.colorize.contract`). Default: the model that
        ships with Workbench, :func:`shipped_model_path`.
    provider : {"auto", "tensorrt", "cuda", "cpu"}
        Where to run. ``"auto"``: CUDA, else TensorRT, else the CPU. A requested GPU provider
        that does not work here falls back to the CPU with a note (see :attr:`provider_note`).
    threads : int, optional
        CPU threads for ONNX Runtime (default: its own choice, the physical cores).
    short_side : int, optional
        Run size for dynamic-size models (overrides the model's metadata; default 256).
    io_binding : bool, optional
        Use ONNX Runtime I/O binding; default on GPU providers only.
    warm_up : bool, optional
        Run the network once on load so the first real frame is not slow (and so a bin
        output's kind, probabilities or logits, is settled).
    gamut : {"keep-lightness", "clip"}, optional
        Default for :meth:`ColorizeResult.recolor`: keep the input's L exactly (desaturate
        out-of-gamut colours) or clip (cheaper when many colours are out of gamut). Can be
        changed at any time through the attribute of the same name.

    Attributes
    ----------
    model_path : Path
    contract : ModelContract
    provider : str
        The provider really used: ``"tensorrt"``, ``"cuda"`` or ``"cpu"``.
    provider_note : str
        In plain words, e.g. ``"CPU (CUDA unavailable: no NVIDIA GPU or driver was found). To
        use an NVIDIA GPU: ..."``.
    fell_back : bool
        A GPU provider was asked for by name and the CPU is used instead.
    load_seconds : float
        Session creation plus warm-up.
    last_timings : StageTimings
        Of the most recent :meth:`colorize`/:meth:`predict` (for an fps readout).

    Raises
    ------
    ModelLoadError
        No file, not ONNX, corrupt, or refused by ONNX Runtime (e.g. an IR version it does
        not read), or the shipped model is not installed.
    ModelContractError
        The model is not a colorizer this engine can drive.
    ColorizeError
        An unknown provider name.
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        provider: str = "auto",
        *,
        threads: int | None = None,
        short_side: int | None = None,
        io_binding: bool | None = None,
        warm_up: bool = True,
        gamut: Gamut = "keep-lightness",
    ) -> None:
        if gamut not in ("keep-lightness", "clip"):
            raise ColorizeError(f"gamut must be 'keep-lightness' or 'clip', got {gamut!r}")
        if provider not in PROVIDERS:
            raise ColorizeError(
                f"provider must be one of {', '.join(PROVIDERS)}; got {provider!r}"
            )
        if short_side is not None and not 8 <= int(short_side) <= 4096:
            raise ColorizeError(f"short_side must be between 8 and 4096 px, got {short_side}")
        start = time.perf_counter()
        self.model_path = _resolve_model_path(model_path)
        self.provider_requested = provider
        self.gamut: Gamut = gamut
        self._lock = threading.Lock()
        self.session, self.provider, self.provider_note, self.fell_back = _open_session(
            self.model_path, provider, threads
        )
        self.contract = _contract_of(self.session)
        if short_side is not None and self.contract.dynamic:
            self.contract = _with_short_side(self.contract, int(short_side))
        self._input_dtype = np.dtype(self.contract.input_dtype)
        self.io_binding = self.provider != "cpu" if io_binding is None else bool(io_binding)
        self._device = "cuda" if self.provider in ("cuda", "tensorrt") else "cpu"
        self._binding = None
        self._bound_input = None
        self.last_timings = StageTimings()
        self.last_result: ColorizeResult | None = None
        if warm_up:
            self._warm_up()
        self.load_seconds = time.perf_counter() - start

    # Running -------------------------------------------------------------------------------

    @property
    def takes_hints(self) -> bool:
        """True when the model takes user colour hints (``hint_ab`` and ``hint_mask`` inputs)."""
        return self.contract.takes_hints

    def predict(self, image: NDArray, hints: list[Hint] | tuple[Hint, ...] | None = None
                ) -> ColorizeResult:
        """Run the network once on ``image``; decode with :meth:`ColorizeResult.recolor`.

        Parameters
        ----------
        image : ndarray
            ``(H, W)`` grey, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA (alpha is kept aside in
            the result, not colorized); ``uint8``, ``uint16`` or float in 0..1. Colour input
            is reduced to its L first, so the network sees what it would see in a grey photo.
        hints : list of Hint, optional
            User colour hints in pixel coordinates of ``image`` (hint models only; None or
            ``[]``: no hints).

        Returns
        -------
        ColorizeResult

        Raises
        ------
        HintError
            Hints given to a model that takes none, or a hint outside the image or with a bad
            colour.
        """
        hints = tuple(hints or ())
        if hints and not self.takes_hints:
            raise HintError("this model takes no colour hints")
        with self._lock:
            timings = StageTimings()
            start = time.perf_counter()
            plane, alpha = _lightness_and_alpha(image)
            if hints:
                validate_hints(hints, plane.shape[1], plane.shape[0])
            batch = self._network_input(plane)
            extra = self._hint_inputs(hints, plane.shape, batch.shape[2:])
            prepared = time.perf_counter()
            output = self._infer(batch, extra)
            timings.preprocess = prepared - start
            timings.inference = time.perf_counter() - prepared
            result = ColorizeResult(plane, alpha, output, self.contract, timings, self.gamut,
                                    hints)
            self.last_result = result
            self.last_timings = timings
            return result

    def colorize(
        self,
        image: NDArray,
        temperature: float | None = None,
        saturation: float = 1.0,
        hints: list[Hint] | tuple[Hint, ...] | None = None,
    ) -> NDArray[np.uint8]:
        """Colorize an image: RGB ``uint8`` of the input's size.

        ``temperature`` (default: the model's, 0.38 unless its metadata says otherwise) and
        ``saturation`` are as in :meth:`ColorizeResult.recolor`; ``image`` as in
        :meth:`predict`, and so are ``hints``. To try several temperatures on one image, call
        :meth:`predict` once and ``recolor`` the result.
        """
        _check_knobs(temperature, saturation)
        result = self.predict(image, hints)
        return result.recolor(temperature, saturation)

    def uncertainty(self, image: NDArray) -> NDArray[np.float32]:
        """Per-pixel entropy (0..1) of the bin distribution for ``image``; see
        :meth:`ColorizeResult.uncertainty`; a writable array of the caller's own."""
        return self.predict(image).uncertainty().copy()

    def close(self) -> None:
        """Release the ONNX Runtime session (GPU memory) now rather than at garbage collection."""
        with self._lock:
            self._binding = self._bound_input = None
            self.session = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Colorizer('{self.model_path.name}', provider={self.provider!r}, "
            f"output={self.contract.output!r})"
        )

    # Internals -----------------------------------------------------------------------------

    def _network_input(self, plane: NDArray[np.float32]) -> NDArray:
        c = self.contract
        height, width = plane.shape
        run_h, run_w = c.run_size(height, width)
        shrinking = run_h * run_w < height * width
        small = cv2.resize(
            plane, (run_w, run_h), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        )
        if c.input_scale != 1.0 or c.input_offset != 0.0:
            small = cv2.addWeighted(small, c.input_scale, small, 0.0, c.input_offset)
        return small.reshape(1, 1, run_h, run_w).astype(self._input_dtype, copy=False)

    def _hint_inputs(self, hints: tuple[Hint, ...], image_size: tuple[int, int],
                     run_size: tuple[int, int]) -> dict[str, NDArray]:
        """The hint model's ``hint_ab``/``hint_mask`` feeds (empty for an L-only model)."""
        c = self.contract
        if not c.takes_hints:
            return {}
        ab, mask = rasterize(hints, image_size, run_size)
        return {c.hint_ab_name: ab.astype(self._input_dtype, copy=False),
                c.hint_mask_name: mask.astype(self._input_dtype, copy=False)}

    def _infer(self, batch: NDArray, extra: dict[str, NDArray] | None = None
               ) -> NDArray[np.float32]:
        if self.session is None:
            raise ColorizeError("This colorizer has been closed.")
        c = self.contract
        if self.io_binding:
            output = self._infer_bound(batch, extra or {})
        else:
            output = self.session.run([c.output_name], {c.input_name: batch, **(extra or {})})[0]
        output = np.asarray(output)
        if output.ndim != 4 or output.shape[1] != c.output_channels:
            raise ModelContractError(
                f"the model's output '{c.output_name}' has shape {output.shape} at run time; "
                f"expected (1, {c.output_channels}, h, w)"
            )
        return np.ascontiguousarray(output[0], dtype=np.float32)

    def _infer_bound(self, batch: NDArray, extra: dict[str, NDArray]) -> NDArray:
        from workbench.runtime import import_onnxruntime

        ort = import_onnxruntime()
        c = self.contract
        if self._binding is None:
            self._binding = self.session.io_binding()
        binding = self._binding
        bound = self._bound_input
        if bound is not None and tuple(bound.shape()) == batch.shape:
            bound.update_inplace(batch)  # one host->device copy into the same buffer
        else:
            bound = ort.OrtValue.ortvalue_from_numpy(batch, self._device, 0)
            self._bound_input = bound
            binding.bind_ortvalue_input(c.input_name, bound)
            binding.bind_output(c.output_name, self._device, 0)
        for name, value in extra.items():  # hint maps: small, bound afresh each run
            binding.bind_cpu_input(name, value)
        self.session.run_with_iobinding(binding)
        return binding.get_outputs()[0].numpy()  # one device->host copy

    def _warm_up(self) -> None:
        c = self.contract
        h, w = c.run_size(c.short_side, c.short_side)
        ramp = np.linspace(0.0, 100.0, h * w, dtype=np.float32).reshape(1, 1, h, w)
        if c.input_scale != 1.0 or c.input_offset != 0.0:
            ramp = ramp * np.float32(c.input_scale) + np.float32(c.input_offset)
        ramp = ramp.astype(self._input_dtype)
        output = self._infer(ramp, self._hint_inputs((), (h, w), (h, w)))
        if c.scores_undecided:
            sums = output.sum(axis=0)
            probabilities = output.min() >= 0 and np.allclose(sums, 1.0, atol=1e-3)
            kind = "bins" if probabilities else "logits"
            self.contract = c.with_output(
                kind,
                "the output was found to hold "
                + ("probabilities (non-negative, summing to 1)" if probabilities else "logits"),
            )


# --------------------------------------------------------------------------------------------
# Helpers: model file, session, provider, contract, input image
# --------------------------------------------------------------------------------------------


def _resolve_model_path(model_path: str | os.PathLike[str] | None) -> Path:
    if model_path is None:
        path = shipped_model_path()
        if not path.is_file():
            raise ModelLoadError(
                f"The colorization model that ships with Workbench is not installed (expected "
                f"{path}). Open an ONNX colorizer instead (--model FILE, or Open model...)."
            )
        return path
    path = Path(model_path)
    if not path.exists():
        raise ModelLoadError(f"Model file '{path}' does not exist.")
    if not path.is_file():
        raise ModelLoadError(f"'{path}' is not a file.")
    return path


_IR_REFUSED = re.compile(r"Unsupported model IR version: (\d+), max supported IR version: (\d+)")


def _load_error(path: Path, exc: Exception) -> ModelLoadError:
    """Turn ONNX Runtime's load failure into a message a user can act on."""
    from workbench.runtime import onnxruntime_version

    text = str(exc)
    refused = _IR_REFUSED.search(text)
    if refused:
        version = onnxruntime_version()
        return ModelLoadError(
            f"'{path.name}' uses ONNX IR version {refused.group(1)}, but this ONNX Runtime "
            f"({version}) reads up to IR version {refused.group(2)}. Re-export the model with "
            f"IR version {refused.group(2)} or lower (e.g. set model.ir_version before saving), "
            "or upgrade onnxruntime."
        )
    if "protobuf parsing failed" in text or "No graph was found" in text:
        return ModelLoadError(
            f"'{path.name}' is not an ONNX model (or it is corrupt or truncated)."
        )
    detail = text.split(" : ")[-1].strip().splitlines()[0] if text else type(exc).__name__
    return ModelLoadError(f"ONNX Runtime cannot load '{path.name}': {detail}")


def _session_options(threads: int | None):
    from workbench.runtime import import_onnxruntime

    ort = import_onnxruntime()
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # ORT's worker threads busy-wait after each run by default; on a 2-core machine they then
    # steal the CPU from decoding and recombining the frame (measured: both ~2x slower).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads is not None:
        options.intra_op_num_threads = max(1, int(threads))
    return options


def _provider_entry(name: str):
    """The providers= entry for ``name``, with the options chosen for live video."""
    if name == "cuda":
        return (_ORT_NAMES["cuda"], {"cudnn_conv_algo_search": "HEURISTIC"})
    if name == "tensorrt":
        cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        cache = cache / "workbench" / "tensorrt"
        return (_ORT_NAMES["tensorrt"], {
            "trt_engine_cache_enable": "True",
            "trt_engine_cache_path": str(cache),
        })
    return _ORT_NAMES["cpu"]


def _gpu_unavailable_reason(name: str) -> str:
    from workbench.runtime import gpu_name, import_onnxruntime

    ort = import_onnxruntime()
    if _ORT_NAMES[name] not in ort.get_available_providers():
        return f"this ONNX Runtime build has no {_LABELS[name]} support"
    if gpu_name() is None:
        return "no NVIDIA GPU or driver was found"
    if name == "tensorrt":
        return "the TensorRT libraries could not be loaded"
    return "the CUDA/cuDNN libraries could not be loaded"


def _open_session(path: Path, provider: str, threads: int | None):
    """-> (session, provider used, note, fell_back)."""
    from workbench.runtime import GPU_HELP, gpu_name, quiet_session, usable_providers

    if provider == "auto":
        usable = set(usable_providers())
        candidates = [p for p in _AUTO_ORDER if _ORT_NAMES[p] in usable]
    elif provider == "cpu":
        candidates = []
    else:
        candidates = [provider]
    reasons: list[str] = []
    fallback = None  # a session whose GPU provider failed runs on the CPU: reuse it
    for name in candidates:
        try:
            session = quiet_session(
                str(path), [_provider_entry(name), _ORT_NAMES["cpu"]], _session_options(threads)
            )
        except Exception as exc:  # noqa: BLE001 - ORT raises its own types; decide below
            error = _load_error(path, exc)
            if "IR version" in str(error) or "not an ONNX model" in str(error):
                raise error from None
            reasons.append(f"{_LABELS[name]}: {error}")
            continue
        if session.get_providers() and session.get_providers()[0] == _ORT_NAMES[name]:
            gpu = gpu_name()
            note = _LABELS[name] + (f" ({gpu})" if gpu else "")
            return session, name, note, False
        reasons.append(f"{_LABELS[name]} unavailable: {_gpu_unavailable_reason(name)}")
        if session.get_providers() == [_ORT_NAMES["cpu"]]:
            fallback = session
    if fallback is not None:
        session = fallback
    else:
        try:
            session = quiet_session(str(path), [_ORT_NAMES["cpu"]], _session_options(threads))
        except Exception as exc:  # noqa: BLE001
            raise _load_error(path, exc) from None
    if provider == "cpu":
        note = "CPU (as requested)"
    elif provider == "auto" and not reasons:
        reason = _gpu_unavailable_reason("cuda")
        note = f"CPU (no GPU provider works here: {reason}). {GPU_HELP}"
    else:
        note = f"CPU ({'; '.join(reasons)}). {GPU_HELP}"
    return session, "cpu", note, provider in ("cuda", "tensorrt")


def _specs(items) -> list[TensorSpec]:
    specs = []
    for item in items:
        shape = None if item.shape is None else tuple(
            d if isinstance(d, int) else (d or None) for d in item.shape
        )
        specs.append(TensorSpec(item.name, shape, _ORT_DTYPES.get(item.type, item.type)))
    return specs


def _contract_of(session) -> ModelContract:
    meta = session.get_modelmeta().custom_metadata_map
    return resolve_contract(_specs(session.get_inputs()), _specs(session.get_outputs()), meta)


def _with_short_side(contract: ModelContract, short_side: int) -> ModelContract:
    from dataclasses import replace

    return replace(contract, short_side=short_side, forced_size=None)


def _lightness_and_alpha(image: NDArray) -> tuple[NDArray[np.float32], NDArray | None]:
    if not isinstance(image, np.ndarray):
        raise ColorizeError(f"image must be a numpy array, got {type(image).__name__}")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise ColorizeError(
            f"image must be (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA; got shape {image.shape}"
        )
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ColorizeError(f"image is empty (shape {image.shape})")
    try:
        plane = lightness(image)
    except ColorInputError as exc:
        raise ColorizeError(str(exc)) from None
    alpha = image[..., 3].copy() if image.ndim == 3 and image.shape[2] == 4 else None
    return plane, alpha
