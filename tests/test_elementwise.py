"""Elementwise behaviour beyond the op table: in-place variants, out=, type promotion (Python
scalars as weak types, 0-d tensors), operators and their reflected forms, errors, gradients at
kinks, erf accuracy and the same-dtype fast path of binary ops."""
import math
import operator

import numpy as np
import pytest

import corelib
from corelib._ops import elementwise as ew
from corelib.testing.compare import assert_close

F = ew   # torch.nn.functional-style activations live in the elementwise op module


def _t(values, dtype):
    return corelib.tensor(np.asarray(values), dtype=getattr(corelib, dtype))


def _torch_t(torch, values, dtype):
    return torch.tensor(np.asarray(values), dtype=getattr(torch, dtype))


# ---------------------------------------------------------------------------------------------
# type promotion: corelib result dtypes against torch's
DTYPES = ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64"]
SCALARS = [True, 3, -2, 2.5]


@pytest.mark.parametrize("op", ["add", "mul", "maximum", "remainder", "atan2", "copysign",
                                "eq", "lt", "bitwise_and", "div", "pow", "fmod", "xlogy"])
@pytest.mark.parametrize("da", DTYPES)
@pytest.mark.parametrize("db", ["bool", "int8", "int64", "float16", "float64"])
def test_tensor_tensor_promotion_matches_torch(op, da, db, torch):
    a_np = np.array([[1, 2, 3], [3, 1, 2]]).astype(da)
    b_np = np.array([1, 2, 1]).astype(db)
    t_fn = getattr(torch, op)
    try:
        expected = t_fn(torch.from_numpy(a_np), torch.from_numpy(b_np))
    except (RuntimeError, TypeError) as exc:
        with pytest.raises(type(exc) if not isinstance(exc, NotImplementedError)
                           else RuntimeError):
            getattr(corelib, op)(corelib.tensor(a_np), corelib.tensor(b_np))
        return
    got = getattr(corelib, op)(corelib.tensor(a_np), corelib.tensor(b_np))
    assert got.dtype.name == str(expected.dtype).split(".")[1]
    assert_close(got, expected.numpy(), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv", "floordiv", "mod", "pow",
                                "and", "or", "xor", "lshift", "rshift", "eq", "lt"])
@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32", "int64", "float16", "float32"])
@pytest.mark.parametrize("scalar", SCALARS)
@pytest.mark.parametrize("reflected", [False, True])
def test_python_scalar_operators_match_torch(op, dtype, scalar, reflected, torch):
    """Python numbers are weak types: they never widen a tensor dtype of the same category;
    reflected operators (__radd__, __rsub__, __rpow__, __rmod__, __rand__, ...) agree too."""
    fn = getattr(operator, op if op not in ("and", "or") else op + "_")
    values = np.array([1, 2, 3, 0, 5])
    x, tx = _t(values, dtype), _torch_t(torch, values, dtype)

    def run(a, s):
        return fn(s, a) if reflected else fn(a, s)
    try:
        expected = run(tx, scalar)
    except (RuntimeError, TypeError, ZeroDivisionError) as exc:
        with pytest.raises((RuntimeError, TypeError)):
            run(x, scalar)
        return
    got = run(x, scalar)
    assert got.dtype.name == str(expected.dtype).split(".")[1], (op, dtype, scalar)
    assert_close(got, expected.numpy(), rtol=2e-3, atol=1e-3)


@pytest.mark.parametrize("dims_dtype,zero_dtype", [("int8", "int64"), ("float16", "float64"),
                                                    ("int32", "float32"), ("uint8", "int8"),
                                                    ("bool", "int32")])
def test_zero_dim_tensor_promotes_like_torch(dims_dtype, zero_dtype, torch):
    """A 0-d tensor only decides the dtype when its category is higher."""
    a = np.array([1, 2, 3]).astype(dims_dtype)
    b = np.array(2).astype(zero_dtype)
    for op in ("add", "mul", "maximum", "where"):
        if op == "where":
            cond = np.array([True, False, True])
            exp = torch.where(torch.from_numpy(cond), torch.from_numpy(a), torch.from_numpy(b))
            got = corelib.where(corelib.tensor(cond), corelib.tensor(a), corelib.tensor(b))
        else:
            exp = getattr(torch, op)(torch.from_numpy(a), torch.from_numpy(b))
            got = getattr(corelib, op)(corelib.tensor(a), corelib.tensor(b))
        assert got.dtype.name == str(exp.dtype).split(".")[1], op
        assert_close(got, exp.numpy())


