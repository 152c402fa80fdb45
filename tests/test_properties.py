"""Property tests (hypothesis, fixed budget, derandomized: the same examples on every run and
machine) against NumPy: broadcasting, type promotion, basic/advanced/boolean indexing reads and
writes, reductions over dims, reshape rules, matmul shapes; and random small autograd graphs
against central finite differences."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import corelib

BUDGET = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SMALL = settings(BUDGET, max_examples=30)

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def values(shape, dtype=np.float64, lo=-4, hi=4):
    """Arrays of ``shape`` with small finite values (ints for integer dtypes)."""
    if np.dtype(dtype).kind == "b":
        return hnp.arrays(np.bool_, shape)
    if np.dtype(dtype).kind in "iu":
        lo = 0 if np.dtype(dtype).kind == "u" else lo
        return hnp.arrays(dtype, shape, elements=st.integers(lo, hi))
    return hnp.arrays(dtype, shape, elements=st.floats(lo, hi, width=np.dtype(dtype).itemsize * 8))


def T(a, **kw):
    return corelib.tensor(np.asarray(a), **kw)


def N(t):
    return t.detach().cpu().numpy()


# ---------------------------------------------------------------------------------------------
# broadcasting
BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "maximum": np.maximum,
          "minimum": np.minimum, "lt": np.less, "eq": np.equal}


@BUDGET
@given(st.data(), hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                                    max_side=3),
       st.sampled_from(sorted(BINARY)))
def test_broadcasting_binary_ops_match_numpy(data, bshapes, name):
    (sa, sb), result = bshapes
    a, b = data.draw(values(sa)), data.draw(values(sb))
    out = getattr(corelib, name)(T(a), T(b))
    assert tuple(out.shape) == result == np.broadcast_shapes(sa, sb)
    np.testing.assert_array_equal(N(out), BINARY[name](a, b))


@BUDGET
@given(st.data(), hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3,
                                                    max_side=3))
def test_where_broadcasts_three_ways(data, bshapes):
    (sc, sa, sb), result = bshapes
    c, a, b = data.draw(values(sc, np.bool_)), data.draw(values(sa)), data.draw(values(sb))
    out = corelib.where(T(c), T(a), T(b))
    assert tuple(out.shape) == result
    np.testing.assert_array_equal(N(out), np.where(c, a, b))


@st.composite
def non_broadcastable(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
    dim = draw(st.integers(0, len(shape) - 1))
    other = list(shape)
    other[dim] = draw(st.integers(2, 5).filter(lambda n: n != shape[dim]))
    return shape, tuple(other)


@SMALL
@given(non_broadcastable(), st.sampled_from(["add", "mul", "lt", "eq", "where", "masked_fill"]))
def test_non_broadcastable_shapes_raise_runtime_error_naming_the_op(pair, name):
    sa, sb = pair
    with pytest.raises(ValueError):
        np.broadcast_shapes(sa, sb)
    a, b = corelib.ones(*sa), corelib.ones(*sb)
    with pytest.raises(RuntimeError, match=rf"{name}\(\).*(must match|cannot be broadcast)"):
        if name == "where":
            corelib.where(a > 0, a, b)
        elif name == "masked_fill":
            a.masked_fill(b > 0, 0.0)
        else:
            getattr(corelib, name)(a, b)


# ---------------------------------------------------------------------------------------------
# type promotion: PyTorch's documented rule (an independent reference, written out here):
# categories bool < integer < floating; among operands of one priority class (tensors with
# dims, then 0-d tensors, then Python numbers) the result is NumPy's promote_types within the
# highest category present; a lower class counts only if its category is higher, and Python
# numbers then contribute the category's default (float32 / int64).
DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def _cat(dt):
    return {"b": 0, "u": 1, "i": 1, "f": 2}[np.dtype(dt).kind]


def _promote(a, b):
    """PyTorch's promote_types: the higher category's dtype, else NumPy's within a category."""
    if _cat(a) != _cat(b):
        return a if _cat(a) > _cat(b) else b
    return np.promote_types(a, b).name


def _combine(higher, lower):
    """A lower priority class counts only where it raises the category (c10 combine_categories)."""
    if higher is None or lower is None:
        return higher or lower
    if _cat(higher) == 2:
        return higher
    if higher == "bool" or _cat(lower) == 2:
        return _promote(higher, lower)
    return higher


