"""corelib.nn.functional behaviour beyond the op table: loop-based conv reference, dropout
randomness, batch-norm running statistics, embedding options, double backward, errors."""
import ast
import inspect
import itertools

import numpy as np
import pytest

import corelib
import corelib.nn.functional as F


def _rand(*shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed + len(shape)).standard_normal(shape).astype(dtype)


def _loop_conv(x, w, b, stride, padding, dilation, groups):
    """Direct N-d convolution by explicit loops (tiny sizes only)."""
    nsp = x.ndim - 2
    x = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in padding])
    n, c = x.shape[:2]
    o = w.shape[0]
    k = w.shape[2:]
    out_size = [(x.shape[2 + i] - dilation[i] * (k[i] - 1) - 1) // stride[i] + 1
                for i in range(nsp)]
    out = np.zeros([n, o] + out_size)
    cg, og = c // groups, o // groups
    for b_, oc in itertools.product(range(n), range(o)):
        grp = oc // og
        for pos in itertools.product(*(range(s) for s in out_size)):
            acc = 0.0
            for ic in range(cg):
                for kp in itertools.product(*(range(s) for s in k)):
                    idx = tuple(p * s + q * d for p, s, q, d in zip(pos, stride, kp, dilation))
                    acc += x[(b_, grp * cg + ic) + idx] * w[(oc, ic) + kp]
            out[(b_, oc) + pos] = acc + (0 if b is None else b[oc])
    return out


@pytest.mark.parametrize("nsp,stride,padding,dilation,groups", [
    (2, (1, 1), (0, 0), (1, 1), 1), (2, (2, 1), (1, 2), (1, 1), 1),
    (2, (1, 1), (1, 1), (2, 1), 2), (1, (2,), (1,), (1,), 3), (1, (1,), (2,), (2,), 1)])
def test_conv_matches_loop_reference(nsp, stride, padding, dilation, groups):
    c, o = (2 * groups if groups > 1 else 3), 2 * groups
    x = _rand(2, c, *([6] * nsp))
    w = _rand(o, c // groups, *([3] * nsp), seed=1)
    b = _rand(o, seed=2)
    fn = F.conv2d if nsp == 2 else F.conv1d
    out = fn(corelib.tensor(x), corelib.tensor(w), corelib.tensor(b), stride=stride,
             padding=padding, dilation=dilation, groups=groups)
    np.testing.assert_allclose(out.numpy(), _loop_conv(x, w, b, stride, padding, dilation,
                                                       groups), rtol=1e-10, atol=1e-10)


def test_conv_transpose_is_adjoint_of_conv():
    # <conv(x, w), y> == <x, conv_transpose(y, w)> for every x, y
    x, w = _rand(2, 3, 7, 6), _rand(4, 3, 3, 3, seed=3)
    y = _rand(2, 4, 4, 3, seed=4)
    kw = dict(stride=2, padding=1)
    lhs = (F.conv2d(corelib.tensor(x), corelib.tensor(w), **kw).numpy() * y).sum()
    xt = F.conv_transpose2d(corelib.tensor(y), corelib.tensor(w), output_padding=(0, 1), **kw)
    assert xt.shape == x.shape
    np.testing.assert_allclose(lhs, (x * xt.numpy()).sum(), rtol=1e-10)


def test_conv2d_double_backward_matches_torch(torch):
    x, w = _rand(2, 2, 5, 5), _rand(3, 2, 3, 3, seed=5)
    cx, cw = corelib.tensor(x, requires_grad=True), corelib.tensor(w, requires_grad=True)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    outs = []
    for lib, a, b, fn in ((corelib, cx, cw, F.conv2d),
                          (torch, tx, tw, torch.nn.functional.conv2d)):
        y = fn(a, b, stride=2, padding=1)
        (gx,) = lib.autograd.grad((y * y).sum(), (a,), create_graph=True)
        (ggw,) = lib.autograd.grad((gx * gx).sum(), (b,))
        outs.append(ggw.detach().numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-8, atol=1e-10)


def test_dropout_is_reproducible_and_scaled():
    x = corelib.ones(2000, dtype=corelib.float64)
    corelib.manual_seed(7)
    a = F.dropout(x, 0.25)
    corelib.manual_seed(7)
    b = F.dropout(x, 0.25)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    vals = set(np.unique(a.numpy()).tolist())
    assert vals == {0.0, 1 / 0.75}
    assert abs((a.numpy() == 0).mean() - 0.25) < 0.05
    assert F.dropout(x, 0.25, training=False) is x
    with pytest.raises(ValueError):
        F.dropout(x, 1.5)


def test_dropout_gradient_is_the_mask():
    corelib.manual_seed(3)
    x = corelib.tensor(_rand(50, 4), requires_grad=True)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    mask = y.detach().numpy() / x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), mask, rtol=1e-12)


