"""corelib.onnx.export: exported models run in onnxruntime (the independent reference) with
corelib's outputs, pass onnx.checker, and unmapped ops fail naming the op."""
import io
import os
import subprocess
import sys

import numpy as np
import pytest

import corelib
import corelib.nn as nn
import corelib.nn.functional as F

if os.environ.get("CI", "").lower() in ("true", "1"):   # setup installs them: never skip in CI
    import onnx
    import onnxruntime as ort
else:
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
import corelib.onnx  # noqa: E402


def export(model, args, **kwargs):
    buf = io.BytesIO()
    corelib.onnx.export(model, args, buf, **kwargs)
    proto = onnx.load_model_from_string(buf.getvalue())
    onnx.checker.check_model(proto, full_check=True)   # with shape inference
    return proto, ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])


def outputs(out):
    return corelib.onnx._flatten(out)


def call(model, args):
    kwargs = args[-1] if args and isinstance(args[-1], dict) else {}
    with corelib.no_grad():
        return outputs(model(*args[:len(args) - bool(kwargs)], **kwargs))


def check(model, args, rtol=1e-5, atol=1e-5, **kwargs):
    """Export, then compare onnxruntime's outputs with corelib's."""
    model.eval()
    args = args if isinstance(args, tuple) else (args,)
    proto, sess = export(model, args, **kwargs)
    kw = args[-1] if isinstance(args[-1], dict) else {}
    tensors = [a for a in list(args) + list(kw.values()) if isinstance(a, corelib.Tensor)]
    got = sess.run(None, {i.name: a.numpy() for i, a in zip(sess.get_inputs(), tensors)})
    want = call(model, args)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w.numpy(), rtol=rtol, atol=atol)
    return proto, sess


def run_again(sess, model, args):
    """Run an exported model on other inputs (dynamic axes) against corelib."""
    got = sess.run(None, {i.name: a.numpy() for i, a in zip(sess.get_inputs(), args)})
    with corelib.no_grad():
        want = outputs(model(*args))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w.numpy(), rtol=1e-5, atol=1e-5)


@pytest.fixture(autouse=True)
def seed():
    corelib.manual_seed(0)


def test_mlp():
    model = nn.Sequential(nn.Linear(6, 16), nn.GELU(), nn.Dropout(0.2), nn.Linear(16, 8),
                          nn.Tanh(), nn.Linear(8, 3), nn.Softmax(-1))
    proto, _ = check(model, corelib.randn(4, 6), input_names=["x"], output_names=["probs"])
    inits = {i.name for i in proto.graph.initializer}
    assert {"0.weight", "0.bias", "3.weight", "5.bias"} <= inits   # state_dict names
    assert [i.name for i in proto.graph.input] == ["x"]
    assert [o.name for o in proto.graph.output] == ["probs"]


