"""Conformance kit: corelib.nn and corelib.optim on the device under test. Modules are built
on the device (``device=``); forward values against NumPy formulas computed from the module's
own parameters, gradients of inputs and parameters by finite differences (float64), a training
step of an MLP and optimizer steps against NumPy.

``device`` comes from ``--corelib-device`` (pytest_plugin) or from a host's conftest.
"""
from __future__ import annotations

from inspect import signature

import numpy as np
import pytest

import corelib
import corelib.nn as nn
from corelib._device import canonical
from corelib.autograd import gradcheck
from corelib.testing import assert_close
from corelib.testing.pytest_plugin import generate_tests

__all__ = ["test_layer_forward", "test_layer_gradcheck", "test_batchnorm_running_stats",
           "test_dropout_train_and_eval", "test_mlp_training_step", "test_optimizer_steps"]

pytest_generate_tests = generate_tests   # device: --corelib-device (a host's conftest: its own)

F64 = corelib.float64


def _np(t):
    return t.detach().cpu().numpy()


def _softmax(x, dim):
    e = np.exp(x - x.max(dim, keepdims=True))
    return e / e.sum(dim, keepdims=True)


def _conv2d(x, w, b, stride, padding):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, _, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w)
    return out + b[None, :, None, None]


def _pool2d(x, k, reduce):
    n, c, h, w = x.shape
    return reduce(x[:, :, :h // k * k, :w // k * k].reshape(n, c, h // k, k, w // k, k),
                  axis=(3, 5))


def _layer_norm(x, w, b, eps=1e-5):
    return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps) * w + b


def _cross_entropy(x, target):
    logp = x - x.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    return -logp[np.arange(len(target)), target].mean()


class Layer:
    """``nn.<name>(*args)`` on float64 inputs of ``shapes``; ``ref(inputs, params)`` in NumPy.

    ``extra``: non-differentiable inputs after the float ones (NumPy arrays, made on the
    device)."""

    def __init__(self, name, args, shapes, ref, kwargs=None, extra=(), id=None):
        self.name, self.args, self.kwargs = name, args, kwargs or {}
        self.shapes, self.ref, self.extra = shapes, ref, extra
        self.id = id or name

    def build(self, device):
        corelib.manual_seed(0)
        cls = getattr(nn, self.name)
        factory = dict(device=device, dtype=F64) if "device" in signature(cls).parameters else {}
        module = cls(*self.args, **self.kwargs, **factory)
        rng = np.random.default_rng(0)
        inputs = [corelib.tensor(rng.standard_normal(s), dtype=F64, device=device,
                                 requires_grad=True) for s in self.shapes]
        extra = [corelib.tensor(e, device=device) for e in self.extra]
        return module, inputs, extra


LAYERS = [
    Layer("Linear", (4, 3), [(5, 4)], lambda x, p: x @ p["weight"].T + p["bias"]),
    Layer("Conv2d", (2, 3, 3), [(2, 2, 5, 5)], kwargs=dict(stride=2, padding=1),
          ref=lambda x, p: _conv2d(x, p["weight"], p["bias"], 2, 1)),
    Layer("MaxPool2d", (2,), [(2, 3, 4, 4)], lambda x, p: _pool2d(x, 2, np.max)),
    Layer("AvgPool2d", (2,), [(2, 3, 4, 4)], lambda x, p: _pool2d(x, 2, np.mean)),
    Layer("LayerNorm", (5,), [(3, 5)], lambda x, p: _layer_norm(x, p["weight"], p["bias"])),
    Layer("ReLU", (), [(3, 4)], lambda x, p: np.maximum(x, 0)),
    Layer("Tanh", (), [(3, 4)], lambda x, p: np.tanh(x)),
    Layer("Sigmoid", (), [(3, 4)], lambda x, p: 1 / (1 + np.exp(-x))),
    Layer("Softmax", (1,), [(3, 4)], lambda x, p: _softmax(x, 1)),
    Layer("LogSoftmax", (1,), [(3, 4)], lambda x, p: np.log(_softmax(x, 1))),
    Layer("Flatten", (), [(2, 3, 2)], lambda x, p: x.reshape(2, 6)),
    Layer("MSELoss", (), [(3, 4), (3, 4)], lambda x, y, p: ((x - y) ** 2).mean()),
    Layer("CrossEntropyLoss", (), [(4, 3)], extra=[np.array([0, 2, 1, 2])],
          ref=lambda x, t, p: _cross_entropy(x, t)),
    Layer("Embedding", (6, 3), [], extra=[np.array([[1, 5], [0, 1]])],
          ref=lambda i, p: p["weight"][i]),
]


def _run(layer, device):
    module, inputs, extra = layer.build(device)
    for p in module.parameters():
        assert p.device == canonical(device), f"{layer.id}: parameter on {p.device}"
    return module, inputs, extra, module(*inputs, *extra)


@pytest.mark.parametrize("layer", LAYERS, ids=[c.id for c in LAYERS])
def test_layer_forward(layer, device):
    module, inputs, extra, out = _run(layer, device)
    assert out.device == canonical(device), f"{layer.id}: output on {out.device}"
    params = {name: _np(p) for name, p in module.named_parameters()}
    expected = layer.ref(*(_np(x) for x in inputs + extra), params)
    assert_close(out, expected, rtol=1e-10, atol=1e-12, msg=f"{layer.id} forward:")


