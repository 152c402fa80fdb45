"""Views: shared storage and version counters, writes through views and bases, autograd through
in-place writes into views, and layout queries (stride, contiguity, storage offset) vs torch."""
import numpy as np
import pytest

import corelib

from torch_reference import torch


def _pair(shape=(3, 4, 5)):
    data = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    return corelib.tensor(data), torch.tensor(data)


# every view op, as a function usable on both libraries
VIEW_OPS = {
    "getitem": lambda x: x[1:, ::2],
    "getitem_int": lambda x: x[1, :, 2],
    "narrow": lambda x: x.narrow(1, 1, 2),
    "narrow_neg": lambda x: x.narrow(-1, -3, 2),
    "select": lambda x: x.select(2, -1),
    "split": lambda x: x.split(2, 1)[1],
    "split_sizes": lambda x: x.split([1, 4], -1)[1],
    "chunk": lambda x: x.chunk(2, 0)[0],
    "tensor_split": lambda x: x.tensor_split([1, 3], 2)[1],
    "unbind": lambda x: x.unbind(1)[2],
    "diagonal": lambda x: x.diagonal(1, 1, 2),
    "diagonal_neg": lambda x: x.diagonal(-1, -1, 0),
    "view": lambda x: x.view(12, 5),
    "reshape": lambda x: x.reshape(-1),
    "permute": lambda x: x.permute(2, 0, 1),
    "transpose": lambda x: x.transpose(0, -1),
    "swapaxes": lambda x: x.swapaxes(0, 1),
    "movedim": lambda x: x.movedim(0, -1),
    "unsqueeze": lambda x: x.unsqueeze(1),
    "squeeze": lambda x: x[:1].squeeze(0),
    "flatten": lambda x: x.flatten(0, 1),
    "unflatten": lambda x: x.unflatten(2, (5, 1)),
    "mT": lambda x: x.mT,
    "chained": lambda x: x[1].t().diagonal()[1:],
}


@pytest.mark.parametrize("name", sorted(VIEW_OPS))
def test_view_values_layout_and_sharing(name):
    fn = VIEW_OPS[name]
    cx, tx = _pair()
    cv, tv = fn(cx), fn(tx)
    np.testing.assert_array_equal(cv.numpy(), tv.numpy())
    assert cv.stride() == tv.stride(), (cv.stride(), tv.stride())
    assert cv.is_contiguous() == tv.is_contiguous()
    assert cv.storage_offset() == tv.storage_offset()
    assert cv._base is cx
    # a write through the view shows in the base, one through the base shows in the view
    v0 = cx._version
    cv.mul_(-1)
    tv.mul_(-1)
    np.testing.assert_array_equal(cx.numpy(), tx.numpy())
    assert cx._version > v0 and cv._version == cx._version
    cx.add_(1)
    tx.add_(1)
    np.testing.assert_array_equal(cv.numpy(), tv.numpy())
    assert cv._version == cx._version
    c = cv.contiguous()
    assert c.is_contiguous()
    assert c.stride() == tv.contiguous().stride()


def test_split_family_shares_one_storage():
    cx, tx = _pair((6, 2))
    for pieces in (cx.split(4), cx.chunk(3), cx.tensor_split(4), cx.unbind()):
        pieces[-1].zero_()
    for pieces in (tx.split(4), tx.chunk(3), tx.tensor_split(4), tx.unbind()):
        pieces[-1].zero_()
    np.testing.assert_array_equal(cx.numpy(), tx.numpy())


def test_copies_do_not_share():
    cx, _ = _pair((3, 4))
    for out in (cx.flip(0), cx.roll(1), cx.repeat(1, 1), cx.clone(), cx.diag(),
                corelib.cat([cx]), cx.tril(), cx.t().contiguous()):
        before = cx.numpy().copy()
        out.zero_()
        np.testing.assert_array_equal(cx.numpy(), before)


def test_expand_and_broadcast_strides():
    cx, tx = _pair((3, 1))
    for fn in (lambda x: x.expand(2, 3, 4), lambda x: x.broadcast_to((3, 5)),
               lambda x: x.expand(2, 3, 1), lambda x: x[None].expand(1, 3, 2)):
        cv, tv = fn(cx), fn(tx)
        assert cv.stride() == tv.stride()
        assert cv.is_contiguous() == tv.is_contiguous()


