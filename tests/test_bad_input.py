"""Misuse is caught where it happens: each case asserts the exception class (PyTorch's: where
PyTorch is installed, a second test asserts it raises the same class for the same misuse), a
message naming the offending op or argument, and that nothing changed (values, shapes, dtypes,
versions, gradients, the RNG state, modules, optimizers, files, the plugin registry)."""
import json
import math
import os
import struct
import tempfile
import types

import numpy as np
import pytest

import corelib
from corelib.dispatch import registry
from corelib.hookspecs import BackendSpec, hookimpl

NAN, INF = float("nan"), float("inf")


class Case:
    """``act(m, s)`` misuses library ``m`` (corelib or torch) on the state ``s`` that
    ``setup(m)`` built (default: :func:`std_state`)."""

    def __init__(self, id, act, exc, match, torch=True, setup=None):
        self.id, self.act, self.exc, self.match = id, act, exc, match
        self.torch, self.setup = torch, setup or std_state


def std_state(m):
    x = m.arange(6.0).reshape(2, 3)
    return {"x": x, "v": m.tensor([0.25, 0.5, 0.75]), "i": m.tensor([0, 1, 2]),
            "w": m.ones(2, 3, requires_grad=True), "mask": x > 2}


def _F(m):
    return m.nn.functional


# ---------------------------------------------------------------------------------------------
# state snapshots
def _tensor_state(t):
    data = np.array(t.detach().cpu().numpy(), copy=True)
    grad = None if t.grad is None else np.array(t.grad.detach().cpu().numpy(), copy=True)
    return (tuple(t.shape), str(t.dtype), t._version, t.requires_grad, data, grad)


def _snapshot(m, s):
    rng = m.get_rng_state()
    out = {"rng": np.array(rng.numpy(), copy=True) if hasattr(rng, "numpy") else repr(rng)}
    for k, v in s.items():
        if k.startswith("_"):
            continue
        if isinstance(v, m.Tensor):
            out[k] = _tensor_state(v)
        elif isinstance(v, m.nn.Module):
            out[k] = {n: _tensor_state(p) for n, p in v.state_dict(keep_vars=True).items()}
        elif isinstance(v, m.optim.Optimizer):
            out[k] = repr(v.state_dict())
        elif k == "dir":
            out[k] = {f: open(os.path.join(v, f), "rb").read() for f in sorted(os.listdir(v))}
        elif k == "registry":
            out[k] = (sorted(registry.backends), sorted(n for n, _ in registry.pm.list_name_plugin()))
    return out


def _same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    return a == b


# ---------------------------------------------------------------------------------------------
# custom autograd Functions whose backward is wrong in one way each
def _fn(m, backward, n_inputs=1):
    def forward(ctx, *args):
        return args[0] * 2

    return type("Bad", (m.autograd.Function,), {"forward": staticmethod(forward),
                                                 "backward": staticmethod(backward)})


def _fn_saving(m, value):
    def forward(ctx, a):
        ctx.save_for_backward(value)
        return a * 2

    return type("Saves", (m.autograd.Function,), {"forward": staticmethod(forward),
                                                   "backward": staticmethod(lambda ctx, g: g)})


def _fn_marking(m, method):
    def forward(ctx, a):
        getattr(ctx, method)(3)
        return a

    return type("Marks", (m.autograd.Function,), {"forward": staticmethod(forward),
                                                   "backward": staticmethod(lambda ctx, g: g)})


def _run_fn(m, backward, *extra):
    a = m.ones(2, 3, requires_grad=True)
    _fn(m, backward).apply(a, *extra).sum().backward()


def _hook_run(m, s, hook, leaf):
    w = s["w"]
    if leaf:
        h = w.register_hook(hook)
        y = w * 2
    else:
        y = w * 2
        h = y.register_hook(hook)
    try:
        y.sum().backward()
    finally:
        h.remove()


def _set_grad(t, g):
    t.grad = g


def _nograd_view_inplace(m, s):
    y = s["w"] * 1
    with m.no_grad():
        v = y[:1]
    v.mul_(2)


def _saved_modified(m, s):
    y = s["w"] * 1
    z = y.sin()   # sin saves its input
    y.add_(1)
    z.sum().backward()


def _backward_twice(m, s):
    y = (s["w"] * s["w"]).sum()
    y.backward()
    s["w"].grad = None
    y.backward()


def _detach_view(m, s):
    y = s["w"] * 1
    y[0].detach_()


def _deepcopy_nonleaf(m, s):
    import copy
    copy.deepcopy(s["w"] * 2)


# ---------------------------------------------------------------------------------------------
# modules and optimizers
def model_state(m):
    m.manual_seed(0)
    model = m.nn.Linear(3, 2)
    opt = m.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(m.ones(4, 3)).sum().backward()
    opt.step()
    return {"model": model, "opt": opt, "x": m.ones(4, 3), "emb": m.nn.Embedding(3, 2),
            "seq": m.nn.Sequential(m.nn.Linear(3, 2), m.nn.Linear(3, 1))}


def layers_state(m):
    """Layers built before the snapshot (building draws initial weights from the RNG)."""
    m.manual_seed(0)
    nn = m.nn
    return {"conv0": nn.Conv2d(1, 1, 3, stride=0), "conv": nn.Conv2d(2, 1, 3),
            "bn": nn.BatchNorm1d(4), "ln": nn.LayerNorm(4), "emb": nn.Embedding(3, 2),
            "lstm": nn.LSTM(3, 4), "pool": nn.MaxPool2d(7),
            "ce": nn.CrossEntropyLoss(weight=m.ones(5)), "unflat": nn.Unflatten(1, (2, 2))}


def _load_sd(m, s, change):
    sd = {k: v.clone() for k, v in s["model"].state_dict().items()}
    change(m, sd)
    s["model"].load_state_dict(sd)


def _setattr(obj, name, value):
    setattr(obj, name, value)


def _opt_load(m, s, change):
    sd = s["opt"].state_dict()
    change(sd)
    s["opt"].load_state_dict(sd)


# ---------------------------------------------------------------------------------------------
# checkpoints (corelib's safetensors files)
def ckpt_state(m):
    d = tempfile.mkdtemp(prefix="corelib-bad-")
    corelib.save({"w": corelib.arange(4.0)}, os.path.join(d, "good.pt"))
    return {"dir": d}


def _write_raw(d, name, header, data=b""):
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw + data)
    return os.path.join(d, name)


def _load_bad(s, header, data=b"", prefix=None):
    path = os.path.join(s["dir"], "bad.pt")
    if not os.path.exists(path):
        raise AssertionError("setup must write bad.pt")
    corelib.load(path)


def bad_ckpt(header, data=b"", raw=None):
    """State: a directory with good.pt and bad.pt (``header`` + ``data``, or ``raw`` bytes)."""
    def setup(m):
        s = ckpt_state(m)
        if raw is not None:
            with open(os.path.join(s["dir"], "bad.pt"), "wb") as f:
                f.write(raw)
        else:
            _write_raw(s["dir"], "bad.pt", header, data)
        return s
    return setup


def _load(s, name="bad.pt"):
    corelib.load(os.path.join(s["dir"], name))


# ---------------------------------------------------------------------------------------------
# plugins
def plugin_state(m):
    registry.load()
    return {"registry": None, "x": m.ones(3)}


def _backend_plugin(device_type, kernels=None):
    ns = types.SimpleNamespace()

    @hookimpl
    def corelib_backend():
        return BackendSpec(device_type=device_type, kernels=kernels or {},
                           to_numpy=np.asarray, from_numpy=lambda a, index=0: np.array(a),
                           make_generator=np.random.default_rng,
                           distribution=f"bad-input-{device_type}", runtime={})
    ns.corelib_backend = corelib_backend
    return ns


