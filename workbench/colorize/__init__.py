"""Colorization: the ONNX model contract, model inspection and the inference engine (no Qt).

>>> from workbench.colorize import Colorizer
>>> colorizer = Colorizer("model.onnx", provider="auto")      # doctest: +SKIP
>>> rgb = colorizer.colorize(grey_image, temperature=0.38)    # doctest: +SKIP

ONNX Runtime is imported when a :class:`Colorizer` is created, not on import. The colour
science (Lab, ab bins, annealed mean) lives in :mod:`workbench.imaging.color`.
"""

from workbench.colorize.contract import (
    METADATA_KEYS,
    ColorizeError,
    ModelContract,
    ModelContractError,
    ModelLoadError,
    TensorSpec,
    contract_metadata,
    resolve_contract,
)
from workbench.colorize.engine import (
    PROVIDERS,
    Colorizer,
    ColorizeResult,
    StageTimings,
    shipped_hint_model_path,
    shipped_model_path,
)
from workbench.colorize.hints import Hint, HintError
from workbench.colorize.model_info import ModelInfo, inspect_model

__all__ = [
    "METADATA_KEYS",
    "PROVIDERS",
    "ColorizeError",
    "ColorizeResult",
    "Colorizer",
    "Hint",
    "HintError",
    "ModelContract",
    "ModelContractError",
    "ModelInfo",
    "ModelLoadError",
    "StageTimings",
    "TensorSpec",
    "contract_metadata",
    "inspect_model",
    "resolve_contract",
    "shipped_hint_model_path",
    "shipped_model_path",
]
