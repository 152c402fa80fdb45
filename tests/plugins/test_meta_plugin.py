"""corelib-meta: the meta device runs every op's shape and dtype rule only.

The real test is the op table: every sample runs on cpu and, from meta copies of its inputs,
on meta, and the outputs' shapes and dtypes must agree. Then models forward and backward,
PyTorch's meta habits (device=, ``with device``, ``to_empty``) and the errors for data."""
import copy
import os
import re
import subprocess
import sys
import textwrap

import pytest

import corelib
from corelib import contract, nn
from corelib.testing import installed_devices, op_table
from corelib.testing.opinfo import seed_samples

corelib_meta = pytest.importorskip("corelib_meta")
pytest.importorskip("corelib_cpu")

META = corelib.device("meta")

# ops whose output shape depends on input values, or that return a Python value: on meta
# they raise NotImplementedError (or .item()'s RuntimeError), as in PyTorch
DATA_DEPENDENT = {"nonzero", "argwhere", "unique", "unique_consecutive", "masked_select",
                  "masked_scatter", "bincount", "repeat_interleave", "getitem", "setitem",
                  "index_put", "one_hot", "allclose", "equal", "linalg.lstsq"}
NO_DATA_ERRORS = "meta device|meta tensor"


def to_meta(x):
    """``x`` with every tensor inside replaced by its meta copy (same requires_grad)."""
    if isinstance(x, corelib.Tensor):
        return x.detach().to(META).requires_grad_(x.requires_grad)
    if isinstance(x, (list, tuple)):
        return type(x)(to_meta(v) for v in x)
    if isinstance(x, dict):
        return {k: to_meta(v) for k, v in x.items()}
    if any(isinstance(v, corelib.Tensor) for v in getattr(x, "__dict__", {}).values()):
        y = copy.copy(x)   # a table's wrapper of a tensor argument
        vars(y).update(to_meta(vars(x)))
        return y
    return x


def signature(x):
    """Shapes and dtypes of a result (tensors inside tuples/lists), other values as they are."""
    if isinstance(x, corelib.Tensor):
        return (tuple(x.shape), x.dtype)
    if isinstance(x, (list, tuple)):
        return [signature(v) for v in x]
    return type(x).__name__


def devices_of(x):
    if isinstance(x, corelib.Tensor):
        return {x.device.type}
    if isinstance(x, (list, tuple)):
        return set().union(*(devices_of(v) for v in x)) if x else set()
    return set()


@pytest.mark.parametrize("info", op_table(), ids=lambda info: info.id)
def test_op_shapes_and_dtypes_match_cpu(info):
    checked = data_dependent = 0
    for dtype in info.dtypes:
        seed_samples(f"{info.id}-{dtype}")
        for sample in info.samples(dtype, "cpu"):
            try:
                expected = info.op(*sample.args, **sample.kwargs)
            except Exception:
                continue   # the sample is an error case on cpu as well
            args, kwargs = to_meta(sample.args), to_meta(sample.kwargs)
            try:
                got = info.op(*args, **kwargs)
            except RuntimeError as exc:   # NotImplementedError included
                if not re.search(NO_DATA_ERRORS, str(exc)):
                    raise
                assert info.name in DATA_DEPENDENT, f"{sample!r} on meta: {exc}"
                data_dependent += 1
                continue
            assert signature(got) == signature(expected), f"{sample!r}"
            assert devices_of(got) <= {"meta"}, f"{sample!r} returned {devices_of(got)}"
            checked += 1
    if not checked:
        pytest.skip(f"{info.id} is data-dependent: {data_dependent} samples raise on meta"
                    if data_dependent else f"{info.id}: no sample runs on cpu")


def test_kernel_table_covers_the_contract():
    spec = corelib.registry.backend("meta")
    assert {c.name for c in contract.kernels()} <= set(spec.kernels)
    assert not spec.has_data
    assert "meta" not in installed_devices()


