"""corelib.amp: autocast's output dtypes against PyTorch's for the same ops, gradients reaching
float32 parameters, GradScaler's scales and skipped steps step by step against PyTorch's, and
the plain path untouched outside a region (the same function objects, no wrapper)."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import corelib
import corelib.nn.functional as F
from corelib import amp

RNG = np.random.default_rng(0)


def _ops(lib, fn):
    """(name, callable(x, w, b, target)) pairs written once for corelib and torch."""
    return [
        ("matmul", lambda x, w, b, t: x @ w.T),
        ("mm", lambda x, w, b, t: lib.mm(x, w.T)),
        ("bmm", lambda x, w, b, t: lib.bmm(x[None], w.T[None])),
        ("addmm", lambda x, w, b, t: lib.addmm(b, x, w.T)),
        ("baddbmm", lambda x, w, b, t: lib.baddbmm(b[None, None], x[None], w.T[None])),
        ("linear", lambda x, w, b, t: fn.linear(x, w, b)),
        ("conv1d", lambda x, w, b, t: fn.conv1d(x.T[None], w[:, :, None])),
        ("prelu", lambda x, w, b, t: fn.prelu(x, b[:1])),
        ("sdpa", lambda x, w, b, t: fn.scaled_dot_product_attention(x[None], x[None], x[None])),
        ("einsum", lambda x, w, b, t: lib.einsum("ij,kj->ik", x, w)),
        ("softmax", lambda x, w, b, t: lib.softmax(x, -1)),
        ("exp", lambda x, w, b, t: lib.exp(x)),
        ("sum", lambda x, w, b, t: x.sum()),
        ("mse_loss", lambda x, w, b, t: fn.mse_loss(x, t)),
        ("cross_entropy", lambda x, w, b, t: fn.cross_entropy(x, t.argmax(-1))),
        ("layer_norm", lambda x, w, b, t: fn.layer_norm(x, (x.shape[-1],))),
        ("prod", lambda x, w, b, t: x.prod()),
        ("cdist", lambda x, w, b, t: lib.cdist(x, w)),
        ("inverse", lambda x, w, b, t: lib.linalg.inv(x[:, :4] @ x[:, :4].T +
                                                      4 * lib.eye(4).to(x.dtype))),
        ("add", lambda x, w, b, t: x[:, :5] + b),
        ("relu", lambda x, w, b, t: fn.relu(x)),
    ]


def _dtype_or_error(f, args):
    try:
        return str(f(*args).dtype).split(".")[-1]
    except RuntimeError:   # mixed dtypes (a float64 operand is never cast)
        return RuntimeError


@pytest.mark.parametrize("dtype", [None, "float16"])
@pytest.mark.parametrize("inputs", ["float32", "float16", "float64"])
def test_output_dtypes_match_torch(torch, dtype, inputs):
    """The same ops in the same region: same output dtypes as torch (the default region dtype
    is corelib's, float16 where the CPU backend stores no bfloat16; torch runs that dtype)."""
    dtype = dtype or amp.get_autocast_dtype("cpu").name
    arrays = [RNG.standard_normal(s) for s in ((4, 6), (5, 6), (5,), (4, 6))]
    ours = [corelib.tensor(a).to(getattr(corelib, inputs)) for a in arrays]
    theirs = [torch.tensor(a, dtype=getattr(torch, inputs)) for a in arrays]
    if inputs != "float64":   # a float32 bias among them (float64 operands are never cast)
        ours[2], theirs[2] = ours[2].float(), theirs[2].float()
    for (name, f), (_, g) in zip(_ops(corelib, F), _ops(torch, torch.nn.functional)):
        with corelib.autocast("cpu", dtype=getattr(corelib, dtype)):
            got = _dtype_or_error(f, ours)
        with torch.autocast("cpu", dtype=getattr(torch, dtype)):
            want = _dtype_or_error(g, theirs)
        assert got == want, (name, inputs, dtype)
        # outside the region: unchanged dtypes
        if name == "inverse" and inputs == "float16":
            continue   # corelib's CPU linalg has no float16 kernels
        same = ours[:2] + [ours[2].to(ours[0].dtype)] + ours[3:]
        assert f(*same).dtype is ours[0].dtype or name == "cross_entropy" and inputs == \
            "float16", name


def test_values_and_gradients_reach_float32_params(torch):
    x = RNG.standard_normal((8, 5))
    w, b = RNG.standard_normal((3, 5)), RNG.standard_normal(3)
    target = RNG.integers(0, 3, 8)
    results = []
    for lib, fn in ((corelib, F), (torch, torch.nn.functional)):
        W = lib.tensor(w, dtype=lib.float32, requires_grad=True)
        B = lib.tensor(b, dtype=lib.float32, requires_grad=True)
        with lib.autocast("cpu", dtype=lib.float16):
            out = fn.linear(lib.tensor(x, dtype=lib.float32), W, B)
            loss = fn.cross_entropy(out, lib.tensor(target))
        assert out.dtype is lib.float16 and loss.dtype is lib.float32
        loss.backward()
        assert W.grad.dtype is lib.float32 and B.grad.dtype is lib.float32
        results.append([float(loss.detach()), W.grad.detach().numpy(), B.grad.detach().numpy()])
    # float16 has an 11-bit mantissa: agreement to a few float16 ulps
    assert abs(results[0][0] - results[1][0]) < 5e-3
    np.testing.assert_allclose(results[0][1], results[1][1], atol=5e-3)
    np.testing.assert_allclose(results[0][2], results[1][2], atol=5e-3)


def test_nesting_decorator_and_state():
    x = corelib.randn(3, 3)
    assert not amp.is_autocast_enabled("cpu")
    from corelib.dispatch import registry
    bf16 = "bfloat16" in registry.backend("cpu").dtypes
    low = corelib.bfloat16 if bf16 else corelib.float16   # PyTorch's CPU default: bfloat16
    assert amp.get_autocast_dtype("cpu") is low
    with corelib.autocast("cpu"):
        assert amp.is_autocast_enabled("cpu")
        with corelib.autocast("cpu", enabled=False):
            assert (x @ x).dtype is corelib.float32
        assert (x @ x).dtype is low
        with corelib.autocast("cpu", dtype=corelib.float16):
            assert (x @ x).dtype is corelib.float16
        assert (x @ x).dtype is low
    assert (x @ x).dtype is corelib.float32 and not amp.is_autocast_enabled("cpu")
    if not bf16:   # an explicit dtype the backend cannot store: warned and disabled
        with pytest.warns(UserWarning, match="does not store corelib.bfloat16"):
            region = corelib.autocast("cpu", dtype=corelib.bfloat16)
        with region:
            assert (x @ x).dtype is corelib.float32

    @corelib.autocast("cpu")
    def f(a):
        return corelib.mm(a, a)
    assert f(x).dtype is low and (x @ x).dtype is corelib.float32
    with pytest.warns(UserWarning, match="target dtype is not supported"):
        region = corelib.autocast("cpu", dtype=corelib.float64)
    with region:
        assert (x @ x).dtype is corelib.float32
    with pytest.warns(UserWarning, match="autocast is not available"):
        assert not corelib.autocast("meta")._enabled
    assert amp.is_autocast_available("cpu") and amp.is_autocast_available("cuda")
    assert corelib.cuda.amp.autocast().device == "cuda"
    assert corelib.autocast is amp.autocast


def test_recurrent_layers_run_and_train():
    """The fused recurrence gets inputs of one dtype (float32 on the CPU, as PyTorch's CPU GRU
    and cells return) and gradients reach the float32 weights."""
    for layer, x in ((corelib.nn.LSTM(4, 5, num_layers=2), corelib.randn(3, 2, 4)),
                     (corelib.nn.GRU(4, 5), corelib.randn(3, 2, 4)),
                     (corelib.nn.LSTMCell(4, 5), corelib.randn(2, 4))):
        with corelib.autocast("cpu"):
            out = layer(x)
        out = out[0] if isinstance(out, tuple) else out
        assert out.dtype is corelib.float32
        out.sum().backward()
        assert all(p.grad is not None and p.grad.dtype is corelib.float32
                   for p in layer.parameters())


def test_thread_local():
    import threading
    x = corelib.randn(3, 3)
    seen = {}
    inside, done = threading.Event(), threading.Event()

    def other():
        inside.wait()
        seen["other"] = (x @ x).dtype          # main thread is in a region: not this one
        with corelib.autocast("cpu", dtype=corelib.float16):
            seen["own"] = (x @ x).dtype
        done.set()
    t = threading.Thread(target=other)
    t.start()
    with corelib.autocast("cpu", dtype=corelib.float16):
        inside.set()
        done.wait(30)
        assert (x @ x).dtype is corelib.float16    # the other thread's exit left ours on
    t.join()
    assert seen == {"other": corelib.float32, "own": corelib.float16}
    assert (x @ x).dtype is corelib.float32 and corelib.matmul.__module__ != __name__


def test_region_of_another_device_leaves_tensors_alone():
    x = corelib.randn(3, 3)
    with corelib.autocast("cuda"):
        assert (x @ x).dtype is corelib.float32     # cpu tensors: no cpu region
        assert corelib.exp(x.half()).dtype is corelib.float16


def test_off_path_is_the_plain_path():
    import corelib.nn.functional as F2
    from corelib._ops import linalg as ops_linalg
    before = (corelib.matmul, corelib.Tensor.__matmul__, corelib.Tensor.matmul, F2.linear,
              F2.conv2d, corelib.softmax, ops_linalg.matmul, corelib.mm)
    x = corelib.randn(2, 2)
    from corelib._ops.core import Op
    x @ x
    kernels = {name: op.kernels.get("cpu") for name, op in Op.all.items()}
    with corelib.autocast("cpu"):
        assert corelib.matmul is not before[0] and F2.linear is not before[3]
        x @ x
    after = (corelib.matmul, corelib.Tensor.__matmul__, corelib.Tensor.matmul, F2.linear,
             F2.conv2d, corelib.softmax, ops_linalg.matmul, corelib.mm)
    assert all(a is b for a, b in zip(before, after))
    # the resolved kernels were neither wrapped nor forgotten
    assert all(op.kernels.get("cpu") is kernels[name] for name, op in Op.all.items()
               if kernels[name] is not None)


class _Opt:
    """The optimizer surface GradScaler uses, for corelib and torch alike."""

    def __init__(self, params, lr=0.1):
        self.param_groups = [{"params": list(params)}]
        self.lr, self.steps = lr, 0

    def step(self):
        self.steps += 1
        for p in self.param_groups[0]["params"]:
            p.data -= self.lr * p.grad
        return "stepped"


def test_grad_scaler_matches_torch_step_by_step(torch):
    w0 = RNG.standard_normal(4)
    kwargs = dict(init_scale=2.0 ** 10, growth_factor=3.0, backoff_factor=0.25,
                  growth_interval=2)
    bad_steps = {2, 3, 7}
    runs = []
    for lib, scaler in ((corelib, corelib.amp.GradScaler("cpu", **kwargs)),
                        (torch, torch.amp.GradScaler("cpu", **kwargs))):
        w = lib.tensor(w0, dtype=lib.float32, requires_grad=True)
        opt = _Opt([w])
        trace = []
        for i in range(10):
            w.grad = None
            loss = (w * w).sum() * (math.inf if i in bad_steps else 1.0)
            if i == 5:
                loss = loss * float("nan")
            scaler.scale(loss).backward()
            ret = scaler.step(opt)
            scaler.update()
            trace.append((scaler.get_scale(), ret, opt.steps))
        runs.append((trace, w.detach().numpy().copy(), scaler.state_dict()))
    (ours, w_ours, sd_ours), (theirs, w_theirs, sd_theirs) = runs
    assert ours == theirs
    np.testing.assert_allclose(w_ours, w_theirs, rtol=1e-6)
    assert sd_ours == sd_theirs


def test_grad_scaler_unscale_and_errors(torch):
    scaler = corelib.amp.GradScaler("cpu", init_scale=8.0)
    w = corelib.tensor([1.0, 2.0], requires_grad=True)
    opt = _Opt([w])
    scaler.scale((w * w).sum()).backward()
    np.testing.assert_allclose(w.grad.numpy(), [16.0, 32.0])
    scaler.unscale_(opt)
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 4.0])
    with pytest.raises(RuntimeError, match="already been called on this optimizer"):
        scaler.unscale_(opt)
    assert scaler.step(opt) == "stepped"
    with pytest.raises(RuntimeError, match="after step"):
        scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        scaler.step(opt, closure=lambda: None)
    scaler.update(4.0)
    assert scaler.get_scale() == 4.0
    other = corelib.amp.GradScaler("cpu")
    other.load_state_dict(scaler.state_dict())
    assert other.get_scale() == 4.0 and other.state_dict() == scaler.state_dict()
    off = corelib.amp.GradScaler("cpu", enabled=False)
    assert off.scale(w) is w and off.get_scale() == 1.0 and off.state_dict() == {}
    with pytest.raises(RuntimeError, match="state dict is empty"):
        other.load_state_dict({})
    if not corelib.cuda.is_available():
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            assert not corelib.cuda.amp.GradScaler().is_enabled()


