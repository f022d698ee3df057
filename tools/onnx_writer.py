"""A minimal ONNX writer (the protobuf wire format by hand: Debian has no python3-onnx), for the test models of
tools/make_checkpoints.py that torch.onnx.export does not write: the model zoo's layout (opset 7, Flatten before
every Gemm, BatchNormalization nodes, a final Softmax), MatMul + Add, FLOAT16 weights, values in float_data and
int32_data, and the broken ones the loader must refuse. Fields are written in field-number order, as protobuf's
own serialiser does."""
import struct

import numpy as np

FLOAT, INT32, INT64, FLOAT16, DOUBLE, BFLOAT16 = 1, 6, 7, 10, 11, 16
_NP = {FLOAT: np.float32, FLOAT16: np.float16, DOUBLE: np.float64, INT64: np.int64, INT32: np.int32}


def varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(num, wire):
    return varint(num << 3 | wire)


def f_varint(num, v):
    return key(num, 0) + varint(v)


def f_bytes(num, b):
    if isinstance(b, str):
        b = b.encode()
    return key(num, 2) + varint(len(b)) + b


def f_float(num, x):
    return key(num, 5) + struct.pack("<f", x)


def tensor(name, arr, dtype=FLOAT, how="raw", external=False):
    """how: 'raw' (raw_data), 'float_data' (packed), 'float_fields' (one field per value), 'int32_data' (16-bit
    values as int32, as ONNX stores FLOAT16 there), 'int64_data'."""
    arr = np.asarray(arr)
    out = b"".join(f_varint(1, int(d)) for d in arr.shape) + f_varint(2, dtype)
    if how == "float_data":
        out += f_bytes(4, arr.astype("<f4").tobytes())
    elif how == "float_fields":
        out += b"".join(f_float(4, float(x)) for x in arr.ravel())
    elif how == "int32_data":
        bits = arr.astype(_NP[dtype]).view(np.uint16).ravel()
        out += f_bytes(5, b"".join(varint(int(x)) for x in bits))
    elif how == "int64_data":
        out += f_bytes(7, b"".join(varint(int(x)) for x in arr.ravel()))
    out += f_bytes(8, name)
    if how == "raw" and not external:
        out += f_bytes(9, arr.astype(_NP[dtype]).tobytes())
    if external:
        out += f_bytes(13, f_bytes(1, "location") + f_bytes(2, name + ".bin")) + f_varint(14, 1)
    return out


def attr(name, v):
    """An attribute by its Python type: int, float, str, list of ints, or a tensor (bytes from tensor())."""
    if isinstance(v, bool) or isinstance(v, int):
        return f_bytes(1, name) + f_varint(3, v) + f_varint(20, 2)
    if isinstance(v, float):
        return f_bytes(1, name) + f_float(2, v) + f_varint(20, 1)
    if isinstance(v, str):
        return f_bytes(1, name) + f_bytes(4, v) + f_varint(20, 3)
    if isinstance(v, (list, tuple)):
        return f_bytes(1, name) + b"".join(f_varint(8, int(i)) for i in v) + f_varint(20, 7)
    if isinstance(v, bytes):
        return f_bytes(1, name) + f_bytes(5, v) + f_varint(20, 4)
    raise TypeError(v)


def node(op, ins, outs, name="", **attrs):
    return (b"".join(f_bytes(1, i) for i in ins) + b"".join(f_bytes(2, o) for o in outs) + f_bytes(3, name or outs[0]) +
            f_bytes(4, op) + b"".join(f_bytes(5, attr(k, v)) for k, v in attrs.items()))


def value_info(name, dims):
    """dims: ints, or strings for symbolic dimensions."""
    ds = b"".join(f_bytes(1, f_bytes(2, d) if isinstance(d, str) else f_varint(1, d)) for d in dims)
    return f_bytes(1, name) + f_bytes(2, f_bytes(1, f_varint(1, FLOAT) + f_bytes(2, ds)))


def model(nodes, inits, inputs, outputs, opset, ir, producer="lrpscope-tests", props=None):
    g = (b"".join(f_bytes(1, n) for n in nodes) + f_bytes(2, "vgg") + b"".join(f_bytes(5, t) for t in inits) +
         b"".join(f_bytes(11, v) for v in inputs) + b"".join(f_bytes(12, v) for v in outputs))
    m = f_varint(1, ir) + f_bytes(2, producer) + f_bytes(3, "1") + f_bytes(7, g) + f_bytes(8, f_varint(2, opset))
    for k, v in (props or {}).items():
        m += f_bytes(14, f_bytes(1, k) + f_bytes(2, v))
    return m
