"""Train an MLP and a small CNN on scikit-learn's handwritten digits with corelib.

The code is what you would write with PyTorch, with ``corelib`` in place of ``torch``:

    python examples/train_digits.py [--epochs 10] [--seed 0] [--device cpu] [--out out]
    python -m corelib.distributed.run --nproc-per-node 2 examples/train_digits.py --distributed

For each model it prints the final test accuracy and saves a checkpoint (model and optimizer
state dicts, loadable with ``corelib.load``) to ``<out>/<model>.safetensors``; a plot of the
training loss and test accuracy per epoch goes to ``<out>/training.png``.

With ``--distributed`` each process of the job (the launcher above, or ``mpiexec -n N``) trains a
DistributedDataParallel replica on its DistributedSampler share of every batch of 32 (32 / N
images each), so the optimisation is the single-process one; rank 0 prints and writes files.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import matplotlib
matplotlib.use("Agg")   # render to files only; no display needed
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from tqdm import tqdm  # noqa: E402

import corelib  # noqa: E402
from corelib import distributed as dist, nn, optim  # noqa: E402
from corelib.nn.parallel import DistributedDataParallel  # noqa: E402
from corelib.utils.data import DataLoader, DistributedSampler, TensorDataset  # noqa: E402

SPLIT_SEED = 0        # the held-out test set is the same for every training seed
TEST_FRACTION = 0.2
BATCH_SIZE = 32


def load_data(device="cpu"):
    """Train and test sets: (N, 1, 8, 8) float32 images and int64 labels.

    Pixels are standardised with the training set's per-pixel mean and spread (the 0.1 keeps
    the always-blank border pixels from being blown up).
    """
    digits = load_digits()
    images = digits.images.astype("float32") / 16.0
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target, test_size=TEST_FRACTION, stratify=digits.target,
        random_state=SPLIT_SEED)
    mean, spread = x_train.mean(axis=0), x_train.std(axis=0) + 0.1
    x_train, x_test = (x_train - mean) / spread, (x_test - mean) / spread

    def to_tensors(x, y):
        return (corelib.tensor(x, device=device).unsqueeze(1),
                corelib.tensor(y, dtype=corelib.int64, device=device))

    return to_tensors(x_train, y_train), to_tensors(x_test, y_test)


def make_mlp():
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(64, 512), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(512, 10),
    )


def make_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),                                          # 32 x 4 x 4
        nn.Conv2d(32, 64, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),                                          # 64 x 2 x 2
        nn.Flatten(),
        nn.Linear(64 * 2 * 2, 10),
    )


MODELS = {"mlp": make_mlp, "cnn": make_cnn}


def accuracy(model, x, y):
    model.eval()
    with corelib.no_grad():
        predicted = model(x).argmax(dim=1)
    model.train()
    return (predicted == y).float().mean().item()


def train(name, model, train_set, test_data, epochs, seed, distributed=False):
    """Adam with a cosine learning-rate decay; returns the optimizer and per-epoch history.
    ``distributed``: ``model`` is a DistributedDataParallel replica, each rank loads its share."""
    sampler = None
    if distributed:
        world = dist.get_world_size()
        sampler = DistributedSampler(train_set, seed=seed)
        loader = DataLoader(train_set, batch_size=BATCH_SIZE // world, sampler=sampler)
    else:
        loader = DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=True,
                            generator=corelib.Generator().manual_seed(seed))
    quiet = distributed and dist.get_rank() != 0
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loss_fn = nn.CrossEntropyLoss()
    history = {"loss": [], "accuracy": []}
    for epoch in range(1, epochs + 1):
        if sampler is not None:
            sampler.set_epoch(epoch)
        total, count = 0.0, 0
        progress = tqdm(loader, desc=f"{name} epoch {epoch:2d}/{epochs}", leave=False,
                        file=sys.stderr, disable=quiet)
        for x, y in progress:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
            count += len(y)
            progress.set_postfix(loss=f"{total / count:.4f}", refresh=False)
        schedule.step()
        if distributed:   # the epoch's loss over every rank's samples
            sums = corelib.tensor([total, count], dtype=corelib.float64)
            dist.all_reduce(sums)
            total, count = sums.tolist()
        history["loss"].append(total / count)
        history["accuracy"].append(accuracy(model, *test_data))
    return optimizer, history


def plot(histories, path):
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for name, history in histories.items():
        epochs = range(1, len(history["loss"]) + 1)
        ax_loss.plot(epochs, history["loss"], marker="o", label=name)
        ax_acc.plot(epochs, [100 * a for a in history["accuracy"]], marker="o", label=name)
    ax_loss.set(title="Training loss", xlabel="epoch", ylabel="cross-entropy", yscale="log")
    ax_acc.set(title="Test accuracy", xlabel="epoch", ylabel="accuracy (%)")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("corelib on scikit-learn digits")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu",
                        help="any installed device: cpu, cuda (CORELIB_CUDA_SIMULATE=1 runs it "
                             "on the CPU simulator), or a third-party backend's device")
    parser.add_argument("--out", type=Path, default=Path("out"))
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--distributed", action="store_true",
                        help="data-parallel over the processes of `python -m "
                             "corelib.distributed.run --nproc-per-node N` or `mpiexec -n N` "
                             "(MPI backend; DistributedDataParallel + DistributedSampler)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    device_type = corelib.device(args.device).type
    if device_type != "cpu" and not corelib.get_device_module(device_type).is_available():
        sys.exit(f"error: --device {args.device} is not available: "
                 f"{corelib.get_device_module(device_type).unavailable_reason()}")
    if args.distributed:
        dist.init_process_group("mpi")
        if BATCH_SIZE % dist.get_world_size():
            sys.exit(f"error: --distributed needs a process count dividing {BATCH_SIZE}")
    lead = not args.distributed or dist.get_rank() == 0
    if lead:
        args.out.mkdir(parents=True, exist_ok=True)
    (x_train, y_train), test_data = load_data(args.device)
    train_set = TensorDataset(x_train, y_train)

    histories = {}
    for name in args.models:
        corelib.manual_seed(args.seed)   # same initial weights for a given seed
        model = MODELS[name]().to(args.device)
        start = time.perf_counter()
        trained = DistributedDataParallel(model) if args.distributed else model
        optimizer, histories[name] = train(name, trained, train_set, test_data, args.epochs,
                                           args.seed, args.distributed)
        seconds = time.perf_counter() - start
        if not lead:
            continue
        checkpoint = args.out / f"{name}.safetensors"
        corelib.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                      "epochs": args.epochs, "seed": args.seed,
                      "test_accuracy": histories[name]["accuracy"][-1]}, checkpoint)
        print(f"{name}: test accuracy {100 * histories[name]['accuracy'][-1]:.2f}% "
              f"({args.epochs} epochs, {seconds:.1f} s) -> {checkpoint}")

    if not lead:
        return
    plot(histories, args.out / "training.png")
    print(f"plot -> {args.out / 'training.png'}")


if __name__ == "__main__":
    main()