def test_cnn_conv_pool_batchnorm_with_dynamic_batch():
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=2), nn.BatchNorm2d(8), nn.LeakyReLU(0.1),
        nn.AvgPool2d(2, ceil_mode=True), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(8, 5), nn.LogSoftmax(-1))
    model.train()
    for _ in range(2):   # running statistics away from their initial values
        model(corelib.randn(6, 3, 16, 16))
    proto, sess = check(model, corelib.randn(2, 3, 16, 16),
                        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    run_again(sess, model, (corelib.randn(5, 3, 16, 16),))


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_recurrent_layers(kind):
    cls = getattr(nn, kind)
    model = cls(6, 5, num_layers=2, bidirectional=True, batch_first=True)
    proto, sess = check(model, corelib.randn(3, 7, 6),
                        dynamic_axes={"input": {0: "batch", 1: "time"}})
    ops = {n.op_type for n in proto.graph.node}
    assert kind in ops   # ONNX's own recurrent operator, the input projection folded in
    assert not ops & {"MatMul", "Gemm"}
    run_again(sess, model, (corelib.randn(4, 9, 6),))


def test_lstm_with_initial_state_and_relu_rnn():
    lstm = nn.LSTM(4, 3, num_layers=1)
    x, h0, c0 = corelib.randn(5, 2, 4), corelib.randn(1, 2, 3), corelib.randn(1, 2, 3)
    check(lstm, (x, (h0, c0)))
    check(nn.RNN(4, 3, nonlinearity="relu"), (x,))


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH"])
def test_recurrence_over_computed_projections(mode):
    """rnn_sequence on projections that are not a linear of constants (gates reordered by an
    identity input weight), with given initial states."""
    from corelib._ops.rnn import GATES, rnn_sequence
    gh = GATES[mode] * 3
    w_hh, b_hh = corelib.randn(gh, 3), corelib.randn(gh)

    class Cell(nn.Module):
        def forward(self, x, h0, c0):
            out = rnn_sequence(x.tanh() * 2, h0, c0 if mode == "LSTM" else None, w_hh, b_hh,
                               mode, reverse=True)
            return out

    check(Cell(), (corelib.randn(5, 2, gh), corelib.randn(2, 3), corelib.randn(2, 3)))


class TinyEncoder(nn.Module):
    def __init__(self, vocab=20, d=16, heads=4):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        layer = nn.TransformerEncoderLayer(d, heads, 32, dropout=0.1, activation="gelu",
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(d))
        self.head = nn.Linear(d, 3)

    def forward(self, tokens):
        return self.head(self.encoder(self.emb(tokens)).mean(1))


def test_transformer_encoder_with_dynamic_batch_and_sequence():
    model = TinyEncoder()
    proto, sess = check(model, corelib.randint(0, 20, (2, 5)),
                        dynamic_axes={"input": {0: "batch", 1: "seq"}})
    ops = {n.op_type for n in proto.graph.node}
    assert {"Softmax", "MatMul", "LayerNormalization", "Gather"} <= ops
    run_again(sess, model, (corelib.randint(0, 20, (3, 9)),))


class TinyGPT(nn.Module):
    """Learned positions (arange of the sequence length) and a causal mask made in forward."""

    def __init__(self, vocab=30, d=16, max_len=8):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(max_len, d)
        layer = nn.TransformerEncoderLayer(d, 2, 32, dropout=0.0, batch_first=True,
                                           norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, 2)
        self.ln, self.head = nn.LayerNorm(d), nn.Linear(d, vocab, bias=False)

    def forward(self, idx):
        t = idx.shape[1]
        x = self.tok(idx) + self.pos(corelib.arange(t))
        mask = nn.Transformer.generate_square_subsequent_mask(t)
        return self.head(self.ln(self.blocks(x, mask=mask, is_causal=True)))


def test_gpt_with_learned_positions_at_full_length_and_dynamic_axes():
    """The second run (dynamic axes resized) goes shorter when longer exceeds the position
    table; onnxruntime's full graph optimizations run on the result."""
    model = TinyGPT()
    _, sess = check(model, corelib.randint(0, 30, (2, 8)), input_names=["idx"],
                    dynamic_axes={"idx": {0: "batch", 1: "time"}}, verify=True)
    for shape in [(3, 5), (1, 8), (4, 1)]:
        run_again(sess, model, (corelib.randint(0, 30, shape),))


def test_transformer_layer_norm_first_relu_and_causal_mask():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, norm_first=True)
    x = corelib.randn(6, 2, 8)
    mask = nn.Transformer.generate_square_subsequent_mask(6)
    check(layer, (x, mask))


def test_multihead_attention_with_masks_and_weights():
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    q, kv = corelib.randn(2, 4, 8), corelib.randn(2, 6, 8)
    attn_mask = corelib.rand(4, 6) > 0.3
    attn_mask[:, 0] = False   # True: masked; every query keeps a key
    check(mha, (q, kv, kv, {"attn_mask": attn_mask}))


def test_scaled_dot_product_attention_causal_dynamic():
    class Attn(nn.Module):
        def forward(self, q, k, v):
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)

    args = tuple(corelib.randn(2, 3, 5, 4) for _ in range(3))
    axes = {name: {2: "len"} for name in ("q", "k", "v")}
    _, sess = check(Attn(), args, input_names=["q", "k", "v"], dynamic_axes=axes)
    run_again(sess, Attn(), tuple(corelib.randn(2, 3, 7, 4) for _ in range(3)))


@pytest.mark.parametrize("opset", [14, 17, 18, 20])
def test_opsets(opset):
    model = nn.Sequential(nn.Linear(4, 8), nn.GELU(approximate="tanh"), nn.LayerNorm(8))

    class Pool(nn.Module):
        def forward(self, x):
            return model(x).mean(-1, keepdim=True) + x.amax(0) - x.std(1, keepdim=True)

    check(Pool(), corelib.randn(3, 4), opset_version=opset)


def test_elementwise_reductions_and_indexing():
    class Mix(nn.Module):
        def forward(self, x, idx):
            y = x[:, 1:, None, ::2].clamp(-1, 1) + x[0, ..., -1].unsqueeze(-1).unsqueeze(0)
            z = corelib.where(x > 0, x.exp(), F.softplus(x) * 2) ** 2
            w = z.sum((1, 2)) / (x.abs() + 1).sqrt().prod(1).sum(-1)
            s = F.silu(x).transpose(1, 2) @ F.hardswish(x) + F.pad(x, (1, 1))[:, :, :3].var()
            return (y.flatten(1), w, s.tril(), x.index_select(1, idx).cumsum(2),
                    x.argmax(-1), F.elu(x).permute(2, 0, 1).contiguous(),
                    F.embedding(idx, x[0]), x.float().to(corelib.float64).sigmoid())

    check(Mix(), (corelib.randn(2, 3, 4), corelib.tensor([2, 0])))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # log1p of < -1, x / 0 on purpose
