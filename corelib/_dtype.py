"""dtypes and PyTorch's type-promotion rules.

A dtype is a small immutable object; backends receive only its ``name`` (a NumPy-compatible
string such as ``"float32"``), so kernels never see frontend objects.
"""
from __future__ import annotations

import builtins

__all__ = ["dtype", "get_default_dtype", "set_default_dtype", "promote_types", "result_type",
           "can_cast", "iinfo", "finfo"]


class dtype:
    __slots__ = ("name", "itemsize", "is_floating_point", "is_signed", "category")

    def __init__(self, name, itemsize, category, is_signed):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "itemsize", itemsize)
        # category: 0 bool, 1 integer, 2 floating (PyTorch's promotion categories)
        object.__setattr__(self, "category", category)
        object.__setattr__(self, "is_floating_point", category == 2)
        object.__setattr__(self, "is_signed", is_signed)

    def __setattr__(self, key, value):
        raise AttributeError("dtype is immutable")

    def __repr__(self):
        return f"corelib.{self.name}"

    def __reduce__(self):
        return (_from_name, (self.name,))

    @property
    def is_complex(self):
        return False

    def to_complex(self):
        raise NotImplementedError("complex dtypes are not supported")


bool = dtype("bool", 1, 0, False)
uint8 = dtype("uint8", 1, 1, False)
int8 = dtype("int8", 1, 1, True)
int16 = dtype("int16", 2, 1, True)
int32 = dtype("int32", 4, 1, True)
int64 = dtype("int64", 8, 1, True)
float16 = dtype("float16", 2, 2, True)
bfloat16 = dtype("bfloat16", 2, 2, True)
float32 = dtype("float32", 4, 2, True)
float64 = dtype("float64", 8, 2, True)

ALL = (bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64)
BY_NAME = {d.name: d for d in ALL}
BY_NAME.update({"half": float16, "float": float32, "double": float64, "long": int64,
                "int": int32, "short": int16})
FLOATING = (float16, bfloat16, float32, float64)
INTEGRAL = (uint8, int8, int16, int32, int64)

half, float, double, long, int, short = float16, float32, float64, int64, int32, int16


def _from_name(name):
    return BY_NAME[name]


def dtype_arg(value, op):
    """A ``dtype=`` argument as PyTorch's parser takes it: a corelib dtype or the Python types
    float (float64), int (int64) and bool; anything else (names, NumPy dtypes) is a TypeError."""
    if isinstance(value, dtype):
        return value
    found = {builtins.float: float64, builtins.int: int64, builtins.bool: bool}.get(value) \
        if isinstance(value, type) else None
    if found is None:
        raise TypeError(f"{op}(): argument 'dtype' must be corelib.dtype, not "
                        f"{type(value).__name__}")
    return found


def as_dtype(value, op="tensor"):
    """Resolve a dtype argument (corelib dtype, name, Python type, NumPy dtype) or raise."""
    if isinstance(value, dtype):
        return value
    if value is builtins.float:
        return _default[0]
    if value is builtins.int:
        return int64
    if value is builtins.bool:
        return bool
    name = getattr(value, "name", None) if not isinstance(value, str) else value
    found = BY_NAME.get(name) if isinstance(name, str) else None
    if found is None:
        # torch dtypes print as "torch.float32"; accept them for ported code
        text = str(value)
        found = BY_NAME.get(text.rsplit(".", 1)[-1])
    if found is None:
        raise TypeError(f"{op}(): argument 'dtype' must be a corelib dtype, got {value!r}")
    return found


_default = [float32]


def get_default_dtype():
    return _default[0]


def set_default_dtype(d):
    d = as_dtype(d, "set_default_dtype")
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype(): only floating-point types are supported as the "
                        f"default type, got {d}")
    _default[0] = d
    _RESULT_CACHE.clear()


# Lattice order inside each category for promote_types (PyTorch's table).
_INT_ORDER = {bool: 0, uint8: 1, int8: 1, int16: 2, int32: 3, int64: 4}


