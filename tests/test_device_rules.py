"""Device-generic frontend behaviour, run on every non-cpu device (at least the borrowed "npx"
device of tests/borrowed_device.py): creation, transfer, conversion, repr, checkpoints and
PyTorch's rules for mixing devices (cpu scalars join any device, cpu index tensors index any
device; everything else must be on one device)."""
import numpy as np
import pytest

import corelib
from corelib.testing import assert_close


@pytest.fixture
def dev(device):
    if device == "cpu":
        pytest.skip("needs a device other than cpu")
    return corelib.device(device, 0)


def T(values, dev, **kw):
    return corelib.tensor(values, device=dev, **kw)


SAME_DEVICE = r"Expected all tensors to be on the same device, but found at least two devices"


# --- creation -------------------------------------------------------------------------------
def test_factories_create_on_the_device(dev):
    made = [corelib.zeros(2, 3, device=dev), corelib.ones(2, device=dev),
            corelib.full((2,), 1.5, device=dev), corelib.empty(3, device=dev),
            corelib.arange(4, device=dev), corelib.linspace(0, 1, 5, device=dev),
            corelib.logspace(0, 1, 3, device=dev), corelib.eye(3, device=dev),
            corelib.rand(2, device=dev), corelib.randn(2, device=dev),
            corelib.randint(0, 5, (3,), device=dev), corelib.randperm(4, device=dev),
            corelib.tensor([1.0, 2.0], device=dev), corelib.tensor(np.ones((2, 2)), device=dev),
            corelib.as_tensor([1, 2], device=dev), corelib.tensor(3, device=dev)]
    x = corelib.ones(2, 3, device=dev)
    made += [corelib.zeros_like(x), corelib.ones_like(x), corelib.full_like(x, 2.0),
             corelib.empty_like(x), corelib.rand_like(x), corelib.randn_like(x),
             corelib.randint_like(x, 0, 3), x.new_zeros(2), x.new_ones(2), x.new_full((2,), 3.0),
             x.new_empty(2), x.new_tensor([1.0])]
    for t in made:
        assert t.device == dev
    assert corelib.eye(3, device=dev).tolist() == np.eye(3).tolist()
    assert corelib.arange(4, device=dev).tolist() == [0, 1, 2, 3]


def test_tensor_of_a_tensor_keeps_its_device_unless_told(dev):
    x = T([1.0, 2.0], dev, requires_grad=True)
    y = corelib.tensor(x)
    assert y.device == dev and not y.requires_grad and y.tolist() == [1.0, 2.0]
    y.add_(1)
    assert x.tolist() == [1.0, 2.0]   # a copy
    z = corelib.tensor(x, device="cpu", dtype=corelib.float64)
    assert z.device == corelib.device("cpu") and z.dtype is corelib.float64
    assert corelib.as_tensor(x).device == dev and corelib.as_tensor(x, device="cpu").is_cpu


# --- transfer and conversion ----------------------------------------------------------------
def test_to_and_cpu_round_trip_with_gradients(dev):
    x = corelib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    d = x.to(dev)
    assert d.device == dev and d.grad_fn is not None
    assert d.to(dev) is d and d.to(str(dev)) is d and d.to(d) is d
    back = (d * d).cpu()
    assert back.device == corelib.device("cpu")
    back.sum().backward()
    assert x.grad.device == corelib.device("cpu") and x.grad.tolist() == [2.0, -4.0, 6.0]
    w = corelib.ones(3, device=dev, requires_grad=True)
    (w * 2).to("cpu", corelib.float64).sum().backward()
    assert w.grad.device == dev and w.grad.tolist() == [2.0, 2.0, 2.0]
    c = d.to(dev, copy=True)
    assert c is not d and c.device == dev


def test_host_conversions(dev):
    x = T([[1.5, -2.0], [3.0, 4.0]], dev)
    assert x.tolist() == [[1.5, -2.0], [3.0, 4.0]]
    assert x[0, 0].item() == 1.5 and float(x[1, 0]) == 3.0 and int(x[1, 1]) == 4
    assert bool(x[0, 0]) and [1, 2, 3][T(1, dev)] == 2
    assert np.array_equal(np.asarray(x), [[1.5, -2.0], [3.0, 4.0]])
    assert x.cpu().numpy().shape == (2, 2)
    with pytest.raises(TypeError, match="Use Tensor.cpu"):
        x.numpy()
    assert x.get_device() == dev.index and not x.is_cpu
    assert f"{x[0, 0]:.2f}" == "1.50"


