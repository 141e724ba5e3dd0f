"""Inspect an ONNX model file without running it: graph I/O, opsets, size, metadata, contract.

The ``onnx`` package is not a run-time dependency of Workbench (it is in the ``test`` and
``train`` extras), so the file is read here with a small protobuf wire-format reader that
knows the few fields of ``ModelProto`` it needs and skips everything else, weights included,
without copying them. A 100 MB model is read in well under a second.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from workbench.colorize.contract import (
    ModelContract,
    ModelContractError,
    ModelLoadError,
    TensorSpec,
    resolve_contract,
)

__all__ = ["ModelInfo", "inspect_model", "read_model_header"]

# TensorProto.DataType -> numpy-style name
ONNX_DTYPES = {
    1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64",
    8: "string", 9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64",
    14: "complex64", 15: "complex128", 16: "bfloat16", 17: "float8e4m3fn", 18: "float8e4m3fnuz",
    19: "float8e5m2", 20: "float8e5m2fnuz", 21: "uint4", 22: "int4", 23: "float4e2m1",
}


class _WireError(Exception):
    """The bytes are not a well-formed protobuf message."""


# --------------------------------------------------------------------------------------------
# Protobuf wire format (just enough of it)
# --------------------------------------------------------------------------------------------


def _varint(buf: memoryview, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end or shift > 63:
            raise _WireError("truncated or overlong varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def _fields(buf: memoryview, start: int, end: int) -> Iterator[tuple[int, int, object]]:
    """(field number, wire type, value) for each field; length-delimited values as (s, e)."""
    pos = start
    while pos < end:
        key, pos = _varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise _WireError("field number 0")
        if wire == 0:
            value, pos = _varint(buf, pos, end)
        elif wire == 1:
            value, pos = (pos, pos + 8), pos + 8
        elif wire == 2:
            length, pos = _varint(buf, pos, end)
            value, pos = (pos, pos + length), pos + length
        elif wire == 5:
            value, pos = (pos, pos + 4), pos + 4
        else:
            raise _WireError(f"unsupported wire type {wire}")
        if pos > end:
            raise _WireError("field runs past the end of its message")
        yield number, wire, value


def _text(buf: memoryview, span: object) -> str:
    start, end = span  # type: ignore[misc]
    return bytes(buf[start:end]).decode("utf-8", errors="replace")


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _packed_or_single(buf: memoryview, wire: int, value: object) -> list[int]:
    if wire == 0:
        return [_signed(value)]  # type: ignore[arg-type]
    start, end = value  # type: ignore[misc]
    out = []
    while start < end:
        item, start = _varint(buf, start, end)
        out.append(_signed(item))
    return out


def _tensor_dims(buf: memoryview, span: object) -> tuple[list[int], int, str]:
    """TensorProto -> (dims, data_type, name)."""
    dims: list[int] = []
    dtype, name = 0, ""
    for number, wire, value in _fields(buf, *span):  # type: ignore[misc]
        if number == 1:
            dims.extend(_packed_or_single(buf, wire, value))
        elif number == 2 and wire == 0:
            dtype = value  # type: ignore[assignment]
        elif number == 8 and wire == 2:
            name = _text(buf, value)
    return dims, dtype, name


def _value_info(buf: memoryview, span: object) -> TensorSpec:
    """ValueInfoProto -> TensorSpec (tensor types only; others get dtype 'non-tensor')."""
    name, dtype, shape = "", "non-tensor", None
    for number, wire, value in _fields(buf, *span):  # type: ignore[misc]
        if number == 1 and wire == 2:
            name = _text(buf, value)
        elif number == 2 and wire == 2:
            for t_number, t_wire, t_value in _fields(buf, *value):  # TypeProto
                if t_number == 1 and t_wire == 2:  # tensor_type
                    dtype, shape = _tensor_type(buf, t_value)
    return TensorSpec(name, shape, dtype)


def _tensor_type(buf: memoryview, span: object) -> tuple[str, tuple | None]:
    dtype, shape = "undefined", None
    for number, wire, value in _fields(buf, *span):  # type: ignore[misc]
        if number == 1 and wire == 0:
            dtype = ONNX_DTYPES.get(value, f"type {value}")  # type: ignore[arg-type]
        elif number == 2 and wire == 2:
            dims: list[int | str | None] = []
            for d_number, d_wire, d_value in _fields(buf, *value):  # TensorShapeProto
                if d_number == 1 and d_wire == 2:
                    dims.append(_dimension(buf, d_value))
            shape = tuple(dims)
    return dtype, shape


def _dimension(buf: memoryview, span: object) -> int | str | None:
    for number, wire, value in _fields(buf, *span):  # type: ignore[misc]
        if number == 1 and wire == 0:
            return _signed(value)  # type: ignore[arg-type]
        if number == 2 and wire == 2:
            return _text(buf, value) or None
    return None


@dataclass
class _Header:
    ir_version: int = 0
    producer_name: str = ""
    producer_version: str = ""
    domain: str = ""
    model_version: int = 0
    doc_string: str = ""
    opsets: dict[str, int] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    graph_name: str = ""
    inputs: list[TensorSpec] = field(default_factory=list)
    outputs: list[TensorSpec] = field(default_factory=list)
    initializers: dict[str, int] = field(default_factory=dict)  # name -> element count
    op_types: Counter = field(default_factory=Counter)
    has_graph: bool = False
    external_data: bool = False


def _parse_model(buf: memoryview) -> _Header:
    head = _Header()
    for number, wire, value in _fields(buf, 0, len(buf)):
        if number == 1 and wire == 0:
            head.ir_version = value  # type: ignore[assignment]
        elif number == 2 and wire == 2:
            head.producer_name = _text(buf, value)
        elif number == 3 and wire == 2:
            head.producer_version = _text(buf, value)
        elif number == 4 and wire == 2:
            head.domain = _text(buf, value)
        elif number == 5 and wire == 0:
            head.model_version = value  # type: ignore[assignment]
        elif number == 6 and wire == 2:
            head.doc_string = _text(buf, value)
        elif number == 7 and wire == 2:
            head.has_graph = True
            _parse_graph(buf, value, head)
        elif number == 8 and wire == 2:
            domain, version = "", 0
            for o_number, o_wire, o_value in _fields(buf, *value):  # type: ignore[misc]
                if o_number == 1 and o_wire == 2:
                    domain = _text(buf, o_value)
                elif o_number == 2 and o_wire == 0:
                    version = o_value  # type: ignore[assignment]
            head.opsets[domain or "ai.onnx"] = version
        elif number == 14 and wire == 2:
            key, text = "", ""
            for m_number, m_wire, m_value in _fields(buf, *value):  # type: ignore[misc]
                if m_number == 1 and m_wire == 2:
                    key = _text(buf, m_value)
                elif m_number == 2 and m_wire == 2:
                    text = _text(buf, m_value)
            head.metadata[key] = text
    return head


def _parse_graph(buf: memoryview, span: object, head: _Header) -> None:
    inputs: list[TensorSpec] = []
    for number, wire, value in _fields(buf, *span):  # type: ignore[misc]
        if wire != 2:
            continue
        if number == 1:  # NodeProto: only its op_type (field 4)
            for n_number, n_wire, n_value in _fields(buf, *value):  # type: ignore[misc]
                if n_number == 4 and n_wire == 2:
                    head.op_types[_text(buf, n_value)] += 1
        elif number == 2:
            head.graph_name = _text(buf, value)
        elif number == 5:
            dims, _, name = _tensor_dims(buf, value)
            count = 1
            for d in dims:
                count *= max(d, 0)
            head.initializers[name] = count
            head.external_data = head.external_data or _has_external(buf, value)
        elif number == 11:
            inputs.append(_value_info(buf, value))
        elif number == 12:
            head.outputs.append(_value_info(buf, value))
    # Before IR version 4, initialisers were also listed as graph inputs.
    head.inputs = [spec for spec in inputs if spec.name not in head.initializers]


def _has_external(buf: memoryview, span: object) -> bool:
    for number, wire, value in _fields(buf, *span):  # type: ignore[misc]
        if number == 14 and wire == 0 and value == 1:  # data_location = EXTERNAL
            return True
    return False


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelInfo:
    """What an ONNX model file holds.

    Attributes
    ----------
    path : Path
    file_size : int
        Bytes of the ``.onnx`` file (external weight files, if any, not included).
    ir_version : int
        ONNX IR version (ONNX Runtime 1.31 reads up to 13).
    opsets : dict of str to int
        Operator-set versions by domain (``"ai.onnx"`` for the default domain).
    producer : str
        Producer name and version, e.g. ``"pytorch 2.13.0"``.
    graph_name, doc_string : str
    model_version : int
    inputs, outputs : tuple of TensorSpec
        Graph inputs (initialisers excluded) and outputs.
    metadata : dict of str to str
        ``metadata_props``.
    parameter_count : int
        Sum of the initialisers' element counts (weights held in Constant nodes are not
        counted).
    node_count : int
    op_types : dict of str to int
        How many nodes of each operator type.
    external_data : bool
        Some weights live in separate files.
    contract : ModelContract or None
        The resolved colorizer contract, or None when the model does not fit.
    contract_error : str or None
        Why it does not fit.
    """

    path: Path
    file_size: int
    ir_version: int
    opsets: dict[str, int]
    producer: str
    graph_name: str
    doc_string: str
    model_version: int
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    metadata: dict[str, str]
    parameter_count: int
    node_count: int
    op_types: dict[str, int]
    external_data: bool
    contract: ModelContract | None
    contract_error: str | None

    @property
    def opset(self) -> int | None:
        """The default-domain opset version."""
        return self.opsets.get("ai.onnx")

    def to_dict(self) -> dict:
        """JSON-ready dictionary (for ``--json`` and logs)."""
        contract = None
        if self.contract is not None:
            c = self.contract
            contract = {
                "input": c.input_name, "output": c.output_name, "kind": c.output,
                "channels": c.output_channels,
                "input_size": [c.input_height, c.input_width],
                "input_scale": c.input_scale, "input_offset": c.input_offset,
                "ab_scale": c.ab_scale, "temperature": c.temperature,
                "from_metadata": list(c.from_metadata), "notes": list(c.notes),
            }
        return {
            "path": str(self.path), "file_size": self.file_size, "ir_version": self.ir_version,
            "opsets": self.opsets, "producer": self.producer, "graph_name": self.graph_name,
            "inputs": [_spec_dict(s) for s in self.inputs],
            "outputs": [_spec_dict(s) for s in self.outputs],
            "metadata": self.metadata, "parameter_count": self.parameter_count,
            "node_count": self.node_count, "op_types": self.op_types,
            "external_data": self.external_data, "contract": contract,
            "contract_error": self.contract_error,
        }

    def describe(self) -> str:
        """A few lines for an inspection dialog or the command line."""
        ops = ", ".join(f"{k} x{v}" for k, v in sorted(self.op_types.items(), key=lambda i: -i[1]))
        lines = [
            f"{self.path.name}: {self.file_size / 1e6:.2f} MB, "
            f"{self.parameter_count / 1e6:.2f} M parameters, {self.node_count} nodes",
            f"ONNX IR version {self.ir_version}, opsets "
            + ", ".join(f"{d} {v}" for d, v in sorted(self.opsets.items())),
            f"producer: {self.producer or 'unknown'}",
            "inputs: " + "; ".join(s.describe() for s in self.inputs),
            "outputs: " + "; ".join(s.describe() for s in self.outputs),
        ]
        if ops:
            lines.append(f"operators: {ops}")
        extra = {k: v for k, v in self.metadata.items() if k != "workbench.bin_centres"}
        if extra:
            lines.append("metadata: " + json.dumps(extra, ensure_ascii=False))
        if "workbench.bin_centres" in self.metadata:
            lines.append("metadata: workbench.bin_centres (list of bin centres)")
        if self.contract is not None:
            lines.append("colorizer contract:")
            lines.extend("  " + line for line in self.contract.describe().splitlines())
        else:
            lines.append(f"not usable as a colorizer: {self.contract_error}")
        return "\n".join(lines)


def _spec_dict(spec: TensorSpec) -> dict:
    return {"name": spec.name, "shape": list(spec.shape) if spec.shape else None,
            "dtype": spec.dtype}


def read_model_header(path: str | os.PathLike[str]) -> _Header:
    """Parse an ONNX file's structure (no weights are copied).

    Raises
    ------
    ModelLoadError
        Missing, unreadable, empty, or not an ONNX model.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ModelLoadError(f"Model file '{path}' does not exist.") from None
    except IsADirectoryError:
        raise ModelLoadError(f"'{path}' is a folder, not an ONNX model file.") from None
    except OSError as exc:
        raise ModelLoadError(f"Cannot read model file '{path}': {exc.strerror or exc}.") from None
    if not data:
        raise ModelLoadError(f"Model file '{path}' is empty.")
    try:
        head = _parse_model(memoryview(data))
    except _WireError:
        raise ModelLoadError(
            f"'{path.name}' is not an ONNX model (the file is not a valid ONNX protobuf; it may "
            "be corrupt or truncated)."
        ) from None
    if not head.has_graph or head.ir_version <= 0:
        raise ModelLoadError(
            f"'{path.name}' is not an ONNX model (no graph or IR version found)."
        )
    return head


