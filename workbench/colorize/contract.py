"""What an ONNX colorizer takes and returns: the model contract, from metadata or from shapes.

A colorizer takes the CIE L channel and returns either ab directly or a distribution over Q
quantised ab bins, decoded by the annealed mean (Zhang, Isola & Efros 2016). The contract is
read from the model's ONNX metadata (``metadata_props``) when present, and inferred from the
input and output shapes otherwise.

Metadata keys (all values are strings; every key is optional)
-------------------------------------------------------------
``workbench.input``
    ``"L"``: the input is CIE L* (the only kind supported).
``workbench.input_scale``, ``workbench.input_offset``
    The network sees ``L * scale + offset`` (defaults 1 and 0: raw L in 0..100). For
    ``L / 50 - 1`` write scale ``0.02`` and offset ``-1``.
``workbench.input_size``
    For inputs of dynamic height/width: ``"S"`` runs the network with the image's short side
    resized to S pixels (aspect kept); ``"HxW"`` runs it at exactly H x W. Default 256.
``workbench.size_multiple``
    Dynamic sizes are rounded to a multiple of this (default 32, which suits encoders that
    downsample up to 32x; use 8 or 16 when the network allows).
``workbench.output``
    ``"ab"``, ``"bins"`` (probabilities over the bins) or ``"logits"`` (unnormalised).
``workbench.output_name``
    Which graph output to use when there are several (default: the first).
``workbench.ab_scale``
    For ``ab`` outputs: Lab ab = output * ab_scale (default 1: Lab units; 110 for a
    network that predicts ab / 110).
``workbench.bin_centres``
    For ``bins``/``logits``: JSON list of the Q bin centres ``[[a, b], ...]`` in Lab units,
    in the order of the output channels.
``workbench.temperature``
    The annealed-mean temperature this model looks best at (default 0.38, Zhang et al.).
``workbench.hints``
    ``"ab-mask"``: the model takes user colour hints (Zhang, Zhu, Isola et al. 2017) besides
    L, as two more inputs at L's size: ``hint_ab`` (N, 2, H, W), the hints' a*, b* in Lab
    units (0 where no hint), and ``hint_mask`` (N, 1, H, W), 1 where a hint is, 0 elsewhere
    (see :mod:`workbench.colorize.hints`). Without the key, a model whose three inputs are
    named ``L``-like, ``hint_ab`` and ``hint_mask`` is taken as a hint model too; a model with
    one input takes no hints.

Inference without metadata (heuristics)
---------------------------------------
* Input ``(N, 1, H, W)`` with N 1 or dynamic, H and W fixed numbers or dynamic (plus
  ``hint_ab`` and ``hint_mask`` for a hint model, see ``workbench.hints``).
* The input is raw L in 0..100, and an ``ab`` output is in Lab units. This is how Zhang et
  al.'s ECCV16 and SIGGRAPH17 colorizers behave when exported from their PyTorch code (their
  ``normalize_l``/``unnormalize_ab`` steps are inside the network), so the widely used
  exports (input 1x1x256x256, output 1x2x256x256, no metadata) load unchanged.
* Output ``(N, 2, h, w)`` is ``ab``; ``(N, Q, h, w)`` with Q > 2 is a bin distribution, whose
  centres must come from metadata unless Q equals the number of grid-10 gamut bins
  (:func:`workbench.colorize.bins.ab_gamut_bins`, Q = 261), in which case those are assumed.
  Whether such an output holds probabilities or logits is decided by the engine from its
  first output (probabilities are non-negative and sum to 1 over the bins).
* The output's h, w may differ from the input's (e.g. 1/4 resolution); ab is upsampled.

Anything else raises :class:`ModelContractError` with what was expected and what was found.

References
----------
.. [1] R. Zhang, P. Isola and A. A. Efros, "Colorful Image Colorization", ECCV 2016.
.. [2] R. Zhang, J.-Y. Zhu, P. Isola, X. Geng, A. S. Lin, T. Yu and A. A. Efros, "Real-Time
       User-Guided Image Colorization with Learned Deep Priors", SIGGRAPH 2017.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from workbench.colorize.bins import DEFAULT_TEMPERATURE, ab_gamut_bins
from workbench.errors import InputError

__all__ = [
    "DEFAULT_SHORT_SIDE",
    "DEFAULT_SIZE_MULTIPLE",
    "HINTS_AB_MASK",
    "HINT_AB_INPUT",
    "HINT_MASK_INPUT",
    "METADATA_KEYS",
    "ColorizeError",
    "ModelContract",
    "ModelContractError",
    "ModelLoadError",
    "TensorSpec",
    "contract_metadata",
    "resolve_contract",
]

#: Short side a dynamic-size model runs at unless its metadata says otherwise.
DEFAULT_SHORT_SIDE = 256
#: Dynamic sizes are rounded to a multiple of this unless the metadata says otherwise.
DEFAULT_SIZE_MULTIPLE = 32
_MAX_ASPECT = 4.0  # a run size's long side is at most this many short sides

METADATA_KEYS = (
    "workbench.input",
    "workbench.input_scale",
    "workbench.input_offset",
    "workbench.input_size",
    "workbench.size_multiple",
    "workbench.output",
    "workbench.output_name",
    "workbench.ab_scale",
    "workbench.bin_centres",
    "workbench.temperature",
    "workbench.hints",
)

#: Value of ``workbench.hints`` for a model with ``hint_ab`` and ``hint_mask`` inputs.
HINTS_AB_MASK = "ab-mask"
HINT_AB_INPUT = "hint_ab"
HINT_MASK_INPUT = "hint_mask"

OutputKind = Literal["ab", "bins", "logits"]
Dim = int | str | None


class ColorizeError(InputError):
    """Something about colorization a user can fix: a bad image, option or model."""


class ModelLoadError(ColorizeError):
    """A model file that cannot be loaded: missing, not ONNX, corrupt, or refused by ORT."""


class ModelContractError(ColorizeError):
    """A valid ONNX model that is not a colorizer this engine can drive.

    The message says what was expected and what the model has.
    """


@dataclass(frozen=True)
class TensorSpec:
    """A graph input or output: name, shape (ints, or names/None for dynamic axes), dtype."""

    name: str
    shape: tuple[Dim, ...] | None
    dtype: str  # numpy-style name: "float32", "float16", "uint8", ...

    def describe(self) -> str:
        if self.shape is None:
            return f"{self.name}: {self.dtype}, shape unknown"
        dims = ", ".join("?" if d is None else str(d) for d in self.shape)
        return f"{self.name}: {self.dtype} ({dims})"


@dataclass(frozen=True)
class ModelContract:
    """How to feed a colorizer and read its output.

    Attributes
    ----------
    input_name, output_name : str
        Graph names.
    input_dtype : str
        ``"float32"``, ``"float16"`` or ``"float64"``; the engine casts to it.
    input_height, input_width : int or None
        Fixed by the graph, or None when dynamic.
    short_side : int
        Short side of the run size for dynamic inputs.
    forced_size : (int, int) or None
        Run size (H, W) demanded by ``workbench.input_size = "HxW"``.
    size_multiple : int
        Dynamic run sizes are multiples of this.
    input_scale, input_offset : float
        The network sees ``L * input_scale + input_offset``.
    output : {"ab", "bins", "logits"}
        What the output holds.
    output_channels : int
        2 for ab, Q for bins.
    ab_scale : float
        Lab ab = output * ab_scale (ab outputs).
    bin_centres : ndarray of float32 (Q, 2) or None
        Bin centres (bins/logits outputs).
    temperature : float
        Default annealed-mean temperature for this model.
    scores_undecided : bool
        True when a bin output's kind (probabilities or logits) was inferred from its shape
        alone; the engine settles it on the first run.
    hint_ab_name, hint_mask_name : str or None
        The graph inputs of a hint model (``hint_ab``, ``hint_mask``); None for an L-only one.
    from_metadata : tuple of str
        The ``workbench.*`` keys that were read.
    notes : tuple of str
        Assumptions made, in plain words (shown by model inspection).
    """

    input_name: str
    output_name: str
    input_dtype: str
    input_height: int | None
    input_width: int | None
    output: OutputKind
    output_channels: int
    short_side: int = DEFAULT_SHORT_SIDE
    forced_size: tuple[int, int] | None = None
    size_multiple: int = DEFAULT_SIZE_MULTIPLE
    input_scale: float = 1.0
    input_offset: float = 0.0
    ab_scale: float = 1.0
    bin_centres: NDArray[np.float32] | None = field(default=None, repr=False)
    temperature: float = DEFAULT_TEMPERATURE
    scores_undecided: bool = False
    hint_ab_name: str | None = None
    hint_mask_name: str | None = None
    from_metadata: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def dynamic(self) -> bool:
        """True when the graph leaves the input height or width open."""
        return self.input_height is None or self.input_width is None

    @property
    def takes_hints(self) -> bool:
        """True for a model with user colour hint inputs (``hint_ab``, ``hint_mask``)."""
        return self.hint_ab_name is not None and self.hint_mask_name is not None

    @property
    def num_bins(self) -> int | None:
        return None if self.bin_centres is None else len(self.bin_centres)

    def run_size(self, height: int, width: int) -> tuple[int, int]:
        """The (H, W) the network runs at for an image of ``height`` x ``width``.

        Fixed dimensions are used as they are (the image is resized to them, aspect not
        kept, as Zhang et al.'s demo does). Dynamic ones follow the image's aspect with the
        short side at :attr:`short_side`, the long side at most 4 short sides, both rounded
        to :attr:`size_multiple`.
        """
        if self.forced_size is not None:
            return self.forced_size
        if not self.dynamic:
            return int(self.input_height), int(self.input_width)
        scale = self.short_side / min(height, width)
        limit = _MAX_ASPECT * self.short_side
        h, w = min(height * scale, limit), min(width * scale, limit)
        step = self.size_multiple
        h_run = self.input_height or max(step, int(round(h / step)) * step)
        w_run = self.input_width or max(step, int(round(w / step)) * step)
        return int(h_run), int(w_run)

    def with_output(self, output: OutputKind, note: str) -> ModelContract:
        """A copy with the bin output's kind settled (used by the engine after its first run)."""
        return replace(self, output=output, scores_undecided=False, notes=self.notes + (note,))

    def describe(self) -> str:
        """Several lines in plain words, for an inspection dialog or ``--json``-less output."""
        if self.dynamic:
            size = (
                f"{self.forced_size[0]}x{self.forced_size[1]} (from metadata)"
                if self.forced_size
                else f"dynamic; runs with the short side at {self.short_side} px "
                f"(multiple of {self.size_multiple})"
            )
        else:
            size = f"{self.input_height}x{self.input_width} (fixed)"
        lines = [
            f"input '{self.input_name}': L * {self.input_scale:g} + {self.input_offset:g}, "
            f"{self.input_dtype}, size {size}",
        ]
        if self.output == "ab":
            lines.append(f"output '{self.output_name}': ab * {self.ab_scale:g}")
        else:
            kind = "probabilities or logits" if self.scores_undecided else self.output
            lines.append(
                f"output '{self.output_name}': {kind} over {self.output_channels} ab bins, "
                f"annealed mean at T = {self.temperature:g}"
            )
        if self.takes_hints:
            lines.append(f"colour hints: inputs '{self.hint_ab_name}' (a*, b*) and "
                         f"'{self.hint_mask_name}' (mask) at the input's size")
        else:
            lines.append("colour hints: not taken (L-only model)")
        if self.from_metadata:
            lines.append("from metadata: " + ", ".join(self.from_metadata))
        lines.extend(self.notes)
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Writing metadata (for export code)
# --------------------------------------------------------------------------------------------


def contract_metadata(
    output: OutputKind,
    *,
    bin_centres: ArrayLike | None = None,
    input_scale: float = 1.0,
    input_offset: float = 0.0,
    ab_scale: float = 1.0,
    input_size: int | tuple[int, int] | None = None,
    size_multiple: int | None = None,
    temperature: float | None = None,
    output_name: str | None = None,
    hints: bool = False,
) -> dict[str, str]:
    """The ``workbench.*`` metadata that declares a colorizer's contract.

    Export code puts these in the ONNX model's ``metadata_props``::

        for key, value in contract_metadata("logits", bin_centres=centres).items():
            model.metadata_props.add(key=key, value=value)

    Parameters are as in the module docstring (``hints=True`` writes ``workbench.hints =
    "ab-mask"``). Returns a dict of strings.
    """
    if output not in ("ab", "bins", "logits"):
        raise ColorizeError(f"output must be 'ab', 'bins' or 'logits', got {output!r}")
    meta = {
        "workbench.input": "L",
        "workbench.input_scale": repr(float(input_scale)),
        "workbench.input_offset": repr(float(input_offset)),
        "workbench.output": output,
    }
    if output == "ab":
        meta["workbench.ab_scale"] = repr(float(ab_scale))
    else:
        if bin_centres is None:
            raise ColorizeError("a 'bins' or 'logits' model needs its bin_centres")
        centres = np.asarray(bin_centres, dtype=np.float64)
        if centres.ndim != 2 or centres.shape[1] != 2:
            raise ColorizeError(f"bin_centres must be (Q, 2), got shape {centres.shape}")
        meta["workbench.bin_centres"] = json.dumps([[float(a), float(b)] for a, b in centres])
    if input_size is not None:
        meta["workbench.input_size"] = (
            str(int(input_size)) if np.isscalar(input_size)
            else f"{int(input_size[0])}x{int(input_size[1])}"
        )
    if size_multiple is not None:
        meta["workbench.size_multiple"] = str(int(size_multiple))
    if temperature is not None:
        meta["workbench.temperature"] = repr(float(temperature))
    if output_name is not None:
        meta["workbench.output_name"] = output_name
    if hints:
        meta["workbench.hints"] = HINTS_AB_MASK
    return meta


# --------------------------------------------------------------------------------------------
# Reading the contract
# --------------------------------------------------------------------------------------------


def _float_key(meta: Mapping[str, str], key: str, default: float, used: list[str]) -> float:
    if key not in meta:
        return default
    used.append(key)
    try:
        value = float(meta[key])
    except ValueError:
        raise ModelContractError(
            f"metadata {key} must be a number, found {meta[key]!r}"
        ) from None
    if not math.isfinite(value):
        raise ModelContractError(f"metadata {key} must be finite, found {meta[key]!r}")
    return value


def _int_key(meta: Mapping[str, str], key: str, default: int, used: list[str]) -> int:
    value = _float_key(meta, key, default, used)
    if value != int(value) or value < 1:
        raise ModelContractError(f"metadata {key} must be a positive integer, found {value:g}")
    return int(value)


def _parse_input_size(text: str) -> tuple[int | None, tuple[int, int] | None]:
    """``"256"`` -> (256, None); ``"224x320"`` -> (None, (224, 320))."""
    parts = text.lower().replace(" ", "").split("x")
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) == 1 and numbers[0] >= 8:
        return numbers[0], None
    if len(numbers) == 2 and min(numbers) >= 8:
        return None, (numbers[0], numbers[1])
    raise ModelContractError(
        f"metadata workbench.input_size must be 'S' or 'HxW' (at least 8 px), found {text!r}"
    )


