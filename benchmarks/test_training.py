"""Training speed on scikit-learn's digits: the demo's MLP (one epoch through a shuffling
DataLoader) and CNN (one optimizer step on a batch of 32), corelib vs the same code in PyTorch.

The models and loops are written once against the shared API (``lib`` is corelib or torch).
Run: .venv/bin/python -m pytest benchmarks/test_training.py --benchmark-enable -q
(on a busy machine prefix OMP_NUM_THREADS=1: both BLAS pools then stop fighting for cores)
"""
import pytest

import corelib

pytest.importorskip("sklearn")
IMPLS = ["corelib", "torch"]
BATCH_SIZE = 32


def library(impl):
    if impl == "corelib":
        return corelib
    torch = pytest.importorskip("torch")
    import torch.utils.data  # noqa: F401
    return torch


def digits(lib):
    """The digits as (N, 1, 8, 8) float32 images in [0, 1] and int64 labels."""
    from sklearn.datasets import load_digits
    data = load_digits()
    x = lib.tensor(data.images.astype("float32") / 16.0).unsqueeze(1)
    return x, lib.tensor(data.target, dtype=lib.int64)


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))


def cnn(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(256, 10))


def setup(benchmark, impl, group):
    """Name the benchmark's group; (lib, x, y): the library, seeded, and the digits in it."""
    benchmark.group = group
    lib = library(impl)
    lib.manual_seed(0)
    x, y = digits(lib)
    return lib, x, y


def adam(lib, model):
    return lib.optim.Adam(model.parameters(), lr=1e-3)


def train_step(lib, model, optimizer, x, y):
    loss = lib.nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


@pytest.mark.parametrize("impl", IMPLS)
def test_mlp_epoch(benchmark, impl):
    lib, x, y = setup(benchmark, impl, "digits MLP: one epoch (1797 samples, batch 32)")
    data = lib.utils.data
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=BATCH_SIZE, shuffle=True,
                             generator=lib.Generator().manual_seed(0))
    model = mlp(lib)
    optimizer = adam(lib, model)

    def epoch():
        for xb, yb in loader:
            train_step(lib, model, optimizer, xb, yb)

    benchmark.pedantic(epoch, rounds=5, warmup_rounds=1)


@pytest.mark.parametrize("impl", IMPLS)
def test_cnn_step(benchmark, impl):
    lib, x, y = setup(benchmark, impl, "digits CNN: one training step (batch 32)")
    xb, yb = x[:BATCH_SIZE], y[:BATCH_SIZE]
    model = cnn(lib)
    optimizer = adam(lib, model)
    train_step(lib, model, optimizer, xb, yb)   # warm up (optimizer state, caches)
    benchmark(train_step, lib, model, optimizer, xb, yb)