def _expected_dtype(operands):
    """operands: (kind, numpy dtype name) with kind 'dim', 'zero' or 'scalar'; Python numbers
    count as their category's default dtype."""
    groups = {}
    for kind, dt in operands:
        if kind == "scalar":
            dt = {0: "bool", 1: "int64", 2: "float32"}[_cat(dt)]
        groups[kind] = dt if kind not in groups else _promote(groups[kind], dt)
    return _combine(groups.get("dim"), _combine(groups.get("zero"), groups.get("scalar")))


@st.composite
def promotion_operand(draw):
    kind = draw(st.sampled_from(["dim", "zero", "scalar"]))
    if kind == "scalar":
        value = draw(st.sampled_from([True, 2, 1.5]))
        return kind, {bool: "bool", int: "int64", float: "float64"}[type(value)], value
    dt = draw(st.sampled_from(DTYPES))
    shape = (3,) if kind == "dim" else ()
    return kind, dt, np.ones(shape, dt) if dt == "bool" else np.full(shape, 2, dt)


@settings(BUDGET, max_examples=120)
@given(promotion_operand(), promotion_operand(), st.sampled_from(["add", "mul", "maximum"]))
def test_type_promotion_follows_pytorch_rule_and_values_match_numpy(p, q, name):
    if p[0] == "scalar" and q[0] == "scalar":
        return
    if name == "maximum" and "scalar" in (p[0], q[0]):
        return   # maximum takes tensors only
    ops = [T(v) if kind != "scalar" else v for kind, dt, v in (p, q)]
    expected = _expected_dtype([(p[0], p[1]), (q[0], q[1])])
    out = getattr(corelib, name)(*ops)
    assert out.dtype.name == expected, (p[:2], q[:2], out.dtype)
    ref = BINARY[name](np.asarray(p[2], np.float64), np.asarray(q[2], np.float64))
    if expected == "bool":
        ref = ref.astype(bool)
    np.testing.assert_allclose(N(out).astype(np.float64), np.asarray(ref, np.float64))


# ---------------------------------------------------------------------------------------------
# indexing
@st.composite
def basic_key(draw, shape):
    """A basic-indexing key for ``shape``: ints, positive-step slices, None, one Ellipsis."""
    key, dim = [], 0
    used_ellipsis = False
    while dim < len(shape) and draw(st.booleans()):
        choice = draw(st.sampled_from(["int", "slice", "none", "ellipsis"]))
        if choice == "int":
            key.append(draw(st.integers(-shape[dim], shape[dim] - 1)))
            dim += 1
        elif choice == "slice":
            n = shape[dim]
            key.append(slice(draw(st.none() | st.integers(-n - 1, n + 1)),
                             draw(st.none() | st.integers(-n - 1, n + 1)),
                             draw(st.none() | st.integers(1, 3))))
            dim += 1
        elif choice == "none":
            key.append(None)
        elif not used_ellipsis:
            key.append(Ellipsis)
            used_ellipsis = True
            dim = len(shape)   # the ellipsis takes the rest
    return tuple(key)


