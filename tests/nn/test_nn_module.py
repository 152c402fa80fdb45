"""Module contract: registration, iteration, modes, dtype moves, state dicts, hooks, repr."""
from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest

import corelib
import corelib.nn as cnn
from corelib.nn import Parameter

from nn_helpers import copy_torch_state, to_core


class Net(cnn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = cnn.Linear(3, 4)
        self.act = cnn.ReLU()
        self.fc2 = cnn.Linear(4, 2)
        self.scale = Parameter(corelib.ones(2))
        self.register_buffer("steps", corelib.zeros(1))
        self.register_buffer("cache", corelib.zeros(2), persistent=False)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


def test_registration_and_iteration():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in net.named_parameters(prefix="m")][0] == "m.scale"
    assert [n for n, _ in net.named_buffers()] == ["steps", "cache"]
    assert [n for n, _ in net.named_children()] == ["fc1", "act", "fc2"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "act", "fc2"]
    assert list(net.state_dict()) == ["scale", "steps", "fc1.weight", "fc1.bias",
                                      "fc2.weight", "fc2.bias"]
    assert isinstance(net.state_dict(), OrderedDict)
    assert net.get_submodule("fc1") is net.fc1
    assert net.get_parameter("fc2.bias") is net.fc2.bias
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        net.get_submodule("nope")
    with pytest.raises(AttributeError, match="object has no attribute 'missing'"):
        net.missing  # noqa: B018
    assert "fc1" in dir(net) and "scale" in dir(net)


def test_setattr_rules():
    net = Net()
    with pytest.raises(TypeError, match="cannot assign"):
        net.scale = corelib.ones(2)
    net.scale = None
    assert "scale" not in dict(net.named_parameters())
    with pytest.raises(TypeError, match="cannot assign"):
        net.fc1 = 3
    with pytest.raises(TypeError, match="cannot assign"):
        net.steps = 1.0
    net.steps = corelib.ones(1)
    assert net.state_dict()["steps"].item() == 1
    net.fc1 = cnn.Linear(3, 5)   # replacing a child keeps its slot
    assert [n for n, _ in net.named_children()] == ["fc1", "act", "fc2"]
    del net.fc2
    assert "fc2" not in dict(net.named_children())
    with pytest.raises(KeyError, match="already exists"):
        net.register_buffer("act", corelib.zeros(1))
    with pytest.raises(KeyError, match="contain"):
        net.register_parameter("a.b", None)
    m = cnn.Module.__new__(cnn.Module)
    with pytest.raises(AttributeError, match="before Module.__init__"):
        m.p = Parameter(corelib.zeros(1))


def test_shared_parameters_deduplicated():
    lin = cnn.Linear(2, 2)
    seq = cnn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.named_parameters(remove_duplicate=False))) == 4
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_train_eval_requires_grad_zero_grad():
    net = Net()
    assert net.training and net.fc1.training
    net.eval()
    assert not net.training and not net.fc1.training
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")
    net.train()
    out = net(corelib.randn(5, 3)).sum()
    out.backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_to_keeps_parameter_identity():
    net = Net()
    params = list(net.parameters())
    net(corelib.randn(2, 3)).sum().backward()
    net.double()
    assert list(net.parameters()) == params
    assert all(p.dtype == corelib.float64 and isinstance(p, Parameter) for p in params)
    assert all(p.grad.dtype == corelib.float64 for p in params)
    assert net.steps.dtype == corelib.float64
    net.to(corelib.float32)
    assert all(p.dtype == corelib.float32 for p in params)
    net.to("cpu", dtype=corelib.float64)
    assert params[0].dtype == corelib.float64 and params[0].is_leaf
    with pytest.raises(TypeError, match="floating point"):
        net.to(corelib.int64)
    emb = cnn.Embedding(4, 2).half()
    assert emb.weight.dtype == corelib.float16
    bn = cnn.BatchNorm1d(2).double()
    assert bn.num_batches_tracked.dtype == corelib.int64   # integer buffers keep their dtype


def test_apply_and_deepcopy():
    net = Net()
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "Net"]
    twin = copy.deepcopy(net)
    assert isinstance(twin.fc1.weight, Parameter)
    assert twin.fc1.weight is not net.fc1.weight
    np.testing.assert_array_equal(twin.fc1.weight.detach().numpy(),
                                  net.fc1.weight.detach().numpy())