def test_where_and_clamp_with_scalars_follow_torch_dtypes(torch):
    cond = np.array([True, False])
    for a, b in ((1, 0.5), (1, 2), (True, False)):
        exp = torch.where(torch.from_numpy(cond), a, b)
        got = corelib.where(corelib.tensor(cond), a, b)
        assert got.dtype.name == str(exp.dtype).split(".")[1]
        assert_close(got, exp.numpy())
    i = np.array([1, 2, 3])
    for kwargs in (dict(min=0.5), dict(max=2), dict(min=1.5, max=2.5)):
        exp = torch.clamp(torch.from_numpy(i), **kwargs)
        got = corelib.clamp(corelib.tensor(i), **kwargs)
        assert got.dtype.name == str(exp.dtype).split(".")[1]
        assert_close(got, exp.numpy())


def test_float16_results_stay_float16(torch):
    x = np.linspace(-3, 3, 13).astype(np.float16)
    for name in ("exp", "erf", "sigmoid", "tanh", "rsqrt", "erfinv", "logit"):
        arg = x / 4 if name in ("erfinv", "logit") else x
        got = getattr(corelib, name)(corelib.tensor(arg))
        exp = getattr(torch, name)(torch.from_numpy(arg))
        assert got.dtype is corelib.float16
        assert_close(got, exp.numpy(), rtol=2e-3, atol=2e-3)
    for name in ("gelu", "silu", "softplus", "mish", "elu", "hardswish"):
        got = getattr(F, name)(corelib.tensor(x))
        exp = getattr(torch.nn.functional, name)(torch.from_numpy(x))
        assert got.dtype is corelib.float16
        assert_close(got, exp.numpy(), rtol=2e-3, atol=2e-3)


# ---------------------------------------------------------------------------------------------
# in-place variants and out=
INPLACE_UNARY = ["neg", "abs", "exp", "exp2", "expm1", "log1p", "sqrt", "square", "sin", "cos",
                 "tan", "atan", "sinh", "tanh", "asinh", "sigmoid", "erf", "erfc", "floor",
                 "ceil", "round", "trunc", "frac", "reciprocal", "relu", "sign", "nan_to_num",
                 "rsqrt", "log", "log2", "log10", "logit", "erfinv", "fix", "arctan"]


@pytest.mark.parametrize("name", INPLACE_UNARY)
def test_unary_inplace_and_out_match_functional(name, torch):
    data = np.linspace(0.1, 0.9, 6).reshape(2, 3)
    x = corelib.tensor(data)
    expected = getattr(torch, name)(torch.from_numpy(data)).numpy()
    y = x.clone()
    r = getattr(y, name + "_")()
    assert r is y
    assert_close(y, expected)
    if name == "relu":   # torch.relu has no out=
        return
    out = corelib.empty(2, 3, dtype=corelib.float64)
    r = getattr(corelib, name)(x, out=out)
    assert r is out
    assert_close(out, expected)
    assert_close(x, data)   # the input is untouched


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "remainder", "fmod", "pow",
                                  "atan2", "hypot", "copysign", "xlogy", "floor_divide",
                                  "bitwise_and", "bitwise_or", "bitwise_xor", "eq", "lt",
                                  "logical_and", "bitwise_left_shift"])
def test_binary_inplace_matches_torch(name, torch):
    integral = name.startswith("bitwise")
    dtype = "int64" if integral else "float64"
    a = np.array([[1, 2, 3], [4, 5, 6]]).astype(dtype)
    b = np.array([3, 1, 2]).astype(dtype)
    ta = torch.from_numpy(a.copy())
    getattr(ta, name + "_")(torch.from_numpy(b))
    x = corelib.tensor(a)
    r = getattr(x, name + "_")(corelib.tensor(b))
    assert r is x and x.dtype.name == dtype
    assert_close(x, ta.numpy())


def test_inplace_result_type_must_fit(torch):
    x = corelib.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="can't be cast"):
        x.add_(1.5)
    with pytest.raises(RuntimeError, match="can't be cast"):
        x.div_(2)
    with pytest.raises(RuntimeError, match="can't be cast"):
        x.exp_()
    assert x.tolist() == [1, 2, 3]


