"""Whole-object checkpoints: modules, optimizers, NumPy arrays and plain containers saved
without pickle, and the weights_only allowlist (PyTorch's torch.serialization names)."""
import io
import json
import math
import pickle
from collections import OrderedDict, defaultdict

import numpy as np
import pytest
import safetensors.numpy

import corelib
import corelib.nn as nn
import corelib.optim as optim
import corelib.serialization as serialization
from corelib.serialization import (add_safe_globals, clear_safe_globals, get_safe_globals,
                                   get_unsafe_globals_in_checkpoint, safe_globals)


def round_trip(obj, **load_kwargs):
    buf = io.BytesIO()
    corelib.save(obj, buf)
    buf.seek(0)
    return corelib.load(buf, **load_kwargs)


@pytest.fixture(autouse=True)
def empty_allowlist():
    clear_safe_globals()
    yield
    clear_safe_globals()


# ---------------------------------------------------------------------------------------------
# modules
def mlp():
    return nn.Sequential(nn.Linear(6, 16), nn.GELU(), nn.Dropout(0.1), nn.Linear(16, 3))


def cnn():
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 5))


MODELS = {
    "mlp": (mlp, (4, 6)),
    "cnn": (cnn, (3, 2, 8, 8)),
    "lstm": (lambda: nn.LSTM(6, 5, num_layers=2, bidirectional=True, batch_first=True),
             (3, 7, 6)),
    "gru": (lambda: nn.GRU(6, 5), (7, 3, 6)),
    "transformer": (lambda: nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu",
                                   batch_first=True), 2, norm=nn.LayerNorm(8)), (2, 5, 8)),
}


def first(out):
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("name", sorted(MODELS))
def test_module_round_trip_gives_equal_outputs(name):
    make, shape = MODELS[name]
    corelib.manual_seed(0)
    model = make()
    if name == "cnn":   # running statistics differ from their initial values
        model(corelib.randn(*shape))
    model.eval()
    back = round_trip(model)
    assert type(back) is type(model) and not back.training
    assert [type(m) for m in back.modules()] == [type(m) for m in model.modules()]
    sd, sd_back = model.state_dict(), back.state_dict()
    assert list(sd) == list(sd_back)
    for k in sd:
        np.testing.assert_array_equal(sd[k].numpy(), sd_back[k].numpy())
    for (n, p), (n2, p2) in zip(model.named_parameters(), back.named_parameters()):
        assert n == n2 and type(p2) is nn.Parameter and p2.requires_grad
    x = corelib.randn(*shape)
    np.testing.assert_array_equal(first(model(x)).detach().numpy(),
                                  first(back(x)).detach().numpy())
    first(back(x)).sum().backward()   # the loaded module trains
    assert all(p.grad is not None for p in back.parameters())


def test_whole_model_file_holds_its_state_dict_under_the_same_names(tmp_path):
    model = cnn()
    corelib.save(model, tmp_path / "m.st")
    arrays = safetensors.numpy.load_file(str(tmp_path / "m.st"))
    assert sorted(arrays) == sorted(model.state_dict())


def test_tied_weights_stay_tied():
    class_ = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 10, bias=False))
    class_[1].weight = class_[0].weight
    back = round_trip(class_)
    assert back[1].weight is back[0].weight
    assert len(list(back.parameters())) == 1


def test_shared_objects_and_cycles_stay_shared():
    shared = [1, 2]
    obj = {"a": shared, "b": shared, "t": (shared,)}
    obj["self"] = obj
    back = round_trip(obj)
    assert back["a"] is back["b"] is back["t"][0] and back["self"] is back


# ---------------------------------------------------------------------------------------------
# optimizers: a run interrupted by save/load continues exactly as the uninterrupted run
OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda p: optim.Adam(p, lr=0.01, amsgrad=True),
    "adamw": lambda p: optim.AdamW([{"params": p[:2]}, {"params": p[2:], "lr": 0.003}],
                                   lr=0.01),
    "rmsprop": lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
}


