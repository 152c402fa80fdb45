"""Speed of real models and of the large-array kernels they stand on, corelib next to PyTorch
(and NumPy where NumPy is the limit), measured in one run.

Models (one optimizer step each, except the MLP's epoch), written once against the shared API
(``lib`` is corelib or torch):

- LSTM: 2 layers, input 64, hidden 128, batch 32, 50 steps, batch_first; head on the last
  step, cross-entropy, SGD.
- CNN: Conv2d 3->16 and 16->32 (3x3, padding 1), ReLU, MaxPool2d(2) twice, Linear; batch 32
  of 3x32x32; cross-entropy, SGD with momentum. The same with BatchNorm2d after each
  convolution (convolutions without bias).
- transformer: pre-norm encoder (2 layers, d_model 128, 4 heads, ff 512, dropout 0), batch 8,
  64 tokens, causal mask, embedding and head over 256 tokens; next-token loss, AdamW.
- MLP: 64-256-256-10 on scikit-learn's digits, Adam, batch 64, one shuffled epoch.

Large arrays: 10M float32 add and exp, sum/max over 1M float32, batched matmul 64x128x128, and
a 3-operand einsum against numpy.einsum(optimize=True).

Each model also runs interleaved (``test_model_interleaved``: corelib and PyTorch steps
alternated round by round; the ratio the summary checks against the target).

Run: bash scripts/bench.sh benchmarks/test_models.py   (one BLAS thread per library and
process time by default, see scripts/bench.sh).

Peak resident memory per workload, each in a fresh process:
    .venv/bin/python benchmarks/test_models.py memory
"""
import sys

import numpy as np
import pytest

import corelib

IMPLS = ["corelib", "torch"]


def library(impl):
    if impl == "corelib":
        return corelib
    torch = pytest.importorskip("torch") if "pytest" in sys.modules else __import__("torch")
    import torch.utils.data  # noqa: F401
    return torch


# ---------------------------------------------------------------------------------------------
# the models: each builder returns a zero-argument function running one measured unit of work
def lstm_step(lib):
    nn = lib.nn
    lib.manual_seed(0)
    rnn = nn.LSTM(64, 128, num_layers=2, batch_first=True)
    head = nn.Linear(128, 10)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = lib.optim.SGD(params, lr=0.01)
    x = lib.randn(32, 50, 64)
    y = lib.randint(0, 10, (32,))

    def step():
        out, _ = rnn(x)
        loss = nn.functional.cross_entropy(head(out[:, -1]), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def cnn_step(lib, batch_norm=False):
    """The CNN; ``batch_norm``: BatchNorm2d after each convolution (convolutions without
    bias)."""
    nn = lib.nn
    lib.manual_seed(0)

    def block(cin, cout):
        if batch_norm:
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                    nn.ReLU(), nn.MaxPool2d(2)]
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
    model = nn.Sequential(*block(3, 16), *block(16, 32), nn.Flatten(), nn.Linear(32 * 8 * 8, 10))
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = lib.randn(32, 3, 32, 32)
    y = lib.randint(0, 10, (32,))

    def step():
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def cnn_bn_step(lib):
    return cnn_step(lib, batch_norm=True)


def transformer_step(lib):
    nn = lib.nn
    lib.manual_seed(0)
    vocab, d_model, seq, batch = 256, 128, 64, 8

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, d_model)
            layer = nn.TransformerEncoderLayer(d_model, 4, 512, dropout=0.0, batch_first=True,
                                               norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(d_model)
            self.head = nn.Linear(d_model, vocab)

        def forward(self, tokens, mask):
            h = self.encoder(self.embed(tokens), mask=mask, is_causal=True)
            return self.head(self.norm(h))

    model = LM()
    opt = lib.optim.AdamW(model.parameters(), lr=1e-3)
    mask = nn.Transformer.generate_square_subsequent_mask(seq)
    tokens = lib.randint(0, vocab, (batch, seq + 1))
    inputs, targets = tokens[:, :-1], tokens[:, 1:].reshape(-1)

    def step():
        logits = model(inputs, mask)
        loss = nn.functional.cross_entropy(logits.reshape(-1, vocab), targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def mlp_epoch(lib):
    from sklearn.datasets import load_digits
    nn = lib.nn
    lib.manual_seed(0)
    data = load_digits()
    x = lib.tensor(data.images.astype("float32").reshape(-1, 64) / 16.0)
    y = lib.tensor(data.target, dtype=lib.int64)
    loader = lib.utils.data.DataLoader(lib.utils.data.TensorDataset(x, y), batch_size=64,
                                       shuffle=True, generator=lib.Generator().manual_seed(0))
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                          nn.Linear(256, 10))
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)

    def epoch():
        for xb, yb in loader:
            loss = nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return epoch