def _parse_centres(text: str) -> NDArray[np.float32]:
    try:
        centres = np.asarray(json.loads(text), dtype=np.float32)
    except (ValueError, TypeError):
        raise ModelContractError(
            "metadata workbench.bin_centres must be a JSON list of [a, b] pairs"
        ) from None
    if centres.ndim != 2 or centres.shape[1] != 2 or len(centres) < 2:
        raise ModelContractError(
            f"metadata workbench.bin_centres must be a list of [a, b] pairs, found an array of "
            f"shape {centres.shape}"
        )
    if not np.all(np.isfinite(centres)):
        raise ModelContractError("metadata workbench.bin_centres holds non-finite values")
    centres.setflags(write=False)
    return centres


def _fixed(dim: Dim) -> int | None:
    return dim if isinstance(dim, int) and dim > 0 else None


_FLOAT_INPUTS = ("float32", "float16", "float64")


def _check_input(spec: TensorSpec, notes: list[str]) -> tuple[int | None, int | None]:
    expected = "one input of shape (N, 1, H, W) holding L (N = 1 or dynamic, H and W any)"
    if spec.shape is None:
        raise ModelContractError(
            f"Expected {expected}; input '{spec.name}' has no declared shape."
        )
    if len(spec.shape) != 4:
        raise ModelContractError(
            f"Expected {expected}; found input {spec.describe()} (rank {len(spec.shape)})."
        )
    batch, channels, height, width = spec.shape
    if isinstance(channels, int) and channels != 1:
        raise ModelContractError(
            f"Expected {expected}; found input {spec.describe()} with {channels} channels. "
            "Colorizers take the L channel only (an RGB-input network needs its own wrapper)."
        )
    if channels is None or isinstance(channels, str):
        notes.append(f"input channel axis is dynamic ('{channels}'); feeding 1 channel (L)")
    if isinstance(batch, int) and batch != 1:
        raise ModelContractError(
            f"Expected {expected}; found input {spec.describe()} with a fixed batch of {batch}."
        )
    if spec.dtype not in _FLOAT_INPUTS:
        raise ModelContractError(
            f"Expected a floating-point input; found input {spec.describe()}."
        )
    for dim in (height, width):
        if isinstance(dim, int) and dim < 1:
            raise ModelContractError(f"input {spec.describe()} has an invalid size {dim}")
    return _fixed(height), _fixed(width)


