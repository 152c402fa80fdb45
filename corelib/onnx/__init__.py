"""``corelib.onnx.export``: a model as an ONNX graph, built with the ``onnx`` package.

The model runs once under a trace that records every kernel call through the registry's
``corelib_wrap_kernel`` hook (corelib/onnx/_trace.py: free while no export runs); each call
becomes ONNX nodes through the op table in corelib/onnx/ops.py. Calls whose inputs are all
constants (parameters, buffers, values made inside forward) are folded into constants;
parameters and buffers that the graph uses are initializers under their state_dict names.

``dynamic_axes`` makes axes symbolic: the model runs once more per dynamic axis name, with
that axis one longer (or shorter), and every size that follows the axes (a reshape target,
the batch of an RNN's initial state, a causal mask's length) becomes a computation on the
inputs' ``Shape``: ``coeff * product of axes``, each factor found from the run that resized
it. A model whose ops differ between the runs cannot be exported with those dynamic axes.

Requires the ``onnx`` extra: ``pip install corelib[onnx]``.
"""
from __future__ import annotations

import enum
import itertools
import math
import threading

import numpy as np

import corelib

from . import _trace
from ._trace import tracing

__all__ = ["export", "is_in_onnx_export", "TrainingMode", "OnnxExporterError",
           "UnsupportedOperatorError"]


class TrainingMode(enum.IntEnum):
    """The mode ``export`` runs the model in (PyTorch's ``torch.onnx.TrainingMode``)."""
    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


def is_in_onnx_export():
    """True while ``export`` runs the model (in the exporting thread)."""
    return _trace._active is not None and _trace._active.thread == threading.get_ident()


class OnnxExporterError(RuntimeError):
    """An export failed (PyTorch's ``torch.onnx.errors.OnnxExporterError``)."""


class UnsupportedOperatorError(OnnxExporterError):
    """An op has no ONNX mapping in corelib/onnx/ops.py."""


class Sym:
    """A size that follows dynamic axes: ``coeff * prod(sizes of symbols)``; ``value`` is its
    size in the traced run."""

    def __init__(self, coeff, symbols, value):
        self.coeff, self.symbols, self.value = coeff, symbols, value

    def __repr__(self):
        return "*".join([str(self.coeff)] * (self.coeff != 1) + [s.name for s in self.symbols])


class Unknown(Sym):
    """A size that changes with the dynamic axes in no way the exporter can express."""

    def __init__(self, value):
        super().__init__(None, (), value)

    def __repr__(self):
        return f"<{self.value}, varying with the dynamic axes>"


class _Symbol:
    def __init__(self, name, size, alt_size):
        self.name, self.size, self.alt_size = name, size, alt_size
        self.where = []   # (graph input name, axis) holding this size


class _Deferred:
    """A traced value that only a later op can emit (max pooling's indices, gathered by
    pool_gather: ``emit(x_name)`` makes the pooled values), or (``emit`` None) an output the
    export does not make (an RNN's workspace, layer_norm's statistics)."""

    def __init__(self, call, emit, output=0):
        self.call, self.emit, self.output = call, emit, output