# -- tensors without data -----------------------------------------------------------------
def test_factories_and_tensor_attributes():
    x = corelib.empty(2, 3, device="meta")
    assert x.is_meta and x.device == corelib.device("meta") and x.device.index is None
    assert x.shape == (2, 3) and x.dtype is corelib.float32 and x.numel() == 6
    assert x.stride() == (3, 1) and x.is_contiguous() and x.nbytes == 24
    a = x._data
    assert isinstance(a, corelib_meta.MetaArray) and isinstance(a, contract.Meta)
    assert (a.shape, a.dtype, a.ndim, a.size, a.itemsize, a.nbytes) == \
        ((2, 3), "float32", 2, 6, 4, 24)
    assert a.strides == (12, 4) and a.T.shape == (3, 2) and len(a) == 2
    for t in (corelib.zeros(4, dtype=corelib.int64, device="meta"),
              corelib.ones(4, device=META, dtype=corelib.int64),
              corelib.full((4,), 7, device="meta"), corelib.arange(4, device="meta"),
              corelib.randint(0, 9, (4,), device="meta")):
        assert t.is_meta and t.shape == (4,) and t.dtype is corelib.int64
    assert corelib.linspace(0, 1, 5, device="meta").shape == (5,)
    assert corelib.eye(3, 4, device="meta").shape == (3, 4)
    assert corelib.randn(2, 5, device="meta", dtype=corelib.float64).dtype is corelib.float64
    assert corelib.empty_like(x).is_meta and x.new_zeros(5).is_meta
    assert corelib.tensor([[1, 2, 3]], device="meta").shape == (1, 3)
    y = corelib.ones(3, 4).to("meta")
    assert y.is_meta and y.shape == (3, 4)
    half = nn.Linear(4, 2, device="meta", dtype=corelib.bfloat16)   # no cpu kernels needed
    assert half(corelib.empty(3, 4, dtype=corelib.bfloat16, device="meta")).dtype is \
        corelib.bfloat16


def test_repr_as_pytorch():
    assert repr(corelib.empty(2, 3, device="meta")) == \
        "tensor(..., device='meta', size=(2, 3))"
    for dtype in (corelib.int32, corelib.int64):   # any dtype but the default is shown
        assert repr(corelib.empty(5, dtype=dtype, device="meta")) == \
            f"tensor(..., device='meta', size=(5,), dtype={dtype!r})"
    assert repr(corelib.empty(0, device="meta")) == "tensor(..., device='meta', size=(0,))"
    w = corelib.empty(2, device="meta", requires_grad=True)
    assert repr(w * 2) == "tensor(..., device='meta', size=(2,), grad_fn=<MulBackward0>)"


def test_reading_data_raises_as_in_pytorch():
    x = corelib.ones(2, 2, device="meta")
    for read in (x.cpu, x.tolist, lambda: x.numpy(force=True), lambda: x.to("cpu")):
        with pytest.raises(NotImplementedError, match="Cannot copy out of meta tensor; no data!"):
            read()
    for read in (x.sum().item, lambda: float(x.sum()), lambda: bool(x.sum() > 0)):
        with pytest.raises(RuntimeError, match=r"Tensor.item\(\) cannot be called on meta"):
            read()
    with pytest.raises(TypeError, match="can't convert meta device type tensor to numpy"):
        x.numpy()


def test_data_dependent_ops_raise_naming_the_op():
    x = corelib.ones(2, 3, device="meta")
    with pytest.raises(NotImplementedError, match="nonzero"):
        x.nonzero()
    with pytest.raises(NotImplementedError, match="unique"):
        corelib.unique(x)
    i = corelib.zeros(3, dtype=corelib.int64, device="meta")
    with pytest.raises(NotImplementedError, match="bincount"):
        i.bincount()
    with pytest.raises(NotImplementedError, match="repeat_interleave"):
        x.repeat_interleave(i[:2], dim=0)
    with pytest.raises(NotImplementedError, match="boolean mask"):
        x[x > 0]


@pytest.mark.parametrize("name", [n for n in nn.init.__all__ if n.endswith("_")])
def test_every_initialiser_runs_on_meta(name):
    w = corelib.empty(4, 4, 3, device="meta") if name == "dirac_" else \
        corelib.empty(4, 6, device="meta")
    args = (0.5,) if name in ("constant_", "sparse_") else ()
    assert getattr(nn.init, name)(w, *args) is w and w.is_meta


def test_value_checks_are_skipped_on_meta():
    """As PyTorch's meta kernels: checks of values are the compute kernels' business."""
    x = corelib.ones(2, 3, device="meta")
    assert corelib.multinomial(x, 2).shape == (2, 2)
    assert nn.functional.binary_cross_entropy(x.sigmoid(), x).shape == ()
    assert nn.functional.gaussian_nll_loss(x, x, x).shape == ()