@BUDGET
@given(st.data(), hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
def test_basic_indexing_reads_match_numpy(data, shape):
    a = data.draw(values(shape))
    key = data.draw(basic_key(shape))
    np.testing.assert_array_equal(N(T(a)[key]), a[key])


@st.composite
def broadcastable_to(draw, target):
    """A shape that broadcasts to ``target`` (a suffix of it, some sides 1)."""
    k = draw(st.integers(0, len(target)))
    return tuple(1 if draw(st.booleans()) else n for n in target[len(target) - k:])


@BUDGET
@given(st.data(), hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
def test_basic_indexing_writes_match_numpy(data, shape):
    a = data.draw(values(shape))
    key = data.draw(basic_key(shape))
    target = a[key].shape
    vshape = data.draw(broadcastable_to(target))
    v = data.draw(values(vshape))
    x = T(a)
    v0 = x._version
    x[key] = T(v)
    ref = a.copy()
    ref[key] = v
    np.testing.assert_array_equal(N(x), ref)
    assert x._version > v0


@st.composite
def advanced_key(draw, shape):
    """An integer-array key on the leading dims (unique entries when ``unique``), maybe
    followed by a slice."""
    n = draw(st.integers(1, len(shape)))
    length = draw(st.integers(1, 4))
    arrays = [np.array(draw(st.lists(st.integers(-s, s - 1), min_size=length, max_size=length)))
              for s in shape[:n]]
    key = tuple(arrays)
    if n < len(shape) and draw(st.booleans()):
        key += (slice(None, None, draw(st.integers(1, 2))),)
    return key


@BUDGET
@given(st.data(), hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
def test_advanced_indexing_reads_match_numpy(data, shape):
    a = data.draw(values(shape))
    key = data.draw(advanced_key(shape))
    tkey = tuple(T(k) if isinstance(k, np.ndarray) else k for k in key)
    np.testing.assert_array_equal(N(T(a)[tkey]), a[key])


@BUDGET
@given(st.data(), hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
def test_advanced_indexing_writes_and_accumulates_match_numpy(data, shape):
    a = data.draw(values(shape))
    key = data.draw(advanced_key(shape))
    ints = [k for k in key if isinstance(k, np.ndarray)]
    tkey = tuple(T(k) if isinstance(k, np.ndarray) else k for k in key)
    v = data.draw(values(a[key].shape))
    if len(ints) == len(key):   # accumulate: repeated positions add up, as np.add.at
        x = T(a)
        x.index_put_(tuple(T(k) for k in ints), T(v), accumulate=True)
        ref = a.copy()
        np.add.at(ref, key, v)
        np.testing.assert_allclose(N(x), ref)
    # plain writes: only with distinct positions (duplicates have no defined winner)
    flat = np.ravel_multi_index(tuple(k % s for k, s in zip(ints, shape)), shape[:len(ints)])
    if len(set(flat.tolist())) == len(flat):
        y = T(a)
        y[tkey] = T(v)
        ref = a.copy()
        ref[key] = v
        np.testing.assert_array_equal(N(y), ref)


@BUDGET
@given(st.data(), hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
       st.booleans())
def test_boolean_mask_reads_and_writes_match_numpy(data, shape, full):
    a = data.draw(values(shape))
    mshape = shape if full else shape[:1]
    m = data.draw(values(mshape, np.bool_))
    np.testing.assert_array_equal(N(T(a)[T(m)]), a[m])
    x = T(a)
    x[T(m)] = -7.0
    ref = a.copy()
    ref[m] = -7.0
    np.testing.assert_array_equal(N(x), ref)
    np.testing.assert_array_equal(N(T(a).masked_fill(T(m.reshape(mshape + (1,) * (
        len(shape) - len(mshape)))), 3.0)), np.where(m.reshape(mshape + (1,) * (
            len(shape) - len(mshape))), 3.0, a))


# ---------------------------------------------------------------------------------------------
# reductions over dims
REDUCTIONS = {"sum": np.sum, "mean": np.mean, "amax": np.amax, "amin": np.amin,
              "prod": np.prod}


@BUDGET
@given(st.data(), hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3),
       st.sampled_from(sorted(REDUCTIONS)), st.booleans())
def test_reductions_over_dims_match_numpy(data, shape, name, keepdim):
    a = data.draw(values(shape, lo=-2, hi=2))
    dims = data.draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1,
                              max_size=1 if name == "prod" else len(shape),   # prod: one dim
                              unique_by=lambda d: d % len(shape)))
    out = getattr(corelib, name)(T(a), dims[0] if name == "prod" else dims, keepdim=keepdim)
    ref = REDUCTIONS[name](a, axis=tuple(dims), keepdims=keepdim)
    assert tuple(out.shape) == ref.shape
    np.testing.assert_allclose(N(out), ref, rtol=1e-12, atol=1e-12)


@SMALL
@given(st.data(), hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4),
       st.integers(0, 1))
def test_var_std_over_dims_match_numpy(data, shape, correction):
    a = data.draw(values(shape, lo=-2, hi=2))
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    np.testing.assert_allclose(N(corelib.var(T(a), d, correction=correction)),
                               np.var(a, axis=d, ddof=correction), atol=1e-12)
    np.testing.assert_allclose(N(corelib.std(T(a), d, correction=correction)),
                               np.std(a, axis=d, ddof=correction), atol=1e-12)


# ---------------------------------------------------------------------------------------------
# reshape / view rules
@st.composite
def factorization(draw, n):
    """A shape with product n (factors may be 1), one entry possibly -1."""
    dims = []
    rest = n
    while rest > 1 and len(dims) < 4:
        divisors = [d for d in range(2, rest + 1) if rest % d == 0]
        d = draw(st.sampled_from(divisors))
        dims.append(d)
        rest //= d
    if rest > 1:          # more prime factors than dims: the last dim takes the rest
        dims[-1] *= rest
    dims += [1] * draw(st.integers(0, 1))
    dims = draw(st.permutations(dims)) if dims else []
    if dims and draw(st.booleans()):
        i = draw(st.integers(0, len(dims) - 1))
        dims[i] = -1
    return tuple(dims)