def test_repr_names_the_device(dev):
    assert repr(T([1.0, 2.0], dev)) == f"tensor([1., 2.], device='{dev}')"
    assert repr(T([1, 2], dev, dtype=corelib.int32)) == \
        f"tensor([1, 2], device='{dev}', dtype=corelib.int32)"
    assert repr(corelib.zeros(0, device=dev)) == f"tensor([], device='{dev}')"


def test_copy_and_fill_across_devices(dev):
    x = corelib.zeros(3, device=dev)
    x.copy_(corelib.tensor([1.0, 2.0, 3.0]))
    assert x.device == dev and x.tolist() == [1.0, 2.0, 3.0]
    h = corelib.zeros(3)
    h.copy_(x)
    assert h.tolist() == [1.0, 2.0, 3.0]
    x.fill_(corelib.tensor(7.0))   # a 0-d cpu value
    assert x.tolist() == [7.0] * 3


def test_checkpoints_keep_devices(dev, tmp_path):
    state = {"w": T([[1.0, 2.0]], dev), "cpu": corelib.tensor([3]), "g": corelib.ones(
        2, device=dev, requires_grad=True)}
    corelib.save(state, tmp_path / "s.st")
    loaded = corelib.load(tmp_path / "s.st")
    assert loaded["w"].device == dev and loaded["cpu"].is_cpu
    assert loaded["g"].device == dev and loaded["g"].requires_grad
    assert loaded["w"].tolist() == [[1.0, 2.0]]
    on_cpu = corelib.load(tmp_path / "s.st", map_location="cpu")
    assert all(t.is_cpu for t in on_cpu.values())
    moved = corelib.load(tmp_path / "s.st", map_location={"cpu": str(dev)})
    assert moved["cpu"].device == dev


# --- cpu scalars join other devices ---------------------------------------------------------
def test_binary_ops_accept_cpu_scalar_tensors(dev):
    x = T([1.0, 2.0, 3.0], dev)
    s = corelib.tensor(2.0)
    for out in (x + s, s + x, x * s, s - x, x / s, x ** s, corelib.maximum(x, s),
                corelib.atan2(x, s), x > s, corelib.logical_and(x, s)):
        assert out.device == dev
    assert (s - x).tolist() == [1.0, 0.0, -1.0]
    assert (T([1, 2], dev) / corelib.tensor(2)).tolist() == [0.5, 1.0]   # int true division
    # a 0-d cpu tensor takes part in promotion as a 0-d tensor, wherever it lives
    assert (T([1, 2], dev, dtype=corelib.int32) + corelib.tensor(1)).dtype is corelib.int32
    assert (T([1, 2], dev) + corelib.tensor(0.5)).dtype is corelib.float32
    both = T(1.0, dev) + corelib.tensor(1.0)   # two 0-d tensors: the non-cpu device wins
    assert both.device == dev and both.item() == 2.0


def test_ternary_ops_accept_cpu_scalar_tensors(dev):
    x = T([-2.0, 0.5, 3.0], dev)
    lo, hi = corelib.tensor(-1.0), corelib.tensor(1.0)
    assert corelib.clamp(x, lo, hi).tolist() == [-1.0, 0.5, 1.0]
    assert corelib.where(x > 0, x, corelib.tensor(0.0)).device == dev
    assert corelib.where(x > 0, 1.5, corelib.tensor(0.0)).tolist() == [0.0, 1.5, 1.5]
    assert corelib.where(corelib.tensor(True), x, -x).tolist() == x.tolist()
    assert corelib.addcmul(x, x, corelib.tensor(2.0), value=0.5).tolist() == [-4.0, 1.0, 6.0]
    assert corelib.lerp(x, x * 2, corelib.tensor(0.5)).device == dev
    assert x.masked_fill(x > 0, corelib.tensor(9.0)).tolist() == [-2.0, 9.0, 9.0]


