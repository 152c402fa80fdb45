"""Every layer against PyTorch: same weights (via state_dict), same inputs -> same outputs,
same input and parameter gradients, identical state_dict keys. float64 throughout, on every
installed device (the corelib module and inputs live there; PyTorch runs on its CPU)."""
from __future__ import annotations

import numpy as np
import pytest

import corelib
import corelib.nn as cnn

from nn_helpers import assert_close, copy_torch_state, flat_tensors, to_core

rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape)


def unit(*shape):
    return rng.uniform(0.05, 0.95, shape)


def labels(n, c, *rest):
    return rng.integers(0, c, (n,) + rest)


class Case:
    """One layer configuration: ``nn.<name>(*args, **kwargs)`` applied to ``inputs``.

    inputs: numpy arrays; float ones require grad unless listed in ``no_grad``.
    """

    def __init__(self, name, args=(), kwargs=None, inputs=(), call_kwargs=None, train=True,
                 no_grad=(), id=None, rtol=1e-7, atol=1e-9):
        self.name, self.args, self.kwargs = name, args, kwargs or {}
        self.inputs, self.call_kwargs = inputs, call_kwargs or {}
        self.train, self.no_grad = train, set(no_grad)
        self.id = id or name
        self.rtol, self.atol = rtol, atol


