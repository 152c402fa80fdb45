"""Functions added for entries of PyTorch's OpInfo database (corelib/_composites_db.py,
corelib/nn/_functional_db.py, corelib.special's zeta/polygamma/polynomials, memory formats)
and the comparison rules of corelib.testing.op_db, against NumPy/SciPy, analytic results and
PyTorch."""
import numpy as np
import pytest

import corelib
import corelib.nn.functional as F

rng = np.random.default_rng(0)


def t(a, requires_grad=False):
    return corelib.tensor(np.asarray(a, dtype=np.float32), requires_grad=requires_grad)


# ---------------------------------------------------------------------------------------------
# memory formats and conversions
def test_memory_formats():
    x = corelib.rand(2, 3, 4, 5)
    y = x.to(memory_format=corelib.channels_last)
    assert y.stride() == (60, 1, 15, 3)
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    assert x.double(memory_format=corelib.contiguous_format).dtype is corelib.float64
    assert x.float(memory_format=corelib.preserve_format) is x
    with pytest.raises(RuntimeError, match="rank 4"):
        corelib.rand(2, 3).to(memory_format=corelib.channels_last)
    with pytest.raises(TypeError, match="memory_format"):
        x.bool(memory_format=1)
    z = x.to(corelib.float32, False, True)          # to(dtype, non_blocking, copy)
    assert z is not x and np.array_equal(z.numpy(), x.numpy())


def test_copy_of_a_constant_gives_zero_gradient():
    x = t(rng.normal(size=(2, 3)), requires_grad=True)
    y = x * 1
    y[0].fill_(2.0)
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy()[0], 0.0)
    np.testing.assert_allclose(x.grad.numpy()[1], 2 * x.detach().numpy()[1], rtol=1e-6)
    z = x.clone()
    z.zero_()
    x.grad = None
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0.0)


# ---------------------------------------------------------------------------------------------
# histograms
def test_histogram_matches_numpy():
    a = rng.normal(size=50).astype(np.float32)
    w = rng.uniform(size=50).astype(np.float32)
    for kw in ({}, {"density": True}):
        hist, edges = corelib.histogram(t(a), 7, weight=t(w), **kw)
        h_np, e_np = np.histogram(a, 7, weights=w, **kw)
        np.testing.assert_allclose(edges.numpy(), e_np, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(hist.numpy(), h_np, rtol=1e-5)
    edges = t([-1.0, 0.0, 0.5, 2.0])
    hist, _ = corelib.histogram(t(a), edges)
    np.testing.assert_array_equal(hist.numpy(), np.histogram(a, edges.numpy())[0])
    hist, e = corelib.histogram(t([1.0, 1.0]), 2)                   # empty range widened
    np.testing.assert_array_equal(e.numpy(), [0.5, 1.0, 1.5])
    np.testing.assert_array_equal(hist.numpy(), [0.0, 2.0])


def test_histogramdd_matches_numpy():
    pts = rng.uniform(-1, 1, size=(40, 2)).astype(np.float32)
    hist, edges = corelib.histogramdd(t(pts), [3, 4], density=True)
    h_np, e_np = np.histogramdd(pts, [3, 4], density=True)
    np.testing.assert_allclose(hist.numpy(), h_np, rtol=1e-5)
    for e, en in zip(edges, e_np):
        np.testing.assert_allclose(e.numpy(), en, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# segment_reduce, index_reduce, misc
@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min", "prod"])
def test_segment_reduce(reduce):
    data = rng.normal(size=(6, 2)).astype(np.float32)
    lengths = [2, 0, 3, 1]
    init = {"sum": 0.0, "mean": np.nan, "max": -np.inf, "min": np.inf, "prod": 1.0}[reduce]
    fn = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod}[reduce]
    expect, start = [], 0
    for n in lengths:
        expect.append(fn(data[start:start + n], 0) if n else np.full(2, init))
        start += n
    got = corelib.segment_reduce(t(data), reduce, lengths=corelib.tensor(lengths))
    np.testing.assert_allclose(got.numpy(), np.stack(expect), rtol=1e-5)
    offsets = corelib.tensor(np.concatenate([[0], np.cumsum(lengths)]))
    got = corelib.segment_reduce(t(data), reduce, offsets=offsets, initial=2.0)
    assert got.shape == (4, 2)
    with pytest.raises(RuntimeError, match="sum to data.size"):
        corelib.segment_reduce(t(data), reduce, lengths=corelib.tensor([1, 1]))


def test_segment_and_index_reduce_gradients_match_torch(torch):
    data = rng.normal(size=(3, 5, 2)).astype(np.float32)
    lengths = np.array([[2, 3], [1, 4], [5, 0]])
    for reduce in ("mean", "max", "prod"):
        x = t(data, requires_grad=True)
        xt = torch.tensor(data, requires_grad=True)
        out = corelib.segment_reduce(x, reduce, lengths=corelib.tensor(lengths), axis=1,
                                     initial=0.5)
        ref = torch.segment_reduce(xt, reduce, lengths=torch.tensor(lengths), axis=1,
                                   initial=0.5)
        np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5)
        out.sum().backward()
        ref.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    src = rng.normal(size=(4, 3)).astype(np.float32)
    base = rng.normal(size=(3, 3)).astype(np.float32)
    index = [0, 2, 0, 2]
    for reduce in ("prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            got = corelib.index_reduce(t(base), 0, corelib.tensor(index), t(src), reduce,
                                       include_self=include_self)
            ref = torch.tensor(base).index_reduce(0, torch.tensor(index), torch.tensor(src),
                                                  reduce, include_self=include_self)
            np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-5)


