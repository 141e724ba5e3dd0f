"""Tiny, deterministic ONNX colorizers built with onnx.helper, for tests and benchmarks.

Every builder writes a model file and returns its path. Models are saved with IR version 9 and
opset 17: onnx 1.23 writes IR version 14 by default, which ONNX Runtime 1.31 refuses (it reads
up to 13).

* :func:`ab_model` - L -> ab by a 1x1 convolution: ``a = wa * x + ba``, ``b = wb * x + bb``
  where x is what the network sees (L * scale + offset); fixed or dynamic H, W; optional
  average pooling so the output is smaller than the input; optional metadata.
* :func:`eccv16_standin` - the shapes of Zhang et al.'s common ECCV16/SIGGRAPH17 export:
  1x1x256x256 raw L in, 1x2x256x256 ab out, no metadata.
* :func:`bins_model` - L -> Q logits by a 1x1 convolution (``logit_q = w_q * x + b_q``),
  optionally followed by Softmax (probabilities); with or without bin-centre metadata.
* :func:`realistic_model` - an encoder-decoder of realistic cost (about 1.3 GFLOP at 256x256)
  with random weights, predicting logits over the 261 gamut bins at 1/4 resolution.
* Bad ones: :func:`rgb_input_model`, :func:`rank3_model`, :func:`one_channel_output_model`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

IR_VERSION = 9
OPSET = 17

Dims = Sequence[int | str]


def _save(
    path: Path,
    nodes: list,
    inputs: list,
    outputs: list,
    initializers: list,
    metadata: Mapping[str, str] | None = None,
    ir_version: int = IR_VERSION,
) -> Path:
    graph = helper.make_graph(nodes, "colorizer", inputs, outputs, initializers)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="workbench-tests",
        producer_version="1",
    )
    model.ir_version = ir_version
    for key, value in (metadata or {}).items():
        model.metadata_props.add(key=key, value=value)
    if ir_version <= IR_VERSION:
        onnx.checker.check_model(model)
    path = Path(path)
    onnx.save(model, str(path))
    return path


def _tensor(name: str, dims: Dims, elem: int = TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, list(dims))


def _init(name: str, array: np.ndarray):
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


def _size_dims(height: int | None, width: int | None) -> tuple[int | str, int | str]:
    return (height if height else "height", width if width else "width")


def ab_model(
    path: Path,
    *,
    height: int | None = 64,
    width: int | None = 64,
    a: tuple[float, float] = (0.5, -15.0),
    b: tuple[float, float] = (-0.4, 12.0),
    pool: int = 1,
    metadata: Mapping[str, str] | None = None,
    ir_version: int = IR_VERSION,
) -> Path:
    """(N, 1, H, W) -> (N, 2, H/pool, W/pool): ``a = a[0] * x + a[1]``, ``b = b[0] * x + b[1]``.

    ``height``/``width`` None makes that axis dynamic. With ``pool > 1`` the ab planes are
    average-pooled (kernel = stride = pool), like a network predicting at low resolution.
    """
    h, w = _size_dims(height, width)
    weight = np.array([a[0], b[0]], np.float32).reshape(2, 1, 1, 1)
    bias = np.array([a[1], b[1]], np.float32)
    nodes = [helper.make_node("Conv", ["L", "W", "B"], ["ab_full" if pool > 1 else "ab"])]
    if pool > 1:
        nodes.append(helper.make_node(
            "AveragePool", ["ab_full"], ["ab"], kernel_shape=[pool, pool], strides=[pool, pool]
        ))
        out_h = h // pool if isinstance(h, int) else "out_height"
        out_w = w // pool if isinstance(w, int) else "out_width"
    else:
        out_h, out_w = h, w
    return _save(
        path, nodes, [_tensor("L", ["batch", 1, h, w])],
        [_tensor("ab", ["batch", 2, out_h, out_w])],
        [_init("W", weight), _init("B", bias)], metadata, ir_version,
    )


def eccv16_standin(path: Path, a=(0.5, -25.0), b=(-0.4, 20.0)) -> Path:
    """Shapes of the common ECCV16/SIGGRAPH17 export: 1x1x256x256 raw L -> 1x2x256x256 ab."""
    weight = np.array([a[0], b[0]], np.float32).reshape(2, 1, 1, 1)
    bias = np.array([a[1], b[1]], np.float32)
    nodes = [helper.make_node("Conv", ["input_l", "W", "B"], ["output_ab"])]
    return _save(
        path, nodes, [_tensor("input_l", [1, 1, 256, 256])],
        [_tensor("output_ab", [1, 2, 256, 256])],
        [_init("W", weight), _init("B", bias)],
    )


def bins_model(
    path: Path,
    q: int,
    *,
    slopes: Sequence[float] | None = None,
    offsets: Sequence[float] | None = None,
    softmax: bool = False,
    height: int | None = 32,
    width: int | None = 32,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """(N, 1, H, W) -> (N, Q, H, W) logits ``slopes[q] * x + offsets[q]`` (Softmax if asked)."""
    slopes = np.zeros(q) if slopes is None else np.asarray(slopes, np.float32)
    offsets = np.zeros(q) if offsets is None else np.asarray(offsets, np.float32)
    h, w = _size_dims(height, width)
    nodes = [helper.make_node("Conv", ["L", "W", "B"], ["logits" if softmax else "scores"])]
    if softmax:
        nodes.append(helper.make_node("Softmax", ["logits"], ["scores"], axis=1))
    return _save(
        path, nodes, [_tensor("L", [1, 1, h, w])], [_tensor("scores", [1, q, h, w])],
        [_init("W", np.asarray(slopes).reshape(q, 1, 1, 1)), _init("B", offsets)], metadata,
    )


def realistic_model(
    path: Path,
    q: int = 261,
    *,
    size: int | None = None,
    width: int = 32,
    metadata: Mapping[str, str] | None = None,
    seed: int = 0,
) -> Path:
    """Encoder-decoder of realistic cost: logits over ``q`` bins at 1/4 resolution.

    conv3x3/2 (32) -> conv3x3/2 (2w) -> conv3x3 dilated 2 (2w) -> conv3x3 (4w) -> 1x1 (q), ReLU
    between; about 1.3 GFLOP at 256x256 with ``width=32``. Input L / 50 - 1 (declared in the
    metadata unless ``metadata`` is given). ``size`` None: dynamic H, W.
    """
    rng = np.random.default_rng(seed)
    h, w = _size_dims(size, size)
    layers = [  # (out, in, kernel, stride, dilation)
        (width, 1, 3, 2, 1), (2 * width, width, 3, 2, 1), (2 * width, 2 * width, 3, 1, 2),
        (4 * width, 2 * width, 3, 1, 1), (q, 4 * width, 1, 1, 1),
    ]
    nodes, inits, current = [], [], "L"
    for i, (out_c, in_c, k, stride, dilation) in enumerate(layers):
        std = np.sqrt(2.0 / (in_c * k * k))
        inits += [_init(f"w{i}", rng.normal(0, std, (out_c, in_c, k, k))),
                  _init(f"b{i}", rng.normal(0, 0.1, out_c))]
        pad = dilation * (k // 2)
        last = i == len(layers) - 1
        name = "logits" if last else f"c{i}"
        nodes.append(helper.make_node(
            "Conv", [current, f"w{i}", f"b{i}"], [name], kernel_shape=[k, k],
            strides=[stride, stride], dilations=[dilation, dilation], pads=[pad] * 4,
        ))
        if not last:
            nodes.append(helper.make_node("Relu", [name], [f"r{i}"]))
            current = f"r{i}"
    if metadata is None:
        from workbench.colorize.bins import ab_gamut_bins
        from workbench.colorize.contract import contract_metadata

        centres = ab_gamut_bins() if q == len(ab_gamut_bins()) else rng.uniform(-80, 80, (q, 2))
        metadata = contract_metadata(
            "logits", bin_centres=centres, input_scale=0.02, input_offset=-1.0
        )
    out_h = h // 4 if isinstance(h, int) else "out_height"
    out_w = w // 4 if isinstance(w, int) else "out_width"
    return _save(
        path, nodes, [_tensor("L", [1, 1, h, w])], [_tensor("logits", [1, q, out_h, out_w])],
        inits, metadata,
    )


def rgb_input_model(path: Path) -> Path:
    """Bad: takes 3 channels."""
    nodes = [helper.make_node("Conv", ["rgb", "W"], ["ab"])]
    return _save(
        path, nodes, [_tensor("rgb", [1, 3, 64, 64])], [_tensor("ab", [1, 2, 64, 64])],
        [_init("W", np.ones((2, 3, 1, 1)))],
    )


def rank3_model(path: Path) -> Path:
    """Bad: input of rank 3 (no channel axis)."""
    nodes = [
        helper.make_node("Unsqueeze", ["L", "axes"], ["L4"]),
        helper.make_node("Conv", ["L4", "W"], ["ab"]),
    ]
    axes = numpy_helper.from_array(np.array([1], np.int64), "axes")
    return _save(
        path, nodes, [_tensor("L", [1, 64, 64])], [_tensor("ab", [1, 2, 64, 64])],
        [axes, _init("W", np.ones((2, 1, 1, 1)))],
    )


def one_channel_output_model(path: Path) -> Path:
    """Bad: predicts one channel."""
    nodes = [helper.make_node("Conv", ["L", "W"], ["out"])]
    return _save(
        path, nodes, [_tensor("L", [1, 1, 64, 64])], [_tensor("out", [1, 1, 64, 64])],
        [_init("W", np.ones((1, 1, 1, 1)))],
    )


def parameter_count(path: Path) -> int:
    """Sum of initialiser sizes, computed with the onnx package (the oracle for inspection)."""
    model = onnx.load(str(path))
    return int(sum(np.prod(t.dims, dtype=np.int64) for t in model.graph.initializer))


def hint_model(
    path: Path,
    *,
    height: int | None = 64,
    width: int | None = 64,
    a: tuple[float, float] = (0.5, -15.0),
    b: tuple[float, float] = (-0.4, 12.0),
    metadata: Mapping[str, str] | None = None,
    names: tuple[str, str, str] = ("L", "hint_ab", "hint_mask"),
    declare: bool = True,
) -> Path:
    """A hint-taking ab model: inputs L (N, 1, H, W), hint_ab (N, 2, H, W), hint_mask
    (N, 1, H, W); ``ab = conv(L) * (1 - mask) + hint_ab * mask`` (the hint's colour exactly where
    a hint is, the :func:`ab_model` colour elsewhere). ``declare`` writes the contract metadata
    (``workbench.hints``) unless ``metadata`` is given."""
    h, w = _size_dims(height, width)
    light, hab, hmask = names
    weight = np.array([a[0], b[0]], np.float32).reshape(2, 1, 1, 1)
    bias = np.array([a[1], b[1]], np.float32)
    nodes = [
        helper.make_node("Conv", [light, "W", "B"], ["base"]),
        helper.make_node("Sub", ["one", hmask], ["keep"]),
        helper.make_node("Mul", ["base", "keep"], ["kept"]),
        helper.make_node("Mul", [hab, hmask], ["hinted"]),
        helper.make_node("Add", ["kept", "hinted"], ["ab"]),
    ]
    if metadata is None and declare:
        from workbench.colorize.contract import contract_metadata

        metadata = contract_metadata("ab", hints=True)
    return _save(
        path, nodes,
        [_tensor(light, [1, 1, h, w]), _tensor(hab, [1, 2, h, w]), _tensor(hmask, [1, 1, h, w])],
        [_tensor("ab", [1, 2, h, w])],
        [_init("W", weight), _init("B", bias), _init("one", np.ones(1))], metadata,
    )
