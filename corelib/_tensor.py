"""The frontend Tensor: a backend array plus device, dtype and autograd state.

The Tensor never computes: arithmetic, views and reductions are installed as methods by the op
modules (corelib._ops), which route every call through the dispatch registry.
"""
from __future__ import annotations

import builtins
import operator

from . import _dtype, _memory_format
from ._device import canonical
from .autograd import graph
from .autograd.grad_mode import STATE

__all__ = ["Tensor", "Size"]


class Size(tuple):
    """torch.Size: a tuple of ints."""
    __slots__ = ()

    def __repr__(self):
        return f"corelib.Size([{', '.join(map(str, self))}])"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        r = tuple.__getitem__(self, item)
        return Size(r) if isinstance(item, slice) else r


class Tensor:
    __slots__ = ("_data", "device", "dtype", "_requires_grad", "_grad", "_grad_fn", "_output_nr",
                 "_vbox", "_base", "_view_fn", "_accum", "_retains_grad", "_hooks", "__weakref__")
    __array_priority__ = 1000   # numpy scalars defer to our reflected operators

    # -- construction ----------------------------------------------------------------------
    def __new__(cls, *args, **kwargs):
        if cls is Tensor and (args or kwargs):
            from ._ops.creation import tensor
            return tensor(*args, **kwargs)
        self = object.__new__(cls)
        if cls is Tensor:
            from ._ops.creation import empty
            src = empty(0)
            self._init(src._data, src.device, src.dtype)
        return self

    def __init__(self, *args, **kwargs):
        pass

    def _init(self, data, device, dtype, grad_fn=None):
        self._data = data
        self.device = device
        self.dtype = dtype
        self._requires_grad = grad_fn is not None
        self._grad = None
        self._grad_fn = grad_fn
        self._output_nr = 0
        self._vbox = None
        self._base = None
        self._view_fn = None
        self._accum = None
        self._retains_grad = False
        self._hooks = None

    @staticmethod
    def _make(data, device, dtype, grad_fn=None):
        t = _new(Tensor)
        t._data = data
        t.device = device
        t.dtype = dtype
        t._requires_grad = grad_fn is not None
        t._grad = None
        t._grad_fn = grad_fn
        t._output_nr = 0
        t._vbox = None
        t._base = None
        t._view_fn = None
        t._accum = None
        t._retains_grad = False
        t._hooks = None
        return t

    # -- metadata --------------------------------------------------------------------------
    grad_fn = property(operator.attrgetter("_grad_fn"),
                       doc="The autograd node that created this tensor (None for leaves); "
                           "read-only, as in PyTorch.")

    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        shape = self._data.shape
        if dim is None:
            return Size(shape)
        return shape[_wrap_dim(dim, len(shape), "size")]

    @property
    def ndim(self):
        return len(self._data.shape)

    def dim(self):
        return len(self._data.shape)

    ndimension = dim

    def numel(self):
        n = 1
        for s in self._data.shape:
            n *= s
        return n

    nelement = numel

    def element_size(self):
        return self.dtype.itemsize

    @property
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def nbytes(self):
        return self.numel() * self.dtype.itemsize

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def is_cpu(self):
        return self.device.type == "cpu"

    @property
    def is_meta(self):
        return self.device.type == "meta"

    def is_floating_point(self):
        return self.dtype.is_floating_point

    def is_complex(self):
        return False

    def get_device(self):
        return -1 if self.device.type == "cpu" else self.device.index

    @property
    def _version(self):
        return graph.version_of(self)

    def _bump_version(self):
        if self._vbox is None:
            self._vbox = [1]
        else:
            self._vbox[0] += 1

    # -- autograd state --------------------------------------------------------------------
    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            check_grad_assignment(self, value)
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if not isinstance(value, builtins.bool):
            raise RuntimeError("requires_grad must be a bool")
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If "
                               "you want to use a computed variable in a subgraph that doesn't "
                               "require differentiation use var_no_grad = var.detach().")
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients, "
                               f"got {self.dtype}")
        if self.grad_fn is None:
            self._requires_grad = builtins.bool(requires_grad)
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def retains_grad(self):
        return self._retains_grad

    @property
    def output_nr(self):
        return self._output_nr

    def detach(self):
        """A new tensor sharing storage (and version counter) with no autograd history."""
        t = Tensor._make(self._data, self.device, self.dtype)
        t._vbox = self._shared_box()
        return t

    def detach_(self):
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._requires_grad = False
        return self

    def _shared_box(self):
        if self._vbox is None:
            self._vbox = [0]
        return self._vbox

    @property
    def data(self):
        return self.detach()

    @data.setter
    def data(self, other):
        if not isinstance(other, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(other).__name__}")
        if other.shape != self.shape or other.dtype != self.dtype or other.device != self.device:
            # PyTorch allows swapping in any tensor; the storage is replaced
            self.dtype, self.device = other.dtype, other.device
        self._data = other._data

    def retain_grad(self):
        if self.grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self._retains_grad:
            return
        import weakref
        ref = weakref.ref(self)

        def retain(g):
            t = ref()
            if t is not None:
                t.grad = g.detach().clone() if t.grad is None else t.grad + g.detach()
        self.grad_fn.register_prehook(retain, self._output_nr)
        self._retains_grad = True

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        node = self.grad_fn if self.grad_fn is not None else graph.grad_accumulator(self)
        if self.grad_fn is None:
            self._hooks = node  # keep the accumulator (and its hooks) alive with the leaf
        return node.register_prehook(hook, self._output_nr)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` after backward has accumulated into this leaf's ``.grad``."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        import weakref
        ref = weakref.ref(self)
        node = self._hooks = graph.grad_accumulator(self)   # kept alive with the leaf
        return node.register_hook(lambda grad_inputs, grad_outputs: hook(ref()))

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        from .autograd import backward
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    # -- conversion ------------------------------------------------------------------------
    def numpy(self, *, force=False):
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if self.device.type != "cpu" and not force:
            raise TypeError(f"can't convert {self.device.type} device type tensor to numpy. "
                            f"Use Tensor.cpu() to copy the tensor to host memory first.")
        from .dispatch import registry
        return registry.backend(self.device.type).to_numpy(self._data)

    def __array__(self, dtype=None, copy=None):
        arr = self.detach().cpu().numpy()
        return arr if dtype is None else arr.astype(dtype)

    def tolist(self):
        return self.numpy(force=True).tolist()

    def item(self):
        if self.device.type == "meta":
            raise RuntimeError("Tensor.item() cannot be called on meta tensors")
        if self.numel() != 1:
            raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted to "
                               f"Scalar")
        return self.numpy(force=True).reshape(()).item()

    def __float__(self):
        self._check_one_element()
        return builtins.float(self.item())

    def __int__(self):
        self._check_one_element()
        return builtins.int(self.item())

    def _check_one_element(self):
        if self.numel() != 1:   # ValueError here, as PyTorch (item() raises RuntimeError)
            raise ValueError("only one element tensors can be converted to Python scalars")

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous")
        return builtins.bool(self.item())

    def __index__(self):
        if self.dtype.category == 2 or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return builtins.int(self.item())

    def __len__(self):
        if not self._data.shape:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if not self._data.shape:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __hash__(self):
        return id(self)

    def __dlpack__(self, stream=None):
        return self.detach().numpy().__dlpack__() if self.device.type == "cpu" else \
            self._data.__dlpack__()

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def __repr__(self):
        from ._format import tensor_repr
        return tensor_repr(self)

    def __str__(self):
        return self.__repr__()

    def __format__(self, spec):
        if self.ndim == 0 and spec:
            return format(self.item(), spec)
        return repr(self)

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.")
        from .autograd.grad_mode import no_grad
        with no_grad():
            new = self.clone()
        new._requires_grad = self._requires_grad
        new.__class__ = type(self)   # subclasses (Parameter) add no slots
        if self.grad is not None:
            new.grad = self.grad.__deepcopy__(memo)
        memo[id(self)] = new
        return new

    def __reduce_ex__(self, protocol):
        raise TypeError("corelib tensors are not picklable by design; use corelib.save "
                        "(safetensors) instead")

    # -- device / dtype movement -----------------------------------------------------------
    def to(self, *args, **kwargs):
        """to(device=None, dtype=None, non_blocking=False, copy=False,
        memory_format=corelib.preserve_format) or to(other)."""
        fmt = _memory_format.check(kwargs.get("memory_format"), "to")
        device, dtype, copy = parse_to_args(args, kwargs)
        from ._ops.creation import to_device
        from ._ops.elementwise import cast
        t = self
        if dtype is not None and dtype is not t.dtype:
            t = cast(t, dtype)
        if device is not None:
            device = canonical(device)
            if device is not t.device:
                t = to_device(t, device)
        if fmt is not None:
            t = _memory_format.apply(t, fmt, "to")
        if copy and t is self:
            t = self.clone()
        return t

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False):
        return self.to("cuda" if device is None else
                       (f"cuda:{device}" if isinstance(device, builtins.int) else device))

    def type(self, dtype=None):
        if dtype is None:
            return f"corelib.{_TYPE_NAMES.get(self.dtype.name, 'Tensor')}"
        if isinstance(dtype, str):   # a tensor type name, as PyTorch: "corelib.DoubleTensor"
            prefix, _, type_name = dtype.rpartition(".")
            dtype_name = _TYPE_DTYPES.get(type_name)
            if prefix not in ("corelib", "torch") or dtype_name is None:
                raise ValueError(f"type(): invalid type: {dtype!r} (expected a dtype or a "
                                 f"tensor type name such as 'corelib.FloatTensor')")
            dtype = dtype_name
        return self.to(_dtype.as_dtype(dtype, "type"))

    def type_as(self, other):
        return self.to(other.dtype)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        from ._ops.creation import tensor
        return tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                      requires_grad=requires_grad)


# x.float(), x.long(), ...: conversion methods named after their dtype
for _name, _target in {"float": _dtype.float32, "double": _dtype.float64, "half": _dtype.float16,
                       "bfloat16": _dtype.bfloat16, "long": _dtype.int64, "int": _dtype.int32,
                       "short": _dtype.int16, "char": _dtype.int8, "byte": _dtype.uint8,
                       "bool": _dtype.bool}.items():
    setattr(Tensor, _name, lambda self, memory_format=_memory_format.preserve_format,
            _d=_target: self.to(_d, memory_format=memory_format))
del _name, _target

_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
               "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor",
               "bfloat16": "BFloat16Tensor"}
_TYPE_DTYPES = {type_name: dtype_name for dtype_name, type_name in _TYPE_NAMES.items()}

_new = object.__new__


def parse_to_args(args, kwargs):
    """(device, dtype, copy) from the arguments of Tensor.to / Module.to, as PyTorch parses
    them: to(device, dtype), to(dtype), to(tensor), keywords device=, dtype=, copy=."""
    kwargs = dict(kwargs)
    device, dtype, copy = None, None, kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    flags = [a for a in args if isinstance(a, builtins.bool)]   # non_blocking, copy
    if len(flags) == 2:
        copy = flags[1]
    for a in args:
        if isinstance(a, builtins.bool):
            continue
        if isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, _dtype.dtype):
            dtype = a
        elif a is not None:
            try:
                dtype = _dtype.as_dtype(a, "to") if not isinstance(a, str) else None
            except TypeError:
                dtype = None
            if dtype is None:
                device = a
    device = kwargs.pop("device", device)
    dtype = kwargs.pop("dtype", dtype)
    if kwargs:
        raise TypeError(f"to() received an invalid combination of arguments: unexpected "
                        f"keyword arguments {sorted(kwargs)}")
    return device, (None if dtype is None else _dtype.as_dtype(dtype, "to")), copy


def check_grad_assignment(t, g):
    """Validate ``t.grad = g`` as PyTorch does: a Tensor of t's shape, dtype and device."""
    if not isinstance(g, Tensor):
        raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                        f"{type(g).__name__}")
    if g.device.type != t.device.type:
        raise RuntimeError(f"attempting to assign a gradient with device type '{g.device.type}' "
                           f"to a tensor with device type '{t.device.type}'. Please ensure that "
                           f"the gradient and the tensor are on the same device")
    if g.device is not t.device:
        raise RuntimeError(f"attempting to assign a gradient located on device {g.device} to a "
                           f"tensor located on device {t.device}. Please ensure that the "
                           f"gradient and the tensor are on the same device")
    if g.dtype is not t.dtype:
        raise RuntimeError(f"attempting to assign a gradient with dtype '{g.dtype}' to a tensor "
                           f"with dtype '{t.dtype}'. Please ensure that the gradient and the "
                           f"tensor have the same dtype")
    if g._data.shape != t._data.shape:
        raise RuntimeError(f"attempting to assign a gradient of size '{list(g.shape)}' to a "
                           f"tensor of size '{list(t.shape)}'. Please ensure that the gradient "
                           f"and the tensor are the same size")


def int_list(args, op, name="size"):
    """A tuple of ints from ``*args`` (ints, or one sequence of ints), checked as PyTorch's
    argument parser does: floats and other non-integers raise TypeError naming op and argument."""
    if len(args) == 1:
        try:
            return (operator.index(args[0]),)
        except TypeError:
            pass
        seq = args[0]
        try:
            if isinstance(seq, (builtins.float, builtins.complex, str, bytes)):
                raise TypeError
            args = tuple(seq)
        except TypeError:
            raise TypeError(f"{op}(): argument '{name}' (position 1) must be tuple of ints, not "
                            f"{type(seq).__name__}") from None
    out = []
    for i, s in enumerate(args):
        try:
            out.append(operator.index(s))
        except TypeError:
            raise TypeError(f"{op}(): argument '{name}' (position 1) must be tuple of ints, but "
                            f"found element of type {type(s).__name__} at pos {i}") from None
    return tuple(out)


def _wrap_dim(dim, ndim, op):
    """Normalise a possibly negative dim, as PyTorch's maybe_wrap_dim."""
    n = ndim if ndim > 0 else 1
    if not -n <= dim < n:
        raise IndexError(f"{op}(): Dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim


# -- in-place variants that are thin wrappers of existing ops (PyTorch's Tensor.*_ names) -----
def _view_inplace(name):
    """``x.<name>_(...)``: x itself becomes ``x.<name>(...)``, as PyTorch's in-place view ops:
    same data, new shape; the autograd history continues through the view op."""
    def method_(self, *args, **kwargs):
        from ._ops.elementwise import check_inplace
        check_inplace(self, name + "_")
        new = getattr(Tensor, name)(self, *args, **kwargs)
        if new is not self:
            self._data = new._data
            if new.grad_fn is not None:
                self._grad_fn, self._output_nr = new.grad_fn, new._output_nr
            if self._base is not None:
                self._view_fn = new._view_fn
        self._bump_version()
        return self
    method_.__name__ = method_.__qualname__ = name + "_"
    method_.__doc__ = f"In-place {name}: self takes the result's shape (same data)."
    return method_


def _value_inplace(name):
    """``x.<name>_(...)``: ``x.<name>(...)`` written into x (checked before any write)."""
    def method_(self, *args, **kwargs):
        from ._ops.shape import apply_inplace
        return apply_inplace(self, name + "_", getattr(Tensor, name), *args, **kwargs)
    method_.__name__ = method_.__qualname__ = name + "_"
    method_.__doc__ = f"In-place {name}."
    return method_


for _name in ("transpose", "swapdims", "swapaxes", "t", "squeeze", "unsqueeze"):
    setattr(Tensor, _name + "_", _view_inplace(_name))
for _name in ("addmm", "addmv", "addr", "addbmm", "baddbmm", "cumsum", "cumprod"):
    setattr(Tensor, _name + "_", _value_inplace(_name))
del _name