def test_nonzero_static_pad_nextafter_gradient():
    x = corelib.tensor([[0, 1], [2, 0]])
    np.testing.assert_array_equal(corelib.nonzero_static(x, size=3).numpy(),
                                  [[0, 1], [1, 0], [-1, -1]])
    np.testing.assert_array_equal(corelib.nonzero_static(x, size=1).numpy(), [[0, 1]])
    a = rng.normal(size=(2, 3)).astype(np.float32)
    np.testing.assert_array_equal(corelib.constant_pad_nd(t(a), (1, 2), 7.0).numpy(),
                                  np.pad(a, ((0, 0), (1, 2)), constant_values=7.0))
    np.testing.assert_array_equal(corelib.constant_pad_nd(t(a), (-1, 0)).numpy(), a[:, 1:])
    vals = np.array([1.0, -2.0, 0.0, 3.5e-39, 1048576.0, 1048575.9, -0.5, np.nan], np.float32)
    other = np.array([2.0, -3.0, -1.0, 0.0, 0.0, 2e6, 1.0, 0.0], np.float32)
    np.testing.assert_array_equal(corelib.nextafter(t(vals), t(other)).numpy(),
                                  np.nextafter(vals, other))
    f = rng.normal(size=(5, 4)).astype(np.float32)
    for g, ref in zip(corelib.gradient(t(f), spacing=2.0, edge_order=2),
                      np.gradient(f, 2.0, edge_order=2)):
        np.testing.assert_allclose(g.numpy(), ref, rtol=1e-5, atol=1e-5)
    coords = np.array([0.0, 0.5, 1.5, 3.0, 3.2], np.float32)
    (g,) = corelib.gradient(t(f), spacing=[t(coords)], dim=0)
    np.testing.assert_allclose(g.numpy(), np.gradient(f, coords, axis=0), rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------------------------------------
# special functions
def test_zeta_polygamma_polynomials_match_scipy():
    sp = pytest.importorskip("scipy.special")
    q = np.linspace(0.2, 8.0, 13)
    for s in (1.5, 2.0, 4.5):
        np.testing.assert_allclose(corelib.special.zeta(t(np.full(13, s)), t(q)).numpy(),
                                   sp.zeta(s, q.astype(np.float32)), rtol=1e-5)
    x = np.linspace(-4.7, 6.0, 17).astype(np.float32)
    for n in range(4):
        np.testing.assert_allclose(corelib.polygamma(n, t(x)).numpy(), sp.polygamma(n, x),
                                   rtol=2e-5, atol=1e-5)
    xg = t([0.7, 2.5], requires_grad=True)
    corelib.special.polygamma(1, xg).sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), sp.polygamma(2, [0.7, 2.5]), rtol=1e-5)
    xs = np.linspace(-0.9, 0.9, 7).astype(np.float32)
    cases = {"chebyshev_polynomial_t": sp.eval_chebyt, "chebyshev_polynomial_u": sp.eval_chebyu,
             "hermite_polynomial_h": sp.eval_hermite, "hermite_polynomial_he": sp.eval_hermitenorm,
             "laguerre_polynomial_l": sp.eval_laguerre, "legendre_polynomial_p": sp.eval_legendre,
             "shifted_chebyshev_polynomial_t": lambda n, x: sp.eval_chebyt(n, 2 * x - 1)}
    for name, ref in cases.items():
        for n in (0, 1, 5):
            got = getattr(corelib.special, name)(t(xs), n).numpy()
            np.testing.assert_allclose(got, ref(n, xs.astype(np.float64)), rtol=1e-5,
                                       atol=1e-5, err_msg=name)
    # V_n(cos θ) = cos((n + 1/2)θ) / cos(θ/2), W_n(cos θ) = sin((n + 1/2)θ) / sin(θ/2)
    th = np.arccos(xs.astype(np.float64))
    np.testing.assert_allclose(corelib.special.chebyshev_polynomial_v(t(xs), 4).numpy(),
                               np.cos(4.5 * th) / np.cos(th / 2), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(corelib.special.chebyshev_polynomial_w(t(xs), 4).numpy(),
                               np.sin(4.5 * th) / np.sin(th / 2), rtol=1e-4, atol=1e-5)
    assert corelib.special.legendre_polynomial_p(t([0.3]), -1).item() == 0.0


# ---------------------------------------------------------------------------------------------
# nn.functional
def test_linear_cross_entropy_and_chunks():
    x = t(rng.normal(size=(7, 4)), requires_grad=True)
    w = t(rng.normal(size=(5, 4)), requires_grad=True)
    y = corelib.tensor([0, 4, 2, -100, 1, 3, 3])
    ref = F.cross_entropy(F.linear(x, w), y)
    rx, rw = corelib.autograd.grad(ref, (x, w))
    for opts in (None, corelib.nn.LinearCrossEntropyOptions(batch_chunk_size=3)):
        got = F.linear_cross_entropy(x, w, y, options=opts)
        np.testing.assert_allclose(got.item(), ref.item(), rtol=1e-6)
        gx, gw = corelib.autograd.grad(got, (x, w))
        np.testing.assert_allclose(gx.numpy(), rx.numpy(), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(gw.numpy(), rw.numpy(), rtol=1e-5, atol=1e-7)
    none = F.linear_cross_entropy(x, w, y, reduction="none",
                                  options=corelib.nn.LinearCrossEntropyOptions(batch_chunk_size=2))
    assert none.shape == (7,)
    with pytest.raises(RuntimeError, match="in_features"):
        F.linear_cross_entropy(x, t(rng.normal(size=(5, 3))), y)


def test_nn_functional_entries_match_torch(torch):
    tf = torch.nn.functional
    a = rng.normal(size=(3, 4)).astype(np.float32)
    target = np.array([[3, 0, -1, 1], [1, 2, 3, 0], [-1, 1, 2, 3]])
    for red in ("mean", "none"):
        np.testing.assert_allclose(
            F.multilabel_margin_loss(t(a), corelib.tensor(target), reduction=red).numpy(),
            tf.multilabel_margin_loss(torch.tensor(a), torch.tensor(target),
                                      reduction=red).numpy(), rtol=1e-6)
    # multi_head_attention_forward, through nn.MultiheadAttention too
    q = rng.normal(size=(3, 2, 4)).astype(np.float32)
    mha = corelib.nn.MultiheadAttention(4, 2)
    ref = torch.nn.MultiheadAttention(4, 2)
    with torch.no_grad():
        for name, p in mha.named_parameters():
            dict(ref.named_parameters())[name].copy_(torch.tensor(p.detach().numpy()))
    out, weights = mha(t(q), t(q), t(q))
    r_out, r_weights = ref(*(torch.tensor(q),) * 3)
    np.testing.assert_allclose(out.detach().numpy(), r_out.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(weights.detach().numpy(), r_weights.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    v = rng.normal(size=(1, 2, 4, 5, 6)).astype(np.float32)
    o, i = F.adaptive_max_pool3d(t(v), (2, 3, 4), return_indices=True)
    ro, ri = tf.adaptive_max_pool3d(torch.tensor(v), (2, 3, 4), return_indices=True)
    np.testing.assert_array_equal(o.numpy(), ro.numpy())
    np.testing.assert_array_equal(i.numpy(), ri.numpy())
    img = rng.normal(size=(1, 2, 3, 3)).astype(np.float32)
    with pytest.warns(UserWarning):
        got = F.upsample_bilinear(t(img), scale_factor=2)
    np.testing.assert_allclose(got.numpy(), tf.interpolate(torch.tensor(img), scale_factor=2,
                               mode="bilinear", align_corners=True).numpy(), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# the measurement's comparison rules
def test_op_db_sign_invariant_svd_and_wrappers(torch):
    op_db = pytest.importorskip("corelib.testing.op_db")
    a = rng.normal(size=(5, 3)).astype(np.float32)
    expected = torch.linalg.svd(torch.tensor(a), full_matrices=True)
    u, s, vh = (x.numpy().copy() for x in expected)
    flip = np.array([1.0, -1.0, -1.0], np.float32)
    rot = np.linalg.qr(rng.normal(size=(2, 2)))[0].astype(np.float32)
    u2 = u.copy()
    u2[:, :3] *= flip
    u2[:, 3:] = u[:, 3:] @ rot                        # another basis of the complement
    actual = (t(u2), t(s), t(vh * flip[:, None]))
    aligned = op_db.GAUGE["linalg.svd"]("linalg.svd", expected, actual)
    assert op_db._compare(expected, aligned, 1e-5, 1e-5) is None
    wrong = (t(u2), t(s), t(vh))                       # V's signs not flipped with U's
    aligned = op_db.GAUGE["linalg.svd"]("linalg.svd", expected, wrong)
    assert op_db._compare(expected, aligned, 1e-5, 1e-5) == "mismatch"
    x = t(rng.normal(size=(1, 1, 4, 4)))
    grad = op_db.TEST_WRAPPERS["max_pool2d_with_indices_backward"](x, kernel_size=2)
    ref = torch.ops.aten.max_pool2d_with_indices_backward(
        torch.ones(1, 1, 2, 2), torch.tensor(x.numpy()), [2, 2], [2, 2], [0, 0], [1, 1], False,
        torch.nn.functional.max_pool2d(torch.tensor(x.numpy()), 2, return_indices=True)[1])
    np.testing.assert_array_equal(grad.numpy(), ref.numpy())


def test_incomplete_gamma_matches_scipy():
    sp = pytest.importorskip("scipy.special")
    a = np.array([0.5, 1.0, 2.0, 5.0, 9.0, 0.1, 3.0, 20.0, 0.0, 0.0, -1.0, 2.0], np.float32)
    x = np.array([0.2, 1.0, 5.0, 3.0, 9.0, 8.0, 0.0, 25.0, 1.0, 0.0, 1.0, -1.0], np.float32)
    np.testing.assert_allclose(corelib.igamma(t(a), t(x)).numpy(), sp.gammainc(a, x),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(corelib.special.gammaincc(t(a), t(x)).numpy(),
                               sp.gammaincc(a, x), rtol=1e-5, atol=1e-7)


def test_grid_sampler_2d_is_grid_sample(torch):
    img = rng.normal(size=(1, 2, 4, 5)).astype(np.float32)
    grid = rng.uniform(-1.2, 1.2, size=(1, 3, 3, 2)).astype(np.float32)
    got = corelib.grid_sampler_2d(t(img), t(grid), 0, 2, False)
    ref = torch.grid_sampler_2d(torch.tensor(img), torch.tensor(grid), 0, 2, False)
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)


def test_bessel_i_log_ndtr_erfcx_match_scipy():
    sp = pytest.importorskip("scipy.special")
    x = np.array([-8.5, -3.0, -0.2, 0.0, 0.5, 2.0, 8.5, 30.0], np.float32)
    for name in ("i0", "i0e", "i1", "i1e", "log_ndtr", "erfcx"):
        np.testing.assert_allclose(getattr(corelib.special, name)(t(x)).numpy(),
                                   getattr(sp, name)(x), rtol=2e-6, err_msg=name)
    far = np.array([-40.0, -25.0, 30.0, 100.0], np.float32)
    np.testing.assert_allclose(corelib.special.log_ndtr(t(far)).numpy(), sp.log_ndtr(far),
                               rtol=1e-6)
    np.testing.assert_allclose(corelib.special.erfcx(t(far[2:])).numpy(), sp.erfcx(far[2:]),
                               rtol=1e-6)
    xg = t([0.3, -1.5], requires_grad=True)
    corelib.i0(xg).sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), sp.i1([0.3, -1.5]), rtol=1e-5)


def test_bessel_k_matches_scipy():
    sp = pytest.importorskip("scipy.special")
    x = np.array([0.01, 0.5, 2.0, 8.99, 9.01, 14.9, 50.0], np.float32)
    for name, ref in (("modified_bessel_k0", sp.k0), ("modified_bessel_k1", sp.k1),
                      ("scaled_modified_bessel_k0", sp.k0e),
                      ("scaled_modified_bessel_k1", sp.k1e)):
        np.testing.assert_allclose(getattr(corelib.special, name)(t(x)).numpy(),
                                   ref(x.astype(np.float64)), rtol=1e-6, err_msg=name)
    assert np.isnan(corelib.special.modified_bessel_k0(t([-1.0])).item())
    assert corelib.special.modified_bessel_k1(t([0.0])).item() == np.inf


def test_bessel_j_y_match_scipy():
    sp = pytest.importorskip("scipy.special")
    x = np.array([-30.0, -8.5, -1.0, 0.01, 0.5, 2.0, 8.5, 11.9, 12.1, 50.0], np.float32)
    pos = x > 0
    for name, ref in (("bessel_j0", sp.j0), ("bessel_j1", sp.j1), ("bessel_y0", sp.y0),
                      ("bessel_y1", sp.y1)):
        got = getattr(corelib.special, name)(t(x)).numpy()
        want = ref(x.astype(np.float64))
        sel = pos if name.startswith("bessel_y") else np.ones_like(pos)
        np.testing.assert_allclose(got[sel], want[sel], rtol=1e-5, atol=1e-7, err_msg=name)
    assert np.isnan(corelib.special.bessel_y0(t([-1.0])).item())
    assert corelib.special.bessel_y1(t([0.0])).item() == -np.inf


def test_chunk_cat_and_rdiv(torch):
    a = rng.normal(size=(2, 5)).astype(np.float32)
    b = rng.normal(size=(2, 3)).astype(np.float32)
    got = corelib._chunk_cat([t(a), t(b)], 1, 2)
    ref = torch._chunk_cat([torch.tensor(a), torch.tensor(b)], 1, 2)
    np.testing.assert_array_equal(got.numpy(), ref.numpy())
    np.testing.assert_allclose(t(b).__rdiv__(2.0).numpy(), 2.0 / b, rtol=1e-6)
