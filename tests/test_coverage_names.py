"""The common PyTorch names built as composites (corelib._composites, corelib.special,
corelib.nn._functional_extra, axis=/keepdims= aliases): values and gradients against PyTorch
(skipped without it) and NumPy, finite-difference gradient checks, on every device."""
from __future__ import annotations

import math

import numpy as np
import pytest

import corelib
import corelib.nn.functional as F
from corelib.autograd import gradcheck

RNG = np.random.default_rng(0)


def _arr(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, size=shape)


def _np(t):
    return np.array(t.detach().cpu().tolist()) if isinstance(t, corelib.Tensor) else \
        t.detach().numpy()


def compare(torch, ours, theirs, arrays, device, grad=True, rtol=1e-7, atol=1e-9, kwargs=None,
            int_arrays=()):
    """ours(*tensors) vs theirs(*torch_tensors): values, and gradients of sum(out * w)."""
    kwargs = kwargs or {}
    cs = [corelib.tensor(a, dtype=corelib.float64, device=device, requires_grad=grad)
          for a in arrays] + [corelib.tensor(a, device=device) for a in int_arrays]
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=grad) for a in arrays] + \
        [torch.tensor(a) for a in int_arrays]
    out, ref = ours(*cs, **kwargs), theirs(*ts, **kwargs)
    assert tuple(out.shape) == tuple(ref.shape)
    np.testing.assert_allclose(_np(out), _np(ref), rtol=rtol, atol=atol)
    if grad and ref.requires_grad:
        w = RNG.uniform(-1, 1, size=tuple(ref.shape))
        (out * corelib.tensor(w, device=device)).sum().backward()
        (ref * torch.tensor(w)).sum().backward()
        for c, t in zip(cs[:len(arrays)], ts[:len(arrays)]):
            if t.grad is None:
                assert c.grad is None or not _np(c.grad).any()
            else:
                np.testing.assert_allclose(_np(c.grad), _np(t.grad), rtol=1e-6, atol=1e-8)
    return out


def _grad_ok(fn, *arrays):
    inputs = tuple(corelib.tensor(a, dtype=corelib.float64, requires_grad=True) for a in arrays)
    assert gradcheck(fn, inputs)


# ---------------------------------------------------------------------------------------------
# searching
@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_and_bucketize(torch, device, right):
    seq = np.array([1.0, 3.0, 3.0, 5.0, 7.0])
    values = np.array([[0.0, 3.0, 4.0], [7.0, 8.0, math.nan]])
    s, v = corelib.tensor(seq, device=device), corelib.tensor(values, device=device)
    ts, tv = torch.tensor(seq), torch.tensor(values)
    out = corelib.searchsorted(s, v, right=right)
    assert out.dtype is corelib.int64 and out.device.type == corelib.device(device).type
    assert out.tolist() == torch.searchsorted(ts, tv, right=right).tolist()
    side = "right" if right else "left"
    assert corelib.searchsorted(s, v, side=side, out_int32=True).dtype is corelib.int32
    assert corelib.searchsorted(s, 3.0, right=right).item() == \
        torch.searchsorted(ts, 3.0, right=right).item()
    assert corelib.bucketize(v, s, right=right).tolist() == \
        torch.bucketize(tv, ts, right=right).tolist()
    # N-D boundaries, sorter
    seq2 = np.sort(RNG.uniform(size=(2, 3, 6)), -1)
    val2 = RNG.uniform(size=(2, 3, 4))
    assert corelib.searchsorted(corelib.tensor(seq2, device=device),
                                corelib.tensor(val2, device=device), right=right).tolist() == \
        torch.searchsorted(torch.tensor(seq2), torch.tensor(val2), right=right).tolist()
    raw = np.array([5.0, 1.0, 3.0])
    sorter = np.argsort(raw)
    assert corelib.searchsorted(corelib.tensor(raw, device=device), corelib.tensor([2.0, 4.0],
                                device=device), sorter=corelib.tensor(sorter, device=device)
                                ).tolist() == \
        torch.searchsorted(torch.tensor(raw), torch.tensor([2.0, 4.0]),
                           sorter=torch.tensor(sorter)).tolist()


def test_searchsorted_errors(torch):
    with pytest.raises(RuntimeError, match="side and right can't be set to opposites"):
        corelib.searchsorted(corelib.tensor([1.0]), corelib.tensor([1.0]), right=True,
                             side="left")
    with pytest.raises(RuntimeError, match="boundaries tensor should be 1 dimension"):
        corelib.searchsorted(corelib.zeros(2, 3), corelib.zeros(3, 3))
    with pytest.raises(RuntimeError, match="boundaries tensor must be 1 dimension"):
        corelib.bucketize(corelib.zeros(2), corelib.zeros(2, 2))


# ---------------------------------------------------------------------------------------------
# diff, cdist, pdist
@pytest.mark.parametrize("kwargs", [dict(), dict(n=2), dict(dim=0), dict(n=3, dim=1)])
def test_diff(torch, device, kwargs):
    compare(torch, corelib.diff, torch.diff, [_arr(3, 5)], device, kwargs=kwargs)


