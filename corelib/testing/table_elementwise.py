"""Op table: elementwise unary and binary ops."""
import numpy as np

import corelib
from .opinfo import (OpInfo, FLOATS, ALL_FLOATS, NUMERIC, ALL_NUMERIC, ALL, unary_samples,
                     binary_samples)


def _np_relu(x):
    return np.maximum(x, 0).astype(x.dtype)


OPS = [
    OpInfo("add", corelib.add, binary_samples(), dtypes=ALL_NUMERIC, ref=np.add, gradgrad=True),
    OpInfo("add", corelib.add, binary_samples(alpha=2), dtypes=NUMERIC, variant="alpha",
           ref=lambda a, b, alpha: a + alpha * b),
    OpInfo("sub", corelib.sub, binary_samples(), dtypes=ALL_NUMERIC, ref=np.subtract),
    OpInfo("mul", corelib.mul, binary_samples(), dtypes=ALL, ref=np.multiply, gradgrad=True),
    OpInfo("div", corelib.div, binary_samples(exclude_zero=True), dtypes=NUMERIC,
           ref=np.true_divide, gradgrad=True),
    OpInfo("div", corelib.div, binary_samples(exclude_zero=True, rounding_mode="floor"),
           dtypes=NUMERIC, variant="floor", grad=False,
           ref=lambda a, b, rounding_mode: np.floor_divide(a, b)),
    OpInfo("div", corelib.div, binary_samples(exclude_zero=True, rounding_mode="trunc"),
           dtypes=NUMERIC, variant="trunc", grad=False,
           ref=lambda a, b, rounding_mode: np.trunc(np.true_divide(a, b))),
    OpInfo("pow", corelib.pow, binary_samples(low=0.5, high=2.0, scalars=(2, 0.5)),
           dtypes=FLOATS, ref=np.power),
    OpInfo("neg", corelib.neg, unary_samples(), dtypes=ALL_FLOATS + ("int32", "int64"),
           ref=np.negative),
    OpInfo("exp", corelib.exp, unary_samples(), dtypes=ALL_FLOATS + ("int64",), ref=np.exp,
           gradgrad=True),
    OpInfo("log", corelib.log, unary_samples(low=0.1, high=5), dtypes=ALL_FLOATS, ref=np.log),
    OpInfo("sqrt", corelib.sqrt, unary_samples(low=0.1, high=5), dtypes=ALL_FLOATS, ref=np.sqrt),
    OpInfo("tanh", corelib.tanh, unary_samples(), dtypes=ALL_FLOATS, ref=np.tanh, gradgrad=True),
    OpInfo("sigmoid", corelib.sigmoid, unary_samples(), dtypes=ALL_FLOATS,
           ref=lambda x: 1 / (1 + np.exp(-x))),
    OpInfo("abs", corelib.abs, unary_samples(), dtypes=ALL_NUMERIC, ref=np.abs),
    OpInfo("sin", corelib.sin, unary_samples(), dtypes=ALL_FLOATS, ref=np.sin),
    OpInfo("cos", corelib.cos, unary_samples(), dtypes=ALL_FLOATS, ref=np.cos),
    OpInfo("relu", corelib.relu, unary_samples(), dtypes=ALL_FLOATS + ("int64",), ref=_np_relu),
    OpInfo("eq", corelib.eq, binary_samples(low=-2, high=2), dtypes=ALL, ref=np.equal, grad=False),
    OpInfo("lt", corelib.lt, binary_samples(), dtypes=ALL_NUMERIC, ref=np.less, grad=False),
    OpInfo("ge", corelib.ge, binary_samples(), dtypes=ALL_NUMERIC, ref=np.greater_equal,
           grad=False),
    OpInfo("logical_and", corelib.logical_and, binary_samples(scalars=()), dtypes=("bool", "float32"),
           ref=np.logical_and, grad=False),
]