def test_cpu_scalar_gradients_come_back_to_the_cpu(dev):
    x = T([1.0, 2.0], dev, requires_grad=True)
    s = corelib.tensor(3.0, requires_grad=True)
    (x * s).sum().backward()
    assert s.grad.device == corelib.device("cpu") and s.grad.item() == 3.0
    assert x.grad.device == dev and x.grad.tolist() == [3.0, 3.0]
    assert corelib.autograd.gradcheck(lambda a, b: a * b + b, (
        T([0.5, -1.5], dev, dtype=corelib.float64, requires_grad=True),
        corelib.tensor(2.0, dtype=corelib.float64, requires_grad=True)))


def test_in_place_ops_with_cpu_scalars(dev):
    x = T([1.0, 2.0], dev)
    x.add_(corelib.tensor(1.0))
    x.mul_(corelib.tensor(2.0))
    assert x.device == dev and x.tolist() == [4.0, 6.0]
    h = corelib.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match=SAME_DEVICE):
        h.add_(T(1.0, dev))   # only cpu scalars move; a device scalar does not join the cpu


def test_other_device_mixes_raise(dev):
    x = T([1.0, 2.0], dev)
    h = corelib.tensor([1.0, 2.0])
    for fn in (lambda: x + h, lambda: h + x, lambda: h * T(2.0, dev),
               lambda: corelib.where(h > 0, x, x), lambda: corelib.clamp(x, h, None),
               lambda: corelib.matmul(x, h), lambda: corelib.cat([x, h]),
               lambda: corelib.stack([x, h]), lambda: corelib.dot(x, h)):
        with pytest.raises(RuntimeError, match=SAME_DEVICE):
            fn()
    with pytest.raises(RuntimeError, match=f"{SAME_DEVICE}, {dev} and cpu!"):
        x + h


def test_out_must_be_on_the_result_device(dev):
    x = T([1.0, 2.0], dev)
    with pytest.raises(RuntimeError, match="Expected out tensor to have device"):
        corelib.add(x, x, out=corelib.zeros(2))
    with pytest.raises(RuntimeError, match="Expected out tensor to have device"):
        corelib.sum(x, 0, out=corelib.zeros(()))
    out = corelib.zeros(2, device=dev)
    corelib.add(x, corelib.tensor(1.0), out=out)
    assert out.tolist() == [2.0, 3.0]


# --- indexing -------------------------------------------------------------------------------
def test_cpu_indices_index_any_device(dev):
    x = T([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], dev, requires_grad=True)
    rows = corelib.tensor([1, 0, 1])
    for y in (x[rows], x[[1, 0, 1]], x[rows.to(dev)], x[np.array([1, 0, 1])]):
        assert y.device == dev and y.tolist() == [[3.0, 4.0, 5.0], [0.0, 1.0, 2.0],
                                                  [3.0, 4.0, 5.0]]
    m = corelib.tensor([[True, False, True], [False, True, False]])
    assert x[m].device == dev and x[m].tolist() == [0.0, 2.0, 4.0]
    assert x[True].shape == (1, 2, 3) and x[True].device == dev
    x[rows, 2].sum().backward()
    assert x.grad.device == dev and x.grad.tolist() == [[0.0, 0.0, 1.0], [0.0, 0.0, 2.0]]


def test_cpu_indices_write_any_device(dev):
    x = corelib.zeros(2, 3, device=dev)
    x[corelib.tensor([1])] = corelib.tensor([1.0, 2.0, 3.0])   # cpu index, cpu value
    x[corelib.tensor([[True, False, True], [False, False, False]])] = 5.0
    x[0, corelib.tensor([1])] = corelib.tensor(7.0)
    assert x.device == dev and x.tolist() == [[5.0, 7.0, 5.0], [1.0, 2.0, 3.0]]
    y = x.index_put((corelib.tensor([0, 0]), corelib.tensor([0, 1])), corelib.tensor(9.0),
                    accumulate=True)
    assert y.device == dev and y[0].tolist() == [14.0, 16.0, 5.0]
    x.index_put_((corelib.tensor([1]),), T([0.0, 0.0, 0.0], dev))
    assert x[1].tolist() == [0.0, 0.0, 0.0]
    w = corelib.zeros(3, device=dev, requires_grad=True)
    v = corelib.zeros(3, device=dev)
    v[corelib.tensor([0, 2])] = w[corelib.tensor([1, 1])] * 2   # tracked write, cpu indices
    v.sum().backward()
    assert w.grad.tolist() == [0.0, 4.0, 0.0]


