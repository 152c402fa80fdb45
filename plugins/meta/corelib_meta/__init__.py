"""corelib-meta: the ``meta`` device, tensors with shape, dtype and device but no data.

    x = corelib.empty(1024, 4096, device="meta")
    model = nn.Linear(4096, 4096, device="meta")      # or: with corelib.device("meta"): ...
    model(x).sum().backward()                          # shapes flow, grads are meta tensors
    model.to_empty(device="cpu")                       # real (uninitialised) storage

Every kernel of this backend runs only its op's shape and dtype rule, taken from the op
records through ``corelib.contract.infer``; the kernel table is generated from
``corelib.contract.kernels()``, so an op gains a meta kernel by having a rule, with no code
here. Kernels return ``MetaArray`` objects (shape and dtype, no storage), so building a model
of a billion parameters allocates nothing.

As in PyTorch: data cannot be read (``.cpu()``, ``.item()``, ``.numpy()``, printing values
raise ``NotImplementedError: Cannot copy out of meta tensor; no data!``), and ops whose output
shape depends on values (``nonzero``, ``unique``, boolean-mask indexing...) raise
``NotImplementedError`` naming the op. Copying *to* meta keeps only shape and dtype.
"""
from __future__ import annotations

import corelib
from corelib import contract
from corelib.contract import Meta
from corelib.hookspecs import BackendSpec, hookimpl

__all__ = ["MetaArray", "NO_DATA", "kernels"]

DEVICE_TYPE = "meta"
DTYPES = frozenset({"bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
                    "float32", "float64"})
NO_DATA = ("Cannot copy out of meta tensor; no data! Please use nn.Module.to_empty() instead "
           "of nn.Module.to() when moving a module from meta to a different device.")


class MetaArray(Meta):
    """The meta device's array: a shape (tuple of ints) and a dtype name, and no storage.

    A ``corelib.contract.Meta``, so shape rules take it as it is; layout is always
    C-contiguous (views are new MetaArrays; nothing is shared)."""
    __slots__ = ()

    @property
    def size(self):
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def itemsize(self):
        return getattr(corelib, self.dtype).itemsize

    @property
    def nbytes(self):
        return self.size * self.itemsize

    @property
    def strides(self):
        """C-contiguous strides in bytes (NumPy's convention)."""
        return tuple(s * self.itemsize for s in _contiguous_strides(self.shape))

    @property
    def T(self):
        return MetaArray(self.shape[::-1], self.dtype)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __array__(self, dtype=None, copy=None):
        raise NotImplementedError(NO_DATA)

    def __repr__(self):
        return f"MetaArray(shape={self.shape}, dtype={self.dtype})"


def _contiguous_strides(shape):
    strides, step = [], 1
    for s in reversed(shape):
        strides.append(step)
        step *= max(s, 1)
    return tuple(reversed(strides))


# -- kernels ---------------------------------------------------------------------------------
def _to_arrays(result):
    """MetaArrays for a rule's answer: a ``contract.Meta``, a tuple of them, or None."""
    if isinstance(result, Meta):
        return MetaArray(tuple(result.shape), result.dtype)
    if isinstance(result, (tuple, list)):
        return tuple(_to_arrays(r) for r in result)
    return result


def _shape_kernel(op, infer):
    """A kernel for ``op`` that runs only its shape and dtype rule."""
    def kernel(*args, out=None, **params):
        try:
            result = infer(op, *args, **params)
        except NotImplementedError as exc:
            reason = str(exc).removeprefix(f"{op}(): ")
            raise NotImplementedError(
                f"op '{op}' cannot run on the meta device: {reason}") from None
        if out is None:
            return _to_arrays(result)
        if isinstance(result, Meta) and tuple(result.shape) != out.shape:
            raise RuntimeError(f"output with shape {list(out.shape)} doesn't match the "
                               f"broadcast shape {list(result.shape)}")
        return out
    kernel.__name__ = kernel.__qualname__ = f"meta_{op}"
    return kernel


# kernels that answer about storage rather than compute a result
_LAYOUT = {
    "is_contiguous": lambda a: True,
    "strides": lambda a: _contiguous_strides(a.shape),
    "storage_offset": lambda a: 0,
    "generator_get_state": lambda state: state,
    "generator_set_state": lambda state, new: None,
}


def kernels():
    """The meta kernel table: one shape-rule kernel per op of the kernel contract."""
    table = {c.name: _shape_kernel(c.name, contract.infer) for c in contract.kernels()}
    table.update(_LAYOUT)
    return table


def _to_numpy(array):
    raise NotImplementedError(NO_DATA)


def _from_numpy(array, index=0):
    return MetaArray(array.shape, array.dtype.name)


class _Generator:
    """The meta device's random state: random kernels draw nothing, so a seed is all."""
    __slots__ = ("seed",)

    def __init__(self, seed):
        self.seed = seed


@hookimpl
def corelib_backend():
    return BackendSpec(
        device_type=DEVICE_TYPE,
        kernels=kernels(),
        to_numpy=_to_numpy,
        from_numpy=_from_numpy,
        make_generator=_Generator,
        dtypes=DTYPES,
        distribution="corelib-meta",
        has_data=False,
    )