def test_dropout2d_zeroes_whole_channels():
    corelib.manual_seed(5)
    x = corelib.ones(4, 8, 3, 3, dtype=corelib.float64)
    y = F.dropout2d(x, 0.5).numpy()
    per_channel = y.reshape(4, 8, 9)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))
    assert set(np.unique(y).tolist()) == {0.0, 2.0}


def test_batch_norm_running_stats_match_torch(torch):
    x = _rand(6, 3, 4, 4)
    rm, rv = corelib.zeros(3, dtype=corelib.float64), corelib.ones(3, dtype=corelib.float64)
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    for _ in range(2):
        out = F.batch_norm(corelib.tensor(x), rm, rv, training=True, momentum=0.3)
        tout = torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, training=True,
                                              momentum=0.3)
    np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-10)
    np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-10)
    ev = F.batch_norm(corelib.tensor(x), rm, rv, training=False)
    tev = torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, training=False)
    np.testing.assert_allclose(ev.numpy(), tev.numpy(), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError):
        F.batch_norm(corelib.ones(1, 3), rm, rv, training=True)


def test_embedding_padding_idx_and_max_norm_match_torch(torch):
    idx = np.array([[0, 2, 4], [2, 2, 1]])
    w = _rand(5, 3) * 3
    cw = corelib.tensor(w.copy(), requires_grad=True)
    tw = torch.tensor(w.copy(), requires_grad=True)
    out = F.embedding(corelib.tensor(idx), cw, padding_idx=2)
    tout = torch.nn.functional.embedding(torch.tensor(idx), tw, padding_idx=2)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    np.testing.assert_allclose(cw.grad.numpy(), tw.grad.numpy(), rtol=1e-12)
    assert np.all(cw.grad.numpy()[2] == 0)
    cw2, tw2 = corelib.tensor(w.copy()), torch.tensor(w.copy())
    out = F.embedding(corelib.tensor(idx), cw2, max_norm=1.0)
    tout = torch.nn.functional.embedding(torch.tensor(idx), tw2, max_norm=1.0)
    np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=1e-6)
    np.testing.assert_allclose(cw2.numpy(), tw2.numpy(), rtol=1e-6)
    with pytest.raises(IndexError):
        F.embedding(corelib.tensor([5]), cw2)


def test_max_pool_indices_round_trip(torch):
    x = _rand(2, 3, 7, 6)
    out, idx = F.max_pool2d(corelib.tensor(x), 3, stride=2, padding=1, return_indices=True)
    tout, tidx = torch.nn.functional.max_pool2d(torch.tensor(x), 3, stride=2, padding=1,
                                                return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    assert idx.dtype is corelib.int64
    picked = np.take_along_axis(x.reshape(2, 3, -1), idx.numpy().reshape(2, 3, -1), -1)
    np.testing.assert_array_equal(picked.reshape(out.shape), out.numpy())


def test_cross_entropy_matches_manual_formula():
    x, t = _rand(5, 4), np.array([0, 3, 1, 1, 2])
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    expected = -logp[np.arange(5), t].mean()
    got = F.cross_entropy(corelib.tensor(x), corelib.tensor(t))
    np.testing.assert_allclose(got.item(), expected, rtol=1e-12)


def test_loss_and_argument_errors():
    x = corelib.tensor(_rand(3, 4))
    with pytest.raises(ValueError):
        F.mse_loss(x, x, reduction="avg")
    with pytest.raises(IndexError):
        F.cross_entropy(x, corelib.tensor([0, 4, 1]))
    with pytest.raises(RuntimeError):
        F.conv2d(corelib.tensor(_rand(1, 3, 5, 5)), corelib.tensor(_rand(2, 2, 3, 3)))
    with pytest.raises(RuntimeError):
        F.conv2d(corelib.tensor(_rand(1, 2, 5, 5)), corelib.tensor(_rand(2, 2, 3, 3)),
                 stride=2, padding="same")
    with pytest.raises(RuntimeError):
        F.one_hot(corelib.tensor([0, 5]), 3)
    with pytest.raises(RuntimeError):
        F.layer_norm(x, (3,))
    with pytest.raises(RuntimeError):
        F.max_pool2d(corelib.tensor(_rand(1, 1, 4, 4)), 2, padding=2)
    with pytest.raises(ValueError):
        F.binary_cross_entropy(corelib.tensor([0.5, 0.5]), corelib.tensor([[1.0, 0.0]]))


def test_functional_reexports_and_frontend_only(torch):
    from corelib._ops.shape import pad
    assert F.pad is pad
    x = _rand(3, 4)
    np.testing.assert_allclose(F.relu(corelib.tensor(x)).numpy(),
                               torch.nn.functional.relu(torch.tensor(x)).numpy())
    tree = ast.parse(inspect.getsource(F))
    imported = {a.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, (ast.Import, ast.ImportFrom)) for a in node.names}
    modules = {node.module.split(".")[0] for node in ast.walk(tree)
               if isinstance(node, ast.ImportFrom) and node.module}
    assert not ({"numpy", "corelib_cpu"} & (imported | modules))