def test_load_state_dict_roundtrip_and_assign():
    a, b = Net(), Net()
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(b.state_dict()[k].numpy(), v.numpy())
    weight = b.fc1.weight
    b.load_state_dict(Net().state_dict())
    assert b.fc1.weight is weight   # copied in place
    sd = Net().state_dict()
    b.load_state_dict(sd, assign=True)
    assert isinstance(b.fc1.weight, Parameter) and b.fc1.weight.requires_grad
    assert b.fc1.weight is not weight
    assert b.state_dict(keep_vars=True)["fc1.weight"] is b.fc1.weight


def _snapshot(module):
    return {k: v.numpy().copy() for k, v in module.state_dict().items()}


def test_load_state_dict_errors_leave_model_unchanged():
    net = Net()
    before = _snapshot(net)
    good = {k: v + 1 for k, v in Net().state_dict().items()}
    bad = dict(good)
    del bad["fc2.bias"]
    bad["extra"] = corelib.zeros(1)
    bad["fc1.weight"] = corelib.zeros(5, 3)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(bad)
    msg = str(info.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:\n\t")
    assert 'Missing key(s) in state_dict: "fc2.bias".' in msg
    assert 'Unexpected key(s) in state_dict: "extra".' in msg
    assert "size mismatch for fc1.weight: copying a param with shape" in msg
    after = _snapshot(net)
    assert all(np.array_equal(before[k], after[k]) for k in before)
    # strict=False still rejects shape mismatches, also without changing anything
    with pytest.raises(RuntimeError, match="size mismatch"):
        net.load_state_dict(bad, strict=False)
    assert all(np.array_equal(before[k], _snapshot(net)[k]) for k in before)
    del bad["fc1.weight"]
    result = net.load_state_dict(bad, strict=False)
    assert result.missing_keys == ["fc1.weight", "fc2.bias"]
    assert result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(net.fc2.weight.detach().numpy(),
                                  good["fc2.weight"].numpy())


def test_state_dict_matches_torch_and_error_text(torch):
    class TNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(3, 4)
            self.act = torch.nn.ReLU()
            self.fc2 = torch.nn.Linear(4, 2)
            self.scale = torch.nn.Parameter(torch.ones(2))
            self.register_buffer("steps", torch.zeros(1))
            self.register_buffer("cache", torch.zeros(2), persistent=False)

    tnet, net = TNet(), Net()
    copy_torch_state(tnet, net)
    bad_t = dict(tnet.state_dict())
    bad_t.pop("fc2.bias")
    bad_t["extra"] = torch.zeros(1)
    with pytest.raises(RuntimeError) as t_err:
        tnet.load_state_dict(bad_t)
    with pytest.raises(RuntimeError) as c_err:
        net.load_state_dict({k: to_core(v) for k, v in bad_t.items()})
    assert str(c_err.value) == str(t_err.value).replace("TNet", "Net")


def test_forward_hooks():
    net = Net()
    calls = []

    def pre(mod, args):
        calls.append("pre")
        return (args[0] * 0,)

    def pre_kw(mod, args, kwargs):
        calls.append("pre_kw")

    def post(mod, args, out):
        calls.append("post")
        return out + 1

    h1 = net.register_forward_pre_hook(pre)
    h2 = net.register_forward_pre_hook(pre_kw, with_kwargs=True, prepend=True)
    h3 = net.register_forward_hook(post)
    out = net(corelib.randn(2, 3))
    assert calls == ["pre_kw", "pre", "post"]
    expected = net.fc2.bias * net.scale + 1   # zero input -> relu(b1) path, then +1
    expected = net.fc2(net.act(net.fc1.bias)) * net.scale + 1
    np.testing.assert_allclose(out.detach().numpy()[0], expected.detach().numpy(), rtol=1e-6)
    for h in (h1, h2, h3):
        h.remove()
    calls.clear()
    net(corelib.randn(2, 3))
    assert calls == []
    with net.register_forward_hook(lambda m, a, kw, o: calls.append(kw), with_kwargs=True):
        cnn.Module.__call__(net, x=corelib.randn(1, 3))
    assert list(calls[0]) == ["x"]


def test_full_backward_hook(torch):
    grads = {}
    lin = cnn.Linear(3, 2).double()
    t_lin = torch.nn.Linear(3, 2).double()
    copy_torch_state(t_lin, lin)

    def hook(store):
        def fn(mod, grad_input, grad_output):
            store["in"], store["out"] = grad_input, grad_output
            return (grad_input[0] * 2,)
        return fn

    lin.register_full_backward_hook(hook(grads))
    t_grads = {}
    t_lin.register_full_backward_hook(hook(t_grads))
    x = np.random.default_rng(1).standard_normal((4, 3))
    cx, tx = corelib.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (lin(cx) ** 2).sum().backward()
    (t_lin(tx) ** 2).sum().backward()
    np.testing.assert_allclose(grads["out"][0].numpy(), t_grads["out"][0].numpy())
    np.testing.assert_allclose(grads["in"][0].numpy(), t_grads["in"][0].numpy())
    np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy())