def _pick_output(
    outputs: Sequence[TensorSpec], meta: Mapping[str, str], used: list[str], notes: list[str]
) -> TensorSpec:
    if not outputs:
        raise ModelContractError("the model has no outputs")
    if "workbench.output_name" in meta:
        used.append("workbench.output_name")
        wanted = meta["workbench.output_name"]
        for spec in outputs:
            if spec.name == wanted:
                return spec
        names = ", ".join(o.name for o in outputs)
        raise ModelContractError(
            f"metadata names output '{wanted}', but the model's outputs are: {names}"
        )
    if len(outputs) > 1:
        notes.append(f"the model has {len(outputs)} outputs; using the first, '{outputs[0].name}'")
    return outputs[0]


def resolve_contract(
    inputs: Sequence[TensorSpec],
    outputs: Sequence[TensorSpec],
    metadata: Mapping[str, str] | None = None,
) -> ModelContract:
    """Work out a model's contract from its metadata and shapes.

    Parameters
    ----------
    inputs, outputs : sequence of TensorSpec
        The graph's inputs (initialisers excluded) and outputs.
    metadata : mapping of str to str, optional
        The model's ``metadata_props``; keys other than ``workbench.*`` are ignored.

    Returns
    -------
    ModelContract

    Raises
    ------
    ModelContractError
        The model does not fit: wrong number of inputs, input not ``(N, 1, H, W)`` floats,
        output not ``(N, C, h, w)`` with C = 2 or C > 2 bins, bins without known centres,
        or metadata that contradicts the shapes. The message names what was expected and what
        was found.
    """
    meta = {k: v for k, v in (metadata or {}).items() if k.startswith("workbench.")}
    used: list[str] = []
    notes: list[str] = []

    inputs, hint_names = _split_hint_inputs(inputs, meta, used, notes)
    if len(inputs) != 1:
        found = ", ".join(s.describe() for s in inputs) or "none"
        raise ModelContractError(
            f"Expected one input of shape (N, 1, H, W) holding L; found {len(inputs)}: {found}."
        )
    source = inputs[0]
    height, width = _check_input(source, notes)
    if "workbench.input" in meta:
        used.append("workbench.input")
        if meta["workbench.input"].strip().upper() != "L":
            raise ModelContractError(
                f"metadata workbench.input is {meta['workbench.input']!r}; only 'L' is supported"
            )
    scale = _float_key(meta, "workbench.input_scale", 1.0, used)
    offset = _float_key(meta, "workbench.input_offset", 0.0, used)
    if scale == 0:
        raise ModelContractError("metadata workbench.input_scale must not be 0")
    if "workbench.input_scale" not in meta and "workbench.input_offset" not in meta:
        notes.append(
            "no input scaling in metadata: assuming raw L in 0..100 (as Zhang et al.'s "
            "ECCV16/SIGGRAPH17 exports take it)"
        )

    short_side, forced = DEFAULT_SHORT_SIDE, None
    if "workbench.input_size" in meta:
        used.append("workbench.input_size")
        side, forced = _parse_input_size(meta["workbench.input_size"])
        short_side = side or short_side
        if forced is not None and not (height is None and width is None):
            fixed = (height, width)
            if any(f is not None and f != g for f, g in zip(fixed, forced, strict=True)):
                raise ModelContractError(
                    f"metadata workbench.input_size {forced[0]}x{forced[1]} contradicts the "
                    f"input's fixed size {source.describe()}"
                )
    multiple = _int_key(meta, "workbench.size_multiple", DEFAULT_SIZE_MULTIPLE, used)

    target = _pick_output(outputs, meta, used, notes)
    expected = "an output of shape (N, 2, h, w) (ab) or (N, Q, h, w) with Q > 2 (ab bins)"
    if target.shape is None or len(target.shape) != 4:
        rank = "unknown" if target.shape is None else len(target.shape)
        raise ModelContractError(
            f"Expected {expected}; found output {target.describe()} (rank {rank})."
        )
    if target.dtype not in _FLOAT_INPUTS:
        raise ModelContractError(f"Expected a floating-point output; found {target.describe()}.")
    channels = target.shape[1]

    declared: str | None = None
    if "workbench.output" in meta:
        used.append("workbench.output")
        declared = meta["workbench.output"].strip().lower()
        if declared not in ("ab", "bins", "logits"):
            raise ModelContractError(
                f"metadata workbench.output must be 'ab', 'bins' or 'logits', found "
                f"{meta['workbench.output']!r}"
            )
    centres = None
    if "workbench.bin_centres" in meta:
        used.append("workbench.bin_centres")
        centres = _parse_centres(meta["workbench.bin_centres"])

    if isinstance(channels, int) and channels < 2:
        raise ModelContractError(
            f"Expected {expected}; found output {target.describe()} with {channels} channel."
        )
    if not isinstance(channels, int):
        if declared == "ab":
            channels = 2
        elif centres is not None:
            channels = len(centres)
        else:
            raise ModelContractError(
                f"Expected {expected}; the channel axis of output {target.describe()} is "
                "dynamic, and no workbench.output / workbench.bin_centres metadata says what "
                "it holds."
            )
        notes.append(f"output channel axis is dynamic; taking {channels} from the metadata")

    kind: OutputKind
    undecided = False
    if declared == "ab" or (declared is None and channels == 2):
        if channels != 2:
            raise ModelContractError(
                f"metadata says the output is ab, but output {target.describe()} has "
                f"{channels} channels (ab has 2)"
            )
        kind = "ab"
    else:
        kind = declared or "bins"  # type: ignore[assignment]
        undecided = declared is None
        if centres is None:
            default = ab_gamut_bins(10)
            if channels != len(default):
                raise ModelContractError(
                    f"output {target.describe()} holds {channels} ab bins, but the model has no "
                    f"workbench.bin_centres metadata and {channels} is not the {len(default)} "
                    "grid-10 gamut bins this engine knows; add the bin centres to the model's "
                    "metadata."
                )
            centres = default
            notes.append(
                f"no bin centres in metadata: assuming the {channels} grid-10 sRGB-gamut bins "
                "of workbench.colorize.bins.ab_gamut_bins"
            )
        elif len(centres) != channels:
            raise ModelContractError(
                f"metadata lists {len(centres)} bin centres but output {target.describe()} has "
                f"{channels} channels"
            )
    ab_scale = _float_key(meta, "workbench.ab_scale", 1.0, used)
    if kind == "ab" and "workbench.ab_scale" not in meta:
        notes.append("no ab scale in metadata: assuming the output is ab in Lab units")
    temperature = _float_key(meta, "workbench.temperature", DEFAULT_TEMPERATURE, used)
    if temperature < 0:
        raise ModelContractError(
            f"metadata workbench.temperature must be >= 0, found {temperature}"
        )

    return ModelContract(
        input_name=source.name,
        output_name=target.name,
        input_dtype=source.dtype,
        input_height=height,
        input_width=width,
        output=kind,
        output_channels=int(channels),
        short_side=short_side,
        forced_size=forced,
        size_multiple=multiple,
        input_scale=scale,
        input_offset=offset,
        ab_scale=ab_scale,
        bin_centres=centres if kind != "ab" else None,
        temperature=temperature,
        scores_undecided=undecided,
        hint_ab_name=hint_names[0],
        hint_mask_name=hint_names[1],
        from_metadata=tuple(used),
        notes=tuple(notes),
    )