def test_diff_prepend_append_bool_and_method(torch, device):
    a, p, q = _arr(2, 4), _arr(2, 1), _arr(2, 3)
    compare(torch, lambda x, y, z: x.diff(prepend=y, append=z),
            lambda x, y, z: x.diff(prepend=y, append=z), [a, p, q], device)
    b = corelib.tensor([True, False, False, True], device=device)
    assert corelib.diff(b).tolist() == torch.diff(torch.tensor(b.tolist())).tolist()
    assert corelib.diff(corelib.tensor([1, 4, 9], device=device), append=16).tolist() == [3, 5, 7]
    with pytest.raises(RuntimeError, match="order must be non-negative"):
        corelib.diff(corelib.zeros(3), n=-1)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, math.inf, 0.5])
def test_cdist(torch, device, p):
    compare(torch, lambda a, b: corelib.cdist(a, b, p=p), lambda a, b: torch.cdist(a, b, p=p),
            [_arr(2, 3, 4), _arr(2, 5, 4)], device, rtol=1e-6)


def test_cdist_pdist_gradcheck():
    _grad_ok(lambda a, b: corelib.cdist(a, b), _arr(3, 2), _arr(4, 2))
    _grad_ok(lambda a: F.pdist(a, p=3), _arr(4, 3))


def test_pdist(torch, device):
    compare(torch, F.pdist, torch.nn.functional.pdist, [_arr(5, 3)], device)


# ---------------------------------------------------------------------------------------------
# quantile, cov, corrcoef
@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile(torch, device, interpolation):
    x = _arr(4, 7)
    q = np.array([0.0, 0.1, 0.5, 0.93, 1.0])
    kw = dict(interpolation=interpolation)
    compare(torch, lambda a: corelib.quantile(a, 0.3, **kw),
            lambda a: torch.quantile(a, 0.3, **kw), [x], device)
    compare(torch, lambda a: a.quantile(corelib.tensor(q, device=device), dim=1, keepdim=True,
                                        **kw),
            lambda a: a.quantile(torch.tensor(q), dim=1, keepdim=True, **kw), [x], device)
    compare(torch, lambda a: corelib.quantile(a, 0.75, dim=0, **kw),
            lambda a: torch.quantile(a, 0.75, dim=0, **kw), [x], device)


def test_nanquantile_and_nan(torch, device):
    x = _arr(3, 6)
    x[0, 2] = x[1, 0] = x[1, 4] = math.nan
    x[2, :] = math.nan
    for fn in ("quantile", "nanquantile"):
        compare(torch, lambda a: getattr(corelib, fn)(a, 0.4, dim=1),
                lambda a: getattr(torch, fn)(a, 0.4, dim=1), [x], device, grad=False)
        compare(torch, lambda a: getattr(corelib, fn)(a, 0.4),
                lambda a: getattr(torch, fn)(a, 0.4), [x], device, grad=False)


def test_quantile_gradcheck_and_errors():
    _grad_ok(lambda a: corelib.quantile(a, corelib.tensor([0.2, 0.7], dtype=corelib.float64),
                                        dim=0), _arr(5, 3))
    with pytest.raises(RuntimeError, match=r"quantile\(\) q must be in the range \[0, 1\]"):
        corelib.quantile(corelib.zeros(3), 1.5)
    with pytest.raises(RuntimeError, match="input tensor must be either float or double"):
        corelib.quantile(corelib.zeros(3, dtype=corelib.int64), 0.5)


def test_cov_corrcoef(torch, device):
    x = _arr(3, 8)
    compare(torch, corelib.cov, torch.cov, [x], device)
    compare(torch, lambda a: a.cov(correction=0), lambda a: a.cov(correction=0), [x], device)
    compare(torch, corelib.corrcoef, torch.corrcoef, [x], device)
    compare(torch, corelib.cov, torch.cov, [_arr(8)], device)
    fw = RNG.integers(1, 4, size=8)
    aw = RNG.uniform(0.1, 1.0, size=8)
    ours = corelib.cov(corelib.tensor(x, device=device), fweights=corelib.tensor(fw, device=device),
                       aweights=corelib.tensor(aw, device=device))
    ref = torch.cov(torch.tensor(x), fweights=torch.tensor(fw), aweights=torch.tensor(aw))
    np.testing.assert_allclose(_np(ours), ref.numpy(), rtol=1e-10)
    np.testing.assert_allclose(_np(corelib.cov(corelib.tensor(x))), np.cov(x), rtol=1e-10)
    _grad_ok(corelib.corrcoef, _arr(2, 5))


# ---------------------------------------------------------------------------------------------
# indices, unfold, settings
@pytest.mark.parametrize("row,col,offset", [(3, 3, 0), (4, 3, 1), (3, 5, -1), (0, 3, 0),
                                            (5, 2, -6)])
def test_tril_triu_indices(torch, device, row, col, offset):
    for name in ("tril_indices", "triu_indices"):
        ours = getattr(corelib, name)(row, col, offset, device=device)
        assert ours.dtype is corelib.int64
        assert ours.tolist() == getattr(torch, name)(row, col, offset).tolist()