class _Graph:
    """The ONNX graph being built from a trace; the emitters' interface (see ops.py)."""

    def __init__(self, opset, symbols, param_names):
        from onnx import helper, numpy_helper
        self.helper, self.numpy_helper = helper, numpy_helper
        self.opset = opset
        self.symbols = symbols
        self.param_names = param_names   # id(array) -> state_dict name
        self.nodes, self.inits = [], {}
        self.names = {}    # id(array) -> value name (arrays kept alive by the traces)
        self.alt = {}      # id(array) -> its shapes in the runs with resized axes
        self.counts = {}
        self.cache = {}
        self.call = None
        self.producers = {}   # id(array) -> the traced call that made it
        self.alive = []

    # -- naming and nodes --------------------------------------------------------------------
    def fresh(self, hint):
        n = self.counts.get(hint, 0)
        self.counts[hint] = n + 1
        return f"/{hint}_{n}" if not hint.startswith("/") else f"{hint}_{n}"

    def node(self, op_type, inputs, outputs=1, **attrs):
        """Add one node; its output name (a list when ``outputs`` > 1)."""
        for k, v in attrs.items():
            if isinstance(v, np.ndarray):
                attrs[k] = self.numpy_helper.from_array(v)
            elif _has_sym(v):
                self.varies(v)
        outs = [self.fresh(op_type) for _ in range(outputs)]
        self.nodes.append(self.helper.make_node(op_type, list(inputs), outs,
                                                name=self.fresh("/" + op_type + "_node"),
                                                **attrs))
        return outs[0] if outputs == 1 else outs

    def const(self, arr, name=None):
        """An initializer holding ``arr``."""
        name = name or self.fresh("const")
        arr = np.asarray(arr)   # (np.ascontiguousarray would make 0-d arrays 1-d)
        self.inits[name] = self.numpy_helper.from_array(
            arr if arr.flags.c_contiguous else arr.copy(order="C"), name)
        return name

    def elem_type(self, dtype):
        return self.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))

    # -- arguments -----------------------------------------------------------------------------
    def v(self, a, call=None):
        """The value name of a kernel argument: a traced array, a constant, or a scalar."""
        if a is None:
            return ""
        if isinstance(a, np.ndarray):
            name = self.names.get(id(a))
            if isinstance(name, _Deferred):
                self.unsupported(name.call, "its max-pooling indices are used "
                                 "(return_indices=True)" if name.emit else
                                 f"its output {name.output} is used")
            if name is None:   # a parameter, a folded value or an array made in forward
                name = self.names[id(a)] = self.const(a, self.param_names.get(id(a)))
                self.alive.append(a)   # its id names it: keep it from being reused
            return name
        return self.scalar(a, call)

    def scalar(self, value, call):
        """A 0-d constant of the call's dtype (of its first non-bool array if it returns bool)."""
        if isinstance(value, Sym):
            self.varies(value)
        result = call.result[0] if isinstance(call.result, tuple) else call.result
        dtype = result.dtype
        if dtype == np.bool_:
            dtype = next((a.dtype for a in call.args if isinstance(a, np.ndarray)
                          and a.dtype != np.bool_), np.dtype(type(value)))
        key = ("scalar", value, dtype.str)
        if key not in self.cache:
            self.cache[key] = self.const(np.array(value, dtype))
        return self.cache[key]

    def is_const(self, a):
        name = self.names.get(id(a))
        return name is None or (isinstance(name, str) and name in self.inits)

    def producer(self, a):
        """The emitted call whose result ``a`` is (None for inputs and constants)."""
        return self.producers.get(id(a))

    def is_zero(self, a):
        return a is None or (self.is_const(a) and not np.any(a))

    @staticmethod
    def is_sym(x):
        return isinstance(x, Sym)

    def sym_shape(self, a):
        """``a``'s shape, a ``Sym`` where it follows the dynamic axes."""
        shape = tuple(a.shape)
        return _symbolize(shape, self.alt.get(id(a), [shape] * len(self.symbols)),
                          self.symbols)

    def ints(self, values, reshape=False):
        """An int64 vector of ``values`` (ints and Syms: dynamic, from the inputs' shapes).
        ``reshape``: one size the exporter cannot express becomes -1."""
        values = list(values)
        unknown = [i for i, v in enumerate(values) if isinstance(v, Unknown)]
        if reshape and len(unknown) == 1:
            values[unknown[0]] = -1
        elif unknown:
            self.varies(values[unknown[0]])
        if not any(isinstance(v, Sym) for v in values):
            key = ("ints", tuple(values))
            if key not in self.cache:
                self.cache[key] = self.const(np.array(values, np.int64))
            return self.cache[key]
        pieces, run = [], []
        for v in values:
            if isinstance(v, Sym):
                if run:
                    pieces.append(self.ints(run))
                    run = []
                pieces.append(self._sym_value(v))
            else:
                run.append(v)
        if run:
            pieces.append(self.ints(run))
        return self.node("Concat", pieces, axis=0)

    def _sym_value(self, sym, scalar=False):
        """An int64 [size] (or 0-d with ``scalar``) computed from the inputs' shapes."""
        key = ("sym", sym.coeff, tuple(s.name for s in sym.symbols), scalar)
        if key not in self.cache:
            out = None
            for s in sym.symbols:
                name, axis = s.where[0]
                if ("shape", name) not in self.cache:
                    self.cache[("shape", name)] = self.node("Shape", [name])
                index = self.const(np.array(axis if scalar else [axis], np.int64))
                dim = self.node("Gather", [self.cache[("shape", name)], index], axis=0)
                out = dim if out is None else self.node("Mul", [out, dim])
            if sym.coeff != 1:
                coeff = np.array(sym.coeff if scalar else [sym.coeff], np.int64)
                out = self.node("Mul", [out, self.const(coeff)])
            self.cache[key] = out
        return self.cache[key]

    def int_scalar(self, value, dtype):
        """A 0-d ``dtype`` constant, or computed from the inputs' shapes for a Sym."""
        if not isinstance(value, Sym):
            return self.const(np.array(value, dtype))
        if isinstance(value, Unknown):
            self.varies(value)
        return self.node("Cast", [self._sym_value(value, scalar=True)],
                         to=self.elem_type(dtype))

    def varies(self, value):
        self.unsupported(self.call, f"a parameter ({value!r}) changes with the dynamic axes "
                                    f"in a way its ONNX form cannot follow")

    # -- pooling indices -----------------------------------------------------------------------
    def defer(self, call, emit):
        return _Deferred(call, emit)

    def resolve_deferred(self, indices, call):
        d = self.names.get(id(indices))
        if not isinstance(d, _Deferred) or d.emit is None:
            self.unsupported(call, "it gathers by indices that do not come from max pooling")
        return d.emit

    def unsupported(self, call, what=None):
        op = call.op if call is not None else "?"
        raise UnsupportedOperatorError(
            f"Exporting the operator '{op}' to ONNX opset version {self.opset} is not "
            f"supported: {what or 'corelib/onnx/ops.py has no mapping for it'}")