def _split_hint_inputs(
    inputs: Sequence[TensorSpec], meta: Mapping[str, str], used: list[str], notes: list[str]
) -> tuple[list[TensorSpec], tuple[str | None, str | None]]:
    """Separate a hint model's ``hint_ab``/``hint_mask`` inputs from its L input."""
    inputs = list(inputs)
    by_name = {s.name: s for s in inputs}
    declared = None
    if "workbench.hints" in meta:
        used.append("workbench.hints")
        declared = meta["workbench.hints"].strip().lower()
        if declared not in (HINTS_AB_MASK, "none", ""):
            raise ModelContractError(
                f"metadata workbench.hints must be '{HINTS_AB_MASK}' (or 'none'), found "
                f"{meta['workbench.hints']!r}"
            )
    has_names = HINT_AB_INPUT in by_name and HINT_MASK_INPUT in by_name
    if declared == HINTS_AB_MASK and not has_names:
        found = ", ".join(s.describe() for s in inputs) or "none"
        raise ModelContractError(
            f"metadata workbench.hints says the model takes colour hints, but it lacks the "
            f"inputs '{HINT_AB_INPUT}' and '{HINT_MASK_INPUT}'; found: {found}."
        )
    if not has_names or declared in ("none", "") or len(inputs) != 3:
        return inputs, (None, None)
    for name, channels in ((HINT_AB_INPUT, 2), (HINT_MASK_INPUT, 1)):
        spec = by_name[name]
        if (spec.shape is None or len(spec.shape) != 4
                or (isinstance(spec.shape[1], int) and spec.shape[1] != channels)
                or spec.dtype not in _FLOAT_INPUTS):
            raise ModelContractError(
                f"Expected hint input '{name}' of shape (N, {channels}, H, W) (floats); found "
                f"{spec.describe()}."
            )
    if declared is None:
        notes.append(f"colour hints: taken from the input names '{HINT_AB_INPUT}' and "
                     f"'{HINT_MASK_INPUT}' (no workbench.hints metadata)")
    rest = [s for s in inputs if s.name not in (HINT_AB_INPUT, HINT_MASK_INPUT)]
    return rest, (HINT_AB_INPUT, HINT_MASK_INPUT)