MODELS = {"lstm": lstm_step, "cnn": cnn_step, "cnn_bn": cnn_bn_step,
          "transformer": transformer_step, "mlp": mlp_epoch}
GROUPS = {"lstm": "model: LSTM 2x128, batch 32, seq 50, step",
          "cnn": "model: CNN 3x32x32, batch 32, step",
          "cnn_bn": "model: CNN + BatchNorm2d 3x32x32, batch 32, step",
          "transformer": "model: transformer 2x128, batch 8x64, step",
          "mlp": "model: MLP 64-256-256-10 digits, epoch"}


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("impl", IMPLS)
def test_model(benchmark, model, impl):
    if model == "mlp":
        pytest.importorskip("sklearn")
    benchmark.group = GROUPS[model]
    lib = library(impl)
    run = MODELS[model](lib)
    run()   # warm up (optimizer state, caches, workspaces)
    if model == "mlp":
        benchmark.pedantic(run, rounds=7, warmup_rounds=1)
    else:
        benchmark.pedantic(run, rounds=15, warmup_rounds=2)


@pytest.mark.parametrize("model", list(MODELS))
def test_model_interleaved(benchmark, model):
    """corelib's and PyTorch's steps alternated round by round, each timed in process time,
    so a change of load hits both alike: the group's ratio is the median of the per-round
    ratios (the groups above time all corelib rounds, then all torch rounds)."""
    import time
    pytest.importorskip("torch")
    if model == "mlp":
        pytest.importorskip("sklearn")
    runs = {impl: MODELS[model](library(impl)) for impl in IMPLS}
    for run in runs.values():
        run()   # warm up

    def rounds(n=7 if model == "mlp" else 12):
        ratios = []
        for _ in range(n):
            took = {}
            for impl, run in runs.items():
                t0 = time.process_time()
                run()
                took[impl] = time.process_time() - t0
            ratios.append(took["corelib"] / took["torch"])
        return ratios
    benchmark.group = GROUPS[model] + ", interleaved"
    _record_ratios(benchmark, "torch", benchmark.pedantic(rounds, rounds=1, iterations=1))


def _record_ratios(benchmark, reference, ratios):
    """Per-round ratios of an interleaved benchmark, for the summary (benchmarks/conftest.py)."""
    import statistics
    benchmark.extra_info["reference"] = reference
    benchmark.extra_info["ratio"] = round(statistics.median(ratios), 3)
    benchmark.extra_info["range"] = f"{min(ratios):.2f}-{max(ratios):.2f}"


# ---------------------------------------------------------------------------------------------
# large arrays
ALL = ["corelib", "numpy", "torch"]


def _arrays(impl, *shapes, positive=False):
    rng = np.random.default_rng(0)
    arrs = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
    if positive:
        arrs = [np.abs(a) for a in arrs]
    if impl == "numpy":
        return arrs
    lib = library(impl)
    return [lib.from_numpy(a.copy()) for a in arrs]


@pytest.mark.parametrize("impl", ALL)
def test_add_10m(benchmark, impl):
    benchmark.group = "large: add 10M float32"
    a, b = _arrays(impl, 10_000_000, 10_000_000)
    benchmark(lambda: a + b)


@pytest.mark.parametrize("impl", ALL)
def test_exp_10m(benchmark, impl):
    benchmark.group = "large: exp 10M float32"
    (a,) = _arrays(impl, 10_000_000)
    exp = np.exp if impl == "numpy" else library(impl).exp
    benchmark(exp, a)