# ---------------------------------------------------------------------------------------------
def _solve(a, alts, symbols):
    """``a`` as ``coeff * product of symbols``, from its values ``alts`` in the runs that each
    resized one symbol: it follows the symbols whose runs changed it, each in proportion."""
    deps = [s for s, b in zip(symbols, alts) if b != a]
    if all(a * s.alt_size == b * s.size for s, b in zip(symbols, alts) if b != a):
        size = math.prod(s.size for s in deps)
        if size and a % size == 0 and a // size > 0:
            return Sym(a // size, tuple(deps), a)
    return Unknown(a)


def _is_int(x):
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _symbolize(a, alts, symbols):
    """``a`` with every int that differs in the other runs (``alts``, one per symbol)
    replaced by a ``Sym``."""
    if _is_int(a) and all(_is_int(b) for b in alts):
        return int(a) if all(b == a for b in alts) else _solve(int(a), alts, symbols)
    if isinstance(a, (tuple, list)) and all(type(b) is type(a) and len(b) == len(a)
                                             for b in alts):
        return type(a)(_symbolize(x, [b[i] for b in alts], symbols) for i, x in enumerate(a))
    if isinstance(a, dict) and all(isinstance(b, dict) and b.keys() == a.keys() for b in alts):
        return {k: _symbolize(a[k], [b[k] for b in alts], symbols) for k in a}
    if isinstance(a, slice) and all(isinstance(b, slice) for b in alts):
        return slice(*(_symbolize(getattr(a, f), [getattr(b, f) for b in alts], symbols)
                       for f in ("start", "stop", "step")))
    if isinstance(a, np.ndarray):
        return a
    for b in alts:
        if b is a:
            continue
        try:
            same = bool(a == b)
        except Exception:
            same = False
        if not same:
            return Unknown(a)
    return a


def _results(result):
    return result if isinstance(result, tuple) else (result,)


def _flatten(out):
    if isinstance(out, corelib.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flatten(o)]
    if isinstance(out, dict):
        return [t for o in out.values() for t in _flatten(o)]
    if out is None:
        return []
    raise OnnxExporterError(f"export(): the model returned a {type(out).__name__}; only "
                            f"tensors and (nested) tuples, lists and dicts of them export")


def _alternative(t, size_of_axis, rng):
    """A tensor like ``t`` with the given axes resized, values drawn from ``t``'s own."""
    shape = [size_of_axis.get(i, n) for i, n in enumerate(t.shape)]
    values = t.detach().cpu().numpy().ravel()
    data = rng.choice(values, size=shape) if values.size else np.zeros(shape, values.dtype)
    return corelib.tensor(data, dtype=t.dtype, device=t.device)


def _axes(spec, name):
    if isinstance(spec, dict):
        return {int(k): str(v) for k, v in spec.items()}
    return {int(k): f"{name}_dynamic_axes_{i + 1}" for i, k in enumerate(spec)}


def export(model, args=(), f=None, *, kwargs=None, verbose=None, input_names=None,
           output_names=None, opset_version=None, dynamo=True, external_data=True,
           dynamic_shapes=None, custom_translation_table=None, report=False, optimize=True,
           verify=False, profile=False, dump_exported_program=False, artifacts_dir=".",
           export_params=True, keep_initializers_as_inputs=False, dynamic_axes=None,
           training=None, operator_export_type=None, do_constant_folding=True,
           custom_opsets=None, export_modules_as_functions=False, autograd_inlining=True):
    """export(model, args=(), f=None, *, kwargs=None, input_names=None, output_names=None,
    opset_version=17, dynamic_axes=None, verify=False, ...) -- ``model`` traced on ``args``,
    as ONNX, written to ``f`` (a path or a binary file; None: the ``onnx.ModelProto`` is
    returned).

    args: a tensor or a tuple of arguments (a trailing dict, or ``kwargs``: keyword
    arguments). The model is exported in eval mode unless ``training`` says otherwise (its
    mode is restored after). ``verify=True`` runs the exported model in onnxruntime and
    compares its outputs with the model's. Ops without a mapping raise
    ``UnsupportedOperatorError`` naming the op; random ops (dropout in training mode) are
    refused. PyTorch's other options are accepted; ``dynamo`` and the report/profile/dump
    options have no effect here, ``dynamic_shapes`` and ``custom_translation_table`` are not
    supported (use ``dynamic_axes``).
    """
    if dynamic_shapes is not None or custom_translation_table:
        raise OnnxExporterError("export(): dynamic_shapes and custom_translation_table are "
                                "not supported; use dynamic_axes")
    try:
        import onnx
        from onnx import helper
    except ImportError:
        raise ImportError("corelib.onnx.export needs the onnx package: "
                          "pip install 'corelib[onnx]'") from None
    opset = 17 if opset_version is None else int(opset_version)
    if not 14 <= opset <= onnx.defs.onnx_opset_version():
        raise ValueError(f"export(): opset_version {opset} is not supported (14 to "
                         f"{onnx.defs.onnx_opset_version()})")
    if not export_params or keep_initializers_as_inputs:
        raise OnnxExporterError("export(): only export_params=True and "
                                "keep_initializers_as_inputs=False are supported")
    # training: None/False/"EVAL" (default), True/"TRAINING", "PRESERVE" (TrainingMode names)
    mode = training.name if isinstance(training, TrainingMode) else \
        {None: "EVAL", False: "EVAL", True: "TRAINING"}.get(
            training, str(training).upper().split(".")[-1])
    if mode not in ("EVAL", "TRAINING", "PRESERVE"):
        raise ValueError(f"export(): unknown training mode {training!r}")
    call_args = args if isinstance(args, tuple) else (args,)
    call_kwargs = dict(kwargs or {})
    if call_args and isinstance(call_args[-1], dict):
        call_args, call_kwargs = call_args[:-1], {**call_args[-1], **call_kwargs}
    # graph inputs: the tensor arguments, positional then keyword
    positions = [i for i, a in enumerate(call_args) if isinstance(a, corelib.Tensor)] + \
        [k for k, a in call_kwargs.items() if isinstance(a, corelib.Tensor)]
    inputs = [(call_args if isinstance(i, int) else call_kwargs)[i] for i in positions]
    if any(t.device.type != "cpu" for t in inputs):
        raise OnnxExporterError("export(): move the model and its inputs to the cpu first")
    input_names = list(input_names or [])
    input_names += [f"input_{i}" if len(inputs) > 1 else "input"
                    for i in range(len(input_names), len(inputs))]
    dynamic_axes = dynamic_axes or {}

    param_names = {}
    if isinstance(model, corelib.nn.Module):
        for name, t in itertools.chain(model.named_parameters(), model.named_buffers()):
            param_names.setdefault(id(t._data), name)

    def run(values):
        call, kw = list(call_args), dict(call_kwargs)
        for i, v in zip(positions, values):
            (call if isinstance(i, int) else kw)[i] = v
        with tracing() as trace:
            out = model(*call, **kw)
        return trace, out

    was_training = getattr(model, "training", None)
    if was_training is not None and mode != "PRESERVE":
        model.train(mode == "TRAINING")
    try:
        with corelib.no_grad():
            trace, out = run(inputs)
            symbols, alt_runs = {}, []
            if dynamic_axes:
                for name, t in zip(input_names, inputs):
                    for axis, sym in _axes(dynamic_axes.get(name, {}), name).items():
                        if sym not in symbols:
                            symbols[sym] = _Symbol(sym, t.shape[axis], None)
                        symbols[sym].where.append((name, axis))
                alt_runs = [_resized_run(run, s, input_names, inputs, dynamic_axes)
                            for s in symbols.values()]
    finally:
        if was_training is not None:
            model.train(was_training)

    g = _Graph(opset, list(symbols.values()), param_names)
    for t, name in zip(inputs, input_names):
        g.names[id(t._data)] = name
    for alt_trace, _, _ in alt_runs:
        if [c.op for c in alt_trace.calls] != [c.op for c in trace.calls]:
            raise OnnxExporterError("export(): the model runs different ops when the dynamic "
                                    "axes change size; export it without dynamic_axes")
    alt_traces = [r[0] for r in alt_runs]
    for k, t in enumerate(inputs):
        if alt_runs:
            g.alt[id(t._data)] = [tuple(r[2][k].shape) for r in alt_runs]
    # arrays written in place are read (by g.v) with the contents they had at that point of the
    # run: rewind every write, then replay each one as its call is reached
    writes = [c for c in trace.calls if c.target is not None]
    for c in reversed(writes):
        np.copyto(c.target, c.before)
    try:
        _build(g, trace, alt_traces)
    finally:
        for c in writes:
            np.copyto(c.target, c.after)

    outputs = _flatten(out)
    alt_outputs = [_flatten(r[1]) for r in alt_runs]
    output_names = list(output_names or [])
    output_names += [f"output_{i}" if len(outputs) > 1 else "output"
                     for i in range(len(output_names), len(outputs))]
    for t, name in zip(outputs, output_names):
        g.nodes.append(helper.make_node("Identity", [g.v(t._data)], [name],
                                        name=f"/output/{name}"))

    def info(name, t, alt_shapes, axes):
        dims = []
        for k, d in enumerate(_symbolize(tuple(t.shape), alt_shapes, g.symbols)):
            if k in axes:
                dims.append(axes[k])
            elif isinstance(d, Sym) and not isinstance(d, Unknown):
                dims.append(d.symbols[0].name if d.coeff == 1 and len(d.symbols) == 1
                            else f"{name}_dim_{k}")
            elif isinstance(d, Unknown):
                dims.append(f"{name}_dim_{k}")
            else:
                dims.append(d)
        return helper.make_tensor_value_info(name, g.elem_type(t._data.dtype), dims)

    graph_inputs = [info(n, t, [tuple(r[2][k].shape) for r in alt_runs],
                         _axes(dynamic_axes.get(n, {}), n))
                    for k, (n, t) in enumerate(zip(input_names, inputs))]
    graph_outputs = [info(n, t, [tuple(o[k].shape) for o in alt_outputs],
                          _axes(dynamic_axes.get(n, {}), n))
                     for k, (n, t) in enumerate(zip(output_names, outputs))]
    nodes, inits = _prune(g.nodes, g.inits, output_names)
    graph = helper.make_graph(nodes, type(model).__name__, graph_inputs, graph_outputs,
                              initializer=inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="corelib", producer_version=corelib.__version__)
    proto.ir_version = min(proto.ir_version, 10)   # readable by current onnxruntime releases
    onnx.checker.check_model(proto)
    if verbose:
        print(helper.printable_graph(graph))
    if verify:
        _verify(proto, inputs, outputs)
    if f is None:
        return proto
    if isinstance(f, (str, bytes)) or hasattr(f, "__fspath__"):
        onnx.save_model(proto, f)
    else:
        f.write(proto.SerializeToString())
    return None


def _verify(proto, inputs, outputs):
    """Run the exported model in onnxruntime on the traced inputs; compare with the model's."""
    import onnxruntime
    sess = onnxruntime.InferenceSession(proto.SerializeToString(),
                                        providers=["CPUExecutionProvider"])
    feeds = {i.name: t.detach().numpy() for i, t in zip(sess.get_inputs(), inputs)}
    for i, (got, want) in enumerate(zip(sess.run(None, feeds), outputs)):
        want = want.detach().numpy()
        if got.shape != want.shape:
            why = f"shape {got.shape}, the model's {want.shape}"
        elif not np.allclose(got, want, rtol=1e-4, atol=1e-5, equal_nan=True):
            why = f"max abs difference {np.max(np.abs(got - want))}"
        else:
            continue
        raise OnnxExporterError(f"export(verify=True): output {i} of the exported model "
                                f"differs from the model's ({why})")


def _resized_run(run, symbol, input_names, inputs, dynamic_axes):
    """(trace, output, inputs) of the model run with ``symbol``'s axes one longer, or if the
    model refuses that (a table of positions), one shorter."""
    failure = None
    for step in (1, -1):
        symbol.alt_size = symbol.size + step
        if symbol.alt_size < 1:
            continue
        rng = np.random.default_rng(0)
        sizes = [_alternative(t, {a: symbol.alt_size for a, s in
                                  _axes(dynamic_axes.get(name, {}), name).items()
                                  if s == symbol.name}, rng)
                 for name, t in zip(input_names, inputs)]
        try:
            trace, out = run(sizes)
            return trace, out, sizes
        except Exception as exc:   # the model's own error: try the other direction
            failure = exc
    raise OnnxExporterError(f"export(): with dynamic_axes the model runs again with each "
                            f"dynamic axis resized ({symbol.name}: {symbol.size} -> "
                            f"{symbol.alt_size}), and that failed: "
                            f"{type(failure).__name__}: {failure}") from failure


def _build(g, trace, alt_traces):
    """Emit the graph of ``trace`` (``alt_traces``: the runs with a dynamic axis resized)."""
    for i, call in enumerate(trace.calls):
        _emit(g, call, [t.calls[i] for t in alt_traces])
        if call.target is not None:
            np.copyto(call.target, call.after)   # what this call wrote, as it wrote it


def _emit(g, call, alts):
    """Fold ``call`` into a constant, or add its nodes through the op table."""
    from .ops import OPS
    results = _results(call.result)
    if not any(isinstance(r, np.ndarray) for r in results):
        return   # a query (is_contiguous, strides): no value
    if "generator" in call.params:
        g.unsupported(call, "random ops are not exported")
    dynamic = False
    if alts:
        for k, r in enumerate(results):
            if isinstance(r, np.ndarray):
                shapes = [tuple(_results(alt.result)[k].shape) for alt in alts]
                g.alt[id(r)] = shapes
                dynamic |= any(s != r.shape for s in shapes)
        call.params = _symbolize(call.params, [alt.params for alt in alts], g.symbols)
        dynamic |= _has_sym(call.params)
    arrays = [a for a in call.args if isinstance(a, np.ndarray)]
    if not dynamic and all(g.is_const(a) for a in arrays):
        for r in results:   # folded: the result is a constant (an in-place write's target is
            if isinstance(r, np.ndarray):   # one again, with its new contents)
                g.names.pop(id(r), None)
        return
    emit = OPS.get(call.op)
    if emit is None:
        g.unsupported(call)
    if call.target is not None:
        _check_inplace(g, call)
    g.call = call
    names = emit(g, call)
    names = names if isinstance(names, list) else [names]
    for k, (r, name) in enumerate(zip(results, names)):
        if isinstance(r, np.ndarray):   # an output the emitter did not make: an error if used
            g.names[id(r)] = name if name is not None else _Deferred(call, None, k)
            g.producers[id(r)] = call


def _has_sym(x):
    if isinstance(x, Sym):
        return True
    if isinstance(x, (tuple, list)):
        return any(_has_sym(v) for v in x)
    if isinstance(x, dict):
        return any(_has_sym(v) for v in x.values())
    return False


def _prune(nodes, inits, outputs):
    """The nodes and initializers the outputs depend on (folding can leave others unused)."""
    needed, kept = set(outputs), []
    for node in reversed(nodes):
        if needed.intersection(node.output):
            kept.append(node)
            needed.update(node.input)
    return kept[::-1], [t for name, t in inits.items() if name in needed]


def _check_inplace(g, call):
    """An in-place write makes a new value, unless it writes through a view of another."""
    if call.target.base is not None:
        g.unsupported(call, "it writes in place into a view of another tensor")