@pytest.mark.parametrize("shape,dim,size,step", [((7,), 0, 3, 2), ((3, 8, 2), 1, 3, 2),
                                                 ((4, 5), -1, 5, 1), ((2, 6), 0, 1, 1)])
def test_tensor_unfold(torch, device, shape, dim, size, step):
    compare(torch, lambda a: a.unfold(dim, size, step), lambda a: a.unfold(dim, size, step),
            [_arr(*shape)], device)


def test_unfold_errors():
    with pytest.raises(RuntimeError, match="maximum size for tensor at dimension 0 is 3"):
        corelib.zeros(3).unfold(0, 4, 1)
    with pytest.raises(RuntimeError, match="step is 0 but must be > 0"):
        corelib.zeros(3).unfold(0, 2, 0)


def test_set_printoptions():
    x = corelib.tensor([1.23456789, 2.5])
    try:
        corelib.set_printoptions(precision=2)
        assert repr(x) == "tensor([1.23, 2.50])"
        corelib.set_printoptions(sci_mode=True)
        assert "e+00" in repr(x)
        corelib.set_printoptions(threshold=5, edgeitems=2)
        assert "..." in repr(corelib.arange(10))
    finally:
        corelib.set_printoptions(profile="default")
    assert repr(x) == "tensor([1.2346, 2.5000])"


def test_deterministic_flags():
    assert not corelib.are_deterministic_algorithms_enabled()
    try:
        corelib.use_deterministic_algorithms(True, warn_only=True)
        assert corelib.are_deterministic_algorithms_enabled()
        assert corelib.is_deterministic_algorithms_warn_only_enabled()
    finally:
        corelib.use_deterministic_algorithms(False)
    assert not corelib.are_deterministic_algorithms_enabled()


def test_axis_and_keepdims_aliases(torch, device):
    x = _arr(2, 3, 4)
    c, t = corelib.tensor(x, device=device), torch.tensor(x)
    np.testing.assert_allclose(_np(corelib.sum(c, axis=1, keepdims=True)),
                               torch.sum(t, axis=1, keepdims=True).numpy())
    np.testing.assert_allclose(_np(c.mean(axis=(0, 2))), t.mean(axis=(0, 2)).numpy())
    np.testing.assert_allclose(_np(c.std(axis=0)), t.std(axis=0).numpy())
    np.testing.assert_allclose(_np(c.softmax(axis=-1)), t.softmax(axis=-1).numpy())
    assert c.argmax(axis=2).tolist() == t.argmax(axis=2).tolist()
    assert c.max(axis=1).indices.tolist() == t.max(axis=1).indices.tolist()
    assert tuple(corelib.cat([c, c], axis=1).shape) == (2, 6, 4)
    assert tuple(corelib.quantile(c, 0.5, axis=1).shape) == (2, 4)
    with pytest.raises(TypeError, match="multiple values for argument 'dim'"):
        corelib.sum(c, dim=0, axis=1)


# ---------------------------------------------------------------------------------------------
# corelib.special
UNARY_SPECIAL = ["expit", "entr", "sinc", "ndtr", "erf", "erfc", "exp2", "expm1", "log1p",
                 "spherical_bessel_j0"]


@pytest.mark.parametrize("name", UNARY_SPECIAL)
def test_special_unary(torch, device, name):
    x = np.array([-2.5, -1.0, -0.3, 0.0, 0.4, 1.0, 3.0])
    if name == "log1p":
        x = x[x > -1]
    compare(torch, getattr(corelib.special, name), getattr(torch.special, name), [x], device,
            grad=False, rtol=1e-12)
    smooth = np.array([0.3, 0.9, 1.7]) if name != "sinc" else np.array([-0.7, 0.3, 1.4])
    compare(torch, getattr(corelib.special, name), getattr(torch.special, name), [smooth], device,
            rtol=1e-12)


def test_special_values_at_the_edges(torch, device):
    x = corelib.tensor([0.0, -1.0, math.nan], device=device)
    assert corelib.special.entr(x).tolist()[:2] == [0.0, -math.inf]
    assert math.isnan(corelib.special.entr(x).tolist()[2])
    z = corelib.zeros(1, dtype=corelib.float64, requires_grad=True)
    corelib.special.sinc(z).sum().backward()
    assert z.grad.tolist() == [0.0]
    p = np.array([0.01, 0.2, 0.5, 0.77, 0.999])
    compare(torch, corelib.special.ndtri, torch.special.ndtri, [p], device, rtol=1e-9)
    compare(torch, corelib.special.logit, torch.special.logit, [p], device)


def test_special_binary_and_softmax(torch, device):
    a, b = _arr(6), _arr(6, low=0.1, high=3.0)
    a[0] = 0.0
    compare(torch, corelib.special.xlogy, torch.special.xlogy, [a, b], device)
    compare(torch, corelib.special.xlog1py, torch.special.xlog1py, [a, b], device)
    y = corelib.special.xlog1py(corelib.tensor([0.0, 0.0]), corelib.tensor([math.nan, 1.0]))
    assert math.isnan(y.tolist()[0]) and y.tolist()[1] == 0.0
    x = _arr(3, 4)
    compare(torch, lambda t: corelib.special.softmax(t, 1), lambda t: torch.special.softmax(t, 1),
            [x], device)
    compare(torch, lambda t: corelib.special.log_softmax(t, 0),
            lambda t: torch.special.log_softmax(t, 0), [x], device)
    compare(torch, lambda t: corelib.special.logsumexp(t, 1),
            lambda t: torch.special.logsumexp(t, 1), [x], device)