CASES = [
    Case("Identity", (3,), {"x": 1}, [randn(2, 3)]),
    Case("Linear", (4, 3), {}, [randn(5, 4)]),
    Case("Linear", (4, 3), {"bias": False}, [randn(2, 5, 4)], id="Linear-nobias-3d"),
    Case("Bilinear", (3, 4, 2), {}, [randn(5, 3), randn(5, 4)]),
    Case("Conv1d", (4, 6, 3), {"stride": 2, "padding": 1, "groups": 2}, [randn(2, 4, 9)]),
    Case("Conv1d", (2, 3, 3), {"padding": "same", "dilation": 2}, [randn(2, 2, 7)],
         id="Conv1d-same"),
    Case("Conv2d", (3, 4, (3, 2)), {"stride": (2, 1), "padding": (1, 0)},
         [randn(2, 3, 7, 6)]),
    Case("Conv2d", (2, 3, 3), {"padding": 1, "padding_mode": "reflect"}, [randn(1, 2, 5, 5)],
         id="Conv2d-reflect"),
    Case("Conv2d", (2, 2, 3), {"padding": 2, "padding_mode": "circular", "bias": False},
         [randn(1, 2, 4, 5)], id="Conv2d-circular"),
    Case("Conv2d", (2, 4, 3), {"padding": "valid"}, [randn(2, 5, 5)], id="Conv2d-unbatched"),
    Case("Conv3d", (2, 3, 2), {"stride": 1, "padding": 1}, [randn(1, 2, 3, 4, 3)]),
    Case("ConvTranspose1d", (3, 2, 3), {"stride": 2, "padding": 1, "output_padding": 1},
         [randn(2, 3, 5)]),
    Case("ConvTranspose2d", (4, 2, 3), {"stride": 2, "groups": 2, "dilation": 1},
         [randn(2, 4, 3, 4)]),
    Case("ConvTranspose2d", (2, 3, 3), {"stride": 2, "padding": 1}, [randn(1, 2, 3, 3)],
         call_kwargs={"output_size": (6, 6)}, id="ConvTranspose2d-output_size"),
    Case("MaxPool1d", (3,), {"stride": 2, "padding": 1}, [randn(2, 3, 8)]),
    Case("MaxPool2d", (2,), {}, [randn(2, 3, 6, 6)]),
    Case("MaxPool2d", ((3, 2),), {"stride": 2, "ceil_mode": True, "dilation": 1},
         [randn(1, 2, 7, 5)], id="MaxPool2d-ceil"),
    Case("AvgPool1d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False},
         [randn(2, 3, 8)]),
    Case("AvgPool2d", (2,), {}, [randn(2, 3, 6, 6)]),
    Case("AvgPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True},
         [randn(1, 2, 7, 7)], id="AvgPool2d-pad"),
    Case("AdaptiveAvgPool1d", (3,), {}, [randn(2, 3, 8)]),
    Case("AdaptiveAvgPool2d", ((3, 2),), {}, [randn(2, 3, 7, 5)]),
    Case("AdaptiveMaxPool2d", (2,), {}, [randn(2, 3, 5, 6)]),
    Case("BatchNorm1d", (3,), {}, [randn(4, 3)]),
    Case("BatchNorm1d", (3,), {"momentum": None}, [randn(4, 3, 5)], id="BatchNorm1d-cumavg"),
    Case("BatchNorm2d", (3,), {}, [randn(2, 3, 4, 4)]),
    Case("BatchNorm2d", (3,), {}, [randn(2, 3, 4, 4)], train=False, id="BatchNorm2d-eval"),
    Case("BatchNorm2d", (3,), {"affine": False, "track_running_stats": False},
         [randn(2, 3, 2, 2)], id="BatchNorm2d-plain"),
    Case("LayerNorm", ((4, 5),), {}, [randn(3, 4, 5)]),
    Case("LayerNorm", (5,), {"elementwise_affine": False}, [randn(3, 5)], id="LayerNorm-noaff"),
    Case("GroupNorm", (2, 4), {}, [randn(3, 4, 5)]),
    Case("InstanceNorm1d", (3,), {}, [randn(2, 3, 6)]),
    Case("InstanceNorm2d", (3,), {"affine": True, "track_running_stats": True},
         [randn(2, 3, 4, 4)]),
    Case("Dropout", (0.5,), {}, [randn(3, 4)], train=False),
    Case("Dropout", (0.0,), {}, [randn(3, 4)], id="Dropout-p0"),
    Case("Embedding", (10, 3), {"padding_idx": 1}, [labels(4, 10, 3)]),
    Case("Flatten", (), {}, [randn(2, 3, 4)]),
    Case("Unflatten", (1, (2, 3)), {}, [randn(2, 6)]),
    Case("PixelShuffle", (2,), {}, [randn(1, 8, 2, 3)]),
    Case("Upsample", (), {"scale_factor": 2, "mode": "nearest"}, [randn(1, 2, 3, 3)]),
    Case("Upsample", (), {"size": (5, 4), "mode": "bilinear", "align_corners": False},
         [randn(1, 2, 3, 3)], id="Upsample-bilinear"),
    Case("CosineSimilarity", (), {"dim": 1}, [randn(4, 5), randn(4, 5)]),
    Case("PairwiseDistance", (), {}, [randn(4, 5), randn(4, 5)]),
    Case("ZeroPad2d", ((1, 2, 0, 1),), {}, [randn(1, 2, 3, 3)]),
    Case("ConstantPad1d", (2, 1.5), {}, [randn(2, 3, 4)]),
    Case("ReflectionPad1d", ((2, 1),), {}, [randn(2, 3, 4)]),
    Case("ReflectionPad2d", (1,), {}, [randn(1, 2, 3, 4)]),
    Case("ReplicationPad1d", (2,), {}, [randn(2, 3, 4)]),
    Case("ReplicationPad2d", ((1, 0, 2, 1),), {}, [randn(1, 2, 3, 4)]),
    # activations
    *[Case(n, a, {}, [randn(3, 5)]) for n, a in [
        ("ReLU", ()), ("ReLU6", ()), ("LeakyReLU", (0.2,)), ("ELU", (0.7,)), ("SELU", ()),
        ("CELU", (1.3,)), ("GELU", ()), ("SiLU", ()), ("Mish", ()), ("Softplus", (2.0, 5.0)),
        ("Softsign", ()), ("Hardtanh", (-0.5, 0.8)), ("Hardsigmoid", ()), ("Hardswish", ()),
        ("Sigmoid", ()), ("Tanh", ()), ("Softmax", (1,)), ("LogSoftmax", (1,)),
        ("Softmin", (0,)), ("LogSigmoid", ()), ("Tanhshrink", ()), ("Softshrink", (0.3,)),
        ("Hardshrink", (0.3,)), ("Threshold", (0.1, -2.0)), ("PReLU", ())]],
    Case("GLU", (0,), {}, [randn(4, 3)]),
    Case("GELU", (), {"approximate": "tanh"}, [randn(3, 5)], id="GELU-tanh"),
    Case("PReLU", (3,), {}, [randn(2, 3, 4)], id="PReLU-channels"),
    # losses
    Case("MSELoss", (), {}, [randn(3, 4), randn(3, 4)]),
    Case("L1Loss", (), {"reduction": "sum"}, [randn(3, 4), randn(3, 4)]),
    Case("SmoothL1Loss", (), {"beta": 0.5}, [randn(3, 4), randn(3, 4)]),
    Case("HuberLoss", (), {"delta": 0.7, "reduction": "none"}, [randn(3, 4), randn(3, 4)]),
    Case("CrossEntropyLoss", (), {}, [randn(5, 4), labels(5, 4)]),
    Case("CrossEntropyLoss", (), {"label_smoothing": 0.1, "ignore_index": 2},
         [randn(5, 4, 3), labels(5, 4, 3)], id="CrossEntropyLoss-smooth-ignore"),
    Case("CrossEntropyLoss", (), {}, [randn(5, 4), unit(5, 4)], no_grad={1},
         id="CrossEntropyLoss-probs"),
    Case("NLLLoss", (), {"reduction": "sum"}, [randn(5, 4), labels(5, 4)]),
    Case("BCELoss", (), {}, [unit(3, 4), unit(3, 4)], no_grad={1}),
    Case("BCEWithLogitsLoss", (), {}, [randn(3, 4), unit(3, 4)], no_grad={1}),
    Case("KLDivLoss", (), {"reduction": "batchmean"}, [randn(3, 4), unit(3, 4)]),
    Case("CosineEmbeddingLoss", (), {"margin": 0.2},
         [randn(4, 5), randn(4, 5), np.array([1.0, -1.0, 1.0, -1.0])], no_grad={2}),
    Case("MarginRankingLoss", (), {"margin": 0.1},
         [randn(6), randn(6), np.array([1.0, -1.0, 1.0, -1.0, 1.0, 1.0])], no_grad={2}),
    Case("TripletMarginLoss", (), {"margin": 1.5}, [randn(4, 5), randn(4, 5), randn(4, 5)]),
    Case("HingeEmbeddingLoss", (), {}, [randn(6), np.array([1.0, -1, 1, -1, 1, 1])],
         no_grad={1}),
    Case("SoftMarginLoss", (), {}, [randn(6), np.array([1.0, -1, 1, -1, 1, 1])], no_grad={1}),
    # recurrent
    Case("RNN", (3, 4), {"num_layers": 2, "nonlinearity": "relu"}, [randn(5, 2, 3)]),
    Case("RNN", (3, 4), {"batch_first": True, "bidirectional": True},
         [randn(2, 5, 3), randn(2, 2, 4)], id="RNN-bi-h0"),
    Case("LSTM", (3, 4), {"num_layers": 2, "bidirectional": True}, [randn(5, 2, 3)]),
    Case("LSTM", (3, 4), {"batch_first": True, "bias": False},
         [randn(2, 5, 3), (randn(1, 2, 4), randn(1, 2, 4))], id="LSTM-h0c0"),
    Case("LSTM", (3, 5), {"proj_size": 2, "num_layers": 2}, [randn(4, 2, 3)], id="LSTM-proj"),
    Case("LSTM", (3, 4), {}, [randn(5, 3)], id="LSTM-unbatched"),
    Case("GRU", (3, 4), {"num_layers": 2, "bidirectional": True, "batch_first": True},
         [randn(2, 5, 3)]),
    Case("GRU", (3, 4), {"num_layers": 2, "dropout": 0.3}, [randn(4, 2, 3)], train=False,
         id="GRU-dropout-eval"),
    Case("RNNCell", (3, 4), {}, [randn(2, 3), randn(2, 4)]),
    Case("LSTMCell", (3, 4), {}, [randn(2, 3)]),
    Case("GRUCell", (3, 4), {}, [randn(3), randn(4)], id="GRUCell-unbatched"),
    # attention
    Case("MultiheadAttention", (8, 2), {}, [randn(4, 2, 8), randn(5, 2, 8), randn(5, 2, 8)]),
    Case("MultiheadAttention", (8, 4), {"batch_first": True, "kdim": 3, "vdim": 5},
         [randn(2, 4, 8), randn(2, 6, 3), randn(2, 6, 5)], id="MHA-kdim-vdim",
         call_kwargs={"average_attn_weights": False}),
    Case("MultiheadAttention", (6, 2), {"add_bias_kv": True, "add_zero_attn": True},
         [randn(3, 2, 6), randn(4, 2, 6), randn(4, 2, 6)], id="MHA-bias-kv",
         call_kwargs={"key_padding_mask": np.array([[False, False, True, False],
                                                    [False, True, False, False]]),
                      "attn_mask": np.triu(np.ones((3, 4), bool), 1)}),
    Case("TransformerEncoderLayer", (8, 2), {"dim_feedforward": 16, "dropout": 0.0},
         [randn(5, 2, 8)]),
    Case("TransformerEncoderLayer", (8, 2),
         {"dim_feedforward": 16, "batch_first": True, "norm_first": True,
          "activation": "gelu"}, [randn(2, 5, 8)], train=False, id="EncoderLayer-prenorm-eval",
         call_kwargs={"src_key_padding_mask": np.array([[False] * 4 + [True], [False] * 5])}),
    Case("TransformerDecoderLayer", (8, 2), {"dim_feedforward": 16, "dropout": 0.0},
         [randn(4, 2, 8), randn(5, 2, 8)],
         call_kwargs={"tgt_mask": np.triu(np.full((4, 4), -np.inf), 1)}),
    Case("TransformerDecoderLayer", (8, 2), {"dim_feedforward": 16, "norm_first": True},
         [randn(4, 2, 8), randn(5, 2, 8)], train=False, id="DecoderLayer-prenorm-eval"),
    Case("Transformer", (), {"d_model": 8, "nhead": 2, "num_encoder_layers": 2,
                             "num_decoder_layers": 1, "dim_feedforward": 12, "dropout": 0.0,
                             "batch_first": True},
         [randn(2, 5, 8), randn(2, 3, 8)]),
]


