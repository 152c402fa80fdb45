"""Op records and the one call path every primitive op takes.

An ``Op`` is one primitive: its name (the kernel name backends implement), its derivative rule
(``vjp(grad, out, *inputs, **params)`` written with frontend ops, so higher-order gradients
work) and what that rule needs saved. ``call`` runs the kernel resolved for the inputs' device
and records a graph node when gradients are needed. Gradients that were broadcast are reduced
back to each input's shape centrally, in the engine (autograd.graph).

The kernel contract lives in the same record (public view: ``corelib.contract``,
``python -m corelib kernels``, docs/kernels.md). Op families come from factories (``unary``,
``binary``, ``reduction``, ...), which set these once for the whole family:

* ``sig`` -- the kernel signature, a string parsed once (like PyTorch's native_functions.yaml)::

      (Array|Scalar a, Array|Scalar b, *, Array! out=None) -> Array
      (Array x, *, dims dim, bool keepdim) -> Array
      (Array x, *, shape shape) -> Array(x)
      (*, shape shape, float low, float high, Generator generator, dtype dtype) -> Array

  Arguments before ``*`` are operands, passed by position (``*Array arrays``: any number);
  after it, keyword params. Kinds: ``Array``, ``Array|Scalar``, ``Scalar``, ``int``,
  ``float``, ``bool``, ``str``, ``dim`` (one non-negative dim), ``dims`` (tuple of them),
  ``shape``, ``int[]``, ``int[][]`` (pairs), ``dtype`` (a name), ``Generator``, ``Any``
  (index keys, states); ``?`` allows None, ``=default`` makes it optional, ``!`` marks an
  array the kernel writes into. Returns: ``Array`` (a new array), ``Array(x)`` (a view sharing
  storage with operand x), ``Array?``, a tuple ``(Array, Array)``, ``None`` (writes in place
  only), or a Python ``bool``/``int``/``int[]``/``Any``. A kernel with ``Array! out=None``
  writes into ``out`` when given and returns it. Kernels are called
  ``kernel(*operands, **params)`` with operands already promoted (see corelib.hookspecs).
* ``rule`` -- the shape-and-dtype rule (corelib._ops.rules): operands as ``Meta``, params by
  keyword -> the result's ``Meta`` (or a tuple); ``rules.DATA_DEPENDENT`` where the shape
  depends on the values (nonzero, unique, ...). The meta device and the kernel checks run it.
* ``core`` -- member of the minimal core set from which the other kernels could be composed.
* ``doc`` -- a one-line description for the kernel reference.
"""
from __future__ import annotations

from .. import _dtype
from .._device import CPU
from .._tensor import Tensor, _wrap_dim
from ..autograd.grad_mode import STATE
from ..autograd.graph import ANOMALY, OpNode, SavedOutput, SavedTensor, grad_accumulator
from ..dispatch import registry

__all__ = ["Op", "call", "method", "wrap_dim", "dims_arg", "scalar_types"]

_make = Tensor._make
scalar_types = (bool, int, float)
_EMPTY = {}


class Op:
    """One primitive op: name, derivative rule and what backward saves.

    saves: "inputs", "out", "both", "meta" (only input shapes) or None; or a tuple saying, per
    input, which inputs' requires_grad make it needed, e.g. mul's ``((1,), (0,))`` ("cross"):
    a is needed only for b's gradient. An input not saved reaches the rule as None, and the
    rule returns None for the gradients that would need it. sig, rule, core, doc: the kernel
    contract (module doc).
    """
    __slots__ = ("name", "vjp", "saves_inputs", "saves_out", "saves_meta", "save_when",
                 "node_name", "kernels", "has_kernel", "sig", "rule", "core", "doc")
    all: dict = {}

    def __init__(self, name, vjp=None, saves="inputs", has_kernel=True, sig=None, rule=None,
                 core=False, doc=None):
        self.name = name
        self.sig = sig     # kernel signature (see the module doc)
        self.rule = rule   # shape-and-dtype rule
        self.core = core   # in the minimal core set
        self.doc = doc     # one-line description
        self.has_kernel = has_kernel   # False: a graph record only (e.g. device transfer)
        self.vjp = vjp
        self.save_when = ((1,), (0,)) if saves == "cross" else \
            saves if isinstance(saves, tuple) else None
        self.saves_inputs = saves in ("inputs", "both") or self.save_when is not None
        self.saves_out = saves in ("out", "both")
        self.saves_meta = saves == "meta"   # the rule gets input shapes in place of inputs
        self.node_name = "".join(p.capitalize() for p in name.split("_")) + "Backward0"
        self.kernels = {}
        Op.all[name] = self

    def kernel(self, device_type):
        k = self.kernels.get(device_type)
        if k is None:
            k = self.kernels[device_type] = registry.kernel(self.name, device_type)
        return k

    def __repr__(self):
        return f"<op {self.name}>"


def _forget_kernels():
    for op in Op.all.values():
        op.kernels.clear()


registry.kernel_listeners.append(_forget_kernels)


def device_of(args, op_name):
    """The common device of the tensor arguments (error if they differ)."""
    dev = None
    for a in args:
        if isinstance(a, Tensor):
            if dev is None:
                dev = a.device
            elif a.device is not dev:
                raise RuntimeError(f"{op_name}(): Expected all tensors to be on the same device, "
                                   f"but found at least two devices, {dev} and {a.device}!")
    return CPU if dev is None else dev