def test_special_gradcheck():
    for name in ("entr", "sinc", "ndtr", "spherical_bessel_j0"):
        _grad_ok(getattr(corelib.special, name), np.array([0.2, 0.8, 1.9]))
    _grad_ok(corelib.special.ndtri, np.array([0.1, 0.6]))
    _grad_ok(corelib.special.xlog1py, np.array([0.5, 2.0]), np.array([0.3, 1.5]))


# ---------------------------------------------------------------------------------------------
# nn.functional additions
@pytest.mark.parametrize("shape,normalized,weight", [((3, 5), (5,), True), ((2, 3, 4), (3, 4),
                                                                             True),
                                                     ((2, 4), (4,), False)])
def test_rms_norm(torch, device, shape, normalized, weight):
    nshape = (normalized,) if isinstance(normalized, int) else normalized
    arrays = [_arr(*shape)] + ([_arr(*nshape)] if weight else [])
    compare(torch, lambda x, *w: F.rms_norm(x, normalized, *w),
            lambda x, *w: torch.nn.functional.rms_norm(x, normalized, *w), arrays, device)
    compare(torch, lambda x, *w: F.rms_norm(x, normalized, *w, eps=1e-3),
            lambda x, *w: torch.nn.functional.rms_norm(x, normalized, *w, eps=1e-3), arrays,
            device)


def test_rms_norm_gradcheck_and_errors():
    _grad_ok(lambda x, w: F.rms_norm(x, (3,), w), _arr(2, 3), _arr(3))
    with pytest.raises(RuntimeError, match="expected input with shape"):
        F.rms_norm(corelib.zeros(2, 3), (4,))


EMBEDDING_BAG = [dict(mode=m, padding_idx=p, include_last_offset=i)
                 for m in ("sum", "mean", "max") for p in (None, 2) for i in (False, True)]


@pytest.mark.parametrize("kwargs", EMBEDDING_BAG, ids=str)
def test_embedding_bag(torch, device, kwargs):
    weight = _arr(10, 3)
    indices = np.array([1, 2, 4, 5, 4, 3, 2, 9])
    offsets = np.array([0, 4, 4, 8] if kwargs["include_last_offset"] else [0, 4, 4, 6])
    ours = lambda w, i, o: F.embedding_bag(i, w, o, **kwargs)  # noqa: E731
    theirs = lambda w, i, o: torch.nn.functional.embedding_bag(i, w, o, **kwargs)  # noqa: E731
    compare(torch, ours, theirs, [weight], device, int_arrays=[indices, offsets])


def test_embedding_bag_2d_weights_and_errors(torch, device):
    weight, idx = _arr(10, 3), np.array([[1, 2, 3], [4, 5, 6]])
    compare(torch, lambda w, i: F.embedding_bag(i, w), lambda w, i:
            torch.nn.functional.embedding_bag(i, w), [weight], device, int_arrays=[idx])
    psw = _arr(8)
    ours = lambda w, s, i, o: F.embedding_bag(i, w, o, mode="sum",  # noqa: E731
                                              per_sample_weights=s)
    theirs = lambda w, s, i, o: torch.nn.functional.embedding_bag(  # noqa: E731
        i, w, o, mode="sum", per_sample_weights=s)
    compare(torch, ours, theirs, [weight, psw], device,
            int_arrays=[np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 3, 5])])
    w = corelib.zeros(10, 3)
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(corelib.tensor([[1, 2]]), w, corelib.tensor([0]))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(corelib.tensor([1, 2]), w)
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        F.embedding_bag(corelib.tensor([1, 2]), w, corelib.tensor([0]),
                        per_sample_weights=corelib.ones(2))


def test_gumbel_softmax(device):
    corelib.manual_seed(0)
    logits = corelib.tensor(_arr(64, 5), device=device, requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.7)
    np.testing.assert_allclose(_np(soft.sum(-1)), np.ones(64), rtol=1e-6)
    hard = F.gumbel_softmax(logits, hard=True)
    values = _np(hard)
    assert set(np.unique(values).tolist()) <= {0.0, 1.0} and (values.sum(-1) == 1).all()
    (hard * corelib.tensor(_arr(64, 5), device=device)).sum().backward()
    assert logits.grad is not None and np.abs(_np(logits.grad)).sum() > 0
    # the samples follow softmax(logits): frequencies of the argmax
    corelib.manual_seed(1)
    probs = np.array([0.1, 0.2, 0.7])
    lg = corelib.tensor(np.log(probs)).expand(4000, 3)
    freq = _np(F.gumbel_softmax(lg, hard=True).mean(0))
    np.testing.assert_allclose(freq, probs, atol=0.04)