def inspect_model(path: str | os.PathLike[str]) -> ModelInfo:
    """Describe an ONNX model file: I/O, opsets, producer, metadata, size and its contract.

    A model that loads but is not a usable colorizer still gets a full description, with
    ``contract=None`` and the reason in ``contract_error``. Nothing is run (ONNX Runtime may
    still refuse the model, e.g. an IR version above 13 for ORT 1.31; the engine says so).

    Parameters
    ----------
    path : str or os.PathLike
        An ``.onnx`` file.

    Returns
    -------
    ModelInfo

    Raises
    ------
    ModelLoadError
        The file is missing, unreadable, empty, corrupt or not ONNX.
    """
    path = Path(path)
    head = read_model_header(path)
    try:
        contract: ModelContract | None = resolve_contract(head.inputs, head.outputs, head.metadata)
        error = None
    except ModelContractError as exc:
        contract, error = None, str(exc)
    producer = " ".join(p for p in (head.producer_name, head.producer_version) if p)
    return ModelInfo(
        path=path,
        file_size=path.stat().st_size,
        ir_version=head.ir_version,
        opsets=dict(head.opsets),
        producer=producer,
        graph_name=head.graph_name,
        doc_string=head.doc_string,
        model_version=head.model_version,
        inputs=tuple(head.inputs),
        outputs=tuple(head.outputs),
        metadata=dict(head.metadata),
        parameter_count=sum(head.initializers.values()),
        node_count=sum(head.op_types.values()),
        op_types=dict(head.op_types),
        external_data=head.external_data,
        contract=contract,
        contract_error=error,
    )