def train(model, opt, steps, seed, sched=None):
    gen = corelib.Generator().manual_seed(seed)
    for _ in range(steps):
        x = corelib.randn(8, 6, generator=gen)
        y = corelib.randn(8, 3, generator=gen)
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()
        if sched is not None:
            sched.step()


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_continues_identically_after_round_trip(name):
    def fresh():
        corelib.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))
        opt = OPTIMIZERS[name](list(model.parameters()))
        return model, opt, optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

    model, opt, sched = fresh()   # uninterrupted
    train(model, opt, 3, seed=1, sched=sched)
    train(model, opt, 3, seed=2, sched=sched)

    model2, opt2, sched2 = fresh()   # interrupted: saved and loaded after 3 steps
    train(model2, opt2, 3, seed=1, sched=sched2)
    back = round_trip({"model": model2, "opt": opt2, "sched": sched2, "epoch": 3})
    model3, opt3, sched3 = back["model"], back["opt"], back["sched"]
    assert type(opt3) is type(opt2) and back["epoch"] == 3 and sched3.optimizer is opt3
    params3 = list(model3.parameters())
    assert [p for g in opt3.param_groups for p in g["params"]] == params3   # same objects
    assert set(opt3.state) <= set(params3)
    train(model3, opt3, 3, seed=2, sched=sched3)
    for p, p3 in zip(model.parameters(), params3):
        np.testing.assert_array_equal(p.detach().numpy(), p3.detach().numpy())
    assert opt3.state_dict()["param_groups"] == opt.state_dict()["param_groups"]


# ---------------------------------------------------------------------------------------------
# NumPy arrays and plain containers
@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int16", "int32", "int64",
                                   "uint16", "uint32", "uint64", "float16", "float32",
                                   "float64"])
def test_numpy_arrays_round_trip(dtype):
    rng = np.random.default_rng(0)
    base = (rng.standard_normal((4, 5)) * 100).astype(dtype)
    values = [base, base[:, ::2], base[0, 0].copy().reshape(()), base[:0], base[1, 2]]
    back = round_trip(values)
    for a, b in zip(values, back):
        assert type(b) is type(a) and b.dtype == a.dtype and np.shape(b) == np.shape(a)
        np.testing.assert_array_equal(b, a)
    assert back[0].flags.writeable


def test_nested_plain_containers_round_trip():
    dd = defaultdict(list, {"x": [1]})
    obj = {
        "none": None, "bools": [True, False], "int": -(2 ** 70), "floats": (1.5, -0.0),
        "special": [math.inf, -math.inf], "str": "naïve ✓", "bytes": b"\x00\xff",
        "nested": {"list": [[], {}, ()], "tuple": (1, ("a", [2.5]))},
        "odict": OrderedDict([("b", 1), ("a", 2)]), "defaultdict": dd,
        "set": {1, 2, 3}, "frozenset": frozenset({"x"}), "complex": 1 + 2j,
        "dtype": corelib.float16, "device": corelib.device("cpu"), "slice": slice(1, None, 2),
        7: "int key", (1, "k"): "tuple key", None: "none key",
        "tensor": corelib.arange(6).reshape(2, 3),
    }
    back = round_trip(obj)
    assert back.keys() == obj.keys()
    for k, v in obj.items():
        if k == "tensor":
            assert back[k].tolist() == v.tolist() and back[k].dtype == corelib.int64
        else:
            assert back[k] == v and type(back[k]) is type(v), k
    assert math.isnan(round_trip([math.nan])[0])
    assert back["defaultdict"]["new"] == [] and back["floats"][1] == 0.0
    assert math.copysign(1, back["floats"][1]) == -1


def test_state_dict_files_are_unchanged_plain_safetensors(tmp_path):
    model = mlp()
    corelib.save(model.state_dict(), tmp_path / "sd.st")
    with open(tmp_path / "sd.st", "rb") as fh:
        header = json.loads(fh.read(int.from_bytes(fh.read(8), "little")))
    assert header["__metadata__"]["format"] == "pt"
    assert sorted(safetensors.numpy.load_file(str(tmp_path / "sd.st"))) == \
        sorted(model.state_dict())
    back = corelib.load(tmp_path / "sd.st")
    assert type(back) is type(model.state_dict()) and list(back) == list(model.state_dict())
    model.load_state_dict(back)


def test_unsaveable_attribute_is_named():
    model = mlp()
    model.scorer = lambda x: x
    with pytest.raises(TypeError, match="scorer"):
        round_trip(model)


# ---------------------------------------------------------------------------------------------
# the allowlist and refusals
class MyNet(nn.Module):
    built = 0

    def __init__(self):
        super().__init__()
        MyNet.built += 1
        self.fc = nn.Linear(3, 2)
        self.note = "kept"

    def forward(self, x):
        return self.fc(x) * 2


class Counted:
    made = 0

    def __new__(cls):
        Counted.made += 1
        return super().__new__(cls)


def test_user_class_is_refused_naming_it():
    buf = io.BytesIO()
    corelib.save({"first": Counted(), "net": MyNet()}, buf)
    Counted.made = 0
    buf.seek(0)
    with safe_globals([Counted]):
        with pytest.raises(pickle.UnpicklingError) as info:
            corelib.load(buf)
    text = str(info.value)
    assert f"{MyNet.__module__}.MyNet" in text and "add_safe_globals([MyNet])" in text
    assert Counted.made == 0   # refused before anything was built
    buf.seek(0)
    assert get_unsafe_globals_in_checkpoint(buf) == [f"{Counted.__module__}.Counted",
                                                     f"{MyNet.__module__}.MyNet"]