def promote_types(a: dtype, b: dtype) -> dtype:
    """PyTorch's torch.promote_types."""
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    if a.category == 2:
        if {a, b} == {float16, bfloat16}:
            return float32
        return a if a.itemsize >= b.itemsize else b
    if a.category == 0:
        return bool
    if {a, b} == {uint8, int8}:
        return int16
    if a is uint8:
        return b
    if b is uint8:
        return a
    return a if _INT_ORDER[a] >= _INT_ORDER[b] else b


_RESULT_CACHE: dict = {}


def _scalar_category(value):
    if isinstance(value, builtins.bool):
        return 0
    if isinstance(value, builtins.int):
        return 1
    if isinstance(value, builtins.float):
        return 2
    raise TypeError(f"unsupported scalar type {type(value).__name__}")


_CATEGORY_DEFAULT = {0: lambda: bool, 1: lambda: int64, 2: get_default_dtype}


def result_type_from(dims, zero_dims, scalar_categories):
    """PyTorch's three-tier promotion: dimensioned tensors, 0-d tensors, Python scalars.

    A lower tier only matters when its category is higher than every tier above it.
    """
    key = (tuple(dims), tuple(zero_dims), tuple(scalar_categories))
    hit = _RESULT_CACHE.get(key)
    if hit is not None:
        return hit
    result = None
    for tier in (dims, zero_dims):
        tier_result = None
        for d in tier:
            tier_result = d if tier_result is None else promote_types(tier_result, d)
        if tier_result is not None:
            if result is None:
                result = tier_result
            elif tier_result.category > result.category:
                result = tier_result
    if scalar_categories:
        cat = max(scalar_categories)
        if result is None:
            result = _CATEGORY_DEFAULT[cat]()
        elif cat > result.category:
            result = _CATEGORY_DEFAULT[cat]()
    _RESULT_CACHE[key] = result
    return result


def result_type(*operands):
    """corelib.result_type: the promoted dtype of tensors and Python scalars."""
    dims, zero_dims, scalars = [], [], []
    for x in operands:
        if isinstance(x, (builtins.bool, builtins.int, builtins.float)):
            scalars.append(_scalar_category(x))
        elif x.ndim == 0:
            zero_dims.append(x.dtype)
        else:
            dims.append(x.dtype)
    return result_type_from(dims, zero_dims, scalars)


def can_cast(from_: dtype, to: dtype) -> builtins.bool:
    """PyTorch's can_cast: no casting to a lower category."""
    return from_.category <= to.category


class iinfo:
    def __init__(self, d):
        d = as_dtype(d, "iinfo")
        if d.category != 1:
            raise TypeError(f"iinfo(): {d} is not an integer dtype")
        self.dtype, self.bits = d.name, 8 * d.itemsize
        self.min = -(2 ** (self.bits - 1)) if d.is_signed else 0
        self.max = 2 ** (self.bits - 1) - 1 if d.is_signed else 2 ** self.bits - 1

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


_FINFO = {  # bits, eps, max, tiny (smallest normal), resolution
    "float16": (16, 0.0009765625, 65504.0, 6.103515625e-05, 0.001),
    "bfloat16": (16, 0.0078125, 3.3895313892515355e+38, 1.1754943508222875e-38, 0.01),
    "float32": (32, 1.1920928955078125e-07, 3.4028234663852886e+38, 1.1754943508222875e-38, 1e-06),
    "float64": (64, 2.220446049250313e-16, 1.7976931348623157e+308, 2.2250738585072014e-308,
                1e-15),
}


class finfo:
    def __init__(self, d=None):
        d = get_default_dtype() if d is None else as_dtype(d, "finfo")
        if not d.is_floating_point:
            raise TypeError(f"finfo(): {d} is not a floating-point dtype")
        self.dtype = d.name
        self.bits, self.eps, self.max, self.tiny, self.resolution = _FINFO[d.name]
        self.min = -self.max
        self.smallest_normal = self.tiny

    def __repr__(self):
        return f"finfo(resolution={self.resolution}, min={self.min}, max={self.max}, " \
               f"eps={self.eps}, tiny={self.tiny}, dtype={self.dtype})"