def test_instance_norm_running_stats_match_torch(torch):
    x = _rand(3, 2, 5)
    rm, rv = corelib.zeros(2, dtype=corelib.float64), corelib.ones(2, dtype=corelib.float64)
    trm, trv = torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    out = F.instance_norm(corelib.tensor(x), rm, rv, momentum=0.2)
    tout = torch.nn.functional.instance_norm(torch.tensor(x), trm, trv, momentum=0.2)
    np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-10)
    np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-10)


def test_threshold_inplace_matches_torch(torch):
    x = _rand(4, 3)
    c, t = corelib.tensor(x.copy()), torch.tensor(x.copy())
    assert F.threshold_(c, 0.2, -1.0) is c
    torch.nn.functional.threshold_(t, 0.2, -1.0)
    np.testing.assert_array_equal(c.numpy(), t.numpy())


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_negative_widths_crop_in_every_mode(mode, torch):
    """As PyTorch: negative widths crop (circular wraps around the cropped part); too much
    padding raises RuntimeError."""
    x_np = _rand(2, 3, 5, 4)
    for pad in [(-1, 1, -2, 1), (2, -1, 0, -3), (-2, -1, 1, 2), (1, -2, -1, 0)]:
        x = corelib.tensor(x_np, requires_grad=True)
        tx = torch.tensor(x_np, requires_grad=True)
        out = F.pad(x, pad, mode=mode)
        expected = torch.nn.functional.pad(tx, pad, mode=mode)
        np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
        w = _rand(*expected.shape, seed=3)
        (out * corelib.tensor(w)).sum().backward()
        (expected * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-12)
    with pytest.raises(RuntimeError):
        F.pad(corelib.tensor(x_np), (-3, -2), mode=mode)


def test_norms_of_empty_batches_match_torch(torch):
    """batch_norm/group_norm of zero-size inputs: an empty output, zero parameter gradients,
    running statistics untouched (a 1-d empty batch_norm input too)."""
    for shape, groups in [((0, 4), 2), ((0, 4, 3), 4)]:
        w = corelib.ones(4, dtype=corelib.float64, requires_grad=True)
        b = corelib.zeros(4, dtype=corelib.float64, requires_grad=True)
        x = corelib.zeros(shape, dtype=corelib.float64, requires_grad=True)
        rm, rv = corelib.zeros(4, dtype=corelib.float64), corelib.ones(4, dtype=corelib.float64)
        out = F.batch_norm(x, rm, rv, w, b, training=True) + F.group_norm(x, groups, w, b)
        assert tuple(out.shape) == shape
        out.sum().backward()
        np.testing.assert_array_equal(w.grad.numpy(), np.zeros(4))
        np.testing.assert_array_equal(b.grad.numpy(), np.zeros(4))
        np.testing.assert_array_equal(rm.numpy(), np.zeros(4))
        np.testing.assert_array_equal(rv.numpy(), np.ones(4))
    e = corelib.zeros(0, requires_grad=True)
    for training in (True, False):
        assert tuple(F.batch_norm(e, corelib.zeros(0), corelib.ones(0),
                                  training=training).shape) == (0,)
    with pytest.raises(IndexError):   # as torch: a non-empty 1-d input has no channel dim
        F.batch_norm(corelib.ones(3), None, None, training=True)
    with pytest.raises(IndexError):
        torch.nn.functional.batch_norm(torch.ones(3), None, None, training=True)