def test_allowlist_api_and_no_init_runs():
    net = MyNet()
    built = MyNet.built
    buf = io.BytesIO()
    corelib.save(net, buf)
    assert get_safe_globals() == []
    with safe_globals([MyNet]):
        assert get_safe_globals() == [MyNet]
        buf.seek(0)
        back = corelib.load(buf)
    assert get_safe_globals() == []
    assert type(back) is MyNet and back.note == "kept" and MyNet.built == built
    x = corelib.randn(4, 3)
    assert back(x).tolist() == net(x).tolist()
    add_safe_globals([(MyNet, f"{MyNet.__module__}.MyNet")])
    buf.seek(0)
    assert type(corelib.load(buf)) is MyNet
    clear_safe_globals()
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="MyNet"):
        corelib.load(buf)
    buf.seek(0)
    assert type(corelib.load(buf, weights_only=False)) is MyNet   # trusted file: imported
    with pytest.raises(TypeError):
        add_safe_globals(["not a class"])


def tamper(data, edit):
    """Rewrite a checkpoint's structure JSON with ``edit(structure) -> structure``."""
    arrays = safetensors.numpy.load(data)
    size = int.from_bytes(data[:8], "little")
    meta = json.loads(data[8:8 + size])["__metadata__"]
    meta["corelib.structure"] = json.dumps(edit(json.loads(meta["corelib.structure"])))
    return io.BytesIO(safetensors.numpy.save(arrays, metadata=meta))


def saved(obj):
    buf = io.BytesIO()
    corelib.save(obj, buf)
    return buf.getvalue()


@pytest.mark.parametrize("name", [
    "os.system", "builtins.eval", "subprocess.Popen",
    "corelib.nn.modules.module.OrderedDict",      # imported there, defined elsewhere
    "corelib.nn.functional.np.load",              # reached through a corelib module
    "corelib.serialization.save", "corelib.Tensor",
])
def test_tampered_class_names_are_refused(name):
    data = saved(nn.Linear(2, 2))

    def as_object(s):
        s["object"]["object"] = name
        return s

    def as_global(s):
        s["object"] = {"list": [{"global": name}]}
        return s

    for edit in (as_object, as_global):
        with pytest.raises(pickle.UnpicklingError, match="Unsupported global"):
            corelib.load(tamper(data, edit))


@pytest.mark.parametrize("node", [
    {"object": 5, "state": {"dict": []}}, {"ref": 3}, {"unknown": 1}, {"list": 1},
    {"dict": [[{"list": []}, 1]]}, {"defaultdict": [], "factory": "eval"},
    {"tensor": "missing"}, {"ndarray": 3}, {"dtype": "complex256"}, [1, 2],
    {"object": "corelib.nn.modules.linear.Linear", "state": {"list": []}},
    {"object": "corelib.nn.parameter.Parameter", "state": {"dict": [["a", 1]]}},
])
def test_damaged_structures_raise_clear_errors(node):
    data = saved([1])
    with pytest.raises((RuntimeError, pickle.UnpicklingError), match="load\\(\\)"):
        corelib.load(tamper(data, lambda s: dict(s, object=node)))


def test_loading_matches_pytorch_error_class_for_disallowed_globals(torch, tmp_path):
    torch.save(torch.nn.Linear(2, 2), tmp_path / "t.pt")
    with pytest.raises(pickle.UnpicklingError):
        torch.load(tmp_path / "t.pt", weights_only=True)
    assert serialization.UnpicklingError is pickle.UnpicklingError


@pytest.mark.parametrize("header", [
    {"a": {"dtype": "F32", "shape": [1], "data_offsets": ["x", "y"]}},
    {"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}, {"a": 5},
    {"__metadata__": {"corelib.structure": 1}},
    {"__metadata__": {"corelib.structure": '{"version": "2", "object": 1}'}},
])
def test_malformed_headers_raise_clear_errors(header):
    text = json.dumps(header).encode()
    data = len(text).to_bytes(8, "little") + text + b"\0" * 4
    with pytest.raises(RuntimeError, match="load\\(\\).*(not a valid|damaged)"):
        corelib.load(io.BytesIO(data))


def test_safetensors_is_a_dependency_of_corelib():
    """corelib.save needs safetensors: a plain install of corelib brings it."""
    tomllib = pytest.importorskip("tomllib")
    from pathlib import Path
    with open(Path(__file__).parents[1] / "pyproject.toml", "rb") as fh:
        deps = tomllib.load(fh)["project"]["dependencies"]
    assert any(d.split(">")[0].split("=")[0].strip() == "safetensors" for d in deps)