def test_channel_shuffle_rrelu_losses(torch, device):
    compare(torch, lambda x: F.channel_shuffle(x, 3),
            lambda x: torch.nn.functional.channel_shuffle(x, 3), [_arr(2, 6, 4)], device)
    compare(torch, F.rrelu, torch.nn.functional.rrelu, [_arr(3, 4)], device)
    x = corelib.tensor(_arr(1000), device=device)
    y = _np(F.rrelu(x, 0.1, 0.3, training=True))
    neg = _np(x) < 0
    ratio = y[neg] / _np(x)[neg]
    assert (ratio >= 0.1 - 1e-12).all() and (ratio <= 0.3 + 1e-12).all()
    assert (y[~neg] == _np(x)[~neg]).all()
    a, p, n = _arr(4, 5), _arr(4, 5), _arr(4, 5)
    compare(torch, lambda *t: F.triplet_margin_with_distance_loss(*t, swap=True),
            lambda *t: torch.nn.functional.triplet_margin_with_distance_loss(*t, swap=True),
            [a, p, n], device)
    target = np.array([1, 0, 4, 2])
    for p_ in (1, 2):
        compare(torch, lambda x, t, w: F.multi_margin_loss(x, t, p=p_, weight=w),
                lambda x, t, w: torch.nn.functional.multi_margin_loss(x, t, p=p_, weight=w),
                [_arr(4, 5)], device, int_arrays=[target, _arr(5, low=0.1, high=1.0)])


# ---------------------------------------------------------------------------------------------
# second batch (corelib._composites_more)
def test_angles_heaviside_dist_renorm_ldexp(torch, device):
    x = _arr(3, 4)
    for name in ("rad2deg", "deg2rad"):
        compare(torch, getattr(corelib, name), getattr(torch, name), [x], device)
    assert corelib.rad2deg(corelib.tensor([180], device=device)).dtype is corelib.float32
    v = np.array([-1.0, 0.0, 0.0, 2.0])
    ours = corelib.heaviside(corelib.tensor(v, device=device),
                             corelib.tensor([0.5], dtype=corelib.float64, device=device))
    assert ours.tolist() == torch.heaviside(torch.tensor(v), torch.tensor([0.5], dtype=torch.float64)).tolist()
    for p in (2, 1, 3.5, math.inf):
        compare(torch, lambda a, b: a.dist(b, p), lambda a, b: a.dist(b, p), [x, _arr(4)],
                device)
    compare(torch, lambda a: corelib.renorm(a, 2, 0, 1.5), lambda a: torch.renorm(a, 2, 0, 1.5),
            [x], device, grad=False)
    compare(torch, lambda a, b: corelib.ldexp(a, b), lambda a, b: torch.ldexp(a, b),
            [x, _arr(3, 4)], device)


def test_isin_cartesian_combinations_block_diag(torch, device):
    e, t = np.array([[1, 2, 3], [4, 5, 6]]), np.array([2, 6, 9])
    for invert in (False, True):
        assert corelib.isin(corelib.tensor(e, device=device), corelib.tensor(t, device=device),
                            invert=invert).tolist() == \
            torch.isin(torch.tensor(e), torch.tensor(t), invert=invert).tolist()
    a, b, c = ([1, 2], [3, 4, 5], [6])
    assert corelib.cartesian_prod(*(corelib.tensor(v, device=device) for v in (a, b, c))
                                  ).tolist() == \
        torch.cartesian_prod(*(torch.tensor(v) for v in (a, b, c))).tolist()
    v = [1, 2, 3, 4]
    for r in (0, 1, 2, 3, 5):
        for rep in (False, True):
            ours = corelib.combinations(corelib.tensor(v, device=device), r, rep)
            ref = torch.combinations(torch.tensor(v), r, rep)
            assert tuple(ours.shape) == tuple(ref.shape) and ours.tolist() == ref.tolist()
    compare(torch, corelib.block_diag, torch.block_diag, [_arr(2, 3), _arr(1, 1), _arr(3)],
            device)


@pytest.mark.parametrize("with_x", [False, True])
def test_trapezoid(torch, device, with_x):
    y = _arr(3, 5)
    if with_x:
        x = np.sort(_arr(5))
        compare(torch, lambda a, b: corelib.trapezoid(a, b), lambda a, b: torch.trapezoid(a, b),
                [y, x], device)
        compare(torch, lambda a, b: corelib.cumulative_trapezoid(a, b, dim=1),
                lambda a, b: torch.cumulative_trapezoid(a, b, dim=1), [y, x], device)
    else:
        compare(torch, lambda a: corelib.trapezoid(a, dx=0.3, dim=0),
                lambda a: torch.trapezoid(a, dx=0.3, dim=0), [y], device)
        compare(torch, lambda a: corelib.trapz(a), lambda a: torch.trapz(a), [y], device)
        compare(torch, corelib.cumulative_trapezoid, torch.cumulative_trapezoid, [y], device)