def _build(torch, case, device="cpu"):
    torch.manual_seed(0)
    t_mod = getattr(torch.nn, case.name)(*case.args, **case.kwargs).double()
    c_mod = getattr(cnn, case.name)(*case.args, **case.kwargs).double()
    t_mod.train(case.train)
    c_mod.train(case.train)
    copy_torch_state(t_mod, c_mod)
    return t_mod, c_mod.to(device)


def _make_inputs(torch, case, device="cpu"):
    t_in, c_in = [], []
    for i, x in enumerate(case.inputs):
        if isinstance(x, tuple):
            pair = [_tensor_pair(torch, a, i not in case.no_grad, device) for a in x]
            t_in.append(tuple(p[0] for p in pair))
            c_in.append(tuple(p[1] for p in pair))
        else:
            t, c = _tensor_pair(torch, x, i not in case.no_grad, device)
            t_in.append(t)
            c_in.append(c)
    t_kw, c_kw = {}, {}
    for k, v in case.call_kwargs.items():
        if isinstance(v, np.ndarray):
            t_kw[k], c_kw[k] = torch.from_numpy(v.copy()), corelib.tensor(v, device=device)
        else:
            t_kw[k] = c_kw[k] = v
    return t_in, c_in, t_kw, c_kw


def _tensor_pair(torch, arr, grad, device="cpu"):
    arr = np.asarray(arr)
    floating = arr.dtype.kind == "f"
    t = torch.tensor(arr, requires_grad=grad and floating)
    c = corelib.tensor(arr, requires_grad=grad and floating, device=device)
    return t, c


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_layer_matches_torch(torch, case, device):
    t_mod, c_mod = _build(torch, case, device)
    t_in, c_in, t_kw, c_kw = _make_inputs(torch, case, device)
    t_out = flat_tensors(t_mod(*t_in, **t_kw))
    c_out = flat_tensors(c_mod(*c_in, **c_kw))
    assert len(t_out) == len(c_out)
    for i, (c, t) in enumerate(zip(c_out, t_out)):
        assert_close(c, t, case.rtol, case.atol, f"{case.id} output {i}")
    # buffers (running statistics) after the forward pass
    for (name, t_buf), (c_name, c_buf) in zip(t_mod.named_buffers(), c_mod.named_buffers()):
        assert name == c_name
        assert_close(c_buf, t_buf, case.rtol, case.atol, f"{case.id} buffer {name}")
    # gradients of a fixed random projection of every floating output
    weights = [rng.standard_normal(tuple(t.shape)) for t in t_out]
    t_loss = sum((t * torch.from_numpy(w)).sum() for t, w in zip(t_out, weights)
                 if t.requires_grad)
    c_loss = sum((c * corelib.tensor(w, device=device)).sum() for c, w in zip(c_out, weights)
                 if c.requires_grad)
    if not isinstance(t_loss, int):
        t_loss.backward()
        c_loss.backward()
    t_leaves = [x for x in flat_tensors(t_in) if x.requires_grad]
    c_leaves = [x for x in flat_tensors(c_in) if x.requires_grad]
    for i, (c, t) in enumerate(zip(c_leaves, t_leaves)):
        assert_close(c.grad, t.grad, case.rtol, case.atol, f"{case.id} input grad {i}")
    t_params = dict(t_mod.named_parameters())
    c_params = dict(c_mod.named_parameters())
    assert list(c_params) == list(t_params)
    for name, t_p in t_params.items():
        if t_p.grad is None:
            assert c_params[name].grad is None
        else:
            assert_close(c_params[name].grad, t_p.grad, case.rtol, case.atol,
                         f"{case.id} grad of {name}")