def test_inplace_ops_with_autograd_match_torch(torch):
    data = np.array([-1.5, -0.2, 0.0, 0.4, 2.0])

    def grad(lib):
        w = lib.tensor(data, requires_grad=True)
        y = w * 1.0
        y.clamp_(-1, 1)
        y.mul_(2)
        y.add_(0.5).exp_()
        y.sum().backward()
        return w.grad

    assert_close(grad(corelib), grad(torch).numpy())


@pytest.mark.parametrize("name,kwargs", [("relu", {}), ("leaky_relu", dict(negative_slope=0.2)),
                                         ("elu", dict(alpha=0.5)), ("selu", {}), ("celu", {}),
                                         ("hardtanh", dict(min_val=-0.5, max_val=0.5)),
                                         ("relu6", {}), ("silu", {}), ("mish", {}),
                                         ("hardsigmoid", {}), ("hardswish", {})])
def test_activation_inplace_flag_writes_into_input(name, kwargs, torch):
    data = np.linspace(-4, 7, 12)
    x = corelib.tensor(data)
    r = getattr(F, name)(x, inplace=True, **kwargs)
    assert r is x
    expected = getattr(torch.nn.functional, name)(torch.from_numpy(data), **kwargs)
    assert_close(x, expected.numpy())


def test_top_level_inplace_activations():
    x = corelib.tensor([-1.0, 2.0])
    assert corelib.relu_(x) is x and x.tolist() == [0.0, 2.0]
    y = corelib.tensor([-1.0, 2.0])
    corelib.selu_(y)
    assert_close(y, corelib.selu(corelib.tensor([-1.0, 2.0])))


def test_out_resizes_empty_and_rejects_wrong_shape_or_dtype():
    a, b = corelib.tensor([[1.0, 2.0]]), corelib.tensor([[3.0], [4.0]])
    out = corelib.empty(0)
    corelib.hypot(a, b, out=out)
    assert out.shape == (2, 2)
    assert_close(out, np.hypot([[1.0, 2.0]], [[3.0], [4.0]]))
    with pytest.raises(RuntimeError, match="shape"):
        corelib.add(a, b, out=corelib.empty(3))
    with pytest.raises(RuntimeError, match="can't be cast"):
        corelib.exp(a, out=corelib.empty(1, 2, dtype=corelib.int64))
    out = corelib.empty(1, 2, dtype=corelib.float64)   # a wider dtype is fine
    corelib.mul(a, 2, out=out)
    assert out.dtype is corelib.float64 and out.tolist() == [[2.0, 4.0]]
    out = corelib.empty(2, 2, dtype=corelib.bool)
    assert corelib.lt(a, b, out=out) is out and out.tolist() == [[True, True], [True, True]]


def test_out_with_requires_grad_is_an_error():
    a = corelib.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="out="):
        corelib.exp(a, out=corelib.empty(1))


# ---------------------------------------------------------------------------------------------
# operators
def test_bitwise_and_shift_operators_match_torch(torch):
    a = np.array([-8, -1, 0, 5, 12, 127], dtype=np.int64)
    b = np.array([1, 2, 3, 0, 70, -1], dtype=np.int64)
    x, y = corelib.tensor(a), corelib.tensor(b)
    tx, ty = torch.from_numpy(a), torch.from_numpy(b)
    for op in (operator.and_, operator.or_, operator.xor, operator.lshift, operator.rshift):
        assert_close(op(x, y), op(tx, ty).numpy())
    assert_close(~x, (~tx).numpy())
    m = corelib.tensor([True, False])
    assert (~m).tolist() == [False, True] and (m ^ True).tolist() == [False, True]
    for dt in ("int8", "uint8", "int16", "int32"):
        u = _t([255 if dt == "uint8" else -100, 8, 1], dt)
        s = _t([9, 7, 2], dt)
        tu, ts = _torch_t(torch, u.tolist(), dt), _torch_t(torch, s.tolist(), dt)
        assert (u >> s).tolist() == (tu >> ts).tolist()
        assert (u << s).tolist() == (tu << ts).tolist()