def test_more_elementwise_reductions_and_indexing():
    class Mix(nn.Module):
        def forward(self, x, idx):
            v = x[0]
            return (v.log1p().nan_to_num(), v.expm1(), v.abs().log2(), v.remainder(0.7),
                    v // 0.3, v.trunc(), corelib.logaddexp(v, v.flip(1)), v.logsumexp(1),
                    (v > 0).any(1), (v > -3).all(), v.norm(dim=1), v.norm(p=1, dim=0),
                    v.topk(2, 1).values, v.gather(1, idx), v[idx[1]], v[:, idx[0]],
                    F.one_hot(idx, 5), v.repeat(2, 1, 1), corelib.hypot(v, v),
                    corelib.isfinite(v / 0), corelib.count_nonzero(v > 0, 1),
                    v.asinh(), (v.abs() + 1).acosh(), (v / 10).atanh(), v.erfc(), v.frac(),
                    corelib.div(v, 0.3, rounding_mode="trunc"), corelib.lerp(v, v * 2, 0.3),
                    corelib.lerp(v, x[1], v.sigmoid()), v.roll(2, 1), v.roll((1, -1), (0, 1)))

    idx = corelib.tensor([[0, 2], [1, 1]])
    _, sess = check(Mix(), (corelib.randn(2, 2, 5), idx))
    run_again(sess, Mix(), (corelib.randn(2, 2, 5), corelib.tensor([[4, 1], [1, 0]])))


def test_fully_convolutional_with_dynamic_spatial_axes():
    body = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.InstanceNorm2d(4), nn.GELU(),
                         nn.MaxPool2d(2), nn.Conv2d(4, 2, 1), nn.AdaptiveMaxPool2d(1))

    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = body

        def forward(self, x):
            return self.body(x).flatten(1), F.adaptive_avg_pool2d(x, 1).flatten(1)

    model = TwoHeads()
    _, sess = check(model, corelib.randn(2, 3, 8, 12),
                    dynamic_axes={"input": {0: "n", 2: "h", 3: "w"}})
    run_again(sess, model, (corelib.randn(1, 3, 10, 6),))


@pytest.mark.parametrize("stride,output_padding,groups", [(1, 0, 1), (2, 1, 1), (2, 0, 2)])
def test_transposed_convolution(stride, output_padding, groups):
    model = nn.Sequential(nn.ConvTranspose2d(4, 6, 3, stride=stride, padding=1,
                                             output_padding=output_padding, groups=groups),
                          nn.Upsample(scale_factor=2), nn.InstanceNorm2d(6), nn.Hardtanh())
    check(model, corelib.randn(2, 4, 5, 5))


def test_in_place_writes_are_read_in_order():
    """A constant used, then changed in place, is exported with the value each use saw."""
    class InPlace(nn.Module):
        def forward(self, x):
            c = corelib.ones(3)
            y = x * c            # sees ones
            c.add_(1)            # folded: c is twos from here on
            w = corelib.zeros(2, 3)
            w[0] = 5.0           # setitem into a constant: folded
            s = corelib.ones(2, 3)
            s.add_(x).relu_()    # in place with a traced input: new values
            return y, x + c, w + x, s, nn.functional.relu(x * 3, inplace=True)

    check(InPlace(), corelib.randn(2, 3))


def test_writes_into_traced_tensors():
    class Writes(nn.Module):
        def forward(self, x, i):
            y = x * 2
            y[:, 0] = 0.0              # basic key: fixed positions
            y[1] = x[0]                # a row from a traced value
            y[i] = -1.0                # integer array (negative too)
            y[y > 1] = 0.5             # boolean mask computed from the data
            z = x.index_put((i,), x[0] * 3, accumulate=True)
            w = corelib.zeros(3, 4, dtype=corelib.float64)
            w.copy_(x.flip(0)[0])      # cast and broadcast
            return y, z, x.masked_fill(x < 0, 0.0), w

    _, sess = check(Writes(), (corelib.randn(3, 4), corelib.tensor([0, -1])))
    run_again(sess, Writes(), (corelib.randn(3, 4), corelib.tensor([1, 1])))


def test_in_place_write_into_a_view_is_refused():
    class ViewWrite(nn.Module):
        def forward(self, x):
            y = x * 2
            y[:, 1].mul_(0)
            return y

    with pytest.raises(corelib.onnx.UnsupportedOperatorError, match="mul.*view"):
        corelib.onnx.export(ViewWrite(), corelib.randn(2, 3), io.BytesIO())


