"""Indexing behaviour vs torch: advanced/boolean reads and writes, augmented assignment,
repeated-index gradients, in-place index ops, negative indices and errors."""
import numpy as np
import pytest

import corelib

from torch_reference import torch

DATA = np.arange(20.0).reshape(4, 5) - 7.5


def _both(data=DATA, requires_grad=False):
    return (corelib.tensor(data, requires_grad=requires_grad),
            torch.tensor(data, requires_grad=requires_grad))


def _same(a, b):
    np.testing.assert_allclose(np.asarray(a.detach().numpy()), b.detach().numpy(), rtol=1e-12,
                               atol=1e-12)
    assert a.shape == tuple(b.shape)


KEYS = {
    "int_list": lambda m: m.tensor([0, -1, 2, 2]),
    "two_tensors": lambda m: (m.tensor([[0, 1], [3, 3]]), m.tensor([-1, 0])),
    "slice_and_tensor": lambda m: (slice(1, None), m.tensor([4, 0, 4])),
    "bool_mask": lambda m: m.tensor(DATA > 0),
    "row_mask": lambda m: m.tensor([True, False, True, True]),
    "mask_and_int": lambda m: (m.tensor([True, False, True, False]), -2),
    "none_and_tensor": lambda m: (None, m.tensor([1, 1])),
    "ellipsis": lambda m: (Ellipsis, m.tensor([3, 3, 0])),
}