def test_inplace_and_views_keep_shapes():
    x = corelib.zeros(4, 6, device="meta")
    x.add_(1).mul_(corelib.ones(6, device="meta"))
    v = x.view(2, 12)[:, ::3].t()
    assert v.shape == (4, 2) and v.is_meta
    with pytest.raises(RuntimeError):
        x.add_(corelib.ones(3, 4, 6, device="meta"))   # the result would not fit in place
    with pytest.raises(RuntimeError, match="same device"):
        x + corelib.ones(4, 6)


def test_autograd_gives_meta_grads_of_the_right_shapes():
    w = corelib.randn(5, 3, device="meta", requires_grad=True)
    b = corelib.zeros(3, device="meta", requires_grad=True)
    x = corelib.randn(8, 5, device="meta")
    loss = ((x @ w + b).relu() ** 2).mean()
    assert loss.shape == () and loss.grad_fn is not None
    loss.backward()
    assert w.grad.is_meta and w.grad.shape == (5, 3) and b.grad.shape == (3,)
    (gx,) = corelib.autograd.grad((x.requires_grad_() * w.sum()).sum(), [x], create_graph=True)
    assert gx.shape == (8, 5) and gx.requires_grad and gx.is_meta


# -- models -------------------------------------------------------------------------------
def mlp(**kw):
    return nn.Sequential(nn.Linear(20, 64, **kw), nn.ReLU(), nn.Dropout(0.1),
                         nn.Linear(64, 64, **kw), nn.GELU(), nn.LayerNorm(64, **kw),
                         nn.Linear(64, 10, **kw))


def cnn(**kw):
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, **kw), nn.BatchNorm2d(8, **kw),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, stride=2, **kw),
                         nn.AdaptiveAvgPool2d((2, 2)), nn.Flatten(), nn.Linear(64, 10, **kw))


class TinyTransformer(nn.Module):
    def __init__(self, **kw):
        super().__init__()
        self.embed = nn.Embedding(50, 32, **kw)
        layer = nn.TransformerEncoderLayer(32, 4, dim_feedforward=64, batch_first=True, **kw)
        self.encoder = nn.TransformerEncoder(layer, 2)
        self.head = nn.Linear(32, 50, **kw)

    def forward(self, tokens):
        return self.head(self.encoder(self.embed(tokens)))


MODELS = {
    "mlp": (mlp, lambda device: corelib.randn(16, 20, device=device),
            lambda device: corelib.zeros(16, dtype=corelib.int64, device=device)),
    "cnn": (cnn, lambda device: corelib.randn(4, 3, 12, 12, device=device),
            lambda device: corelib.zeros(4, dtype=corelib.int64, device=device)),
    "transformer": (TinyTransformer,
                    lambda device: corelib.zeros(2, 7, dtype=corelib.int64, device=device),
                    lambda device: corelib.zeros(2 * 7, dtype=corelib.int64, device=device)),
}


@pytest.mark.parametrize("name", MODELS)
def test_model_forward_backward_shapes_match_cpu(name):
    build, make_input, make_target = MODELS[name]
    results = {}
    for device in ("cpu", "meta"):
        corelib.manual_seed(0)
        model = build(device=device)
        out = model(make_input(device))
        loss = nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]),
                                           make_target(device))
        loss.backward()
        grads = [(n, tuple(p.grad.shape), p.grad.device.type)
                 for n, p in model.named_parameters()]
        buffers = [(n, tuple(b.shape), b.dtype) for n, b in model.named_buffers()]
        results[device] = (tuple(out.shape), out.dtype, tuple(loss.shape), grads, buffers)
    cpu, meta = results["cpu"], results["meta"]
    assert meta[:3] == cpu[:3] and meta[4] == cpu[4]
    assert [g[:2] for g in meta[3]] == [g[:2] for g in cpu[3]]
    assert {g[2] for g in meta[3]} == {"meta"}


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad", "Adadelta", "Adamax",
                                  "NAdam", "RAdam", "RMSprop"])