@pytest.mark.parametrize("build", [
    lambda nn: nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
                             nn.ReLU(inplace=True), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(8, 2), nn.Dropout(0.3), nn.LeakyReLU(0.2)),
    lambda nn: nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.GELU()]),
    lambda nn: nn.ModuleDict({"a": nn.LayerNorm(4), "b": nn.GroupNorm(2, 4)}),
    lambda nn: nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True),
    lambda nn: nn.GRU(3, 4, dropout=0.5, num_layers=2),
    lambda nn: nn.RNN(3, 4, nonlinearity="relu", bias=False),
    lambda nn: nn.TransformerEncoderLayer(8, 2, dim_feedforward=16),
    lambda nn: nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16), 2),
    lambda nn: nn.Embedding(10, 3, padding_idx=0, max_norm=1.0),
    lambda nn: nn.Sequential(nn.ConvTranspose2d(2, 3, 3, stride=2, output_padding=1),
                             nn.Conv1d(2, 2, 3, padding="same", padding_mode="reflect"),
                             nn.AvgPool2d(2), nn.AdaptiveAvgPool2d((1, 1)),
                             nn.InstanceNorm1d(3), nn.Softmax(dim=1), nn.Hardtanh(),
                             nn.ReLU6(), nn.ELU(), nn.Softplus(), nn.PReLU(3), nn.GLU(),
                             nn.Unflatten(1, (2, 2)), nn.Upsample(scale_factor=2),
                             nn.ZeroPad2d(1), nn.ConstantPad1d(2, 0.5),
                             nn.ReflectionPad2d((1, 0, 1, 0)), nn.PixelShuffle(2),
                             nn.CrossEntropyLoss(), nn.Bilinear(2, 3, 4), nn.LSTMCell(2, 3),
                             nn.MultiheadAttention(4, 2, kdim=3), nn.Identity(),
                             nn.MaxPool1d(3), nn.AvgPool1d(2), nn.Threshold(0.1, 2.0)),
    lambda nn: nn.ParameterList([nn.Parameter(nn.init.zeros_(nn.Linear(2, 3).weight))]),
])
def test_repr_matches_torch(torch, build):
    assert repr(build(cnn)).replace("corelib.", "torch.") == repr(build(torch.nn))


def test_sequential_and_containers():
    seq = cnn.Sequential(cnn.Linear(2, 3), cnn.ReLU(), cnn.Linear(3, 1))
    assert len(seq) == 3
    assert isinstance(seq[-1], cnn.Linear)
    sub = seq[1:]
    assert isinstance(sub, cnn.Sequential) and len(sub) == 2
    seq.append(cnn.Sigmoid())
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2", "3"]
    del seq[1]
    assert [type(m).__name__ for m in seq] == ["Linear", "Linear", "Sigmoid"]
    with pytest.raises(IndexError):
        seq[5]
    named = cnn.Sequential(OrderedDict([("enc", cnn.Linear(2, 2)), ("act", cnn.Tanh())]))
    assert list(named.state_dict()) == ["enc.weight", "enc.bias"]
    out = named(corelib.ones(1, 2))
    assert out.shape == (1, 2)
    ml = cnn.ModuleList([cnn.Linear(1, 1)])
    ml.extend([cnn.ReLU()])
    ml.insert(0, cnn.Tanh())
    assert [type(m).__name__ for m in ml] == ["Tanh", "Linear", "ReLU"]
    md = cnn.ModuleDict({"x": cnn.ReLU()})
    md["y"] = cnn.Tanh()
    assert list(md.keys()) == ["x", "y"] and "y" in md
    pl = cnn.ParameterList([corelib.zeros(2), Parameter(corelib.ones(1))])
    assert all(isinstance(p, Parameter) for p in pl) and len(list(pl.parameters())) == 2
    pd = cnn.ParameterDict({"w": corelib.zeros(2)})
    assert isinstance(pd["w"], Parameter) and list(pd.state_dict()) == ["w"]


def test_parameter_basics():
    p = Parameter(corelib.ones(2, 2))
    assert p.requires_grad and p.is_leaf and isinstance(p, corelib.Tensor)
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert type(p * 2) is corelib.Tensor
    q = Parameter(corelib.ones(1), requires_grad=False)
    assert not q.requires_grad
    assert Parameter.__slots__ == ()
