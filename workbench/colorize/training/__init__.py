"""Training the shipped colorizer (optional ``train`` extra: torch, EfficientNet-Lite0).

Zhang, Isola & Efros, "Colorful Image Colorization" (ECCV 2016): the network predicts a
distribution over Q quantised ab bins from the L channel; trained with soft-encoded targets and
class rebalancing; exported to ONNX with the engine's contract in its metadata.

Modules: :mod:`.data` (photos, views, feature cache), :mod:`.model` (network), :mod:`.losses`,
:mod:`.train` (loop, checkpoints, log), :mod:`.export` (ONNX + checks), :mod:`.metrics` and
:mod:`.evaluate` (AuC, colourfulness; numpy only), :mod:`.cli` (``train-colorizer``,
``eval-colorizer``). Importing this package, ``cli``, ``metrics`` or ``evaluate`` does not
import torch.
"""