def test_invalid_operand_types_raise_like_torch():
    f = corelib.tensor([1.5])
    with pytest.raises(TypeError, match="invert"):
        ~f
    with pytest.raises(RuntimeError, match="bitwise_and"):
        corelib.bitwise_and(f, 1)
    with pytest.raises(RuntimeError, match="bitwise_and"):
        1.5 & corelib.tensor([1])
    with pytest.raises(RuntimeError, match="Negation"):
        -corelib.tensor([True])
    with pytest.raises(RuntimeError, match="Subtraction"):
        1 - corelib.tensor([True])
    with pytest.raises(TypeError, match="maximum.*other"):
        corelib.maximum(f, 2)
    with pytest.raises(TypeError, match="logaddexp"):
        corelib.logaddexp(f, 1.0)
    with pytest.raises(RuntimeError, match="hypot"):
        corelib.hypot(corelib.tensor([3]), corelib.tensor([4]))
    with pytest.raises(RuntimeError, match="gelu"):
        F.gelu(corelib.tensor([1]))
    with pytest.raises(RuntimeError, match="approximate"):
        F.gelu(f, approximate="fast")
    with pytest.raises(RuntimeError, match="relu"):
        corelib.relu(corelib.tensor([True]))
    with pytest.raises(TypeError, match="exp.*input"):
        corelib.exp(1.0)


def test_integer_power_and_division_errors():
    i = corelib.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="negative integer powers"):
        i ** -1
    with pytest.raises(RuntimeError, match="negative integer powers"):
        corelib.pow(i, -2)
    assert (i ** -1.0).dtype is corelib.float32       # a float exponent is fine
    assert (2 ** i).tolist() == [2, 4, 8] and (2 ** i).dtype is corelib.int64
    for fn in (corelib.remainder, corelib.fmod, corelib.floor_divide):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            fn(i, 0)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        corelib.div(i, corelib.tensor([1, 0, 1]), rounding_mode="trunc")
    assert corelib.div(i, 0).tolist() == [math.inf] * 3     # true division follows IEEE


def test_argument_errors():
    x = corelib.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        corelib.clamp(x)
    with pytest.raises(RuntimeError, match="rounding_mode"):   # PyTorch's class
        corelib.div(x, x, rounding_mode="round")
    with pytest.raises(RuntimeError, match="expected dtype"):
        corelib.lerp(x, x.double(), 0.5)
    with pytest.raises(RuntimeError, match="Integer division with addcdiv"):
        corelib.addcdiv(corelib.tensor([1]), corelib.tensor([1]), corelib.tensor([1]))
    with pytest.raises(RuntimeError, match="did not match"):
        corelib.isclose(x, corelib.tensor([1, 2]))


def test_clamp_with_min_above_max_and_bool(torch):
    data = np.array([0.0, 1.0, 5.0])
    got = corelib.clamp(corelib.tensor(data), 3, 2)
    assert_close(got, torch.clamp(torch.from_numpy(data), 3, 2).numpy())
    b = corelib.tensor([True, False])
    assert corelib.clamp(b, 0, 1).dtype is corelib.bool


def test_allclose_and_equal_return_python_bools():
    a = corelib.tensor([1.0, 2.0])
    assert corelib.allclose(a, a + 1e-9) is True
    assert corelib.allclose(a, a + 1e-3) is False
    assert a.equal(corelib.tensor([1.0, 2.0])) is True
    assert corelib.equal(a, corelib.tensor([1, 2])) is True
    assert corelib.equal(a, corelib.tensor([[1.0, 2.0]])) is False


# ---------------------------------------------------------------------------------------------
# gradients at kinks and special points (PyTorch's conventions)
KINKS = {
    "abs": (corelib.abs, "abs", {}),
    "relu": (corelib.relu, "relu", {}),
    "relu6": (F.relu6, "nn.functional.relu6", {}),
    "hardtanh": (F.hardtanh, "nn.functional.hardtanh", {}),
    "leaky_relu": (F.leaky_relu, "nn.functional.leaky_relu", dict(negative_slope=0.3)),
    "elu": (F.elu, "nn.functional.elu", dict(alpha=2.0)),
    "celu": (F.celu, "nn.functional.celu", dict(alpha=2.0)),
    "hardsigmoid": (F.hardsigmoid, "nn.functional.hardsigmoid", {}),
    "hardswish": (F.hardswish, "nn.functional.hardswish", {}),
    "softplus": (F.softplus, "nn.functional.softplus", dict(beta=2.0, threshold=2.0)),
    "clamp": (corelib.clamp, "clamp", dict(min=-1.0, max=1.0)),
    "clamp_min": (corelib.clamp_min, "clamp_min", dict(min=0.0)),
    "logit_eps": (corelib.logit, "logit", dict(eps=0.25)),
    "nan_to_num": (corelib.nan_to_num, "nan_to_num", {}),
    "sign": (corelib.sign, "sign", {}),
    "round": (corelib.round, "round", {}),
    "frac": (corelib.frac, "frac", {}),
}