def test_batchnorm_running_stats_over_steps(torch):
    """Several training steps (momentum and cumulative average), then eval output."""
    for momentum in (0.1, None):
        t_mod = torch.nn.BatchNorm1d(3, momentum=momentum).double()
        c_mod = cnn.BatchNorm1d(3, momentum=momentum).double()
        for _ in range(3):
            x = randn(6, 3)
            t_mod(torch.from_numpy(x))
            c_mod(corelib.tensor(x))
        for key, t_v in t_mod.state_dict().items():
            assert_close(c_mod.state_dict()[key], t_v, what=key)
        t_mod.eval()
        c_mod.eval()
        x = randn(4, 3)
        assert_close(c_mod(corelib.tensor(x)), t_mod(torch.from_numpy(x)))


def test_embedding_from_pretrained_and_padding(torch):
    w = randn(5, 3)
    emb = cnn.Embedding.from_pretrained(corelib.tensor(w))
    assert not emb.weight.requires_grad
    idx = corelib.tensor([[0, 4], [2, 2]])
    np.testing.assert_allclose(emb(idx).numpy(), w[[[0, 4], [2, 2]]])
    emb = cnn.Embedding(6, 2, padding_idx=-1)
    assert emb.padding_idx == 5
    np.testing.assert_array_equal(emb.weight.detach().numpy()[5], 0)
    with pytest.raises(AssertionError):
        cnn.Embedding(3, 2, padding_idx=3)


def test_transformer_square_subsequent_mask(torch):
    expected = torch.nn.Transformer.generate_square_subsequent_mask(4).numpy()
    got = cnn.Transformer.generate_square_subsequent_mask(4).numpy()
    np.testing.assert_array_equal(got, expected)


def test_layer_input_checks():
    with pytest.raises(ValueError, match="expected 4D input"):
        cnn.BatchNorm2d(3)(corelib.zeros(2, 3))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        cnn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported"):
        cnn.Conv1d(2, 2, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="dropout probability"):
        cnn.Dropout(1.5)
    with pytest.raises(RuntimeError, match="input_size"):
        cnn.LSTM(3, 4)(corelib.zeros(5, 2, 4))
    with pytest.raises(RuntimeError, match="Expected hidden size"):
        cnn.GRU(3, 4)(corelib.zeros(5, 2, 3), corelib.zeros(1, 3, 4))
    with pytest.raises(AssertionError, match="divisible by num_heads"):
        cnn.MultiheadAttention(6, 4)
