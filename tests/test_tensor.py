"""Tensor basics: creation, dtype inference and promotion, conversion, repr, devices."""
import itertools

import numpy as np
import pytest

import corelib

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def test_tensor_infers_dtypes_like_torch():
    assert corelib.tensor([1, 2]).dtype is corelib.int64
    assert corelib.tensor([1.0, 2]).dtype is corelib.float32
    assert corelib.tensor([True]).dtype is corelib.bool
    assert corelib.tensor(np.zeros(2, np.float64)).dtype is corelib.float64
    assert corelib.tensor(np.zeros(2, np.int32)).dtype is corelib.int32
    assert corelib.tensor(3.5).shape == () and corelib.tensor([]).shape == (0,)
    assert corelib.tensor([[1, 2], [3, 4]], dtype=corelib.float16).dtype is corelib.float16
    with pytest.raises((TypeError, ValueError)):
        corelib.tensor([[1, 2], [3]])


def test_default_dtype_round_trip():
    assert corelib.get_default_dtype() is corelib.float32
    corelib.set_default_dtype(corelib.float64)
    try:
        assert corelib.tensor([1.0]).dtype is corelib.float64
        assert (corelib.tensor([1, 2]) * 0.5).dtype is corelib.float64
    finally:
        corelib.set_default_dtype(corelib.float32)
    with pytest.raises(TypeError):
        corelib.set_default_dtype(corelib.int64)


def test_from_numpy_shares_memory_and_numpy_round_trip():
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = corelib.from_numpy(arr)
    arr[0, 0] = 42
    assert t[0, 0].item() == 42
    assert np.shares_memory(t.numpy(), arr)
    assert np.array_equal(np.asarray(t), arr)
    assert t.tolist() == arr.tolist()


def test_dlpack_round_trip():
    t = corelib.arange(6, dtype=corelib.float32).reshape(2, 3)
    back = corelib.from_dlpack(t)
    assert back.tolist() == t.tolist() and back.dtype is corelib.float32
    np.testing.assert_array_equal(np.from_dlpack(t), t.numpy())


def test_item_bool_int_float_and_errors():
    t = corelib.tensor([2.5])
    assert t.item() == 2.5 and float(t) == 2.5 and int(t) == 2 and bool(t)
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        corelib.ones(2).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(corelib.ones(2))
    assert [1, 2, 3][corelib.tensor(1)] == 2


def test_creation_ops_match_numpy():
    assert np.array_equal(corelib.arange(5).numpy(), np.arange(5))
    assert corelib.arange(0, 1, 0.25).dtype is corelib.float32
    np.testing.assert_allclose(corelib.arange(0, 1, 0.25).numpy(), np.arange(0, 1, 0.25))
    np.testing.assert_allclose(corelib.linspace(-1, 1, 5).numpy(), np.linspace(-1, 1, 5))
    assert np.array_equal(corelib.eye(3, 2).numpy(), np.eye(3, 2, dtype=np.float32))
    assert corelib.full((2, 2), 7).dtype is corelib.int64
    assert corelib.full((2,), 1.5).tolist() == [1.5, 1.5]
    z = corelib.zeros(2, 3, dtype=corelib.int8)
    assert z.shape == (2, 3) and z.dtype is corelib.int8 and not z.numpy().any()
    assert corelib.ones_like(z).numpy().all() and corelib.empty(0, 4).shape == (0, 4)
    with pytest.raises(RuntimeError, match="negative dimension"):
        corelib.zeros(-1)


def test_random_creation_reproducible():
    corelib.manual_seed(0)
    a = corelib.rand(3, 4)
    corelib.manual_seed(0)
    b = corelib.rand(3, 4)
    assert a.tolist() == b.tolist()
    g = corelib.Generator().manual_seed(5)
    c1 = corelib.randn(100, generator=g)
    g.manual_seed(5)
    c2 = corelib.randn(100, generator=g)
    assert c1.tolist() == c2.tolist()
    r = corelib.randint(10, (1000,))
    assert r.dtype is corelib.int64 and 0 <= r.numpy().min() and r.numpy().max() < 10
    u = corelib.rand(20000).numpy()
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.02
    n = corelib.randn(20000).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05
    p = corelib.randperm(10)
    assert sorted(p.tolist()) == list(range(10))


@pytest.mark.parametrize("a,b", list(itertools.product(DTYPES, DTYPES)))
def test_promotion_table_matches_torch(a, b, torch):
    assert corelib.promote_types(getattr(corelib, a), getattr(corelib, b)).name == \
        str(torch.promote_types(getattr(torch, a), getattr(torch, b))).split(".")[1]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("other", [2, 2.5, True, "zero_dim_f64", "zero_dim_i64"])