def _autograd_through_views(lib):
    x = lib.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    w = lib.tensor([5.0, 6.0, 7.0], requires_grad=True)
    y = x.clone()
    y[0].mul_(2)
    y[:, 1] = w
    y.diagonal().mul_(x[2, :3])
    y.narrow(1, 2, 2).add_(w.unsqueeze(1) * 3)
    piece = y.narrow(0, 2, 1)
    piece.mul_(w[0])
    loss = (y * lib.tensor(np.linspace(-1, 1, 12).reshape(3, 4))).sum()
    gx, gw = lib.autograd.grad(loss, (x, w), create_graph=True)
    ggx, = lib.autograd.grad((gx * gx).sum() + gw.sum(), (x,))
    return y.detach().numpy(), gx.detach().numpy(), gw.detach().numpy(), ggx.numpy()


def test_autograd_through_inplace_writes_into_views_matches_torch():
    for ours, theirs in zip(_autograd_through_views(corelib), _autograd_through_views(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_inplace_on_view_of_base_rebases_history():
    x = corelib.ones(2, 3, requires_grad=True)
    y = x * 1
    y[1].mul_(3)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 1, 1], [3, 3, 3]])


@pytest.mark.parametrize("write", [lambda v: v.mul_(2), lambda v: v.zero_(),
                                   lambda v: v.copy_(corelib.zeros(4)),
                                   lambda v: v.__setitem__(0, 5.0),
                                   lambda v: v.index_fill_(0, corelib.tensor([1]), 2.0)])
def test_inplace_on_leaf_view_requiring_grad_errors_before_writing(write):
    x = corelib.ones(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        write(x[0])
    np.testing.assert_array_equal(x.detach().numpy(), np.ones((3, 4)))
    with corelib.no_grad():   # allowed without grad mode, as in torch
        write(x[0])


def test_inplace_on_leaf_requiring_grad_errors():
    x = corelib.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x.tril_() if x.ndim == 2 else x.index_fill_(0, corelib.tensor([0]), 0.0)


def test_saved_tensor_modified_through_view_is_detected():
    x = corelib.ones(3, requires_grad=True)
    y = x * 2
    z = y * y
    y[0].mul_(3)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_detach_shares_storage_and_version():
    cx, _ = _pair((2, 3))
    d = cx.detach()
    d[0, 0] = 100.0
    assert cx[0, 0].item() == 100.0
    assert cx._version == d._version


def test_unbind_iteration_and_diagonal_view_gradients():
    x = corelib.tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    rows = list(x)
    total = sum((r * (i + 1)).sum() for i, r in enumerate(rows)) + x.diagonal().sum() * 10
    total.backward()
    expected = np.repeat([[1.0], [2.0], [3.0]], 3, axis=1) + 10 * np.eye(3)
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_view_errors():
    x = corelib.zeros(3, 4)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        x.t().view(12)
    with pytest.raises(RuntimeError, match="narrow"):
        x.narrow(0, 2, 2)
    with pytest.raises(IndexError, match="select"):
        x.select(1, 4)
    with pytest.raises(RuntimeError, match="split_with_sizes"):
        x.split([1, 1])
    with pytest.raises(RuntimeError, match="diagonal"):
        x.diagonal(0, 1, -1)
    with pytest.raises(RuntimeError, match="chunk"):
        x.chunk(0)


@pytest.mark.parametrize("split", [lambda y: y.split(2), lambda y: y.chunk(2),
                                   lambda y: y.unbind()])
def test_inplace_on_multi_output_view_requiring_grad_errors_like_torch(split):
    """torch refuses in-place writes into split/chunk/unbind outputs that require grad."""
    for lib in (torch, corelib):
        x = lib.ones(3, 2, requires_grad=True)
        piece = split(x * 1)[-1]
        with pytest.raises(RuntimeError, match="returns multiple views"):
            piece.mul_(2)
        with lib.no_grad():
            piece.mul_(2)   # fine without grad mode
    y = corelib.zeros(3, 2)
    split(y)[-1].add_(1)    # and without autograd
    assert y.sum().item() > 0


def test_split_pieces_share_one_backward_node_and_hooks_work():
    x = corelib.tensor(np.arange(12.0).reshape(6, 2), requires_grad=True)
    pieces = x.split([1, 2, 3])
    assert pieces[0].grad_fn is pieces[2].grad_fn
    seen = []
    pieces[1].register_hook(lambda g: seen.append(g.shape) or g * 10)
    (pieces[1].sum() + (pieces[2] ** 2).sum()).backward()
    expected = np.zeros((6, 2))
    expected[1:3] = 10
    expected[3:] = 2 * np.arange(6.0, 12.0).reshape(3, 2)
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    assert seen == [(2, 2)]
    rows = x.unbind(1)
    g, = corelib.autograd.grad(rows[1].sum() * 3, (x,))
    np.testing.assert_array_equal(g.numpy(), np.repeat([[0.0, 3.0]], 6, axis=0))