def test_unmapped_op_raises_naming_it():
    class Sorts(nn.Module):
        def forward(self, x):
            return x.sort(-1).values

    with pytest.raises(corelib.onnx.UnsupportedOperatorError, match="sort_indices"):
        corelib.onnx.export(Sorts(), corelib.randn(3, 4), io.BytesIO())


def test_random_op_in_forward_is_refused():
    with pytest.raises(corelib.onnx.UnsupportedOperatorError, match="random"):
        corelib.onnx.export(nn.Dropout(0.5), (corelib.randn(3),), io.BytesIO(),
                            training=corelib.onnx.TrainingMode.TRAINING)


def test_is_in_onnx_export():
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append(corelib.onnx.is_in_onnx_export())
            return x + 1

    Probe()(corelib.ones(1))
    corelib.onnx.export(Probe(), corelib.ones(1), io.BytesIO())
    assert seen == [False, True] and not corelib.onnx.is_in_onnx_export()


def test_pytorch_213_calling_conventions():
    """f=None returns the ModelProto; kwargs=; verify=True checks with onnxruntime."""
    class Scaled(nn.Module):
        def forward(self, x, scale=1.0, bias=None):
            return x * scale + bias

    x, b = corelib.randn(2, 3), corelib.randn(3)
    proto = corelib.onnx.export(Scaled(), (x,), kwargs={"scale": 3.0, "bias": b}, verify=True)
    onnx.checker.check_model(proto)
    sess = ort.InferenceSession(proto.SerializeToString())
    np.testing.assert_allclose(sess.run(None, {"input_0": x.numpy(), "input_1": b.numpy()})[0],
                               (x * 3 + b).numpy(), rtol=1e-6)
    with pytest.raises(corelib.onnx.OnnxExporterError, match="dynamic_shapes"):
        corelib.onnx.export(Scaled(), (x,), dynamic_shapes={"x": {0: "b"}})


def test_export_to_a_path_restores_mode(tmp_path):
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    corelib.onnx.export(model, corelib.randn(2, 3), tmp_path / "m.onnx")
    assert model.training   # exported in eval mode, mode restored
    onnx.checker.check_model(str(tmp_path / "m.onnx"))


def test_first_export_leaves_the_random_stream_alone():
    """Exporting (which registers the tracer plugin the first time) does not reseed."""
    code = """if True:
        import io, corelib, corelib.nn as nn, corelib.onnx
        model, x = nn.Linear(2, 2), corelib.zeros(1, 2)
        corelib.manual_seed(3)
        corelib.randn(4)
        corelib.onnx.export(model, x, io.BytesIO())
        b = corelib.randn(4)
        corelib.manual_seed(3)
        corelib.randn(4)
        assert corelib.randn(4).tolist() == b.tolist()
    """
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_tracing_costs_nothing_when_off():
    """After an export the resolved kernels are the backend's own functions again."""
    from corelib._ops.core import Op
    from corelib.dispatch import registry
    corelib.onnx.export(nn.Linear(2, 2), corelib.randn(1, 2), io.BytesIO())
    corelib.randn(2) + 1   # resolves add again
    assert Op.all["add"].kernel("cpu") is registry.backend("cpu").kernels["add"]


def test_sizes_are_told_apart_per_dynamic_axis():
    """With batch 2 and time 4, a size of 8 could be 4 * batch or 2 * time: each dynamic axis is
    resized in a run of its own, so the export knows it is 2 * time."""
    class Flat(nn.Module):
        def forward(self, x):
            b, t, c = x.shape
            return x.reshape(b, t * c).sum(-1, keepdim=True) * x.reshape(b * t, c)[:b]

    _, sess = check(Flat(), corelib.randn(2, 4, 2), dynamic_axes={"input": {0: "b", 1: "t"}})
    for shape in [(3, 4, 2), (2, 7, 2), (5, 1, 2)]:
        run_again(sess, Flat(), (corelib.randn(*shape),))


def test_a_parameter_varying_with_dynamic_axes_is_refused_clearly():
    class Scale(nn.Module):
        def forward(self, x):
            return F.scaled_dot_product_attention(x, x, x, scale=1.0 / x.shape[1])

    with pytest.raises(corelib.onnx.UnsupportedOperatorError,
                       match="scaled_dot_product_attention.*changes with the dynamic axes"):
        corelib.onnx.export(Scale(), corelib.randn(2, 4, 3), io.BytesIO(),
                            dynamic_axes={"input": {1: "n"}})


def test_op_table_names_only_real_ops():
    from corelib._ops.core import Op
    from corelib.onnx.ops import OPS
    assert set(OPS) <= set(Op.all), sorted(set(OPS) - set(Op.all))