def test_indices_on_another_device_are_refused(dev):
    h = corelib.tensor([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match=r"indices should be either on cpu or on the same "
                                           r"device as the indexed tensor \(cpu\)"):
        h[T([0], dev)]
    with pytest.raises(RuntimeError, match="indices should be either on cpu"):
        h[T([0], dev)] = 1.0


def test_index_ops_need_one_device(dev):
    x = T([[1.0, 2.0], [3.0, 4.0]], dev)
    idx = corelib.tensor([1, 0])
    for fn in (lambda: corelib.index_select(x, 0, idx),
               lambda: corelib.gather(x, 1, corelib.tensor([[0], [1]])),
               lambda: corelib.scatter(x, 0, corelib.tensor([[1, 0]]), x[:1]),
               lambda: corelib.index_add(x, 0, idx, x),
               lambda: corelib.take(x, idx),
               lambda: corelib.masked_select(x, corelib.tensor([[True, False], [True, True]])),
               lambda: corelib.nn.functional.embedding(idx, x)):
        with pytest.raises(RuntimeError, match=SAME_DEVICE):
            fn()


# --- autograd on a device -------------------------------------------------------------------
def test_views_in_place_writes_and_double_backward(dev):
    def grads(device):
        a = corelib.tensor([1.0, 2.0, 3.0, 4.0], dtype=corelib.float64, device=device,
                           requires_grad=True)
        b = a * 1
        b[1:3].mul_(a[:2])   # an in-place write through a view, rebased into b's history
        b[corelib.tensor([0])] = 5.0
        g, = corelib.autograd.grad((b * b).sum(), a, create_graph=True)
        gg, = corelib.autograd.grad((g * g).sum(), a)
        return g, gg
    (g, gg), (g_cpu, gg_cpu) = grads(dev), grads("cpu")
    assert g.device == dev and gg.device == dev
    assert_close(g, g_cpu)
    assert_close(gg, gg_cpu)
    x = corelib.tensor([0.3, -0.7], dtype=corelib.float64, device=dev, requires_grad=True)
    assert corelib.autograd.gradgradcheck(lambda t: (t.sin() * t[corelib.tensor([1, 0])]).sum(),
                                          (x,))


# --- nn on a device -------------------------------------------------------------------------
def test_module_training_step_on_the_device(dev):
    corelib.manual_seed(0)
    net = corelib.nn.Sequential(corelib.nn.Linear(4, 8), corelib.nn.ReLU(),
                                corelib.nn.BatchNorm1d(8), corelib.nn.Linear(8, 3)).to(dev)
    opt = corelib.optim.Adam(net.parameters(), lr=0.01)
    x, y = corelib.randn(16, 4, device=dev), corelib.randint(0, 3, (16,), device=dev)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = corelib.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        corelib.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    assert all(t.device == dev for t in list(net.parameters()) + list(net.buffers()))
    assert all(s.device == dev for st in opt.state_dict()["state"].values()
               for s in st.values() if isinstance(s, corelib.Tensor) and s.ndim)
    assert_close(net.cpu()(x.cpu()), net(x.cpu()))


# --- the borrowed device itself -------------------------------------------------------------
def test_the_borrowed_device_refuses_numpy_and_cpu_data(device):
    if device != "npx":
        pytest.skip("checks tests/borrowed_device.py")
    from corelib.dispatch import registry
    x = corelib.ones(2, device="npx")
    with pytest.raises(TypeError, match="implicit conversion"):
        np.asarray(x._data)
    with pytest.raises(TypeError, match="NumPy array"):
        registry.kernel("add", "npx")(x._data, corelib.ones(2)._data)
    with pytest.raises(TypeError, match="expected an npx array"):
        registry.backend("npx").to_numpy(corelib.ones(2)._data)


def test_a_kernel_error_names_op_device_and_plugin(device):
    """An error raised inside a kernel says which op, which device and whose plugin."""
    from corelib.dispatch import registry
    a, b = corelib.ones(3, device=device), corelib.ones(4, device=device)
    with pytest.raises(RuntimeError) as info:
        a + b
    message = str(info.value)
    plugin = registry.backends[corelib.device(device).type].distribution
    assert message.startswith("add(): The size of tensor a (3) must match the size of tensor b")
    assert f"(kernel of device '{corelib.device(device).type}', plugin '{plugin}')" in message
