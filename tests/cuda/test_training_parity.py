"""Training on cuda agrees with training on cpu within float32 tolerances: the same models from
the same initial weights, the same batches, several optimizer steps. On a machine without a GPU
this runs the CUDA kernels on the simulator.

The models have no parameter whose gradient is zero in exact arithmetic (no conv bias before a
batch norm, no attention key bias): Adam turns the rounding noise of such a gradient into
lr-sized steps of arbitrary sign, which no two correct implementations agree on."""
import numpy as np
import pytest

import corelib
from corelib import nn

pytestmark = pytest.mark.skipif(not corelib.cuda.is_available(), reason="no cuda device")
STEPS = 4


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Dropout(0.0),
                         nn.Linear(64, 10))


def cnn():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
                         nn.AvgPool2d(2), nn.Flatten(), nn.Linear(64, 10))


class LSTMHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 16, num_layers=2, batch_first=True, bidirectional=True)
        self.head = nn.Linear(32, 10)

    def forward(self, x):   # rows of the 8x8 image as a sequence of 8 steps
        out, _ = self.lstm(x.reshape(-1, 8, 8))
        return self.head(out[:, -1])


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 16)
        layer = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, dropout=0.0,
                                           batch_first=True, norm_first=True, bias=False)
        self.encoder = nn.TransformerEncoder(layer, 2)
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        h = self.encoder(self.proj(x.reshape(-1, 8, 8)),
                         mask=nn.Transformer.generate_square_subsequent_mask(8, device=x.device))
        return self.head(h.mean(dim=1))


def digits(n=64):
    rng = np.random.default_rng(0)
    x = rng.random((n, 1, 8, 8), dtype=np.float32)
    y = rng.integers(0, 10, n)
    return x, y


def train(model_fn, optimizer_fn, device):
    corelib.manual_seed(0)
    model = model_fn().to(device)
    optimizer = optimizer_fn(model.parameters())
    x, y = digits()
    x, y = corelib.tensor(x, device=device), corelib.tensor(y, device=device)
    losses = []
    for step in range(STEPS):
        batch = slice(16 * step, 16 * (step + 1))
        loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}


MODELS = {"mlp": mlp, "cnn": cnn, "lstm": LSTMHead, "transformer": Encoder}
OPTIMIZERS = {"adam": lambda p: corelib.optim.Adam(p, lr=1e-2),
              "sgd-momentum": lambda p: corelib.optim.SGD(p, lr=0.1, momentum=0.9),
              "adamw": lambda p: corelib.optim.AdamW(p, lr=1e-2, weight_decay=0.1)}


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("model", list(MODELS))
def test_cuda_training_matches_cpu(model, optimizer):
    cpu_losses, cpu_state = train(MODELS[model], OPTIMIZERS[optimizer], "cpu")
    cuda_losses, cuda_state = train(MODELS[model], OPTIMIZERS[optimizer], "cuda")
    np.testing.assert_allclose(cuda_losses, cpu_losses, rtol=1e-4, atol=1e-5)
    assert list(cuda_state) == list(cpu_state)
    for name in cpu_state:
        np.testing.assert_allclose(cuda_state[name], cpu_state[name], rtol=1e-3, atol=1e-4,
                                   err_msg=name)