def test_vander_unravel_scalar_rsub(torch, device):
    x = _arr(4)
    for kwargs in (dict(), dict(N=3), dict(N=5, increasing=True)):
        compare(torch, lambda a: corelib.vander(a, **kwargs), lambda a: torch.vander(a, **kwargs),
                [x], device, grad=False)   # PyTorch's own vander backward fails
    _grad_ok(lambda a: corelib.vander(a, 3), x)
    idx = [0, 5, 11, -1]
    ours = corelib.unravel_index(corelib.tensor(idx, device=device), (3, 4))
    ref = torch.unravel_index(torch.tensor(idx), (3, 4))
    assert [t.tolist() for t in ours] == [t.tolist() for t in ref]
    s = corelib.scalar_tensor(3)
    assert s.dtype is corelib.float32 and s.ndim == 0 and s.item() == 3.0
    compare(torch, lambda a, b: corelib.rsub(a, b, alpha=2), lambda a, b: torch.rsub(a, b,
                                                                                   alpha=2),
            [x, _arr(4)], device)


def test_predicates_and_real_only_conj(device):
    x = corelib.tensor([[1.0, 2.0]], device=device)
    assert x.is_same_size(corelib.zeros(1, 2)) and not corelib.is_same_size(x, corelib.zeros(2))
    assert x.is_signed() and not corelib.tensor([1], dtype=corelib.uint8).is_signed()
    assert corelib.is_nonzero(corelib.tensor([2.0])) and not corelib.tensor(0).is_nonzero()
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        corelib.is_nonzero(x)
    assert not corelib.is_complex(x) and not x.is_conj() and not corelib.is_neg(x)
    assert corelib.conj(x) is x and x.resolve_conj() is x and x.resolve_neg() is x
    y = corelib.conj_physical(x)
    assert y is not x and y.tolist() == x.tolist()
    assert corelib.isreal(x).tolist() == [[True, True]]
    assert corelib.typename(x) == "torch.FloatTensor" and corelib.typename(1) == "int"


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window",
                                  "bartlett_window"])
def test_windows(torch, device, name):
    for n in (0, 1, 2, 7, 8):
        for periodic in (True, False):
            ours = getattr(corelib, name)(n, periodic, dtype=corelib.float64, device=device)
            ref = getattr(torch, name)(n, periodic, dtype=torch.float64)
            np.testing.assert_allclose(_np(ours), ref.numpy(), atol=1e-12)
    assert getattr(corelib, name)(4).dtype is corelib.float32


def test_thread_and_precision_settings(torch):
    old = corelib.get_num_threads()
    try:
        corelib.set_num_threads(3)
        assert corelib.get_num_threads() == 3
    finally:
        corelib.set_num_threads(old)
    assert corelib.get_float32_matmul_precision() == "highest"
    try:
        corelib.set_float32_matmul_precision("high")
        assert corelib.get_float32_matmul_precision() == "high"
    finally:   # a failure here must not leave "high" to the tests that run after
        corelib.set_float32_matmul_precision("highest")
    with pytest.raises(RuntimeError, match="Invalid precision"):
        corelib.set_float32_matmul_precision("low")
    assert corelib.get_float32_matmul_precision() == "highest"


@pytest.mark.parametrize("shape,wrap", [((3, 3), False), ((7, 3), True), ((7, 3), False),
                                        ((2, 5), True), ((3, 3, 3), False)])
def test_fill_diagonal_(torch, device, shape, wrap):
    ours, ref = corelib.zeros(*shape, device=device), torch.zeros(*shape)
    assert ours.fill_diagonal_(2.0, wrap) is ours
    ref.fill_diagonal_(2.0, wrap)
    assert ours.tolist() == ref.tolist()


@pytest.mark.parametrize("size", [(3, 1), (1, 3, 4), (4,), (2, 1, 1)])
def test_sum_to_size(torch, device, size):
    compare(torch, lambda a: a.sum_to_size(*size), lambda a: a.sum_to_size(*size),
            [_arr(2, 3, 4)], device)


def test_sinc_hardshrink_prelu_methods_and_compile(torch, device):
    compare(torch, corelib.sinc, torch.sinc, [np.array([-0.6, 0.2, 1.3])], device)
    compare(torch, lambda a: a.hardshrink(0.7), lambda a: a.hardshrink(0.7), [_arr(5)], device)
    compare(torch, lambda a, w: a.prelu(w), lambda a, w: a.prelu(w), [_arr(2, 3), _arr(3)],
            device)
    model = corelib.nn.Linear(2, 2)
    assert corelib.compile(model) is model
    assert corelib.compile(mode="max-autotune")(len) is len
    assert corelib.compile(len) is len