def call(op, args, dtype, params=_EMPTY, out=None):
    """Run ``op`` on ``args`` (Tensors of the compute dtype, or Python scalars).

    dtype is the result dtype (the frontend's dtype rule); ``out`` is an optional raw array the
    kernel writes into (for out= and in-place ops).
    """
    datas = []
    dev = None
    needs_grad = False
    for a in args:
        if isinstance(a, Tensor):
            if dev is None:
                dev = a.device
            elif a.device is not dev:
                device_of(args, op.name)
            datas.append(a._data)
            if a._requires_grad:
                needs_grad = True
        else:
            datas.append(a)
    if dev is None:
        dev = CPU
    k = op.kernels.get(dev.type) or op.kernel(dev.type)
    try:
        if out is None:
            data = k(*datas, **params)
        else:
            data = k(*datas, out=out, **params)
    except (ValueError, TypeError, IndexError, RuntimeError, MemoryError) as exc:
        raise kernel_error(exc, op.name, args) from exc
    t = _make(data, dev, dtype)
    if needs_grad and STATE.grad_enabled and op.vjp is not None and dtype.category == 2:
        record(op, t, args, params)
    return t


def kernel_error(exc, name, args, out=None):
    """The exception to raise for one a kernel of op ``name`` raised, led by the op's name and
    ending with the device and plugin whose kernel raised it:
    array-library ValueError and MemoryError become RuntimeError (PyTorch's class; IndexError
    and TypeError kept), and a broadcast failure (of the arguments, or into the tensor ``out``
    written in place) gets PyTorch's message."""
    text = str(exc).replace(" for axis ", " for dimension ")
    if "broadcast" in text:
        from .shape import broadcast_shape
        try:
            shape = broadcast_shape(*(a._data.shape for a in args if isinstance(a, Tensor)))
            if out is not None and tuple(out._data.shape) != shape:
                text = (f"output with shape {list(out._data.shape)} doesn't match the broadcast "
                        f"shape {list(shape)}")
        except RuntimeError as err:
            text = str(err)
    where = _kernel_origin(args, out)
    if isinstance(exc, MemoryError):
        return RuntimeError(f"{name}(): not enough memory: {text or 'allocation failed'}{where}")
    cls = IndexError if isinstance(exc, IndexError) else TypeError if isinstance(
        exc, TypeError) else type(exc) if isinstance(exc, RuntimeError) else RuntimeError
    return cls(f"{name}(): {text}{where}")


def _kernel_origin(args, out):
    """`` (kernel of device 'cuda', plugin 'corelib-cuda')``: whose kernel raised."""
    dev = out.device if isinstance(out, Tensor) else next(
        (a.device for a in args if isinstance(a, Tensor)), CPU)
    spec = registry.backends.get(dev.type)
    plugin = f", plugin {spec.distribution!r}" if spec is not None and spec.distribution else ""
    return f" (kernel of device {dev.type!r}{plugin})"


def record(op, out, args, params):
    """Attach a graph node for ``op`` to ``out`` (plain loops: this is on the hot path)."""
    node = _new(OpNode)
    edges = []
    meta = []
    for a in args:
        if isinstance(a, Tensor):
            fn = a._grad_fn
            if fn is not None:
                edges.append((fn, a._output_nr))
            elif a._requires_grad:
                edges.append((grad_accumulator(a), 0))
            else:
                edges.append(None)
            meta.append(a._data.shape)
        else:
            edges.append(None)
            meta.append(None)
    saved = None
    if op.saves_inputs:
        when = op.save_when
        saved = []
        for i, a in enumerate(args):
            if not isinstance(a, Tensor):
                saved.append(a)
                continue
            if when is not None:
                for j in when[i]:
                    if edges[j] is not None:
                        break
                else:
                    saved.append(None)
                    continue
            saved.append(SavedTensor(a))
    node.op = op
    node.params = params
    node.next_edges = edges
    node.input_meta = meta
    node.saved_inputs = saved
    node.saved_out = SavedOutput(out) if op.saves_out else None
    node.pre_hooks = node.hooks = None
    node.freed = False
    out._grad_fn = node
    out._requires_grad = True
    if ANOMALY:
        ANOMALY[0](node)   # anomaly mode: remember the forward stack
    return node


_new = object.__new__


def method(*names):
    """Install a function as Tensor method(s): ``@method("add", "__add__")``."""
    def install(fn):
        for n in names or (fn.__name__,):
            setattr(Tensor, n, fn)
        return fn
    return install


def wrap_dim(dim, ndim, op):
    return _wrap_dim(dim, ndim, op)


def dims_arg(dim, ndim, op):
    """Normalise ``dim`` (None, int or sequence) to a sorted tuple of non-negative dims."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        return (_wrap_dim(dim, ndim, op),)
    dims = tuple(_wrap_dim(d, ndim, op) for d in dim)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"{op}(): dim {tuple(dim)} appears multiple times in the list of dims")
    return tuple(sorted(dims))


def as_tensor_arg(x, op, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    return x


def check_dtype(x, allowed, op, name="input"):
    if x.dtype not in allowed:
        raise RuntimeError(f"{op}(): argument '{name}' has dtype {x.dtype}, which this op does "
                           f"not support")
