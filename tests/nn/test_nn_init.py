"""nn.init: gains vs torch, distribution bounds and moments, fan computation, errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import corelib
from corelib.nn import init


def test_calculate_gain_matches_torch(torch):
    for name, param in [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                        ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                        ("selu", None), ("conv_transpose1d", None)]:
        assert init.calculate_gain(name, param) == torch.nn.init.calculate_gain(name, param)
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("cosine")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


def _values(t):
    return t.detach().numpy().ravel()


def test_uniform_and_normal_moments():
    t = corelib.empty(200, 100)
    init.uniform_(t, -2.0, 3.0)
    v = _values(t)
    assert v.min() >= -2.0 and v.max() <= 3.0
    assert abs(v.mean() - 0.5) < 0.05 and abs(v.var() - 25 / 12) < 0.1
    init.normal_(t, 1.0, 0.5)
    v = _values(t)
    assert abs(v.mean() - 1.0) < 0.02 and abs(v.std() - 0.5) < 0.02


def test_kaiming_and_xavier_bounds_and_variance():
    w = corelib.empty(256, 64, 3)   # fan_in 192, fan_out 768
    init.kaiming_uniform_(w, a=math.sqrt(5))
    bound = math.sqrt(3) * math.sqrt(2 / (1 + 5)) / math.sqrt(192)
    v = _values(w)
    assert np.abs(v).max() <= bound and np.abs(v).max() > 0.98 * bound
    assert abs(v.var() - bound ** 2 / 3) < 0.05 * bound ** 2 / 3
    init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert abs(_values(w).std() - math.sqrt(2 / 768)) < 0.03 * math.sqrt(2 / 768)
    init.xavier_uniform_(w, gain=2.0)
    bound = 2.0 * math.sqrt(6 / (192 + 768))
    v = _values(w)
    assert np.abs(v).max() <= bound and abs(v.var() - bound ** 2 / 3) < 0.05 * bound ** 2 / 3
    init.xavier_normal_(w)
    assert abs(_values(w).std() - math.sqrt(2 / 960)) < 0.03 * math.sqrt(2 / 960)
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(w, mode="fan_avg")
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(corelib.empty(3))


def test_trunc_normal_constant_eye_dirac():
    t = corelib.empty(100, 50)
    init.trunc_normal_(t, mean=0.5, std=1.0, a=-0.5, b=1.0)
    v = _values(t)
    assert v.min() >= -0.5 and v.max() <= 1.0 and v.std() > 0.2
    init.constant_(t, 0.25)
    assert np.all(_values(t) == 0.25)
    init.ones_(t)
    init.zeros_(t)
    assert not _values(t).any()
    e = init.eye_(corelib.empty(3, 4))
    np.testing.assert_array_equal(e.numpy(), np.eye(3, 4))
    d = init.dirac_(corelib.empty(4, 2, 3))
    expected = np.zeros((4, 2, 3))
    expected[0, 0, 1] = expected[1, 1, 1] = 1
    np.testing.assert_array_equal(d.numpy(), expected)


def test_orthogonal():
    for shape in [(6, 4), (3, 8), (4, 2, 2)]:
        w = init.orthogonal_(corelib.empty(*shape), gain=1.5)
        m = w.numpy().reshape(shape[0], -1)
        gram = m @ m.T if shape[0] <= m.shape[1] else m.T @ m
        np.testing.assert_allclose(gram, 2.25 * np.eye(gram.shape[0]), atol=1e-5)


def test_generator_reproducible_and_no_grad_history():
    g1 = corelib.Generator().manual_seed(7)
    g2 = corelib.Generator().manual_seed(7)
    a = init.kaiming_uniform_(corelib.empty(4, 5), generator=g1)
    b = init.kaiming_uniform_(corelib.empty(4, 5), generator=g2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    p = corelib.nn.Parameter(corelib.empty(3, 3))
    init.normal_(p)
    assert p.is_leaf and p.grad_fn is None and p.requires_grad


def test_default_layer_inits_follow_torch_bounds():
    lin = corelib.nn.Linear(50, 40)
    bound = 1 / math.sqrt(50)
    assert np.abs(_values(lin.weight)).max() <= bound
    assert np.abs(_values(lin.bias)).max() <= bound
    conv = corelib.nn.Conv2d(4, 6, 3)
    assert np.abs(_values(conv.weight)).max() <= 1 / math.sqrt(36)
    lstm = corelib.nn.LSTM(3, 16)
    assert all(np.abs(_values(p)).max() <= 0.25 for p in lstm.parameters())
    bn = corelib.nn.BatchNorm1d(3)
    assert np.all(_values(bn.weight) == 1) and not _values(bn.bias).any()
    emb = corelib.nn.Embedding(300, 20)
    assert abs(_values(emb.weight).std() - 1) < 0.05
    mha = corelib.nn.MultiheadAttention(8, 2)
    assert not _values(mha.in_proj_bias).any() and not _values(mha.out_proj.bias).any()
    assert np.abs(_values(mha.in_proj_weight)).max() <= math.sqrt(6 / (8 + 24))