def test_prelu_single_weight_keeps_input_shape(torch):
    for shape in [(), (3,), (2, 3, 4)]:
        x_np = _rand(*shape) if shape else np.array(-1.5)
        x = corelib.tensor(x_np, requires_grad=True)
        w = corelib.tensor([0.25], dtype=corelib.float64, requires_grad=True)
        out = F.prelu(x, w)
        expected = torch.nn.functional.prelu(torch.tensor(x_np), torch.tensor([0.25],
                                                                            dtype=torch.float64))
        assert tuple(out.shape) == tuple(expected.shape)
        np.testing.assert_allclose(out.detach().numpy(), expected.numpy())
        out.sum().backward()
        assert tuple(w.grad.shape) == (1,)
        np.testing.assert_allclose(w.grad.numpy(), [np.minimum(x_np, 0).sum()])


def test_local_response_norm_of_an_empty_batch():
    x = corelib.zeros(0, 3, 2, requires_grad=True)
    out = F.local_response_norm(x, 2)
    assert tuple(out.shape) == (0, 3, 2)
    out.sum().backward()
    assert tuple(x.grad.shape) == (0, 3, 2)


def test_conv_transpose_output_padding_beyond_stride_gradients_match_torch(torch):
    """output_padding may reach the dilation (not only the stride): the output's trailing
    rows lie past every window, and both gradients still match PyTorch's."""
    x_np, w_np = _rand(2, 2, 4, 5), _rand(2, 2, 4, 4)
    kw = dict(stride=(3, 2), padding=(1, 2), output_padding=(2, 3), groups=2, dilation=(4, 4))
    x, w = corelib.tensor(x_np, requires_grad=True), corelib.tensor(w_np, requires_grad=True)
    tx, tw = torch.tensor(x_np, requires_grad=True), torch.tensor(w_np, requires_grad=True)
    out, expected = F.conv_transpose2d(x, w, **kw), torch.nn.functional.conv_transpose2d(tx, tw, **kw)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), atol=1e-12)
    g = _rand(*expected.shape, seed=5)
    (out * corelib.tensor(g)).sum().backward()
    (expected * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("align_corners", [False, True])
def test_bicubic_interpolate_matches_torch(align_corners, torch):
    """PyTorch's bicubic: cubic convolution with A = -0.75, clamped edge samples, up and down,
    by size or scale_factor; the gradient too."""
    x_np = _rand(2, 3, 5, 6)
    for kw in [dict(size=(7, 4)), dict(size=(2, 9)), dict(scale_factor=1.7),
               dict(scale_factor=(0.6, 2.5))]:
        x, tx = corelib.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
        out = F.interpolate(x, mode="bicubic", align_corners=align_corners, **kw)
        expected = torch.nn.functional.interpolate(tx, mode="bicubic",
                                                   align_corners=align_corners, **kw)
        np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), atol=1e-12)
        g = _rand(*expected.shape, seed=9)
        (out * corelib.tensor(g)).sum().backward()
        (expected * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-12)


def test_integer_convolution_and_average_pool_as_pytorch(device):
    """Integer conv / conv_transpose / avg_pool: exact sums, the average truncated toward zero
    (C's integer division, as PyTorch's CPU kernels); checked against NumPy."""
    rng = np.random.default_rng(5)
    xs = rng.integers(-9, 10, (2, 3, 5, 6))
    ws = rng.integers(-4, 5, (4, 3, 2, 3))
    bs = rng.integers(-5, 6, (4,))
    x, w, b = (corelib.tensor(a, device=device) for a in (xs, ws, bs))
    out = F.conv2d(x, w, b, padding=1)
    assert out.dtype == corelib.int64
    xp = np.pad(xs, ((0, 0), (0, 0), (1, 1), (1, 1)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (2, 3), axis=(2, 3))
    expected = np.einsum("nchwij,ocij->nohw", win, ws) + bs[None, :, None, None]
    np.testing.assert_array_equal(out.cpu().numpy(), expected)
    # conv_transpose is conv's adjoint: <conv(x), y> == <x, conv_transpose(y)>, exactly
    y = corelib.tensor(rng.integers(-3, 4, tuple(out.shape)), device=device)
    back = F.conv_transpose2d(y, w, padding=1)
    assert back.dtype == corelib.int64 and back.shape == x.shape
    assert int((F.conv2d(x, w, padding=1) * y).sum()) == int((x * back).sum())
    pooled = F.avg_pool2d(x, 2)
    sums = xs[:, :, :4, :6].reshape(2, 3, 2, 2, 3, 2).sum(axis=(3, 5))
    np.testing.assert_array_equal(pooled.cpu().numpy(), np.trunc(sums / 4).astype(np.int64))
    with pytest.raises(RuntimeError, match="conv2d"):
        F.conv2d(x > 0, w > 0)
