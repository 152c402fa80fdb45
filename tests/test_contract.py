"""The kernel contract (corelib.contract): every op record has one, the shape-and-dtype rules
agree with what the CPU kernels return over the op table, registration warns about tables that
break it, CORELIB_CHECK_KERNELS=1 catches bad results, and the CLI / docs print it."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

import corelib
from corelib import contract
from corelib.__main__ import info, main as cli_main, markdown
from corelib._ops.core import Op
from corelib.contract import Meta, infer
from corelib.dispatch import registry
from corelib.hookspecs import BackendSpec, hookimpl
from corelib.testing import op_table

ROOT = Path(__file__).resolve().parents[1]


def kernel_ops():
    return {name: op for name, op in Op.all.items() if op.has_kernel}


# ---------------------------------------------------------------------------------------------
# the records
def test_every_op_record_has_a_contract():
    """Also covers ops added later: whatever is in Op.all when the suite runs."""
    problems = []
    for name, op in sorted(kernel_ops().items()):
        try:
            c = contract.kernel_contract(name)
        except (LookupError, ValueError) as exc:
            problems.append(f"{name}: {exc}")
            continue
        if not c.description:
            problems.append(f"{name}: no description")
        if any(r.kind == "Array" for r in c.returns) and op.rule is None:
            problems.append(f"{name}: returns arrays but has no shape-and-dtype rule")
    assert not problems, "\n".join(problems)
    assert [c.name for c in contract.kernels()] == sorted(kernel_ops())


def test_core_set_is_small_and_holds_the_primitives():
    core = {c.name for c in contract.kernels() if c.core}
    assert {"add", "mul", "where", "astype", "sum", "amax", "matmul", "view", "reshape",
            "copy_", "full", "arange", "uniform", "generator_get_state"} <= core
    assert not core & {"softmax", "convolution", "linear", "log_softmax", "mean", "var"}
    assert len(core) < len(kernel_ops()) // 3


def test_signature_parsing():
    operands, params, returns, as_tuple = contract.parse_signature(
        "(Array x, Array|Scalar? b, *Array rest, *, dims dim, bool keepdim=False, "
        "Array! out=None) -> (Array(x), Array?)")
    assert [(p.name, p.kind, p.optional, p.variadic) for p in operands] == [
        ("x", "Array", False, False), ("b", "Array|Scalar", True, False),
        ("rest", "Array", False, True)]
    assert [(p.name, p.required, p.mutated) for p in params] == [
        ("dim", True, False), ("keepdim", False, False), ("out", False, True)]
    assert as_tuple and returns[0].view_of == "x" and returns[1].optional
    for bad in ("(Array x) -> Tensor", "(Blob x) -> Array", "Array x -> Array",
                "(Array x) -> Array(y)"):
        with pytest.raises(ValueError, match="kernel signature"):
            contract.parse_signature(bad)


def test_contract_fields():
    c = contract.kernel_contract("view")
    assert (c.name, [p.name for p in c.operands], [p.name for p in c.params]) == \
        ("view", ["x"], ["shape"])
    assert c.return_rule() == "a view sharing storage with x" and c.core
    add = contract.kernel_contract("add")
    assert add.out and "writes into out" in add.return_rule()
    assert contract.kernel_contract("linalg_svd").returns_tuple
    assert contract.kernel_contract("nonzero").data_dependent
    with pytest.raises(KeyError, match="no kernel named"):
        contract.kernel_contract("no_such_kernel")


# ---------------------------------------------------------------------------------------------
# infer: against NumPy (an independent reference) and the CPU kernels over the op table
def z(*shape, dtype="float32"):
    return np.zeros(shape, dtype)


def test_infer_elementwise_reduction_linear_creation():
    assert infer("add", z(2, 1, 3), z(4, 1)) == Meta((2, 4, 3), "float32")
    assert infer("add", z(3, dtype="int64"), 2) == Meta((3,), "int64")
    assert infer("lt", z(2, 3), 0.5) == Meta((2, 3), "bool")
    assert infer("astype", z(2), dtype="float16") == Meta((2,), "float16")
    assert infer("sum", z(2, 3, 4), dim=(0, 2), keepdim=True) == Meta((1, 3, 1), "float32")
    assert infer("all", z(2, 3), dim=(1,), keepdim=False) == Meta((2,), "bool")
    assert infer("argmax", z(2, 3), dim=1, keepdim=False) == Meta((2,), "int64")
    for a, b in (((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((5, 1, 2, 3), (4, 3, 6))):
        expected = np.matmul(z(*a), z(*b)).shape
        assert infer("matmul", z(*a), z(*b)) == Meta(expected, "float32")
    assert infer("linear", z(5, 7, 3), z(4, 3), None) == Meta((5, 7, 4), "float32")
    assert infer("full", shape=(2, 0), value=1, dtype="int64", device_index=0) == \
        Meta((2, 0), "int64")
    assert infer("arange", start=0, end=1, step=0.3, dtype="float64", device_index=0) == \
        Meta(np.arange(0, 1, 0.3).shape, "float64")
    assert infer("uniform", shape=(3,), low=0.0, high=1.0, generator=None, dtype="float16",
                 device_index=0) == Meta((3,), "float16")
    assert infer("linalg_svd", z(4, 2, 3), full_matrices=False) == tuple(
        Meta(a.shape, "float32") for a in np.linalg.svd(z(4, 2, 3), full_matrices=False))


@pytest.mark.parametrize("key", [
    (0,), (slice(1, None),), (None, Ellipsis, 1), (slice(None, None, -1), 2),
    (np.array([0, 1, 1]),), (slice(None), np.array([[0], [1]]), np.array([2, 0])),
    (np.array([0, 1]), slice(None), 0), (Ellipsis, np.array(1)), (1, slice(None), np.array([0, 1])),
])
def test_infer_indexing_follows_numpy(key):
    x = z(3, 4, 5)
    expected = x[key].shape
    op = "getitem" if not any(isinstance(k, np.ndarray) for k in key) else "index"
    assert infer(op, x, key=key) == Meta(expected, "float32")


def test_infer_refuses_data_dependent_shapes():
    for name, args, params in (("nonzero", (z(3),), {}),
                               ("unique", (z(3),), dict(dim=None, return_inverse=False,
                                                       return_counts=False)),
                               ("index", (z(3),), dict(key=(z(3, dtype="bool"),))),
                               ("one_hot", (z(3, dtype="int64"),), dict(num_classes=-1))):
        with pytest.raises(NotImplementedError, match="depends on the values"):
            infer(name, *args, **params)
    with pytest.raises(RuntimeError, match="matmul"):
        infer("matmul", z(2, 3), z(2, 3))
    with pytest.raises(KeyError):
        infer("no_such_kernel", z(2))


def _float_leaves(a, leaves):
    if isinstance(a, corelib.Tensor) and a.dtype.is_floating_point:
        t = a.detach().clone().requires_grad_(True)
        leaves.append(t)
        return t
    if isinstance(a, (list, tuple)) and any(isinstance(x, corelib.Tensor) for x in a):
        return type(a)(_float_leaves(x, leaves) for x in a)
    return a


class Recorder:
    """A wrapper plugin: every cpu kernel call is compared with ``infer`` on its operands."""

    def __init__(self):
        self.seen, self.problems = set(), {}

    @hookimpl
    def corelib_wrap_kernel(self, op, device_type, kernel):
        if device_type != "cpu":
            return None
        c = contract.kernel_contract(op)

        def record(*operands, **params):
            metas = [contract.meta_of(x) for x in operands]   # before in-place writes
            result = kernel(*operands, **params)
            self.seen.add(op)
            if params.get("out") is None:
                problem = self.compare(op, c, metas, params, result)
                if problem:
                    self.problems.setdefault(op, problem)
            return result
        return record

    @staticmethod
    def compare(op, c, metas, params, result):
        try:
            expected = infer(op, *metas, **params)
        except NotImplementedError:
            return None
        except Exception as exc:
            return f"infer failed: {type(exc).__name__}: {exc}"
        values = tuple(result) if c.returns_tuple else (result,)
        metas = expected if c.returns_tuple else (expected,)
        for r, value, meta in zip(c.returns, values, metas):
            if r.kind != "Array" or value is None or meta is None:
                continue
            got = Meta(tuple(np.shape(value)), contract.dtype_name(value.dtype))
            if got != meta:
                return f"infer gave {meta}, the kernel returned {got}"
        return None


def test_infer_matches_cpu_kernels_over_the_op_table():
    """Forward over every sample and dtype, backward (float64) too, on cpu: the independent
    reference is what the CPU kernels actually return."""
    recorder = Recorder()
    registry.register(recorder, name="contract-recorder")
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            for info in op_table():
                for dtype in info.dtypes:
                    for sample in info.samples(dtype, "cpu"):
                        leaves = []
                        grad = info.grad and dtype == "float64"
                        args = _float_leaves(sample.args, leaves) if grad else sample.args
                        kwargs = {k: _float_leaves(v, leaves) if grad else v
                                  for k, v in sample.kwargs.items()}
                        try:
                            out = info.op(*args, **kwargs)
                        except Exception:   # error samples of the table
                            continue
                        outs = [o for o in (out if isinstance(out, (tuple, list)) else (out,))
                                if isinstance(o, corelib.Tensor) and o.requires_grad]
                        if outs:
                            sum(o.sum() for o in outs).backward()
    finally:
        registry.unregister(name="contract-recorder")
    assert not recorder.problems, "\n".join(f"{k}: {v}" for k, v in recorder.problems.items())
    # the table reaches every family, forward and backward
    assert {"add", "exp", "sum", "amax", "matmul", "linear_backward_weight", "convolution",
            "convolution_backward_input", "getitem", "index", "index_backward", "cat",
            "permute", "expand", "linalg_svd", "softmax_backward_data", "max_pool_indices",
            "pool_scatter", "scatter", "gather", "normalize", "embedding_backward",
            "nll_loss_backward"} <= recorder.seen
    assert len(recorder.seen) > 170


def test_infer_matches_random_and_layout_kernels():
    """The kernels the op table does not reach, called as the frontend calls them."""
    recorder = Recorder()
    registry.register(recorder, name="contract-recorder")
    try:
        corelib.manual_seed(0)
        x = corelib.rand(3, 4, dtype=corelib.float64)
        corelib.randn(2, 3, dtype=corelib.float16)
        corelib.randint(0, 5, (3,), dtype=corelib.int32)
        corelib.randperm(5)
        corelib.empty(2, 3)
        corelib.linspace(0, 1, 7)
        corelib.bernoulli(x)
        corelib.multinomial(x, 2)
        corelib.normal(x, x + 1)
        corelib.poisson(x)
        for method, a in (("exponential_", ()), ("log_normal_", ()), ("cauchy_", ()),
                          ("geometric_", (0.5,))):
            getattr(corelib.zeros(5), method)(*a)
        x.view(12).stride()
        x.t().storage_offset()
        y = corelib.zeros(3, 4)
        y[1] = 2.0
        y.copy_(x)
        corelib.nn.functional.embedding(corelib.tensor([0, 2]), corelib.ones(3, 2), max_norm=1.0)
        state = corelib.get_rng_state()
        corelib.set_rng_state(state)
    finally:
        registry.unregister(name="contract-recorder")
    assert not recorder.problems, recorder.problems
    assert {"uniform", "normal", "randint", "randperm", "empty", "linspace", "bernoulli",
            "multinomial", "normal_tensor", "poisson", "exponential", "log_normal", "cauchy",
            "geometric", "view", "strides", "storage_offset", "setitem", "copy_",
            "embedding_renorm_"} <= recorder.seen


# ---------------------------------------------------------------------------------------------
# checked registration
def toy_plugin(device_type, kernels, distribution="corelib-test-toy"):
    cpu = registry.backend("cpu")

    @hookimpl
    def corelib_backend():
        return BackendSpec(device_type=device_type, kernels=kernels, to_numpy=np.asarray,
                           from_numpy=lambda arr, index=0: np.array(arr),
                           make_generator=cpu.make_generator, distribution=distribution)
    return types.SimpleNamespace(corelib_backend=corelib_backend)


def test_the_projects_backends_match_the_contract():
    registry.load()
    assert registry.backends   # cpu at least
    for device_type, spec in registry.backends.items():
        assert contract.table_problems(spec.kernels) == [], device_type
    import borrowed_device
    spec = borrowed_device.make_plugin().corelib_backend()
    assert contract.table_problems(spec.kernels) == []


def test_registration_warns_about_a_table_that_breaks_the_contract():
    cpu = dict(registry.backend("cpu").kernels)
    kernels = dict(cpu, addd=cpu["add"], add=lambda a: a,
                   sum=lambda x, dim: x.sum(dim),            # no keepdim
                   mul=lambda *args, **kwargs: None)         # *args/**kwargs pass
    del kernels["matmul"], kernels["where"]
    with pytest.warns(contract.KernelContractWarning) as caught:
        registry.register(toy_plugin("toyc", kernels), name="toyc")
    try:
        text = str(caught[0].message)
        assert "'corelib-test-toy'" in text and "'toyc'" in text
        assert "unknown kernel 'addd'" in text
        assert "missing core kernels: matmul, where" in text
        assert "kernel 'add' cannot be called as add(x, x" in text
        assert "kernel 'sum' cannot be called" in text and "keepdim" in text
        assert "'mul'" not in text
        out = io.StringIO()
        info(out)   # `python -m corelib info` lists them too
        assert "  contract: unknown kernel 'addd'" in out.getvalue()
        assert "  contract: missing core kernels: matmul, where" in out.getvalue()
    finally:
        registry.unregister(name="toyc")


def test_a_table_that_matches_registers_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error", contract.KernelContractWarning)
        registry.register(toy_plugin("toyok", dict(registry.backend("cpu").kernels)),
                          name="toyok")
    registry.unregister(name="toyok")


# ---------------------------------------------------------------------------------------------
# CORELIB_CHECK_KERNELS=1
@pytest.fixture
def checking(monkeypatch):
    monkeypatch.setenv("CORELIB_CHECK_KERNELS", "1")
    registry.invalidate_kernels()
    yield
    monkeypatch.delenv("CORELIB_CHECK_KERNELS")
    registry.invalidate_kernels()


@pytest.fixture
def bad_device():
    cpu = dict(registry.backend("cpu").kernels)
    kernels = dict(
        cpu,
        sum=lambda x, dim, keepdim: np.float32(x.sum()),             # a NumPy scalar
        add=lambda a, b, out=None: np.add(a, b)[..., :1],            # wrong shape
        mul=lambda a, b, out=None: np.multiply(a, b, dtype=np.float64),   # wrong dtype
        view=lambda x, shape: np.array(x).reshape(shape),            # a copy, not a view
        div=lambda a, b, out=None: np.true_divide(a, b),             # ignores out=
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        registry.register(toy_plugin("badx", kernels, "corelib-test-bad"), name="badx")
    yield "badx"
    registry.unregister(name="badx")


def test_check_mode_names_op_device_and_plugin(checking, bad_device):
    x = corelib.ones(2, 3, device=bad_device)
    with pytest.raises(RuntimeError, match=r"kernel 'sum' of device 'badx' \(plugin "
                                           r"'corelib-test-bad'\).*NumPy scalar"):
        x.sum()
    with pytest.raises(RuntimeError, match=r"kernel 'add'.*shape \(2, 1\), expected \(2, 3\)"):
        x + x
    with pytest.raises(RuntimeError, match=r"kernel 'mul'.*dtype float64, expected float32"):
        x * x
    with pytest.raises(RuntimeError, match=r"kernel 'view'.*does not share storage with x"):
        x.view(6)
    with pytest.raises(RuntimeError, match=r"kernel 'div'.*with out= it returned "
                                           r"numpy.ndarray, not out"):
        x.div_(2.0)
    assert (x - x).shape == (2, 3)   # good kernels pass


def test_without_check_mode_bad_results_pass_and_kernels_are_not_wrapped(bad_device):
    assert os.environ.get("CORELIB_CHECK_KERNELS", "0") in ("", "0")
    x = corelib.ones(2, 3, device=bad_device)
    assert (x + x)._data.shape == (2, 1)   # what check mode exists to catch
    assert x.div_(2.0).tolist() == [[1.0] * 3] * 2   # in-place silently lost
    spec = registry.backend("cpu")
    registry.invalidate_kernels()
    for name in ("add", "sum", "matmul"):
        assert registry.kernel(name, "cpu") is spec.kernels[name]


def test_check_mode_passes_the_kernels_over_the_op_table(checking, device):
    """The rules against the real kernels, through the check wrapper: every dtype on cpu, the
    first dtype of each entry elsewhere (simulated cuda, the borrowed npx device)."""
    failures, ran = {}, 0
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for info in op_table():
            for dtype in info.dtypes if device == "cpu" else info.dtypes[:1]:
                for sample in info.samples(dtype, device):
                    try:
                        info.op(*sample.args, **sample.kwargs)
                        ran += 1
                    except RuntimeError as exc:
                        if "kernel contract" in str(exc):
                            failures.setdefault(info.id, str(exc))
                    except Exception:
                        pass
    assert ran > 1000
    assert not failures, "\n".join(f"{k}: {v}" for k, v in failures.items())


# ---------------------------------------------------------------------------------------------
# CLI and the generated reference
def run_cli(*args):
    out = io.StringIO()
    old, sys.stdout = sys.stdout, out
    try:
        cli_main(["kernels", *args])
    finally:
        sys.stdout = old
    return out.getvalue()


def test_cli_lists_kernels_with_core_marker():
    lines = run_cli().splitlines()
    assert lines[0].startswith(f"{len(kernel_ops())} kernels")
    assert "* add" in lines and "  acos" in lines and "* matmul" in lines
    assert len(lines) == len(kernel_ops()) + 1


def test_cli_signatures_and_json():
    text = run_cli("--signatures")
    assert "* view(Array x, *, shape shape) -> Array(x)\n" \
           "      returns a view sharing storage with x\n" in text
    assert "* nonzero(Array x) -> Array\n      returns a new array; shape depends on the data" \
        in text
    data = json.loads(run_cli("--json"))
    assert [d["name"] for d in data] == sorted(kernel_ops())
    add = next(d for d in data if d["name"] == "add")
    assert add["core"] and add["params"][0]["name"] == "out" and add["params"][0]["mutated"]
    assert [o["kind"] for o in add["operands"]] == ["Array|Scalar", "Array|Scalar"]


def test_cli_runs_as_a_module():
    r = subprocess.run([sys.executable, "-m", "corelib", "kernels", "--signatures"],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert "linalg_qr(Array A, *, str mode) -> (Array, Array)" in r.stdout


def test_docs_kernels_md_is_up_to_date():
    out = io.StringIO()
    markdown(out)
    current = (ROOT / "docs" / "kernels.md").read_text()
    assert current == out.getvalue(), \
        "docs/kernels.md is stale: python -m corelib kernels --markdown > docs/kernels.md"
    assert "docs/kernels.md" in (ROOT / "README.md").read_text()