def test_optimizer_steps_keep_parameters_on_meta(name):
    model = mlp(device="meta")
    opt = getattr(corelib.optim, name)(model.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        model(corelib.randn(4, 20, device="meta")).pow(2).mean().backward()
        opt.step()
    assert all(p.is_meta and p.grad.shape == p.shape for p in model.parameters())
    assert all(v.is_meta for state in opt.state.values() for v in state.values()
               if isinstance(v, corelib.Tensor))


def test_module_device_kwarg_and_device_context():
    lin = nn.Linear(4, 3, device="meta")
    assert lin.weight.is_meta and lin.bias.shape == (3,) and lin.weight.requires_grad
    with corelib.device("meta"):
        model = mlp()
        inner = corelib.empty(2)
        with corelib.device("cpu"):
            assert corelib.empty(2).device.type == "cpu"
        assert corelib.empty(2).is_meta
    assert inner.is_meta and all(p.is_meta for p in model.parameters())
    assert corelib.empty(2).device.type == "cpu"
    with pytest.raises(RuntimeError, match="no backend provides device 'nosuchdevice'"):
        with corelib.device("nosuchdevice"):
            pass
    assert corelib.get_default_device().type == "cpu"


def test_to_empty_gives_uninitialised_storage_on_the_target():
    model = cnn(device="meta")
    params = dict(model.named_parameters())
    assert model.to_empty(device="cpu") is model
    for name, p in model.named_parameters():
        assert p is params[name]   # the same Parameter objects
        assert p.device.type == "cpu" and p.requires_grad and p.is_leaf
    assert all(b.device.type == "cpu" for b in model.buffers())
    for m in model.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    model[1].reset_running_stats()
    out = model(corelib.randn(2, 3, 12, 12))
    assert out.shape == (2, 10) and bool(out.isfinite().all())
    inner = nn.Linear(2, 2, device="meta")
    outer = nn.Sequential(inner)
    outer.to_empty(device="cpu", recurse=False)
    assert inner.weight.is_meta


def test_moving_a_meta_module_with_to_says_use_to_empty():
    with pytest.raises(NotImplementedError, match="to_empty"):
        nn.Linear(2, 2, device="meta").to("cpu")


def test_billion_parameter_model_builds_in_a_few_megabytes():
    """15 x Linear(8192, 8192) = 1.007e9 parameters (4 GB as float32) on meta, in a fresh
    process: the peak RSS grows by a few MB (time: benchmarks/test_meta.py); moving a cpu
    tensor to meta makes no copy of its data."""
    code = """
        import resource
        import corelib
        from corelib import nn
        corelib.empty(1, device="meta")                     # plugins loaded, kernels resolved
        nn.Linear(8, 8, device="meta")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        model = nn.Sequential(*[nn.Linear(8192, 8192, device="meta") for _ in range(15)])
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        x = corelib.ones(32, 1024, 1024)                   # 128 MB on cpu
        moved = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert x.to("meta").shape == x.shape                # no host copy on the way
        moved = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - moved
        print(sum(p.numel() for p in model.parameters()), (after - before) // 1024,
              moved // 1024)
    """
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    params, grown_mb, moved_mb = map(int, proc.stdout.split())
    assert params == 15 * (8192 * 8192 + 8192) > 10 ** 9
    assert grown_mb < 50, f"building on meta grew the peak RSS by {grown_mb} MB"
    assert moved_mb < 50, f"x.to('meta') of 128 MB grew the peak RSS by {moved_mb} MB"


def test_blocking_the_plugin_leaves_everything_else_working():
    """As after ``pip uninstall corelib-meta``: cpu works, and 'meta' is a missing device."""
    code = """
        import corelib
        print((corelib.ones(2) * 3).tolist(), sorted(corelib.registry.backends))
        try:
            corelib.empty(2, device="meta")
        except RuntimeError as exc:
            print("ERROR:", exc)
    """
    env = dict(os.environ, CORELIB_BLOCK_PLUGINS="corelib-meta")
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    first, error = proc.stdout.splitlines()
    assert first.startswith("[3.0, 3.0]") and "'meta'" not in first
    assert "no backend provides device 'meta'" in error and "pip install corelib-meta" in error


def test_profiling_a_meta_run_reports_what_a_real_run_allocates():
    corelib_profiler = pytest.importorskip("corelib_profiler")
    model = nn.Linear(64, 32, device="meta")
    with corelib_profiler.profile() as prof:
        model(corelib.empty(8, 64, device="meta"))
    stats = {s.op: s for s in prof.stats()}
    assert stats["linear"].device == "meta" and stats["linear"].bytes_out == 8 * 32 * 4


def test_conformance_kit_refuses_a_device_without_data(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "corelib.testing",
                           "--corelib-device=meta", "-p", "no:cacheprovider"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, proc.stdout + proc.stderr
    assert "device 'meta' holds no data" in proc.stderr