@pytest.mark.cpu_kernels_only
@pytest.mark.parametrize("layer", LAYERS, ids=[c.id for c in LAYERS])
def test_layer_gradcheck(layer, device):
    """Input and parameter gradients by finite differences, each landing on the device."""
    module, inputs, extra, out = _run(layer, device)
    leaves = inputs + list(module.parameters())
    out.sum().backward()
    for t in leaves:
        assert t.grad is not None and t.grad.device == t.device, f"{layer.id}: gradient"
    gradcheck(lambda *_: module(*inputs, *extra), tuple(leaves), eps=1e-6, atol=1e-5,
              rtol=1e-3)


def test_batchnorm_running_stats(device):
    """Training normalizes with batch statistics and updates the running ones (unbiased
    variance, momentum 0.1) on the device; eval uses the running ones."""
    bn = nn.BatchNorm1d(3, device=device, dtype=F64)
    x = np.random.default_rng(0).standard_normal((6, 3))
    xt = corelib.tensor(x, device=device)
    y = bn(xt)
    assert_close(y, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), rtol=1e-10, atol=1e-12)
    assert bn.running_mean.device == canonical(device)
    mean, var = 0.1 * x.mean(0), 0.9 + 0.1 * x.var(0, ddof=1)
    assert_close(bn.running_mean, mean, rtol=1e-10, atol=1e-12)
    assert_close(bn.running_var, var, rtol=1e-10, atol=1e-12)
    bn.eval()
    assert_close(bn(xt), (x - mean) / np.sqrt(var + 1e-5), rtol=1e-10, atol=1e-12)


def test_dropout_train_and_eval(device):
    corelib.manual_seed(0)   # the same mask every run (the drop rate bound is 5 sigma wide)
    x = corelib.ones(2000, device=device)
    drop = nn.Dropout(0.25)
    y = _np(drop(x))
    assert np.isclose(y[y != 0], 1 / 0.75).all(), "kept values are scaled by 1 / (1 - p)"
    assert 0.2 < (y == 0).mean() < 0.3
    drop.eval()
    assert_close(drop(x), np.ones(2000))


def _numpy_mlp_step(x, target, w1, b1, w2, b2, lr, buf):
    """Loss and the SGD-with-momentum update of Linear-ReLU-Linear + cross entropy."""
    h = x @ w1.T + b1
    a = np.maximum(h, 0)
    z = a @ w2.T + b2
    loss = _cross_entropy(z, target)
    gz = _softmax(z, 1)
    gz[np.arange(len(target)), target] -= 1
    gz /= len(target)
    ga = gz @ w2
    gh = ga * (h > 0)
    grads = [gh.T @ x, gh.sum(0), gz.T @ a, gz.sum(0)]
    params = [w1, b1, w2, b2]
    for i, g in enumerate(grads):
        buf[i] = g if buf[i] is None else 0.9 * buf[i] + g
        params[i] = params[i] - lr * buf[i]
    return loss, params


def test_mlp_training_step(device):
    """Three SGD(momentum) steps of Linear-ReLU-Linear with cross entropy, against NumPy."""
    corelib.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8, device=device), nn.ReLU(),
                          nn.Linear(8, 3, device=device))
    opt = corelib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(0)
    x, target = rng.standard_normal((10, 6)).astype(np.float32), rng.integers(0, 3, 10)
    xt, tt = corelib.tensor(x, device=device), corelib.tensor(target, device=device)
    params = [_np(p).astype(np.float64) for p in model.parameters()]
    buf = [None] * 4
    for step in range(3):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xt), tt)
        loss.backward()
        opt.step()
        expected, params = _numpy_mlp_step(x.astype(np.float64), target, *params, 0.1, buf)
        assert loss.device == canonical(device)
        assert_close(loss, expected, rtol=1e-4, atol=1e-5, msg=f"step {step} loss:")
    for p, e in zip(model.parameters(), params):
        assert p.device == canonical(device)
        assert_close(p, e, rtol=1e-4, atol=1e-5, msg="parameters after 3 steps:")


def _numpy_optimizer(name, p, grads, lr, wd):
    """PyTorch's update rules (SGD with momentum and nesterov, Adam, AdamW)."""
    m, v, buf = np.zeros_like(p), np.zeros_like(p), None
    for t, g in enumerate(grads, 1):
        if name != "AdamW":
            g = g + wd * p
        if name == "SGD":
            buf = g if buf is None else 0.9 * buf + g
            p = p - lr * (g + 0.9 * buf)                  # nesterov
            continue
        if name == "AdamW":
            p = p * (1 - lr * wd)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        p = p - lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    return p


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_optimizer_steps(name, device):
    """Three steps with given gradients; parameters and state stay on the device."""
    rng = np.random.default_rng(0)
    p0, grads = rng.standard_normal((3, 4)), [rng.standard_normal((3, 4)) for _ in range(3)]
    param = corelib.tensor(p0, device=device, requires_grad=True)
    kwargs = dict(momentum=0.9, nesterov=True) if name == "SGD" else {}
    opt = getattr(corelib.optim, name)([param], lr=0.1, weight_decay=0.01, **kwargs)
    for g in grads:
        param.grad = corelib.tensor(g, device=device)
        opt.step()
    assert param.device == canonical(device)
    for value in opt.state[param].values():
        if isinstance(value, corelib.Tensor) and value.ndim:
            assert value.device == param.device, f"{name} state on {value.device}"
    assert_close(param, _numpy_optimizer(name, p0, grads, 0.1, 0.01), rtol=1e-10, atol=1e-12)