@BUDGET
@given(st.data(), hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4))
def test_reshape_and_view_match_numpy_and_share_storage(data, shape):
    a = data.draw(values(shape))
    new = data.draw(factorization(int(np.prod(shape))))
    x = T(a)
    r = x.reshape(new)
    np.testing.assert_array_equal(N(r), a.reshape(new))
    v = x.view(new)
    assert tuple(v.shape) == a.reshape(new).shape
    v.add_(1.0)   # a view writes through to its base
    np.testing.assert_array_equal(N(x), a + 1)


@SMALL
@given(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
       st.integers(1, 50))
def test_reshape_to_wrong_numel_raises(shape, n):
    numel = int(np.prod(shape))
    if n == numel:
        return
    with pytest.raises(RuntimeError, match=rf"shape '\[{n}\]' is invalid for input of size "
                                           rf"{numel}"):
        corelib.ones(*shape).reshape(n)


@SMALL
@given(st.data(), hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=3))
def test_permute_transpose_flatten_match_numpy(data, shape):
    a = data.draw(values(shape))
    perm = data.draw(st.permutations(range(len(shape))))
    np.testing.assert_array_equal(N(T(a).permute(*perm)), a.transpose(perm))
    d0, d1 = data.draw(st.integers(0, len(shape) - 1)), data.draw(st.integers(0, len(shape) - 1))
    np.testing.assert_array_equal(N(T(a).transpose(d0, d1)), np.swapaxes(a, d0, d1))
    s, e = sorted((data.draw(st.integers(0, len(shape) - 1)),
                   data.draw(st.integers(0, len(shape) - 1))))
    ref = a.reshape(shape[:s] + (-1,) + shape[e + 1:])
    np.testing.assert_array_equal(N(T(a).flatten(s, e)), ref)


# ---------------------------------------------------------------------------------------------
# matmul shapes
@st.composite
def matmul_shapes(draw):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
    (ba, bb), _ = batch
    a = draw(st.sampled_from([(k,), ba + (n, k)]))
    b = draw(st.sampled_from([(k,), bb + (k, m)]))
    return a, b


@BUDGET
@given(st.data(), matmul_shapes())
def test_matmul_shapes_and_values_match_numpy(data, shapes_):
    sa, sb = shapes_
    a, b = data.draw(values(sa)), data.draw(values(sb))
    out = corelib.matmul(T(a), T(b))
    ref = np.matmul(a, b)
    assert tuple(out.shape) == ref.shape
    np.testing.assert_allclose(N(out), ref, rtol=1e-12, atol=1e-12)


@SMALL
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4))
def test_matmul_inner_mismatch_raises(n, k, k2, m):
    if k == k2:
        return
    with pytest.raises(RuntimeError, match=rf"shapes cannot be multiplied \({n}x{k} and "
                                           rf"{k2}x{m}\)"):
        corelib.ones(n, k) @ corelib.ones(k2, m)


# ---------------------------------------------------------------------------------------------
# random small autograd graphs against finite differences
UNARY = [("sin", corelib.sin), ("tanh", corelib.tanh), ("sigmoid", corelib.sigmoid),
         ("exp_tanh", lambda x: corelib.exp(corelib.tanh(x))),
         ("x_tanh", lambda x: x * corelib.tanh(x)),
         ("softplus", corelib.nn.functional.softplus), ("neg", lambda x: -x),
         ("sum0", lambda x: x.sum(0, keepdim=True)), ("mean1", lambda x: x.mean(-1, keepdim=True)),
         ("cumsum", lambda x: x.cumsum(-1)), ("flip", lambda x: x.flip(-1)),
         ("logsumexp", lambda x: x.logsumexp(-1, keepdim=True))]
BINARY_G = [("add", lambda x, y: x + y), ("sub", lambda x, y: x - y), ("mul", lambda x, y: x * y),
            ("div", lambda x, y: x / (1.5 + y * y)), ("maximum_soft",
                                                    lambda x, y: corelib.logaddexp(x, y))]
LEAF_SHAPES = [(2, 3), (3,), (2, 1)]


@st.composite
def graphs(draw):
    n_ops = draw(st.integers(1, 6))
    steps = []
    for i in range(n_ops):
        avail = len(LEAF_SHAPES) + i
        if draw(st.booleans()):
            steps.append(("u", draw(st.integers(0, len(UNARY) - 1)),
                          draw(st.integers(0, avail - 1))))
        else:
            steps.append(("b", draw(st.integers(0, len(BINARY_G) - 1)),
                          draw(st.integers(0, avail - 1)), draw(st.integers(0, avail - 1))))
    matmul = draw(st.booleans())
    leaves = [draw(values(s, lo=-1, hi=1)) for s in LEAF_SHAPES]
    weight = draw(values((3, 3), lo=-1, hi=1))
    return steps, matmul, leaves, weight