def device_state(device_type, kernels):
    """State: the plugin state with a test device registered (registering resets random
    states, so it happens before the snapshot); unregistered by ``_teardown``."""
    def setup(m):
        s = plugin_state(m)
        with pytest.warns(Warning):   # the device breaks the kernel contract on purpose
            name = registry.register(_backend_plugin(device_type, kernels),
                                     name=f"bad-{device_type}")
        s["_teardown"] = lambda: registry.unregister(name=name)
        return s
    return setup


def _bad_kernel(*args, **kwargs):
    raise ValueError("broken kernel")


def _oom_kernel(*args, **kwargs):
    raise MemoryError()


# ---------------------------------------------------------------------------------------------
C = Case
CASES = [
    # -- creation: sizes, dtypes, ranges -------------------------------------------------------
    C("zeros_float_size", lambda m, s: m.zeros(2.0, 3), TypeError, r"zeros.*'size'.*float"),
    C("zeros_float_in_tuple", lambda m, s: m.zeros((2.5,)), TypeError, r"zeros.*'size'.*float"),
    C("ones_str_size", lambda m, s: m.ones("3"), TypeError, r"ones.*'size'"),
    C("empty_none_size", lambda m, s: m.empty((2, None)), TypeError, r"empty.*'size'.*NoneType"),
    C("randn_float_size", lambda m, s: m.randn(2.0), TypeError, r"'size'"),
    C("rand_float_size", lambda m, s: m.rand(3, 1.5), TypeError, r"'size'.*float"),
    C("zeros_dtype_str", lambda m, s: m.zeros(3, dtype="float32"), TypeError,
      r"zeros.*argument 'dtype' must be"),
    C("ones_dtype_numpy", lambda m, s: m.ones(3, dtype=np.float32), TypeError,
      r"ones.*argument 'dtype'"),
    C("full_dtype_str", lambda m, s: m.full((2,), 1.0, dtype="int64"), TypeError, r"'dtype'"),
    C("arange_dtype_str", lambda m, s: m.arange(5, dtype="float64"), TypeError, r"'dtype'"),
    C("empty_dtype_str", lambda m, s: m.empty(2, dtype="float16"), TypeError, r"'dtype'"),
    C("zeros_negative", lambda m, s: m.zeros(-1), RuntimeError, r"negative dimension"),
    C("ones_negative_2d", lambda m, s: m.ones(2, -3), RuntimeError, r"negative dimension"),
    C("rand_negative", lambda m, s: m.rand(-2), RuntimeError, r"negative dimension"),
    C("zeros_overflow", lambda m, s: m.zeros(2 ** 62), RuntimeError, r"overflow"),
    C("empty_overflow_2d", lambda m, s: m.empty(2 ** 40, 2 ** 40), RuntimeError, r"overflow"),
    C("full_overflow", lambda m, s: m.full((2 ** 62,), 1.0), RuntimeError, r"overflow"),
    C("randn_overflow", lambda m, s: m.randn(2 ** 62), RuntimeError, r"overflow"),
    C("ones_overflow_product", lambda m, s: m.ones(2 ** 50, 2 ** 20), RuntimeError,
      r"overflow"),
    C("eye_negative_n", lambda m, s: m.eye(-1), RuntimeError, r"n must be greater or equal to 0"),
    C("eye_negative_m", lambda m, s: m.eye(2, -1), RuntimeError,
      r"m must be greater or equal to 0"),
    C("arange_inf", lambda m, s: m.arange(0, INF), RuntimeError, r"unsupported range: 0 -> inf"),
    C("arange_nan", lambda m, s: m.arange(0, NAN), RuntimeError, r"unsupported range"),
    C("arange_step_zero", lambda m, s: m.arange(0, 3, 0), RuntimeError, r"step must be nonzero"),
    C("arange_wrong_sign", lambda m, s: m.arange(0, 3, -1), RuntimeError,
      r"upper bound and lower bound inconsistent with step sign"),
    C("linspace_negative_steps", lambda m, s: m.linspace(0, 1, -1), RuntimeError,
      r"number of steps must be non-negative"),
    C("tensor_ragged", lambda m, s: m.tensor([[1, 2], [3]]), ValueError,
      r"expected sequence of length 2 at dim 1 \(got 1\)"),
    C("randint_empty_range", lambda m, s: m.randint(5, 2, (3,)), RuntimeError,
      r"from.*5.*to.*2|low.*high"),
    C("randperm_negative", lambda m, s: m.randperm(-1), RuntimeError, r"randperm.*negative"),
    # -- shapes and views ----------------------------------------------------------------------
    C("reshape_float", lambda m, s: s["x"].reshape(2.0, 3), TypeError, r"reshape|shape"),
    C("reshape_float_tuple", lambda m, s: s["x"].reshape((2.0, 3)), TypeError,
      r"reshape.*'shape'.*float"),
    C("view_float", lambda m, s: s["x"].view(2.0, 3), TypeError, r"view"),
    C("reshape_bad_numel", lambda m, s: s["x"].reshape(4, 2), RuntimeError,
      r"shape '\[4, 2\]' is invalid for input of size 6"),
    C("reshape_two_inferred", lambda m, s: s["x"].reshape(-1, -1), RuntimeError,
      r"only one dimension can be inferred"),
    C("view_bad_numel", lambda m, s: s["x"].view(5), RuntimeError, r"shape '\[5\]' is invalid"),
    C("expand_float", lambda m, s: s["v"].expand(2.0), TypeError, r"expand.*'size'.*float"),
    C("expand_incompatible", lambda m, s: s["v"].expand(2, 4), RuntimeError,
      r"expand|expanded size"),
    C("expand_fewer_dims", lambda m, s: s["x"].expand(3), RuntimeError,
      r"number of sizes provided \(1\) must be greater or equal"),
    C("permute_wrong_len", lambda m, s: s["x"].permute(0), RuntimeError, r"permute|dims"),
    C("permute_repeated", lambda m, s: s["x"].permute(0, 0), RuntimeError, r"repeated dim|dim"),
    C("transpose_out_of_range", lambda m, s: s["x"].transpose(0, 5), IndexError,
      r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 5\)"),
    C("squeeze_out_of_range", lambda m, s: s["x"].squeeze(5), IndexError,
      r"Dimension out of range"),
    C("unsqueeze_out_of_range", lambda m, s: s["x"].unsqueeze(4), IndexError,
      r"Dimension out of range"),
    C("flatten_bad_dims", lambda m, s: s["x"].flatten(1, 0), RuntimeError,
      r"flatten.*start_dim"),
    C("repeat_fewer_dims", lambda m, s: s["x"].repeat(2), RuntimeError,
      r"Number of dimensions of repeat dims can not be smaller"),
    C("repeat_negative", lambda m, s: s["x"].repeat(2, -1), RuntimeError, r"negative"),
    C("repeat_overflow", lambda m, s: s["v"].repeat(2 ** 62), RuntimeError, r"repeat|overflow"),
    C("cat_empty", lambda m, s: m.cat([]), ValueError,
      r"cat\(\): expected a non-empty list of Tensors"),
    C("cat_tensor_not_list", lambda m, s: m.cat(s["x"]), TypeError, r"cat.*'tensors'"),
    C("cat_shape_mismatch", lambda m, s: m.cat([s["x"], s["v"].reshape(3, 1)]), RuntimeError,
      r"Sizes of tensors must match"),
    C("cat_dim_out_of_range", lambda m, s: m.cat([s["x"], s["x"]], 2), IndexError,
      r"Dimension out of range"),
    C("stack_empty", lambda m, s: m.stack([]), RuntimeError, r"stack.*expects a non-empty TensorList"),
    C("stack_shape_mismatch", lambda m, s: m.stack([s["x"], s["v"]]), RuntimeError,
      r"stack expects each tensor to be equal size"),
    C("chunk_zero", lambda m, s: s["x"].chunk(0), RuntimeError,
      r"chunk expects `chunks` to be greater than 0"),
    C("narrow_out_of_range", lambda m, s: s["x"].narrow(1, 2, 5), RuntimeError,
      r"start \(2\) \+ length \(5\) exceeds dimension size \(3\)"),
    C("movedim_mismatch", lambda m, s: s["x"].movedim((0, 1), (0,)), RuntimeError,
      r"movedim.*same number of dims"),
    C("t_3d", lambda m, s: m.ones(2, 2, 2).t(), RuntimeError,
      r"t\(\) expects a tensor with <= 2 dimensions"),
    # in-place view ops: the tensor keeps its shape when they fail
    C("transpose__out_of_range", lambda m, s: s["x"].transpose_(0, 5), IndexError,
      r"Dimension out of range"),
    C("unsqueeze__out_of_range", lambda m, s: s["x"].unsqueeze_(3), IndexError,
      r"Dimension out of range"),
    C("squeeze__out_of_range", lambda m, s: s["x"].squeeze_(2), IndexError,
      r"Dimension out of range"),
    C("t__on_leaf_requiring_grad", lambda m, s: s["w"].t_(), RuntimeError,
      r"a leaf Variable that requires grad is being used in an in-place operation"),
    C("swapdims__out_of_range", lambda m, s: s["x"].swapdims_(-3, 0), IndexError,
      r"Dimension out of range"),
    C("addmm__broadcast_self", lambda m, s: s["v"].addmm_(m.ones(2, 2), m.ones(2, 3)),
      RuntimeError, r"addmm_|size"),
    C("cumsum__dim", lambda m, s: s["v"].cumsum_(1), IndexError, r"Dimension out of range"),
    # -- elementwise and broadcasting ----------------------------------------------------------
    C("add_broadcast", lambda m, s: s["x"] + m.ones(2), RuntimeError,
      r"The size of tensor a \(3\) must match the size of tensor b \(2\) at non-singleton "
      r"dimension 1"),
    C("mul_broadcast", lambda m, s: m.mul(s["v"], m.ones(4)), RuntimeError,
      r"size of tensor a \(3\) must match the size of tensor b \(4\)"),
    C("lt_broadcast", lambda m, s: s["v"] < m.ones(2), RuntimeError,
      r"size of tensor a \(3\) must match"),
    C("eq_broadcast", lambda m, s: s["v"] == m.ones(2), RuntimeError,
      r"size of tensor a \(3\) must match"),
    C("ge_broadcast", lambda m, s: m.ge(s["x"], m.ones(4)), RuntimeError,
      r"size of tensor a \(3\) must match"),
    C("where_broadcast", lambda m, s: m.where(s["mask"], s["x"], m.ones(4)), RuntimeError,
      r"size|shape mismatch"),
    C("maximum_broadcast", lambda m, s: m.maximum(s["v"], m.ones(2)), RuntimeError,
      r"size of tensor a \(3\) must match"),
    C("add__grows_self", lambda m, s: s["v"].add_(s["x"][:, :3].reshape(2, 3)), RuntimeError,
      r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"),
    C("add__broadcast_fail", lambda m, s: s["x"].add_(m.ones(2)), RuntimeError,
      r"size of tensor a \(3\) must match"),
    C("int_add__float", lambda m, s: s["i"].add_(0.5), RuntimeError,
      r"result type Float can't be cast to the desired output type Long|can't be cast"),
    C("mul__leaf", lambda m, s: s["w"].mul_(2), RuntimeError,
      r"a leaf Variable that requires grad is being used in an in-place operation"),
    C("view_of_leaf_inplace", lambda m, s: s["w"][0].add_(1), RuntimeError,
      r"a view of a leaf Variable that requires grad|leaf Variable"),
    C("add_str", lambda m, s: s["x"] + "a", TypeError, r"str|unsupported operand"),
    C("bitwise_and_float", lambda m, s: s["x"] & s["x"], RuntimeError,
      r"bitwise_and.*not implemented for 'Float'"),
    C("div_rounding_mode", lambda m, s: m.div(s["x"], 2, rounding_mode="round"), RuntimeError,
      r"div.*rounding_mode to be one of None, 'trunc', or 'floor' but found 'round'"),
    C("clamp_no_bounds", lambda m, s: m.clamp(s["x"]), RuntimeError,
      r"At least one of 'min' or 'max' must not be None"),
    C("int_pow_negative", lambda m, s: s["i"] ** -1, RuntimeError,
      r"Integers to negative integer powers are not allowed"),
    C("masked_fill_broadcast", lambda m, s: s["v"].masked_fill(m.ones(2, dtype=m.bool), 0.0),
      RuntimeError, r"size of tensor a \(3\) must match the size of tensor b \(2\)"),
    C("masked_fill__broadcast", lambda m, s: s["x"].masked_fill_(m.ones(2, dtype=m.bool), 0.0),
      RuntimeError, r"size of tensor a \(3\) must match"),
    C("masked_fill_int_mask", lambda m, s: s["x"].masked_fill_(s["i"], 0.0), RuntimeError,
      r"masked_fill.* only supports boolean masks"),
    C("masked_fill_value_1d", lambda m, s: s["x"].masked_fill_(s["mask"], m.ones(2)),
      RuntimeError, r"masked_fill.*0-dimensional value tensor"),
    C("add_out_int", lambda m, s: m.add(s["v"], 1.5, out=s["i"]), RuntimeError,
      r"add.*result type \S*(Float|float32) can't be cast to the desired output type "
      r"\S*(Long|int64)"),
    C("lerp_broadcast", lambda m, s: m.lerp(s["v"], m.ones(2), 0.5), RuntimeError,
      r"size of tensor a|size"),
    C("copy__broadcast", lambda m, s: s["v"].copy_(m.ones(2)), RuntimeError,
      r"expand|size"),
    C("fill__1d_value", lambda m, s: s["x"].fill_(m.ones(2)), RuntimeError,
      r"fill_.*0-dim|0 dimension"),
    # -- indexing ------------------------------------------------------------------------------
    C("index_select_oob", lambda m, s: s["v"].index_select(0, m.tensor([5])), IndexError,
      r"index_select|out of"),
    C("index_select_negative", lambda m, s: s["v"].index_select(0, m.tensor([-1])), IndexError,
      r"index_select|out of"),
    C("index_select_float_index", lambda m, s: s["v"].index_select(0, m.tensor([0.0])),
      RuntimeError, r"index_select.*(Long|int64|dtype)"),
    C("index_add__oob", lambda m, s: s["v"].index_add_(0, m.tensor([5]), m.ones(1)), IndexError,
      r"index_add|out of"),
    C("index_add__dtype", lambda m, s: s["x"].index_add_(0, m.tensor([0]),
                                                          m.ones(1, 3, dtype=m.float64)),
      RuntimeError, r"index_add.*(dtype|scalar type)"),
    C("index_copy__oob", lambda m, s: s["v"].index_copy_(0, m.tensor([7]), m.ones(1)),
      IndexError, r"index_copy|out of"),
    C("gather_oob", lambda m, s: s["x"].gather(1, m.tensor([[5]])), RuntimeError,
      r"index 5 is out of bounds for dimension 1 with size 3"),
    C("scatter__oob", lambda m, s: s["x"].scatter_(0, m.tensor([[4]]), 1.0), RuntimeError,
      r"index 4 is out of bounds for dimension 0 with size 2"),
    C("getitem_int_oob", lambda m, s: s["x"][5], IndexError,
      r"index 5 is out of bounds for dimension 0 with size 2"),
    C("getitem_too_many", lambda m, s: s["x"][0, 0, 0], IndexError, r"too many indices"),
    C("getitem_tensor_oob", lambda m, s: s["x"][m.tensor([0, 4])], IndexError,
      r"index 4 is out of bounds for dimension 0 with size 2"),
    C("getitem_mask_shape", lambda m, s: s["x"][m.ones(3, dtype=m.bool)], IndexError,
      r"shape of the mask .*does not match the shape of the indexed tensor"),
    C("getitem_float", lambda m, s: s["x"][1.5], IndexError,
      r"only integers, slices .* are valid indices"),
    C("setitem_oob", lambda m, s: s["x"].__setitem__(m.tensor([5]), 1.0), IndexError,
      r"index 5 is out of bounds"),
    C("setitem_shape", lambda m, s: s["x"].__setitem__(m.tensor([0, 1]), m.ones(5)),
      RuntimeError, r"shape mismatch: value tensor of shape \[5\] cannot be broadcast to "
                    r"indexing result of shape \[2, 3\]"),
    C("setitem_basic_shape", lambda m, s: s["x"].__setitem__(0, m.ones(5)), RuntimeError,
      r"\b5\b.*\b3\b|\b3\b.*\b5\b"),
    C("setitem_leaf", lambda m, s: s["w"].__setitem__(0, 1.0), RuntimeError,
      r"leaf Variable"),
    C("take_oob", lambda m, s: s["x"].take(m.tensor([20])), IndexError,
      r"out of range|out of bounds"),
    C("put__oob", lambda m, s: s["x"].put_(m.tensor([20]), m.ones(1)), IndexError,
      r"out of range|out of bounds"),
    C("masked_select_int_mask", lambda m, s: s["x"].masked_select(m.ones(2, 3, dtype=m.int64)),
      RuntimeError, r"masked_select.*boolean"),
    C("embedding_oob", lambda m, s: _F(m).embedding(m.tensor([5]), m.ones(3, 2)), IndexError,
      r"index out of range|out of bounds"),
    # -- reductions ----------------------------------------------------------------------------
    C("sum_dim_oob", lambda m, s: s["x"].sum(5), IndexError, r"Dimension out of range"),
    C("mean_int", lambda m, s: s["i"].mean(), RuntimeError, r"mean.*(Long|dtype|floating)"),
    C("sum_repeated_dim", lambda m, s: s["x"].sum((0, 0)), RuntimeError,
      r"appears multiple times in the list of dims"),
    C("max_dim_oob", lambda m, s: s["x"].max(2), IndexError, r"Dimension out of range"),
    C("max_dim_none", lambda m, s: m.max(s["x"], None), TypeError, r"max\(\).*'?dim'?"),
    C("min_dim_none_kw", lambda m, s: s["x"].min(dim=None), TypeError, r"min\(\)"),
    C("max_empty", lambda m, s: m.ones(0).max(), RuntimeError,
      r"max\(\).*numel\(\) == 0|empty"),
    C("argmax_empty", lambda m, s: m.ones(0).argmax(), IndexError,
      r"argmax\(\): Expected reduction dim to be specified for input.numel\(\) == 0"),
    C("argmin_empty", lambda m, s: m.ones(2, 0).argmin(), IndexError, r"argmin"),
    C("softmax_dim_oob", lambda m, s: s["x"].softmax(2), IndexError, r"Dimension out of range"),
    C("cumsum_dim_oob", lambda m, s: s["x"].cumsum(-3), IndexError, r"Dimension out of range"),
    C("topk_too_big", lambda m, s: s["v"].topk(5), RuntimeError,
      r"selected index k out of range"),
    C("topk_float_k", lambda m, s: s["v"].topk(1.5), TypeError,
      r"topk\(\): argument 'k' \(position 1\) must be int, not float"),
    C("roll_str_shifts", lambda m, s: s["x"].roll("a"), TypeError,
      r"roll\(\): argument 'shifts' \(position 1\) must be tuple of ints, not str"),
    C("roll_float_dims", lambda m, s: s["x"].roll(1, 0.5), TypeError, r"roll.*'dims'.*float"),
    C("kthvalue_oob", lambda m, s: s["v"].kthvalue(4), (RuntimeError, IndexError),
      r"kthvalue|out of range"),
    C("std_int", lambda m, s: s["i"].std(), RuntimeError, r"std.*(Long|floating|dtype)"),
    C("logsumexp_dim_oob", lambda m, s: s["x"].logsumexp(3), IndexError,
      r"Dimension out of range"),
    C("prod_dim_oob", lambda m, s: s["x"].prod(-4), IndexError, r"Dimension out of range"),
    # -- linear algebra ------------------------------------------------------------------------
    C("matmul_shapes", lambda m, s: s["x"] @ s["x"], RuntimeError,
      r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)"),
    C("matmul_0d", lambda m, s: m.tensor(1.0) @ s["v"], RuntimeError,
      r"both arguments to matmul need to be at least 1D"),
    C("mm_3d", lambda m, s: m.mm(m.ones(2, 2, 2), m.ones(2, 2)), RuntimeError,
      r"mm.*2D|must be a matrix"),
    C("bmm_2d", lambda m, s: m.bmm(s["x"], s["x"]), RuntimeError, r"bmm.*3D|batch1"),
    C("dot_sizes", lambda m, s: m.dot(s["v"], m.ones(4)), RuntimeError,
      r"inconsistent tensor size"),
    C("dot_2d", lambda m, s: m.dot(s["x"], s["x"]), RuntimeError, r"1D tensors"),
    C("inv_not_square", lambda m, s: m.linalg.inv(s["x"]), RuntimeError,
      r"must be batches of square matrices"),
    C("inv_singular", lambda m, s: m.linalg.inv(m.zeros(2, 2)), corelib.linalg.LinAlgError,
      r"singular|invertible"),
    C("cholesky_not_pd", lambda m, s: m.linalg.cholesky(-m.eye(2)), corelib.linalg.LinAlgError,
      r"positive-definite"),
    C("det_not_square", lambda m, s: m.linalg.det(s["x"]), RuntimeError,
      r"must be batches of square matrices"),
    C("solve_shapes", lambda m, s: m.linalg.solve(m.eye(2), m.ones(3)), RuntimeError,
      r"solve|incompatible shapes|size"),
    # -- random --------------------------------------------------------------------------------
    C("bernoulli_nan", lambda m, s: m.bernoulli(m.tensor([NAN, 0.5])), RuntimeError,
      r"p_in >= 0 && p_in <= 1"),
    C("bernoulli_above_one", lambda m, s: m.bernoulli(m.tensor([2.0])), RuntimeError,
      r"p_in >= 0 && p_in <= 1"),
    C("bernoulli_negative", lambda m, s: m.bernoulli(m.tensor([-0.5])), RuntimeError,
      r"p_in >= 0 && p_in <= 1"),
    C("bernoulli__scalar", lambda m, s: s["x"].bernoulli_(2.0), RuntimeError,
      r"bernoulli.*p to be in \[0, 1\], but got p=2"),
    C("bernoulli__tensor_nan", lambda m, s: s["v"].bernoulli_(m.tensor([0.5, NAN, 0.1])),
      RuntimeError, r"p_in >= 0 && p_in <= 1"),
    C("uniform__reversed", lambda m, s: s["v"].uniform_(1, 0), RuntimeError,
      r"uniform_ expects to return a \[from, to\) range, but found from=1 > to=0"),
    C("normal__negative_std", lambda m, s: s["v"].normal_(0, -1), RuntimeError,
      r"normal.*std >= 0.0, but found std -1"),
    C("normal_negative_std", lambda m, s: m.normal(0.0, -1.0, (3,)), RuntimeError,
      r"normal.*std >= 0.0"),
    C("multinomial_negative", lambda m, s: m.multinomial(m.tensor([0.5, -0.1]), 1),
      RuntimeError, r"multinomial|probability"),
    C("multinomial_too_many", lambda m, s: m.multinomial(s["v"], 4), RuntimeError,
      r"cannot sample n_sample > prob_dist.size\(-1\) samples without replacement"),
    C("random__reversed", lambda m, s: s["x"].random_(5, 2), RuntimeError,
      r"random_ expects 'from' to be less than 'to', but got from=5 >= to=2"),
    C("exponential__negative", lambda m, s: s["v"].exponential_(-1.0), RuntimeError,
      r"exponential_.*expects lambda > 0.0, but found lambda=-1"),
    # -- nn.functional -------------------------------------------------------------------------
    C("bce_nan_input", lambda m, s: _F(m).binary_cross_entropy(m.tensor([NAN]), m.tensor([1.0])),
      RuntimeError, r"all elements of input should be between 0 and 1"),
    C("bce_input_above_one", lambda m, s: _F(m).binary_cross_entropy(m.tensor([1.5]),
                                                                      m.tensor([1.0])),
      RuntimeError, r"all elements of input should be between 0 and 1"),
    C("bce_target_above_one", lambda m, s: _F(m).binary_cross_entropy(m.tensor([0.5]),
                                                                       m.tensor([2.0])),
      RuntimeError, r"all elements of target should be between 0 and 1"),
    C("bce_size_mismatch", lambda m, s: _F(m).binary_cross_entropy(s["v"], m.ones(1, 3)),
      ValueError, r"target size"),
    C("cross_entropy_target_oob", lambda m, s: _F(m).cross_entropy(s["x"], m.tensor([0, 3])),
      IndexError, r"Target 3 is out of bounds"),
    C("nll_loss_target_oob", lambda m, s: _F(m).nll_loss(s["x"], m.tensor([-1, 0])), IndexError,
      r"Target -1 is out of bounds"),
    C("cross_entropy_reduction", lambda m, s: _F(m).cross_entropy(s["x"], m.tensor([0, 1]),
                                                                   reduction="avg"),
      ValueError, r"avg is not a valid value for reduction"),
    C("mse_reduction", lambda m, s: _F(m).mse_loss(s["x"], s["x"], reduction="sums"),
      ValueError, r"sums is not a valid value for reduction"),
    C("dropout_p", lambda m, s: _F(m).dropout(s["x"], 1.5), ValueError,
      r"dropout probability has to be between 0 and 1, but got 1.5"),
    C("linear_shapes", lambda m, s: _F(m).linear(s["x"], m.ones(2, 4)), RuntimeError,
      r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x2\)"),
    C("conv2d_channels", lambda m, s: _F(m).conv2d(m.ones(1, 2, 4, 4), m.ones(1, 3, 3, 3)),
      RuntimeError, r"expected input\[1, 2, 4, 4\] to have 3 channels, but got 2 channels"),
    C("conv2d_3d_weight", lambda m, s: _F(m).conv2d(m.ones(1, 2, 4, 4), m.ones(2, 3, 3)),
      RuntimeError, r"weight"),
    C("layer_norm_shape", lambda m, s: _F(m).layer_norm(s["x"], (2,)), RuntimeError,
      r"normalized_shape"),
    C("max_pool_padding", lambda m, s: _F(m).max_pool2d(m.ones(1, 1, 4, 4), 2, padding=2),
      RuntimeError, r"pad should be at most half of effective kernel size"),
    C("one_hot_negative", lambda m, s: _F(m).one_hot(m.tensor([-1, 0])), RuntimeError,
      r"Class values must be non-negative"),
    C("one_hot_too_few", lambda m, s: _F(m).one_hot(m.tensor([3]), 2), RuntimeError,
      r"Class values must be smaller than num_classes"),
    C("softmax_int", lambda m, s: _F(m).softmax(s["i"], 0), RuntimeError,
      r"softmax.*(Long|not implemented)"),
    C("embedding_float_index", lambda m, s: _F(m).embedding(m.tensor([0.0]), m.ones(3, 2)),
      RuntimeError, r"indices.*(Long|Int)|embedding"),
    # -- autograd: hooks -----------------------------------------------------------------------
    C("hook_changes_size_nonleaf", lambda m, s: _hook_run(m, s, lambda g: m.ones(3), False),
      RuntimeError, r"hook '<lambda>' has changed the size of value"),
    C("hook_changes_size_leaf", lambda m, s: _hook_run(m, s, lambda g: m.ones(3), True),
      RuntimeError, r"hook '<lambda>' has changed the size of value"),
    C("hook_broadcastable_size", lambda m, s: _hook_run(m, s, lambda g: m.ones(1, 3), False),
      RuntimeError, r"has changed the size of value"),
    C("hook_changes_dtype", lambda m, s: _hook_run(m, s, lambda g: g.double(), False),
      RuntimeError, r"hook '<lambda>' has changed the type of value \(was \w+\.FloatTensor got "
                    r"\w+\.DoubleTensor\)"),
    C("hook_changes_dtype_leaf", lambda m, s: _hook_run(m, s, lambda g: g.double(), True),
      RuntimeError, r"has changed the type of value"),
    C("hook_returns_int", lambda m, s: _hook_run(m, s, lambda g: 3, False), TypeError,
      r"expected Variable, but hook returned 'int'"),
    C("hook_returns_list", lambda m, s: _hook_run(m, s, lambda g: [g], True), TypeError,
      r"expected Variable, but hook returned 'list'"),
    # -- autograd: custom Function backward results --------------------------------------------
    C("function_too_few_grads", lambda m, s: _run_fn(m, lambda ctx, g: g, m.ones(2, 3)),
      RuntimeError, r"function BadBackward returned an incorrect number of gradients "
                    r"\(expected 2, got 1\)"),
    C("function_too_many_grads", lambda m, s: _run_fn(m, lambda ctx, g: (g, g)), RuntimeError,
      r"function BadBackward returned an incorrect number of gradients \(expected 1, got 2\)"),
    C("function_wrong_shape", lambda m, s: _run_fn(m, lambda ctx, g: m.ones(3)), RuntimeError,
      r"Function BadBackward returned an invalid gradient at index 0 - got \[3\] but expected "
      r"shape compatible with \[2, 3\]"),
    C("function_unexpandable_shape", lambda m, s: _run_fn(m, lambda ctx, g: m.ones(1, 3)),
      RuntimeError, r"invalid gradient at index 0 - got \[1, 3\]"),
    C("function_returns_int", lambda m, s: _run_fn(m, lambda ctx, g: 3), RuntimeError,
      r"expected Variable or None \(got int\)"),
    C("function_grad_for_number", lambda m, s: _run_fn(m, lambda ctx, g: (g, g), 2.0),
      RuntimeError, r"returned a gradient different than None at position 2, but the "
                    r"corresponding forward input was not a Variable"),
    # -- autograd: .grad assignment ------------------------------------------------------------
    C("grad_assign_shape", lambda m, s: _set_grad(s["w"], m.ones(3)), RuntimeError,
      r"assign a gradient of size '\[3\]' to a tensor of size '\[2, 3\]'"),
    C("grad_assign_dtype", lambda m, s: _set_grad(s["w"], m.ones(2, 3, dtype=m.float64)),
      RuntimeError, r"assign a gradient with dtype '\w+\.?\w*'.*dtype"),
    C("grad_assign_int_tensor", lambda m, s: _set_grad(s["w"], m.ones(2, 3, dtype=m.int64)),
      RuntimeError, r"assign a gradient with dtype"),
    C("grad_assign_number", lambda m, s: _set_grad(s["w"], 3), TypeError,
      r"assigned grad expected to be a Tensor or None but got grad of type int"),
    C("grad_assign_list", lambda m, s: _set_grad(s["x"], [1.0]), TypeError,
      r"assigned grad expected to be a Tensor or None but got grad of type list"),
    C("grad_assign_ndarray", lambda m, s: _set_grad(s["x"], np.ones((2, 3), np.float32)),
      TypeError, r"got grad of type ndarray"),
    # -- autograd: engine and graph rules ------------------------------------------------------
    C("backward_inputs_empty", lambda m, s: (s["w"] * 2).sum().backward(inputs=[]),
      RuntimeError, r"`inputs` argument to `backward\(\)` cannot be empty"),
    C("nograd_view_inplace", _nograd_view_inplace, RuntimeError,
      r"A view was created in no_grad mode and is being modified inplace with grad mode "
      r"enabled"),
    C("nograd_view_of_leaf_inplace", lambda m, s: _nograd_leaf_view(m, s), RuntimeError,
      r"A view was created in no_grad mode"),
    C("backward_twice", _backward_twice, RuntimeError,
      r"Trying to backward through the graph a second time"),
    C("backward_nonscalar", lambda m, s: (s["w"] * 2).backward(), RuntimeError,
      r"grad can be implicitly created only for scalar outputs"),
    C("backward_no_grad", lambda m, s: s["x"].sum().backward(), RuntimeError,
      r"element 0 of tensors does not require grad and does not have a grad_fn"),
    C("backward_gradient_shape", lambda m, s: (s["w"] * 2).backward(m.ones(3)), RuntimeError,
      r"Mismatch in shape: grad_output\[0\] has a shape of .*3.* and output\[0\] has a shape"),
    C("grad_unused_input", lambda m, s: m.autograd.grad((s["w"] * 2).sum(),
                                                        [s["w"], m.ones(2, requires_grad=True)]),
      RuntimeError, r"One of the differentiated Tensors appears to not have been used"),
    C("grad_input_no_grad", lambda m, s: m.autograd.grad((s["w"] * 2).sum(), [s["x"]]),
      RuntimeError, r"One of the differentiated Tensors does not require grad"),
    C("saved_tensor_modified", _saved_modified, RuntimeError,
      r"one of the variables needed for gradient computation has been modified by an "
      r"inplace operation"),
    C("requires_grad_int", lambda m, s: s["i"].requires_grad_(), RuntimeError,
      r"only Tensors of floating point (and complex )?dtype can require gradients"),
    C("requires_grad_false_nonleaf", lambda m, s: (s["w"] * 2).requires_grad_(False),
      RuntimeError, r"you can only change requires_grad flags of leaf variables"),
    C("numpy_requires_grad", lambda m, s: s["w"].numpy(), RuntimeError,
      r"Can't call numpy\(\) on Tensor that requires grad"),
    C("retain_grad_no_grad", lambda m, s: s["x"].retain_grad(), RuntimeError,
      r"can't retain_grad on Tensor that has requires_grad=False"),
    C("register_hook_no_grad", lambda m, s: s["x"].register_hook(lambda g: g), RuntimeError,
      r"cannot register a hook on a tensor that doesn't require gradient"),
    C("item_many", lambda m, s: s["x"].item(), RuntimeError,
      r"a Tensor with 6 elements cannot be converted to Scalar"),
    C("bool_many", lambda m, s: bool(s["x"]), RuntimeError,
      r"Boolean value of Tensor with more than one value is ambiguous"),
    C("detach__view", _detach_view, RuntimeError, r"Can't detach views in-place"),
    C("grad_fn_assigned", lambda m, s: setattr(s["w"] * 2, "grad_fn", None), AttributeError,
      r"grad_fn"),
    C("type_dtype_name", lambda m, s: s["x"].type("float32"), ValueError,
      r"invalid type: 'float32'"),
    C("deepcopy_nonleaf", _deepcopy_nonleaf, RuntimeError,
      r"Only Tensors created explicitly by the user"),
    C("save_for_backward_number", lambda m, s: _fn_saving(m, 3).apply(s["w"]).sum().backward(),
      TypeError, r"save_for_backward can only save variables, but argument 0 is of type int"),
    C("backward_gradient_number", lambda m, s: (s["w"] * 2).backward([1.0]), TypeError,
      r"gradients can be either Tensors or None, but got float"),
    C("grad_inputs_number", lambda m, s: m.autograd.grad((s["w"] * 2).sum(), 3), TypeError,
      r"int"),
    C("requires_grad_set_str", lambda m, s: setattr(s["x"], "requires_grad", "yes"),
      RuntimeError, r"requires_grad must be a bool"),
    C("int_of_many", lambda m, s: int(s["x"]), ValueError,
      r"only one element tensors can be converted to Python scalars"),
    C("float_of_many", lambda m, s: float(s["v"]), ValueError,
      r"only one element tensors can be converted to Python scalars"),
    C("setitem_str", lambda m, s: s["x"].__setitem__(0, "a"), TypeError,
      r"can't assign a str to a \w+\.FloatTensor"),
    C("fill__str", lambda m, s: s["x"].fill_("a"), TypeError, r"fill_.*str"),
    C("masked_fill_none_mask", lambda m, s: s["x"].masked_fill_(None, 1.0), TypeError,
      r"masked_fill.*NoneType"),
    C("index_select_list_index", lambda m, s: s["x"].index_select(0, [0]), TypeError,
      r"index_select.*'index'.*must be Tensor, not list"),
    C("index_add__list_index", lambda m, s: s["v"].index_add_(0, [0], m.ones(1)), TypeError,
      r"index_add.*'index'.*list"),
    C("tensor_of_dict", lambda m, s: m.tensor({"a": 1}), RuntimeError,
      r"Could not infer dtype of dict"),
    C("tensor_of_objects", lambda m, s: m.tensor([object()]), RuntimeError,
      r"Could not infer dtype"),
    C("backward_non_tensor", lambda m, s: m.autograd.backward([3]), TypeError,
      r"backward.*'tensors'.*int", torch=False),   # PyTorch: an AssertionError
    C("mark_dirty_number", lambda m, s: _fn_marking(m, "mark_dirty").apply(s["w"] * 1),
      RuntimeError, r"mark_dirty can only accept variables, but argument 0 is of type int"),
    C("mark_non_differentiable_number",
      lambda m, s: _fn_marking(m, "mark_non_differentiable").apply(s["w"] * 1), RuntimeError,
      r"mark_non_differentiable can only accept variables, but argument 0 is of type int"),
    C("set_grad_enabled_str", lambda m, s: m.set_grad_enabled("yes"), TypeError,
      r"set_grad_enabled\(\): argument 'enabled' \(position 1\) must be bool, not str"),
    C("data_assign_list", lambda m, s: setattr(s["x"], "data", [1.0]), TypeError,
      r"Variable data has to be a tensor, but got list"),
    C("index_float_tensor", lambda m, s: s["x"][m.tensor([0.5])], IndexError,
      r"tensors used as indices must be long, int, byte or bool tensors"),
    C("len_0d", lambda m, s: len(m.tensor(1.0)), TypeError, r"len\(\) of a 0-d tensor"),
    C("iter_0d", lambda m, s: iter(m.tensor(1.0)), TypeError, r"iteration over a 0-d tensor"),
    # -- modules -------------------------------------------------------------------------------
    C("linear_forward_features", lambda m, s: s["model"](m.ones(4, 5)), RuntimeError,
      r"mat1 and mat2 shapes cannot be multiplied \(4x5 and 3x2\)", setup=model_state),
    C("load_state_dict_missing", lambda m, s: _load_sd(m, s, lambda m, sd: sd.pop("bias")),
      RuntimeError, r"Missing key\(s\) in state_dict: \"bias\"", setup=model_state),
    C("load_state_dict_unexpected",
      lambda m, s: _load_sd(m, s, lambda m, sd: sd.__setitem__("extra", m.ones(1))),
      RuntimeError, r"Unexpected key\(s\) in state_dict: \"extra\"", setup=model_state),
    C("load_state_dict_shape",
      lambda m, s: _load_sd(m, s, lambda m, sd: sd.__setitem__("weight", m.ones(3, 3))),
      RuntimeError, r"size mismatch for weight", setup=model_state),
    C("load_state_dict_partial_shape",
      lambda m, s: _load_sd(m, s, lambda m, sd: sd.__setitem__("bias", m.ones(5))),
      RuntimeError, r"size mismatch for bias", setup=model_state),
    C("load_state_dict_not_mapping", lambda m, s: s["model"].load_state_dict([1, 2]), TypeError,
      r"Expected state_dict to be dict-like, got", setup=model_state),
    C("register_parameter_int", lambda m, s: s["model"].register_parameter("p", 3), TypeError,
      r"cannot assign 'int' object to parameter 'p'", setup=model_state),
    C("register_parameter_dotted",
      lambda m, s: s["model"].register_parameter("a.b", m.nn.Parameter(m.ones(1))), KeyError,
      r"parameter name can.{1,2}t contain \"\.\"", setup=model_state),
    C("add_module_dotted", lambda m, s: s["model"].add_module("a.b", m.nn.ReLU()), KeyError,
      r"module name can.{1,2}t contain \"\.\"", setup=model_state),
    C("add_module_not_module", lambda m, s: s["model"].add_module("sub", 3), TypeError,
      r"int is not a Module subclass", setup=model_state),
    C("assign_tensor_to_parameter", lambda m, s: _setattr(s["model"], "weight", m.ones(2, 3)),
      TypeError, r"cannot assign '.*' as parameter 'weight'", setup=model_state),
    C("linear_negative_features", lambda m, s: m.nn.Linear(-1, 2), RuntimeError,
      r"negative dimension", setup=model_state),
    C("dropout_module_p", lambda m, s: m.nn.Dropout(2.0), ValueError,
      r"dropout probability has to be between 0 and 1", setup=model_state),
    C("conv_groups", lambda m, s: m.nn.Conv2d(3, 4, 3, groups=2), ValueError,
      r"in_channels must be divisible by groups", setup=model_state),
    C("embedding_module_oob", lambda m, s: s["emb"](m.tensor([3])), IndexError,
      r"index out of range|out of bounds", setup=model_state),
    C("sequential_bad_input", lambda m, s: s["seq"](s["x"]), RuntimeError,
      r"mat1 and mat2 shapes cannot be multiplied \(4x2 and 3x1\)", setup=model_state),
    C("batchnorm_one_value", lambda m, s: m.nn.BatchNorm1d(3)(m.ones(1, 3)), ValueError,
      r"Expected more than 1 value per channel when training", setup=model_state),
    C("linear_float_features", lambda m, s: m.nn.Linear(3.5, 2), TypeError, r"'size'.*float",
      setup=layers_state),
    C("conv_stride_zero", lambda m, s: s["conv0"](m.ones(1, 1, 5, 5)), RuntimeError,
      r"non-positive stride is not supported", setup=layers_state),
    C("conv_padding_mode", lambda m, s: m.nn.Conv2d(1, 1, 3, padding_mode="bogus"), ValueError,
      r"padding_mode must be one of .*, but got padding_mode='bogus'", setup=layers_state),
    C("conv_module_channels", lambda m, s: s["conv"](m.ones(1, 5, 5)), RuntimeError,
      r"expected input\[1, 1, 5, 5\] to have 2 channels, but got 1 channels",
      setup=layers_state),
    C("batchnorm_features", lambda m, s: s["bn"](m.ones(2, 3)), RuntimeError,
      r"running_mean should contain 3 elements not 4", setup=layers_state),
    C("layernorm_module_shape", lambda m, s: s["ln"](m.ones(2, 3)), RuntimeError,
      r"normalized_shape=\[4\], expected input with shape \[\*, 4\]", setup=layers_state),
    C("embedding_negative_index", lambda m, s: s["emb"](m.tensor([-1])), IndexError,
      r"index out of range|out of bounds", setup=layers_state),
    C("lstm_input_size", lambda m, s: s["lstm"](m.ones(2, 2, 5)), RuntimeError,
      r"input.size\(-1\) must be equal to input_size. Expected 3, got 5", setup=layers_state),
    C("lstm_unbatched_hidden_3d",
      lambda m, s: s["lstm"](m.ones(5, 3), (m.ones(1, 2, 4), m.ones(1, 2, 4))), RuntimeError,
      r"For unbatched 2-D input, hx and cx should also be 2-D but got \(3-D, 3-D\) tensors",
      setup=layers_state),
    C("maxpool_output_too_small", lambda m, s: s["pool"](m.ones(1, 1, 4, 4)), RuntimeError,
      r"Calculated output size.*too small", setup=layers_state),
    C("cross_entropy_weight_size", lambda m, s: s["ce"](m.ones(4, 3), m.tensor([0, 1, 2, 0])),
      RuntimeError, r"weight tensor should be defined either for all 3 classes or no classes",
      setup=layers_state),
    C("unflatten_sizes", lambda m, s: s["unflat"](m.ones(4, 3)), RuntimeError, r"\[2, 2\]",
      setup=layers_state),
    C("sequential_of_str", lambda m, s: m.nn.Sequential("a"), TypeError,
      r"str is not a Module subclass", setup=layers_state),
    C("moduledict_of_int", lambda m, s: m.nn.ModuleDict({"a": 1}), TypeError,
      r"int is not a Module subclass", setup=layers_state),
    C("flatten_module_dims", lambda m, s: m.nn.Flatten(3, 1)(m.ones(4, 3)), IndexError,
      r"Dimension out of range", setup=layers_state),
    # -- optimizers ----------------------------------------------------------------------------
    C("adamw_negative_weight_decay",
      lambda m, s: m.optim.AdamW(s["model"].parameters(), weight_decay=-1), ValueError,
      r"Invalid weight_decay value: -1", setup=model_state),
    C("rmsprop_negative_alpha", lambda m, s: m.optim.RMSprop(s["model"].parameters(), alpha=-1),
      ValueError, r"Invalid alpha value: -1", setup=model_state),
    C("sgd_nesterov_without_momentum",
      lambda m, s: m.optim.SGD(s["model"].parameters(), lr=0.1, nesterov=True), ValueError,
      r"Nesterov momentum requires a momentum and zero dampening", setup=model_state),
    C("adagrad_negative_lr_decay",
      lambda m, s: m.optim.Adagrad(s["model"].parameters(), lr_decay=-1), ValueError,
      r"Invalid lr_decay value: -1", setup=model_state),
    C("scheduler_without_optimizer", lambda m, s: m.optim.lr_scheduler.StepLR(3, 1), TypeError,
      r"int is not an Optimizer", setup=model_state),
    C("sgd_negative_lr", lambda m, s: m.optim.SGD(s["model"].parameters(), lr=-1.0),
      ValueError, r"Invalid learning rate: -1.0", setup=model_state),
    C("sgd_negative_momentum",
      lambda m, s: m.optim.SGD(s["model"].parameters(), lr=0.1, momentum=-0.5), ValueError,
      r"Invalid momentum value: -0.5", setup=model_state),
    C("sgd_negative_weight_decay",
      lambda m, s: m.optim.SGD(s["model"].parameters(), lr=0.1, weight_decay=-1), ValueError,
      r"Invalid weight_decay value: -1", setup=model_state),
    C("adam_beta", lambda m, s: m.optim.Adam(s["model"].parameters(), betas=(1.5, 0.9)),
      ValueError, r"Invalid beta parameter at index 0: 1.5", setup=model_state),
    C("adam_eps", lambda m, s: m.optim.Adam(s["model"].parameters(), eps=-1.0), ValueError,
      r"Invalid epsilon value: -1.0", setup=model_state),
    C("optimizer_empty_params", lambda m, s: m.optim.SGD([], lr=0.1), ValueError,
      r"optimizer got an empty parameter list", setup=model_state),
    C("optimizer_tensor_params", lambda m, s: m.optim.SGD(s["x"], lr=0.1), TypeError,
      r"params argument given to the optimizer should be an iterable of Tensors or dicts",
      setup=model_state),
    C("optimizer_duplicate_group",
      lambda m, s: s["opt"].add_param_group({"params": [s["model"].weight]}), ValueError,
      r"some parameters appear in more than one parameter group", setup=model_state),
    C("optimizer_load_groups",
      lambda m, s: _opt_load(m, s, lambda sd: sd["param_groups"].append(
          dict(sd["param_groups"][0]))), ValueError,
      r"loaded state dict has a different number of parameter groups", setup=model_state),
    C("optimizer_load_group_size",
      lambda m, s: _opt_load(m, s, lambda sd: sd["param_groups"][0]["params"].pop()),
      ValueError, r"loaded state dict contains a parameter group that doesn't match the size "
                  r"of optimizer's group", setup=model_state),
    C("optimizer_step_closure_error",
      lambda m, s: s["opt"].step(lambda: (_ for _ in ()).throw(ValueError("closure failed"))),
      ValueError, r"closure failed", setup=model_state),
    # -- checkpoints (corelib's safetensors format; PyTorch's pickle zips differ) --------------
    C("load_missing_file", lambda m, s: _load(s, "nope.pt"), FileNotFoundError, r"nope\.pt",
      torch=False, setup=ckpt_state),
    C("load_empty_file", lambda m, s: _load(s), RuntimeError, r"bad\.pt.*too short",
      torch=False, setup=bad_ckpt(None, raw=b"")),
    C("load_header_past_end", lambda m, s: _load(s), RuntimeError, r"bad\.pt.*header",
      torch=False, setup=bad_ckpt(None, raw=struct.pack("<Q", 10 ** 6) + b"{}")),
    C("load_header_not_json", lambda m, s: _load(s), RuntimeError, r"bad\.pt.*not JSON",
      torch=False, setup=bad_ckpt(b"{not json")),
    C("load_header_list", lambda m, s: _load(s), RuntimeError, r"bad\.pt.*JSON object",
      torch=False, setup=bad_ckpt([1, 2])),
    C("load_offsets_strings", lambda m, s: _load(s), RuntimeError,
      r"bad\.pt.*'w'.*data_offsets", torch=False,
      setup=bad_ckpt({"w": {"dtype": "F32", "shape": [1], "data_offsets": ["0", "4"]}},
                     b"\0" * 4)),
    C("load_offsets_reversed", lambda m, s: _load(s), RuntimeError, r"'w'.*data_offsets",
      torch=False, setup=bad_ckpt({"w": {"dtype": "F32", "shape": [1],
                                         "data_offsets": [4, 0]}}, b"\0" * 4)),
    C("load_data_truncated", lambda m, s: _load(s), RuntimeError, r"bad\.pt.*truncated",
      torch=False, setup=bad_ckpt({"w": {"dtype": "F32", "shape": [4],
                                         "data_offsets": [0, 16]}}, b"\0" * 8)),
    C("load_unknown_dtype", lambda m, s: _load(s), RuntimeError, r"bad\.pt.*'w'.*Q99",
      torch=False, setup=bad_ckpt({"w": {"dtype": "Q99", "shape": [1],
                                         "data_offsets": [0, 4]}}, b"\0" * 4)),
    C("load_shape_mismatch", lambda m, s: _load(s), RuntimeError, r"bad\.pt.*'w'.*shape",
      torch=False, setup=bad_ckpt({"w": {"dtype": "F32", "shape": [3],
                                         "data_offsets": [0, 4]}}, b"\0" * 4)),
    C("load_shape_strings", lambda m, s: _load(s), RuntimeError, r"bad\.pt.*'w'.*shape",
      torch=False, setup=bad_ckpt({"w": {"dtype": "F32", "shape": ["1"],
                                         "data_offsets": [0, 4]}}, b"\0" * 4)),
    C("load_shape_negative", lambda m, s: _load(s), RuntimeError, r"bad\.pt.*'w'.*shape",
      torch=False, setup=bad_ckpt({"w": {"dtype": "F32", "shape": [-1],
                                         "data_offsets": [0, 4]}}, b"\0" * 4)),
    C("load_dtype_missing", lambda m, s: _load(s), RuntimeError, r"bad\.pt.*'w'.*dtype",
      torch=False, setup=bad_ckpt({"w": {"shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4)),
    C("load_metadata_not_strings", lambda m, s: _load(s), RuntimeError, r"__metadata__",
      torch=False, setup=bad_ckpt({"__metadata__": {"format": 3}})),
    C("save_into_directory", lambda m, s: corelib.save({"w": corelib.ones(1)}, s["dir"]),
      IsADirectoryError, r"corelib-bad-", torch=False, setup=ckpt_state),
    C("save_unsupported_object", lambda m, s: corelib.save(lambda: 0, os.path.join(
        s["dir"], "good.pt")), TypeError, r"function|lambda", torch=False, setup=ckpt_state),
    # -- plugins -------------------------------------------------------------------------------
    C("plugin_without_hooks", lambda m, s: registry.register(types.SimpleNamespace(),
                                                             name="bad-nohooks"),
      RuntimeError, r"plugin 'bad-nohooks'.*implements no corelib hook", torch=False,
      setup=plugin_state),
    C("plugin_claims_cpu", lambda m, s: registry.register(_backend_plugin("cpu"),
                                                          name="bad-cpu"),
      RuntimeError, r"device 'cpu' is already provided by", torch=False, setup=plugin_state),
    C("device_not_installed", lambda m, s: corelib.ones(2, device="nosuchdev"), RuntimeError,
      r"nosuchdev", torch=False, setup=plugin_state),
    C("kernel_missing_on_device", lambda m, s: corelib.ones(2, device="bad1"),
      NotImplementedError, r"op 'full' has no kernel for device 'bad1'", torch=False,
      setup=device_state("bad1", {})),
    C("kernel_raises_value_error", lambda m, s: corelib.ones(2, device="bad2") + 1,
      RuntimeError, r"add\(\): broken kernel", torch=False,
      setup=device_state("bad2", {"full": lambda dtype, device_index, shape, value: np.full(
          shape, value, dtype), "add": _bad_kernel})),
    C("kernel_raises_memory_error", lambda m, s: corelib.ones(2, device="bad3").exp(),
      RuntimeError, r"exp\(\): not enough memory", torch=False,
      setup=device_state("bad3", {"full": lambda dtype, device_index, shape, value: np.full(
          shape, value, dtype), "exp": _oom_kernel})),
    C("cross_device_add", lambda m, s: s["x"] + s["x"].to("cuda"), RuntimeError,
      r"Expected all tensors to be on the same device", torch=False),
    C("cross_device_grad_assign", lambda m, s: _set_grad(s["w"], m.ones(2, 3).to("cuda")),
      RuntimeError, r"assign a gradient with device type 'cuda' to a tensor with device type "
                    r"'cpu'", torch=False),
    C("hook_changes_device", lambda m, s: _hook_run(m, s, lambda g: g.to("cuda"), False),
      RuntimeError, r"has changed the type of value", torch=False),
]


def _nograd_leaf_view(m, s):
    with m.no_grad():
        v = s["w"].view(6)
    v.mul_(2)


def _ids(cases):
    return [c.id for c in cases]


def test_case_table_is_large_and_unique():
    assert len(CASES) >= 150
    assert len(set(_ids(CASES))) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_misuse_raises_and_changes_nothing(case):
    if case.id.startswith(("cross_device", "hook_changes_device")) and \
            "cuda" not in registry.backends:
        pytest.skip("needs the cuda backend (simulated without a GPU)")
    s = case.setup(corelib)
    try:
        before = _snapshot(corelib, s)
        with pytest.raises(case.exc) as info:
            case.act(corelib, s)
        assert _re_search(case.match, str(info.value)), str(info.value)
        assert _same(_snapshot(corelib, s), before), "state changed by a failing call"
    finally:
        if "_teardown" in s:
            s["_teardown"]()


def _re_search(pattern, text):
    import re
    return re.search(pattern, text, re.S) is not None


TORCH_CASES = [c for c in CASES if c.torch]


@pytest.mark.parametrize("case", TORCH_CASES, ids=_ids(TORCH_CASES))
def test_torch_raises_the_same_class(case, torch):
    exc = case.exc
    if exc is corelib.linalg.LinAlgError:
        exc = torch.linalg.LinAlgError
    s = case.setup(torch)
    with pytest.raises(exc):
        case.act(torch, s)