@pytest.mark.parametrize("n,shape", [(1, (2, 3, 9)), (2, (2, 3, 6, 8)), (3, (1, 2, 4, 4, 6))])
def test_max_unpool(torch, device, n, shape):
    x = _arr(*shape)
    pool, ipool = f"max_pool{n}d", f"max_unpool{n}d"
    t_out, t_idx = getattr(torch.nn.functional, pool)(torch.tensor(x), 2, return_indices=True)
    out, idx = getattr(F, pool)(corelib.tensor(x, device=device), 2, return_indices=True)
    size = shape if n == 1 else None
    ours = getattr(F, ipool)(out, idx, 2, output_size=size)
    ref = getattr(torch.nn.functional, ipool)(t_out, t_idx, 2, output_size=size)
    np.testing.assert_array_equal(_np(ours), ref.numpy())
    module = getattr(corelib.nn, f"MaxUnpool{n}d")(2)
    assert repr(module) == repr(getattr(torch.nn, f"MaxUnpool{n}d")(2))
    np.testing.assert_array_equal(_np(module(out, idx, size)), ref.numpy())
    compare(torch, lambda v: getattr(F, ipool)(v, idx, 2, output_size=size),
            lambda v: getattr(torch.nn.functional, ipool)(v, t_idx, 2, output_size=size),
            [_np(out)], device)


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid(torch, device, align_corners):
    compare(torch, lambda t: F.affine_grid(t, (2, 3, 4, 5), align_corners=align_corners),
            lambda t: torch.nn.functional.affine_grid(t, (2, 3, 4, 5),
                                                      align_corners=align_corners),
            [_arr(2, 2, 3)], device)
    compare(torch, lambda t: F.affine_grid(t, (1, 2, 3, 4, 2), align_corners=align_corners),
            lambda t: torch.nn.functional.affine_grid(t, (1, 2, 3, 4, 2),
                                                      align_corners=align_corners),
            [_arr(1, 3, 4)], device)


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample(torch, device, mode, padding_mode):
    x, g = _arr(2, 3, 5, 6), _arr(2, 4, 7, 2, low=-1.3, high=1.3)
    x3, g3 = _arr(2, 2, 3, 4, 5), _arr(2, 2, 3, 4, 3, low=-1.3, high=1.3)
    for align_corners in (False, True):
        kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
        for inputs in ([x, g], [x3, g3]) if mode != "bicubic" else ([x, g],):
            compare(torch, lambda a, b: F.grid_sample(a, b, **kw),
                    lambda a, b: torch.nn.functional.grid_sample(a, b, **kw), inputs, device,
                    grad=mode != "nearest")


def test_grid_sample_errors():
    with pytest.raises(ValueError, match="expected padding_mode"):
        F.grid_sample(corelib.zeros(1, 1, 2, 2), corelib.zeros(1, 1, 1, 2), padding_mode="wrap")
    with pytest.raises(RuntimeError, match="bicubic"):   # as PyTorch: 4-D input only
        F.grid_sample(corelib.zeros(1, 1, 2, 2, 2), corelib.zeros(1, 1, 1, 1, 3),
                      mode="bicubic")


GAMMA_POINTS = np.array([-3.7, -2.5, -2.0, -0.3, 0.0, 0.2, 0.5, 1.0, 1.5, 2.0, 7.3, 25.0, 150.0])


@pytest.mark.parametrize("ours,theirs", [("lgamma", "lgamma"), ("digamma", "digamma"),
                                         ("special.gammaln", "special.gammaln"),
                                         ("special.psi", "special.psi")])
def test_gamma_functions(torch, device, ours, theirs):
    def get(lib, path):
        for part in path.split("."):
            lib = getattr(lib, part)
        return lib
    compare(torch, get(corelib, ours), get(torch, theirs), [GAMMA_POINTS], device, grad=False,
            rtol=1e-13, atol=1e-13)
    smooth = np.array([-2.5, 0.3, 1.7, 9.0])
    compare(torch, get(corelib, ours), get(torch, theirs), [smooth], device, rtol=1e-10)
    f32 = get(corelib, ours)(corelib.tensor([0.7, 3.0], device=device))
    assert f32.dtype is corelib.float32


def test_mvlgamma_angle_frexp_gcd_lcm(torch, device):
    compare(torch, lambda a: corelib.mvlgamma(a, 3), lambda a: torch.mvlgamma(a, 3),
            [np.array([1.5, 2.0, 4.2])], device)
    v = np.array([-2.0, 0.0, 3.0, math.nan])
    compare(torch, corelib.angle, torch.angle, [v], device, grad=False)
    v = np.array([0.0, 1.0, -3.0, 0.1, 1024.0, math.inf, 5e-40, -7.5e12])
    m, e = corelib.frexp(corelib.tensor(v, device=device))
    tm, te = torch.frexp(torch.tensor(v))
    assert m.tolist() == tm.tolist() and e.tolist() == te.tolist() and e.dtype is corelib.int32
    a, b = np.array([0, 12, -18, 7, 0, 1071]), np.array([0, 8, 24, -21, 5, 462])
    for name in ("gcd", "lcm"):
        assert getattr(corelib, name)(corelib.tensor(a, device=device),
                                      corelib.tensor(b, device=device)).tolist() == \
            getattr(torch, name)(torch.tensor(a), torch.tensor(b)).tolist()


def test_scatter_variants(torch, device):
    x = _arr(3, 4)
    compare(torch, lambda a, s: corelib.select_scatter(a, s, 0, 1),
            lambda a, s: torch.select_scatter(a, s, 0, 1), [x, _arr(4)], device)
    compare(torch, lambda a, s: a.slice_scatter(s, 1, 0, 4, 2),
            lambda a, s: a.slice_scatter(s, 1, 0, 4, 2), [x, _arr(3, 2)], device)
    compare(torch, lambda a, s: corelib.diagonal_scatter(a, s, 1),
            lambda a, s: torch.diagonal_scatter(a, s, 1), [x, _arr(3)], device)
    t = corelib.tensor(x, device=device)
    assert corelib.real(t) is t and t.adjoint().tolist() == torch.tensor(x).adjoint().tolist()
    with pytest.raises(RuntimeError, match="imag is not implemented"):
        corelib.imag(t)