@pytest.mark.parametrize("impl", ALL)
def test_sum_1m(benchmark, impl):
    benchmark.group = "large: sum 1M float32"
    (a,) = _arrays(impl, 1_000_000)
    benchmark(a.sum)


@pytest.mark.parametrize("impl", ALL)
def test_max_1m(benchmark, impl):
    benchmark.group = "large: max 1M float32"
    (a,) = _arrays(impl, 1_000_000)
    benchmark(a.max)


@pytest.mark.parametrize("impl", ALL)
def test_bmm(benchmark, impl):
    benchmark.group = "large: batched matmul 64x128x128"
    a, b = _arrays(impl, (64, 128, 128), (64, 128, 128))
    mm = np.matmul if impl == "numpy" else library(impl).matmul
    benchmark(mm, a, b)


EINSUM = "bij,bjk,bkl->bil"


@pytest.mark.parametrize("impl", ALL)
def test_einsum(benchmark, impl):
    benchmark.group = f"large: einsum {EINSUM}, 32x64x64 each"
    ops = _arrays(impl, (32, 64, 64), (32, 64, 64), (32, 64, 64))
    if impl == "numpy":
        benchmark(lambda: np.einsum(EINSUM, *ops, optimize=True))
    else:
        lib = library(impl)
        benchmark(lambda: lib.einsum(EINSUM, *ops))


LARGE = {
    "add 10M float32": (lambda lib, a, b: a + b, ((10_000_000,), (10_000_000,)), 3),
    "exp 10M float32": (lambda lib, a: lib.exp(a), ((10_000_000,),), 3),
    "batched matmul 64x128x128": (lambda lib, a, b: lib.matmul(a, b),
                                  ((64, 128, 128), (64, 128, 128)), 10),
    f"einsum {EINSUM}, 32x64x64 each": (
        lambda lib, *ops: lib.einsum(EINSUM, *ops, **({"optimize": True} if lib is np else {})),
        ((32, 64, 64),) * 3, 50),
}


@pytest.mark.parametrize("name", list(LARGE))
def test_large_interleaved(benchmark, name):
    """The large-array groups with a NumPy target, corelib and NumPy alternated round by round
    (process time of a batch of calls each): the per-round median ratio, which a change of load
    between the sequential groups above cannot tilt."""
    import time
    fn, shapes, reps = LARGE[name]
    calls = {impl: (lambda lib=(np if impl == "numpy" else corelib),
                    ops=_arrays(impl, *shapes): fn(lib, *ops)) for impl in ("corelib", "numpy")}

    def rounds(n=41):
        ratios = []
        for _ in range(n):
            took = {}
            for impl, call in calls.items():
                t0 = time.process_time()
                for _ in range(reps):
                    call()
                took[impl] = time.process_time() - t0
            ratios.append(took["corelib"] / took["numpy"])
        return ratios
    for call in calls.values():
        call()   # warm up
    benchmark.group = f"large: {name}, interleaved"
    _record_ratios(benchmark, "numpy", benchmark.pedantic(rounds, rounds=1, iterations=1))


# ---------------------------------------------------------------------------------------------
# peak resident memory, one fresh process per (model, implementation)
def _peak_child(model, impl):
    import resource
    lib = library(impl)
    run = MODELS[model](lib)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(3):
        run()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{peak} {base}")


def _memory_table():
    import subprocess
    print(f"{'workload':12s} {'corelib MB':>11s} {'torch MB':>9s} {'ratio':>6s}   "
          f"(peak RSS; in brackets: growth while running)")
    for model in MODELS:
        res = {}
        for impl in IMPLS:
            out = subprocess.run([sys.executable, __file__, "_peak", model, impl], check=True,
                                 capture_output=True, text=True).stdout.split()
            res[impl] = int(out[0]) / 1024, (int(out[0]) - int(out[1])) / 1024
        c, t = res["corelib"], res["torch"]
        print(f"{model:12s} {c[0]:8.1f} ({c[1]:5.1f}) {t[0]:8.1f} ({t[1]:5.1f}) "
              f"{c[0] / t[0]:5.2f}x")


if __name__ == "__main__":
    if sys.argv[1] == "_peak":
        _peak_child(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "memory":
        _memory_table()