def test_public_names_documented_and_listed():
    from public_names import undocumented as _undocumented
    assert not _undocumented(amp) and not _undocumented(corelib.cuda.amp)
    assert {"amp", "autocast"} <= set(dir(corelib)) and "amp" in dir(corelib.cuda)


def test_cuda_lists(torch):
    """CUDA's lists (float16 default; exp/softmax in float32; binary_cross_entropy refused), on
    the CUDA backend when installed (its simulator without a GPU)."""
    from corelib.testing import installed_devices
    if "cuda" not in installed_devices():
        pytest.skip("no cuda backend")
    x = corelib.randn(3, 3, device="cuda")
    with corelib.autocast("cuda"):
        assert amp.get_autocast_dtype("cuda") is corelib.float16
        assert (x @ x).dtype is corelib.float16 and F.linear(x, x).dtype is corelib.float16
        assert corelib.exp(x.half()).dtype is corelib.float32
        assert corelib.softmax(x.half(), 0).dtype is corelib.float32
        assert (corelib.randn(2, 2) @ corelib.randn(2, 2)).dtype is corelib.float32   # cpu
        with pytest.raises(RuntimeError, match="unsafe to autocast"):
            F.binary_cross_entropy(corelib.rand(3, device="cuda"), corelib.rand(3, device="cuda"))
    with corelib.cuda.amp.autocast():
        assert (x @ x).dtype is corelib.float16