@pytest.mark.parametrize("n,shape", [(1, (2, 3, 9)), (2, (2, 3, 6, 8)), (3, (1, 2, 4, 4, 6))])
def test_lp_pool(torch, device, n, shape):
    x = _arr(*shape, low=0.1, high=2.0)
    for p in (2.0, 3.0):
        compare(torch, lambda a: getattr(F, f"lp_pool{n}d")(a, p, 2),
                lambda a: getattr(torch.nn.functional, f"lp_pool{n}d")(a, p, 2), [x], device)
    if n < 3:
        ours = getattr(corelib.nn, f"LPPool{n}d")(2, 2)(corelib.tensor(x, device=device))
        ref = getattr(torch.nn, f"LPPool{n}d")(2, 2)(torch.tensor(x))
        np.testing.assert_allclose(_np(ours), ref.numpy(), rtol=1e-12)


def test_feature_alpha_dropout_and_inplace_activations(torch, device):
    corelib.manual_seed(0)
    x = corelib.nn.functional.selu(corelib.randn(400, 50, 4, device=device))
    y = F.feature_alpha_dropout(x, 0.3, training=True)
    per_map = _np(y).reshape(400 * 50, 4)
    dropped = np.isclose(per_map, per_map[:, :1]).all(1)      # whole maps set to one value
    assert 0.25 < dropped.mean() < 0.35
    assert abs(_np(y).mean() - _np(x).mean()) < 0.05 and abs(_np(y).std() - _np(x).std()) < 0.05
    assert F.feature_alpha_dropout(x, 0.3, training=False) is x
    assert tuple(corelib.nn.FeatureAlphaDropout(0.2).train()(x).shape) == (400, 50, 4)
    for name in ("selu_", "celu_"):
        v = np.array([-1.5, 0.0, 2.0])
        ours = corelib.tensor(v, device=device)
        assert getattr(F, name)(ours) is ours
        np.testing.assert_allclose(_np(ours), getattr(torch.nn.functional, name)(
            torch.tensor(v)).numpy(), rtol=1e-6)
    out, idx = F.max_pool3d_with_indices(corelib.tensor(_arr(1, 1, 4, 4, 4), device=device), 2)
    assert tuple(out.shape) == tuple(idx.shape) == (1, 1, 2, 2, 2)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_ctc_loss(torch, device, reduction):
    """Gradients compared with respect to the logits: PyTorch's ctc_loss backward assumes its
    input came from log_softmax (its gradient w.r.t. log_probs differs by a term that
    log_softmax's backward removes)."""
    x = _arr(12, 3, 5)
    targets = np.array([[1, 2, 2, 0], [3, 1, 4, 4], [2, 0, 0, 0]])
    in_lens, tgt_lens = [12, 10, 6], [3, 4, 1]
    for zero_infinity in (False, True):
        kw = dict(reduction=reduction, zero_infinity=zero_infinity)
        compare(torch, lambda a, t: F.ctc_loss(a.log_softmax(2), t, in_lens, tgt_lens, **kw),
                lambda a, t: torch.nn.functional.ctc_loss(a.log_softmax(2), t, in_lens,
                                                          tgt_lens, **kw),
                [x], device, int_arrays=[targets], rtol=1e-10)
    flat = np.array([1, 2, 2, 3, 1, 4, 4, 2])
    ours = F.ctc_loss(corelib.tensor(x, device=device).log_softmax(2),
                      corelib.tensor(flat, device=device), [12, 2, 6], tgt_lens,
                      reduction="none")
    ref = torch.nn.functional.ctc_loss(torch.tensor(x).log_softmax(2), torch.tensor(flat),
                                       [12, 2, 6], tgt_lens, reduction="none")
    np.testing.assert_allclose(_np(ours), ref.numpy(), rtol=1e-10)   # inf where impossible
    module = corelib.nn.CTCLoss(zero_infinity=True)
    assert module(corelib.tensor(x).log_softmax(2), corelib.tensor(targets), in_lens,
                  tgt_lens).item() == pytest.approx(torch.nn.CTCLoss(zero_infinity=True)(
                      torch.tensor(x).log_softmax(2), torch.tensor(targets), in_lens,
                      tgt_lens).item(), rel=1e-10)


def test_one_sided_integer_clamp_and_huge_scalars(device):
    """Regression (cuda): a one-sided clamp of an integer tensor passes +-inf for the missing
    bound, and float scalars beyond int64's range reach the kernels."""
    t = corelib.tensor([5, 7, 1, -3], device=device)
    assert t.clamp(min=0).tolist() == [5, 7, 1, 0]
    assert t.clamp(max=-1).tolist() == [-1, -1, -1, -3]
    assert (corelib.zeros(2, dtype=corelib.float64, device=device) + 1e30).tolist() == [1e30, 1e30]
    assert corelib.full((2,), -1e30, dtype=corelib.float64, device=device).tolist() == \
        [-1e30, -1e30]