@pytest.mark.parametrize("name", sorted(KEYS))
def test_advanced_read_and_gradient_accumulate_repeats(name):
    cx, tx = _both(requires_grad=True)
    ck, tk = KEYS[name](corelib), KEYS[name](torch)
    cy, ty = cx[ck], tx[tk]
    _same(cy, ty)
    w = np.linspace(-1, 2, cy.numel()).reshape(tuple(cy.shape))
    (cy * corelib.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    _same(cx.grad, tx.grad)


@pytest.mark.parametrize("name", sorted(KEYS))
def test_advanced_write_and_augmented_assignment(name):
    cx, tx = _both()
    ck, tk = KEYS[name](corelib), KEYS[name](torch)
    cx[ck] = -100.0
    tx[tk] = -100.0
    _same(cx, tx)
    cx[ck] += 3.0
    tx[tk] += 3.0
    _same(cx, tx)
    # one value per destination element (its flat position + 1): keys that repeat an index
    # write the same value each time (PyTorch leaves which of differing values wins undefined)
    cv = corelib.tensor((torch.arange(1.0, 21.0, dtype=torch.float64).reshape(4, 5)[tk]).numpy())
    cx[ck] *= cv
    tx[tk] *= torch.tensor(cv.numpy())
    _same(cx, tx)


def test_mask_assignment_and_augmented_basic_views():
    cx, tx = _both()
    cx[cx > 0] = 0
    tx[tx > 0] = 0
    cx[1:, 2] += 5
    tx[1:, 2] += 5
    cx[..., -1] -= corelib.tensor([1.0, 2.0, 3.0, 4.0])
    tx[..., -1] -= torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    _same(cx, tx)


def test_setitem_gradients_match_torch():
    results = []
    for lib in (corelib, torch):
        x = lib.tensor(DATA, requires_grad=True)
        w = lib.tensor([1.5, -2.0, 3.0], dtype=lib.float64, requires_grad=True)
        y = x * 2
        y[lib.tensor([0, 2, 3]), 1] = w
        y[y > 20] = 0.0
        y[1:3, lib.tensor([4, 0])] += w[:2] * w[:2]
        loss = (y * y).sum()
        gx, gw = lib.autograd.grad(loss, (x, w))
        results.append((y.detach().numpy(), gx.numpy(), gw.numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_index_put_accumulates_repeated_indices():
    cx, tx = _both()
    idx = ([0, 0, 3, 0], [1, 1, 2, 1])
    v = np.array([1.0, 2.0, 3.0, 4.0])
    ours = cx.index_put(tuple(corelib.tensor(i) for i in idx), corelib.tensor(v), True)
    theirs = tx.index_put(tuple(torch.tensor(i) for i in idx), torch.tensor(v), True)
    _same(ours, theirs)
    cx.index_put_(tuple(corelib.tensor(i) for i in idx), corelib.tensor(v), accumulate=True)
    _same(cx, theirs)


INPLACE = {
    "scatter_": lambda m, x: x.scatter_(1, m.tensor([[0, 4], [2, 1]]), -1.0),
    "scatter_src": lambda m, x: x.scatter_(0, m.tensor([[3, 0, 1]]),
                                          m.tensor([[9.0, 8.0, 7.0]], dtype=m.float64)),
    "scatter_add_": lambda m, x: x.scatter_add_(1, m.tensor([[0, 0], [4, 4]]),
                                                m.ones(2, 2, dtype=m.float64)),
    "scatter_reduce_": lambda m, x: x.scatter_reduce_(
        0, m.tensor([[1, 1, 1], [1, 1, 0]]), m.tensor([[1.0] * 3, [50.0] * 3],
                                                       dtype=m.float64), "amax",
        include_self=False),
    "index_add_": lambda m, x: x.index_add_(0, m.tensor([1, 1]), m.ones(2, 5, dtype=m.float64),
                                            alpha=3),
    "index_copy_": lambda m, x: x.index_copy_(1, m.tensor([4, 0]),
                                              m.zeros(4, 2, dtype=m.float64)),
    "index_fill_": lambda m, x: x.index_fill_(1, m.tensor([-1, 2]), 7.0),
    "masked_fill_": lambda m, x: x.masked_fill_(x < 0, m.tensor(0.5, dtype=m.float64)),
    "masked_scatter_": lambda m, x: x.masked_scatter_(
        m.tensor([True, False, True, False, True]), m.arange(20.0, dtype=m.float64)),
    "put_": lambda m, x: x.put_(m.tensor([-1, 0, 0]), m.tensor([1.0, 2.0, 3.0],
                                                               dtype=m.float64),
                                accumulate=True),
    "tril_": lambda m, x: x.tril_(1),
    "triu_": lambda m, x: x.triu_(-1),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_index_ops_match_torch_and_bump_version(name):
    cx, tx = _both()
    view = cx[1:]
    v0 = cx._version
    out = INPLACE[name](corelib, cx)
    INPLACE[name](torch, tx)
    assert out is cx
    _same(cx, tx)
    assert cx._version > v0 and view._version == cx._version


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_index_ops_gradients_match_torch(name):
    results = []
    for lib in (corelib, torch):
        x = lib.tensor(DATA, requires_grad=True)
        y = x * x
        INPLACE[name](lib, y)
        g, = lib.autograd.grad((y * lib.tensor(DATA)).sum(), (x,))
        results.append(g.numpy())
    np.testing.assert_allclose(*results, rtol=1e-12)


def test_scatter_gradient_when_src_is_larger_than_index():
    x = corelib.tensor(DATA, requires_grad=True)
    src = corelib.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    idx = corelib.tensor([[0, 3], [1, 2]])
    for fn in (lambda a, s: a.scatter(1, idx, s), lambda a, s: a.scatter_add(1, idx, s),
               lambda a, s: a.scatter_reduce(1, idx, s, "mean", include_self=False)):
        assert corelib.autograd.gradcheck(fn, (x, src))
        g, = corelib.autograd.grad(fn(x, src).sum(), (src,))
        assert g.shape == src.shape and g[2].abs().sum().item() == 0


def test_scatter_reduce_amax_ties_share_gradient_like_torch():
    results = []
    for lib in (corelib, torch):
        x = lib.tensor([1.0, 5.0, 2.0], dtype=lib.float64, requires_grad=True)
        src = lib.tensor([5.0, 5.0, 0.0, 2.0], dtype=lib.float64, requires_grad=True)
        out = x.scatter_reduce(0, lib.tensor([1, 1, 0, 2]), src, "amax")
        gx, gs = lib.autograd.grad((out * lib.tensor([1.0, 2.0, 3.0],
                                                     dtype=lib.float64)).sum(), (x, src))
        results.append((out.detach().numpy(), gx.numpy(), gs.numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b)


def test_nonzero_results_index_like_torch():
    cx, tx = _both()
    _same(cx[(cx > 3).nonzero(as_tuple=True)], tx[(tx > 3).nonzero(as_tuple=True)])
    _same(corelib.where(cx > 3)[1], torch.where(tx > 3)[1])
    _same(corelib.argwhere(cx < -5), torch.argwhere(tx < -5))


ERRORS = {
    "getitem": (lambda m, x: x[m.tensor([4])], IndexError),
    "getitem_neg": (lambda m, x: x[:, m.tensor([-6])], IndexError),
    "gather": (lambda m, x: x.gather(1, m.tensor([[5]])), RuntimeError),
    "gather_neg": (lambda m, x: x.gather(1, m.tensor([[-1]])), RuntimeError),
    "gather_float_index": (lambda m, x: x.gather(1, m.tensor([[0.0]])), RuntimeError),
    "scatter": (lambda m, x: x.scatter(0, m.tensor([[4]]), 1.0), RuntimeError),
    "scatter_dtype": (lambda m, x: x.scatter(0, m.tensor([[0]]), m.ones(1, 1)), RuntimeError),
    "index_select": (lambda m, x: x.index_select(1, m.tensor([5])), RuntimeError),
    "index_add": (lambda m, x: x.index_add(0, m.tensor([-1]), m.ones(1, 5, dtype=m.float64)),
                  RuntimeError),
    "index_copy": (lambda m, x: x.index_copy(1, m.tensor([5]), m.ones(4, 1, dtype=m.float64)),
                   IndexError),
    "take": (lambda m, x: x.take(m.tensor([20])), IndexError),
    "put": (lambda m, x: x.put(m.tensor([20]), m.ones(1, dtype=m.float64)), IndexError),
    "masked_fill_mask": (lambda m, x: x.masked_fill(m.tensor([1, 0, 1, 0, 1]), 0.0),
                         RuntimeError),
    "masked_fill_value": (lambda m, x: x.masked_fill(x > 0, m.ones(2)), RuntimeError),
    "cat_0d": (lambda m, x: m.cat([x[0, 0]]), RuntimeError),
    "cat_sizes": (lambda m, x: m.cat([x, x[:, :2]]), RuntimeError),
    "stack_sizes": (lambda m, x: m.stack([x, x[:2]]), RuntimeError),
    "diag_3d": (lambda m, x: m.diag(x[None]), RuntimeError),
    "trace_1d": (lambda m, x: m.trace(x[0]), RuntimeError),
    "tril_1d": (lambda m, x: m.tril(x[0]), RuntimeError),
    "roll_align": (lambda m, x: m.roll(x, (1, 2), (0,)), RuntimeError),
    "flip_repeat": (lambda m, x: m.flip(x, (0, 0)), RuntimeError),
    "repeat_dims": (lambda m, x: x.repeat(2), RuntimeError),
    "reflect_too_big": (lambda m, x: _pad(m)(x[None], (5, 5), mode="reflect"), RuntimeError),
}


def _pad(lib):
    return torch.nn.functional.pad if lib is torch else corelib._ops.shape.pad


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_torch_types_and_name_the_op(name):
    fn, exc = ERRORS[name]
    cx, tx = _both()
    before = cx.numpy().copy()
    with pytest.raises(exc):
        fn(torch, tx)
    with pytest.raises(exc) as info:
        fn(corelib, cx)
    op = name.split("_")[0]
    assert op in str(info.value) or name.startswith(("getitem", "reflect", "masked", "flip",
                                                      "repeat", "stack", "cat", "roll"))
    np.testing.assert_array_equal(cx.numpy(), before)


@pytest.mark.parametrize("requires_grad", [False, True])
def test_out_of_range_advanced_index_names_the_op(requires_grad):
    x = corelib.zeros(4, 3, requires_grad=requires_grad)
    with pytest.raises(IndexError, match=r"getitem\(\).*index 4 is out of bounds for dimension 0"):
        x[corelib.tensor([0, 4])]
    y = x * 1
    with pytest.raises(IndexError, match=r"setitem\(\).*index -5 is out of bounds"):
        y[corelib.tensor([-5])] = 1.0
    np.testing.assert_array_equal(y.detach().numpy(), np.zeros((4, 3)))


def test_failed_inplace_scatter_leaves_input_untouched():
    cx, _ = _both()
    before = cx.numpy().copy()
    v0 = cx._version
    with pytest.raises(RuntimeError, match="scatter"):
        cx.scatter_(1, corelib.tensor([[0, 9]]), 1.0)
    with pytest.raises(IndexError, match="put"):
        cx.put_(corelib.tensor([0, 99]), corelib.tensor([1.0, 2.0], dtype=corelib.float64))
    np.testing.assert_array_equal(cx.numpy(), before)
    assert cx._version == v0


@pytest.mark.parametrize("key", ["0, :, idx", ":, 0, idx", "1, :, idx, 3", "..., 2, idx2",
                                 "0, None, :, idx", "idx2, 1, 1:3, 0"])
def test_integers_apply_before_index_tensors(key, device):
    """As PyTorch: integers select first, then the index tensors act on what remains
    (x[0, :, idx] is x[0][:, idx]; NumPy would move the indexed dims to the front)."""
    x_np = np.arange(120.0).reshape(3, 2, 5, 4)
    idx_np, idx2_np = np.array([0, 1, 2, 3, 4, 0]), np.array([0, 2])
    parts = [p.strip() for p in key.split(",")]
    ints_first = tuple(int(p) if p.lstrip("-").isdigit() else
                       None if p == "None" else Ellipsis if p == "..." else
                       slice(*(int(v) if v else None for v in p.split(":")))
                       if ":" in p else slice(None) for p in parts)
    rest = tuple(idx_np if p == "idx" else idx2_np if p == "idx2" else Ellipsis if p == "..."
                 else slice(None) for p in parts if not p.lstrip("-").isdigit())
    expected = x_np[ints_first][rest]
    env = {"idx": corelib.tensor(idx_np, device=device), "idx2": corelib.tensor(idx2_np, device=device)}
    x = corelib.tensor(x_np, device=device)
    got = eval(f"x[{key}]", {"x": x, **env})
    np.testing.assert_array_equal(got.cpu().numpy(), expected)
    # the value written to each element is its own flat position (+ 1000): idx repeats 0, and
    # which of two differing values lands there is undefined (PyTorch; any order on a GPU)
    value = (np.arange(x_np.size, dtype=np.float64).reshape(x_np.shape) + 1000)[ints_first][rest]
    exec(f"x[{key}] = v", {"x": x, "v": corelib.tensor(value, device=device), **env})
    written = x_np.copy()
    written[ints_first][rest] = value
    np.testing.assert_array_equal(x.cpu().numpy(), written)


def test_gather_scatter_accept_int32_and_any_empty_index(device):
    """As PyTorch: gather/scatter take int32 as well as int64 indices; an empty index of any
    dtype gives an empty gather and an unchanged scatter, shapes unchecked; other dtypes raise."""
    x_np = np.arange(50.0).reshape(10, 5)
    idx_np = np.random.default_rng(0).integers(0, 10, (4, 5))
    x = corelib.tensor(x_np, device=device, requires_grad=True)
    idx = corelib.tensor(idx_np.astype(np.int32), device=device)
    np.testing.assert_array_equal(corelib.gather(x, 0, idx).detach().cpu().numpy(),
                                  np.take_along_axis(x_np, idx_np, 0))
    src = corelib.ones(4, 5, dtype=corelib.float64, device=device)
    expected = x_np.copy()
    np.put_along_axis(expected, idx_np, 1.0, 0)
    np.testing.assert_array_equal(corelib.scatter(x, 0, idx, src).detach().cpu().numpy(),
                                  expected)
    empty = corelib.zeros(2, 0, dtype=corelib.uint8, device=device)
    g = corelib.gather(x, 0, empty)
    assert tuple(g.shape) == (2, 0)
    src = corelib.ones(3, dtype=corelib.float64, device=device, requires_grad=True)
    s = corelib.scatter(x, 1, corelib.zeros(0, dtype=corelib.int64, device=device), src)
    np.testing.assert_array_equal(s.detach().cpu().numpy(), x_np)
    (g.sum() + s.sum()).backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), np.ones_like(x_np))
    np.testing.assert_array_equal(src.grad.cpu().numpy(), np.zeros(3))
    with pytest.raises(RuntimeError, match="gather.*int32/int64"):
        corelib.gather(x, 0, corelib.zeros(2, 5, dtype=corelib.int16, device=device))
    with pytest.raises(RuntimeError, match="scatter_add.*int32/int64"):
        corelib.scatter_add(x, 0, corelib.zeros(2, 5, dtype=corelib.uint8, device=device),
                            x[:2])


def test_flip_and_permute_take_dims_by_keyword(device):
    x_np = np.arange(24.0).reshape(2, 3, 4)
    x = corelib.tensor(x_np, device=device)
    np.testing.assert_array_equal(corelib.flip(x, dims=(0, 2)).cpu().numpy(),
                                  np.flip(x_np, (0, 2)))
    np.testing.assert_array_equal(x.flip(dims=[-1]).cpu().numpy(), np.flip(x_np, -1))
    np.testing.assert_array_equal(x.flip(dims=()).cpu().numpy(), x_np)
    np.testing.assert_array_equal(x.permute(dims=(2, 0, 1)).cpu().numpy(),
                                  x_np.transpose(2, 0, 1))
    with pytest.raises(TypeError, match="multiple values for argument 'dims'"):
        corelib.flip(x, 0, dims=(0,))
    with pytest.raises(TypeError, match="flip.*missing"):
        x.flip()


def test_index_fill_value_gradient_counts_each_filled_position_once(device):
    """As PyTorch: a repeated index fills a position once, so the value's gradient sums g
    over the distinct filled positions."""
    x = corelib.zeros(4, 5, dtype=corelib.float64, device=device, requires_grad=True)
    v = corelib.tensor(2.0, dtype=corelib.float64, device=device, requires_grad=True)
    idx = corelib.tensor([2, 1, 4, 2, 2, -1], device=device)
    g_np = np.arange(20.0).reshape(4, 5)
    (corelib.index_fill(x, 1, idx, v) * corelib.tensor(g_np, device=device)).sum().backward()
    assert v.grad.item() == g_np[:, [1, 2, 4]].sum()
    expected = g_np.copy()
    expected[:, [1, 2, 4]] = 0
    np.testing.assert_array_equal(x.grad.cpu().numpy(), expected)


@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_prod_gradient_with_zeros_matches_torch(include_self, torch, device):
    """The gradient of a product with zero factors is the product of the other factors (one
    zero), or zero (several), as PyTorch's explicit zero handling."""
    x_np = np.array([[0.0, 13.0], [0.0, 17.0], [2.0, 0.0]])
    src_np = np.array([[0.0, 1.0, 2.0, 3.0], [0.0, 4.0, 0.0, 1.0], [2.0, 3.0, 5.0, 6.0]])
    idx_np = np.array([[1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 0, 1]])
    g_np = np.arange(1.0, 7.0).reshape(3, 2)
    x = corelib.tensor(x_np, device=device, requires_grad=True)
    src = corelib.tensor(src_np, device=device, requires_grad=True)
    out = corelib.scatter_reduce(x, 1, corelib.tensor(idx_np, device=device), src, "prod",
                                 include_self=include_self)
    (out * corelib.tensor(g_np, device=device)).sum().backward()
    tx, ts = torch.tensor(x_np, requires_grad=True), torch.tensor(src_np, requires_grad=True)
    (torch.scatter_reduce(tx, 1, torch.tensor(idx_np), ts, "prod", include_self=include_self)
     * torch.tensor(g_np)).sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.numpy())
    np.testing.assert_allclose(src.grad.cpu().numpy(), ts.grad.numpy())