def _evaluate(steps, matmul, leaves, weight):
    nodes = list(leaves)
    for step in steps:
        if step[0] == "u":
            nodes.append(UNARY[step[1]][1](nodes[step[2]]))
        else:
            nodes.append(BINARY_G[step[1]][1](nodes[step[2]], nodes[step[3]]))
    out = nodes[-1]
    if matmul:
        out = out @ weight if out.shape[-1] == 3 else out * weight.sum()
    return corelib.tanh(out * 0.25).sum()


@settings(BUDGET, max_examples=40)
@given(graphs())
def test_random_graph_gradients_match_finite_differences(graph):
    steps, matmul, leaves, weight = graph
    ts = [T(a, requires_grad=True) for a in leaves] + [T(weight, requires_grad=True)]
    _evaluate(steps, matmul, ts[:-1], ts[-1]).backward()
    eps = 1e-6
    arrays = leaves + [weight]
    for i, a in enumerate(arrays):
        fd = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            hi, lo = [x.copy() for x in arrays], [x.copy() for x in arrays]
            hi[i][idx] += eps
            lo[i][idx] -= eps
            with corelib.no_grad():
                f_hi = _evaluate(steps, matmul, [T(x) for x in hi[:-1]], T(hi[-1])).item()
                f_lo = _evaluate(steps, matmul, [T(x) for x in lo[:-1]], T(lo[-1])).item()
            fd[idx] = (f_hi - f_lo) / (2 * eps)
        got = ts[i].grad
        got = np.zeros_like(a) if got is None else N(got)
        np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-7 * max(1.0, np.abs(fd).max()),
                                   err_msg=f"input {i}, graph {steps}, matmul={matmul}")


# ---------------------------------------------------------------------------------------------
# in-place variants (x.<op>_(...)) against their out-of-place op and NumPy
def _view_inplace_cases(ndim):
    cases = [("squeeze_", ()), ("unsqueeze_", (0,)), ("unsqueeze_", (-1,))]
    if ndim >= 1:
        cases += [("transpose_", (0, -1)), ("swapdims_", (-1, 0)), ("swapaxes_", (0, 0))]
    if ndim <= 2:
        cases.append(("t_", ()))
    return cases


@SMALL
@given(st.data(), hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
def test_inplace_view_ops_match_out_of_place_and_keep_autograd(data, shape):
    a = data.draw(values(shape))
    name, args = data.draw(st.sampled_from(_view_inplace_cases(len(shape))))
    leaf = T(a, requires_grad=True)
    x = leaf * 1.0
    expected = getattr(x, name[:-1])(*args)
    v0 = x._version
    assert getattr(x, name)(*args) is x
    assert tuple(x.shape) == tuple(expected.shape) and x._version == v0 + 1
    np.testing.assert_array_equal(N(x), N(expected))
    weights = data.draw(values(tuple(x.shape)))
    (x * T(weights)).sum().backward()
    np.testing.assert_allclose(N(leaf.grad), N(_grad_of(a, name[:-1], args, weights)),
                               rtol=1e-12)
    np.testing.assert_array_equal(N(_grad_of(a, name[:-1], args, weights)).shape, a.shape)


def _grad_of(a, name, args, weights):
    """The gradient of sum(op(x) * weights) by the out-of-place op's autograd."""
    leaf = T(a, requires_grad=True)
    (getattr(leaf, name)(*args) * T(weights)).sum().backward()
    return leaf.grad


@SMALL
@given(st.data(), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))
def test_inplace_value_ops_match_numpy(data, n, k, m):
    c = data.draw(values((n, m)))
    a, b = data.draw(values((n, k))), data.draw(values((k, m)))
    x = T(c)
    x.addmm_(T(a), T(b), beta=0.5, alpha=2.0)
    np.testing.assert_allclose(N(x), 0.5 * c + 2.0 * a @ b, rtol=1e-12, atol=1e-12)
    y = T(c)
    y.cumsum_(1)
    np.testing.assert_allclose(N(y), np.cumsum(c, 1), rtol=1e-12, atol=1e-12)
    z = T(c)
    z.cumprod_(0)
    np.testing.assert_allclose(N(z), np.cumprod(c, 0), rtol=1e-12, atol=1e-12)
    vec = data.draw(values((n,)))
    w = T(vec)
    w.addmv_(T(a), T(data.draw(values((k,)))) * 0 + 1)
    np.testing.assert_allclose(N(w), vec + a.sum(1), rtol=1e-12, atol=1e-12)