@pytest.mark.parametrize("name", sorted(KINKS))
def test_gradient_at_kinks_matches_torch(name, torch):
    fn, t_name, kwargs = KINKS[name]
    data = np.array([-6.0, -3.0, -1.0, -0.5, 0.0, 0.25, 0.5, 0.75, 1.0, 3.0, 6.0])
    if name == "logit_eps":
        data = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    if name == "nan_to_num":
        data = np.array([0.0, math.nan, math.inf, -math.inf, 2.0])
    x = corelib.tensor(data, requires_grad=True)
    fn(x, **kwargs).sum().backward()
    t_fn = torch
    for part in t_name.split("."):
        t_fn = getattr(t_fn, part)
    tx = torch.tensor(data, requires_grad=True)
    t_fn(tx, **kwargs).sum().backward()
    # torch uses float32 constants in some float64 rules (hardsigmoid's 1/6): rtol 1e-7
    assert_close(x.grad, tx.grad.numpy(), rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("op", ["maximum", "minimum", "fmax", "fmin"])
def test_max_min_gradients_on_ties_and_nan_match_torch(op, torch):
    a = np.array([1.0, 2.0, 3.0, math.nan, 0.0])
    b = np.array([1.0, 5.0, 0.0, 1.0, math.nan])
    x, y = corelib.tensor(a, requires_grad=True), corelib.tensor(b, requires_grad=True)
    getattr(corelib, op)(x, y).sum().backward()
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    getattr(torch, op)(tx, ty).sum().backward()
    assert_close(x.grad, tx.grad.numpy())
    assert_close(y.grad, ty.grad.numpy())


def test_pow_gradients_at_zero_match_torch(torch):
    base, expo = np.array([0.0, 0.0, 2.0, 0.0]), np.array([0.0, 2.0, 0.0, 0.5])
    x, e = corelib.tensor(base, requires_grad=True), corelib.tensor(expo, requires_grad=True)
    (x ** e).sum().backward()
    tx, te = torch.tensor(base, requires_grad=True), torch.tensor(expo, requires_grad=True)
    (tx ** te).sum().backward()
    assert_close(x.grad, tx.grad.numpy())
    assert_close(e.grad, te.grad.numpy())
    e2 = corelib.tensor(expo, requires_grad=True)
    (0.0 ** e2).sum().backward()
    te2 = torch.tensor(expo, requires_grad=True)
    (0.0 ** te2).sum().backward()
    assert_close(e2.grad, te2.grad.numpy())
    x3 = corelib.tensor(base, requires_grad=True)
    (x3 ** 0).sum().backward()
    assert x3.grad.tolist() == [0.0] * 4


def test_clamp_tensor_bound_gradients_match_torch(torch):
    x = np.array([-2.0, -0.5, 0.5, 2.0, 0.0])
    lo = np.array([-1.0, -1.0, 1.0, -1.0, 0.0])
    hi = np.array([1.0, 1.0, 0.0, 1.0, 0.0])    # one min > max column, one bound tie
    cx, clo, chi = (corelib.tensor(v, requires_grad=True) for v in (x, lo, hi))
    corelib.clamp(cx, clo, chi).sum().backward()
    tx, tlo, thi = (torch.tensor(v, requires_grad=True) for v in (x, lo, hi))
    torch.clamp(tx, tlo, thi).sum().backward()
    for c, t in ((cx, tx), (clo, tlo), (chi, thi)):
        assert_close(c.grad, t.grad.numpy())


def test_double_backward_of_activations_matches_torch(torch):
    data = np.linspace(-2.5, 2.5, 10)
    for name, kwargs in (("gelu", {}), ("gelu", dict(approximate="tanh")), ("silu", {}),
                         ("mish", {}), ("elu", dict(alpha=0.7)), ("softplus", {})):
        x = corelib.tensor(data, requires_grad=True)
        (g,) = corelib.autograd.grad(getattr(F, name)(x, **kwargs).sum(), x, create_graph=True)
        (gg,) = corelib.autograd.grad(g.sum(), x)
        tx = torch.tensor(data, requires_grad=True)
        (tg,) = torch.autograd.grad(getattr(torch.nn.functional, name)(tx, **kwargs).sum(), tx,
                                    create_graph=True)
        (tgg,) = torch.autograd.grad(tg.sum(), tx)
        assert_close(g, tg.detach().numpy(), msg=name)
        assert_close(gg, tgg.numpy(), msg=name)


# ---------------------------------------------------------------------------------------------
# erf family accuracy (vs math.erf / math.erfc, correctly rounded to ~1 ulp)
def test_erf_erfc_accuracy_against_math():
    x = np.concatenate([np.linspace(-7, 7, 4001), np.geomspace(1e-200, 1, 50),
                        np.linspace(5, 26, 200)])
    erf = corelib.erf(corelib.tensor(x)).numpy()
    erfc = corelib.erfc(corelib.tensor(x)).numpy()
    ref = np.array([math.erf(v) for v in x])
    refc = np.array([math.erfc(v) for v in x])
    nz = ref != 0
    assert np.max(np.abs(erf[nz] - ref[nz]) / np.abs(ref[nz])) < 2e-15
    assert np.max(np.abs(erfc - refc) / refc) < 1e-14
    special = corelib.tensor([math.inf, -math.inf, math.nan, 0.0, -0.0])
    assert corelib.erf(special).tolist()[:2] == [1.0, -1.0]
    assert math.isnan(corelib.erf(special).tolist()[2])
    assert corelib.erfc(special).tolist()[:2] == [0.0, 2.0]


def test_erfinv_inverts_erf_and_handles_edges():
    y = np.concatenate([np.linspace(-0.999999, 0.999999, 2001), 1 - np.geomspace(1e-15, 0.1, 40)])
    x = corelib.erfinv(corelib.tensor(y)).numpy()
    back = np.array([math.erf(v) for v in x])
    assert np.max(np.abs(back - y)) < 4e-16 * 8
    tail = y > 0.9
    backc = np.array([math.erfc(v) for v in x[tail]])
    assert np.max(np.abs(backc - (1 - y[tail])) / (1 - y[tail])) < 1e-13
    edges = corelib.erfinv(corelib.tensor([1.0, -1.0, 1.5, math.nan])).tolist()
    assert edges[:2] == [math.inf, -math.inf] and all(math.isnan(v) for v in edges[2:])


# ---------------------------------------------------------------------------------------------
# the same-dtype fast path of binary ops (a microcheck, not a benchmark)
def test_same_dtype_binary_ops_take_the_fast_path(monkeypatch):
    """``a + b`` of one dtype must not reach promotion or _finish (the slow general path)."""
    def forbidden(*args, **kwargs):
        raise AssertionError("slow path taken")
    a, b = corelib.randn(3, 3), corelib.randn(3, 3)
    expected = (a.numpy() + b.numpy(), a.numpy() * b.numpy(), a.numpy() - b.numpy())
    monkeypatch.setattr(ew, "promote", forbidden)
    monkeypatch.setattr(ew, "_finish", forbidden)
    assert_close(a + b, expected[0])
    assert_close(a * b, expected[1])
    assert_close(corelib.add(a, b), expected[0])
    assert_close(a.maximum(b), np.maximum(a.numpy(), b.numpy()))
    i = corelib.tensor([1, 2]) & corelib.tensor([3, 3])
    assert i.tolist() == [1, 2]
    assert_close(a * 2.5, a.numpy() * 2.5)       # float tensor op Python number: fast too
    out = corelib.empty(3, 3)
    assert corelib.add(a, b, out=out) is out     # out= of the same dtype: fast, in place
    assert_close(out, expected[0])
    with pytest.raises(AssertionError, match="slow path"):
        corelib.tensor([1, 2]) + 1.5    # an int tensor with a float scalar needs promotion