def test_scalar_and_zero_dim_promotion_matches_torch(dtype, other, torch):
    x = corelib.ones(3, dtype=getattr(corelib, dtype))
    tx = torch.ones(3, dtype=getattr(torch, dtype))
    if other == "zero_dim_f64":
        o, to = corelib.tensor(1.0, dtype=corelib.float64), torch.tensor(1.0, dtype=torch.float64)
    elif other == "zero_dim_i64":
        o, to = corelib.tensor(1), torch.tensor(1)
    else:
        o = to = other
    assert (x * o).dtype.name == str((tx * to).dtype).split(".")[1]


def test_repr_matches_torch(torch):
    cases = [[1.0, 2.5, -3.0], [1.0, 2.0], [[1, 2], [3, 4]], [True, False], 3.25, [1e-5, 1e3],
             [], [[0.1234567, 100.0], [-2.0, 3.0]]]
    for data in cases:
        ours = repr(corelib.tensor(data))
        theirs = repr(torch.tensor(data)).replace("torch.", "corelib.")
        assert ours == theirs, (ours, theirs)
    ours = repr(corelib.tensor([1.5, 2.0], dtype=corelib.float64, requires_grad=True))
    assert ours == repr(torch.tensor([1.5, 2.0], dtype=torch.float64,
                                     requires_grad=True)).replace("torch.", "corelib.")
    x = corelib.tensor([1.0], requires_grad=True) * 2
    assert repr(x) == "tensor([2.], grad_fn=<MulBackward0>)"
    assert repr(corelib.zeros(0, 3)) == repr(torch.zeros(0, 3))


def test_to_and_type_conversions():
    t = corelib.tensor([1.7, -2.2])
    assert t.long().tolist() == [1, -2] and t.to(corelib.int32).dtype is corelib.int32
    assert t.double().dtype is corelib.float64 and t.half().dtype is corelib.float16
    assert t.to("cpu") is t and t.cpu() is t
    assert t.to(corelib.float32) is t and t.to(corelib.float32, copy=True) is not t
    other = corelib.zeros(1, dtype=corelib.float64)
    assert t.to(other).dtype is corelib.float64
    assert t.type() == "corelib.FloatTensor" and t.bool().tolist() == [True, True]


def test_device_objects():
    assert corelib.device("cuda:1").index == 1 and corelib.device("cpu").type == "cpu"
    assert corelib.device("cuda", 0) == "cuda:0" and str(corelib.device("cuda:0")) == "cuda:0"
    with pytest.raises(ValueError):
        corelib.device("cuda:x")
    t = corelib.ones(2)
    assert t.device == corelib.device("cpu") and t.is_cpu and not t.is_cuda


def test_missing_device_backend_error():
    with pytest.raises(RuntimeError, match="no backend provides device 'nosuchdev'"):
        corelib.ones(2, device="nosuchdev")


def test_metadata_methods():
    t = corelib.zeros(2, 3, 4)
    assert t.size() == (2, 3, 4) and t.size(-1) == 4 and t.dim() == 3 and t.numel() == 24
    assert t.shape == corelib.Size([2, 3, 4]) and repr(t.shape) == "corelib.Size([2, 3, 4])"
    assert t.element_size() == 4 and t.nbytes == 96 and len(t) == 2
    assert t.stride() == (12, 4, 1) and t.is_contiguous()
    assert not t.transpose(0, 2).is_contiguous()
    with pytest.raises(IndexError, match="Dimension out of range"):
        t.size(3)


def test_pickle_is_refused():
    import pickle
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(corelib.ones(2))


def test_deepcopy_keeps_values_and_grad_flag():
    import copy
    t = corelib.tensor([1.0, 2.0], requires_grad=True)
    c = copy.deepcopy(t)
    assert c is not t and c.requires_grad and c.tolist() == t.tolist()
    c.detach().zero_()
    assert t.tolist() == [1.0, 2.0]


def test_cast_to_a_dtype_the_device_does_not_store_raises(device):
    """A cast to a dtype the device's backend does not store (bfloat16 on corelib's NumPy CPU
    backend) raises TypeError at once, not a tensor whose backward fails later."""
    from corelib.dispatch import registry
    x = corelib.ones(2, 3, device=device, requires_grad=True)
    for dt in (corelib.bfloat16, corelib.float16, corelib.float64):
        if dt.name in registry.backend(x.device.type).dtypes:
            y = x.to(dt)
            y.sum().backward()
            np.testing.assert_array_equal(x.grad.cpu().numpy(), np.ones((2, 3)))
            x.grad = None
        else:
            with pytest.raises(TypeError, match="does not support dtype"):
                x.to(dt)
