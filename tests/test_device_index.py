"""Device indices: ``device="x:N"`` reaches the backend (factory and random kernels get
``device_index=N`` as ``from_numpy`` gets its index), is checked against ``device_count()``
with PyTorch's "invalid device ordinal" error, and checkpoints load onto any installed device
(``map_location``), including checkpoints saved from a third-party device."""
import os
import subprocess
import sys

import numpy as np
import pytest

import corelib
from corelib.dispatch import registry
from corelib.hookspecs import BackendSpec, hookimpl

TESTS = os.path.dirname(os.path.abspath(__file__))


class Placed(np.ndarray):
    """A NumPy array that remembers the device index it was made for."""
    device_index = None


def _place(arr, index):
    out = np.asarray(arr).view(Placed)
    out.device_index = index
    return out


FACTORIES = ("full", "empty", "arange", "linspace", "eye", "uniform", "normal", "randint",
             "randperm", "exponential", "log_normal", "cauchy", "geometric")


@pytest.fixture
def twin():
    """Device "twin" with two devices: cpu kernels whose factories tag results with the index
    they were given, and a from_numpy that tags with its index."""
    import corelib_cpu
    kernels = dict(corelib_cpu.KERNELS)
    for name in FACTORIES:
        def factory(*args, device_index, _k=kernels[name], **kwargs):
            return _place(_k(*args, **kwargs), device_index)
        kernels[name] = factory
    cpu = corelib_cpu.corelib_backend()
    plugin = type("TwinPlugin", (), {})()
    plugin.corelib_backend = hookimpl(lambda: BackendSpec(
        "twin", kernels, to_numpy=lambda a: np.array(a), from_numpy=_place,
        make_generator=cpu.make_generator, device_count=lambda: 2, distribution="test-twin"))
    registry.register(plugin, name="twin")
    yield "twin"
    registry.unregister(name="twin")


def test_factory_and_random_kernels_get_the_device_index(twin):
    for index in (0, 1):
        dev = corelib.device(twin, index)
        made = [corelib.zeros(2, device=dev), corelib.ones(2, device=f"twin:{index}"),
                corelib.full((2,), 3.0, device=dev), corelib.empty(2, device=dev),
                corelib.arange(3, device=dev), corelib.linspace(0, 1, 3, device=dev),
                corelib.eye(2, device=dev), corelib.rand(2, device=dev),
                corelib.randn(2, device=dev), corelib.randint(0, 4, (2,), device=dev),
                corelib.randperm(3, device=dev), corelib.normal(0.0, 1.0, (2,), device=dev),
                corelib.tensor([1.0], device=dev)]
        x = corelib.ones(2, device=dev)
        made += [corelib.zeros_like(x), corelib.randn_like(x), x.new_full((2,), 1.0),
                 x.exponential_(), x.geometric_(0.5)]
        for t in made:
            assert t.device == dev and t._data.device_index == index


def test_a_device_without_index_is_the_current_device(twin):
    """As torch.cuda.set_device: "twin" means the selected device (0 unless changed)."""
    module = corelib.get_device_module(twin)
    assert corelib.zeros(2, device="twin")._data.device_index == 0
    with module.device(1):
        assert module.current_device() == 1
        for t in (corelib.zeros(2, device="twin"), corelib.randn(2, device="twin"),
                  corelib.tensor([1.0], device="twin"), corelib.ones(1).to("twin")):
            assert t.device == corelib.device("twin:1") and t._data.device_index == 1
        assert corelib.zeros(1, device="twin:0").device == corelib.device("twin:0")
    assert module.current_device() == 0 and corelib.ones(1, device="twin").device.index == 0
    with pytest.raises(RuntimeError, match="twin error: invalid device ordinal 2"):
        module.set_device(2)


def test_each_device_index_has_its_own_default_generator(twin):
    corelib.manual_seed(3)
    a0, a1 = corelib.randn(4, device="twin:0"), corelib.randn(4, device="twin:1")
    assert a0.tolist() == a1.tolist()   # seeded alike, as torch.manual_seed seeds every GPU
    module = corelib.get_device_module(twin)
    module.manual_seed(5)                       # the current device's generator only
    b0, b1 = corelib.randn(4, device="twin:0"), corelib.randn(4, device="twin:1")
    module.manual_seed_all(5)                   # every device's
    c0, c1 = corelib.randn(4, device="twin:0"), corelib.randn(4, device="twin:1")
    assert c0.tolist() == c1.tolist() == b0.tolist() != b1.tolist()
    module.seed_all()
    from corelib._random import default_generator
    assert default_generator("twin:0").initial_seed() == \
        default_generator("twin:1").initial_seed() != 5


@pytest.mark.parametrize("make", [
    lambda d: corelib.zeros(3, device=d), lambda d: corelib.randn(2, device=d),
    lambda d: corelib.arange(3, device=d), lambda d: corelib.randperm(3, device=d),
    lambda d: corelib.tensor([1.0], device=d), lambda d: corelib.ones(2).to(d),
    lambda d: corelib.Generator(d).manual_seed(0) and corelib.rand(1, device=d)])
def test_an_index_beyond_device_count_is_an_invalid_device_ordinal(make):
    for d in ("npx:1", "cpu:1"):   # one device of each type
        kind = d.partition(":")[0]
        with pytest.raises(RuntimeError, match=rf"{kind} error: invalid device ordinal 1 \(1 "
                                               rf"{kind} device\(s\) available\)"):
            make(d)


def test_two_device_ordinals(twin):
    corelib.zeros(1, device="twin:1")
    with pytest.raises(RuntimeError, match="twin error: invalid device ordinal 2"):
        corelib.zeros(1, device="twin:2")


def test_the_fallback_puts_factory_results_on_the_indexed_device(twin):
    fallback = pytest.importorskip("corelib_fallback")
    del registry.backends[twin].kernels["eye"]   # the fixture's own table
    registry.invalidate_kernels()
    fallback.enable()
    try:
        with pytest.warns(UserWarning, match="op 'eye' has no kernel for device 'twin'"):
            e = corelib.eye(2, device="twin:1")
    finally:
        fallback.disable()
    assert e.device == corelib.device("twin:1") and e._data.device_index == 1
    assert e.tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_cuda_factories_take_the_index():
    if not corelib.cuda.is_available():
        pytest.skip("cuda unavailable (set CORELIB_CUDA_SIMULATE=1)")
    assert corelib.zeros(2, device="cuda:0").tolist() == [0.0, 0.0]
    assert corelib.randn(3, device="cuda:0").device == corelib.device("cuda:0")
    count = corelib.cuda.device_count()
    with pytest.raises(RuntimeError, match=f"cuda error: invalid device ordinal {count}"):
        corelib.randn(3, device=f"cuda:{count}")


# --- checkpoints onto any installed device ---------------------------------------------------
@pytest.fixture
def npx_checkpoint(tmp_path):
    """A checkpoint saved from the borrowed device "npx" (tests/conftest.py registers it)."""
    if "npx" not in registry.backends:
        pytest.skip("the borrowed device is off (CORELIB_TEST_BORROWED_DEVICE=0)")
    path = tmp_path / "npx.st"
    corelib.save({"w": corelib.tensor([[1.0, 2.0]], device="npx", requires_grad=True),
                  "step": corelib.tensor(3)}, path)
    return path


@pytest.mark.parametrize("where", ["npx", "npx:0", corelib.device("npx"), {"cpu": "npx"},
                                   lambda t, saved: t.to("npx")])
def test_map_location_onto_the_borrowed_device(npx_checkpoint, where):
    loaded = corelib.load(npx_checkpoint, map_location=where)
    assert {k: str(v.device) for k, v in loaded.items()} == {"w": "npx:0", "step": "npx:0"}
    assert loaded["w"].requires_grad and loaded["w"].tolist() == [[1.0, 2.0]]


@pytest.mark.parametrize("where", ["cpu", corelib.device("cpu"), {"npx:0": "cpu"},
                                   lambda t, saved: t])
def test_map_location_from_the_borrowed_device_to_cpu(npx_checkpoint, where):
    loaded = corelib.load(npx_checkpoint, map_location=where)
    assert all(t.is_cpu for t in loaded.values()) and loaded["step"].item() == 3


def test_map_location_callable_returning_none_keeps_the_saved_device(npx_checkpoint):
    seen = []
    loaded = corelib.load(npx_checkpoint, map_location=lambda t, saved: seen.append(saved))
    assert sorted(seen) == ["cpu", "npx:0"] and str(loaded["w"].device) == "npx:0"


def test_map_location_onto_an_index(npx_checkpoint, twin):
    loaded = corelib.load(npx_checkpoint, map_location="twin:1")
    assert loaded["w"].device == corelib.device("twin:1") and loaded["w"]._data.device_index == 1
    with pytest.raises(RuntimeError, match="invalid device ordinal 2"):
        corelib.load(npx_checkpoint, map_location={"npx:0": "twin:2"})


def test_a_third_party_checkpoint_loads_where_its_device_is_not_installed(npx_checkpoint):
    """In a process without the npx backend: map_location='cpu' loads it; without one the
    error says the device is missing and how to load anyway."""
    code = ("import sys, corelib\n"
            "t = corelib.load(sys.argv[1], map_location='cpu')\n"
            "print(t['w'].tolist(), t['w'].requires_grad, t['w'].device)\n"
            "try:\n    corelib.load(sys.argv[1])\n"
            "except RuntimeError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code, str(npx_checkpoint)], capture_output=True,
                         text=True, timeout=120, cwd=TESTS)
    assert out.returncode == 0, out.stderr
    first, error = out.stdout.splitlines()[:2]
    assert first == "[[1.0, 2.0]] True cpu"
    assert "attempting to load a tensor on a 'npx' device" in error
    assert "no backend provides device 'npx'" in error and "map_location='cpu'" in error


# --- which plugin owns a device (corelib.dispatch's rule) ------------------------------------
PLUGIN = '''
import corelib_cpu
import numpy as np
from corelib.hookspecs import BackendSpec, hookimpl

@hookimpl
def corelib_backend():
    return BackendSpec("clash", corelib_cpu.KERNELS, to_numpy=np.asarray,
                       from_numpy=lambda a, i=0: a,
                       make_generator=np.random.default_rng, distribution={dist!r},
                       priority={priority})
'''


@pytest.fixture
def entry_points(tmp_path, monkeypatch):
    """Install fake entry-point plugins: ``entry_points({name: source})`` -> a fresh Registry
    that loads them (in the given order) beside the real cpu backend."""
    from importlib import metadata
    from corelib.dispatch import Registry
    monkeypatch.syspath_prepend(str(tmp_path))

    def install(sources):
        eps = [metadata.EntryPoint(name="cpu", value="corelib_cpu", group="corelib")]
        for name, source in sources.items():
            module = f"corelib_test_{name}_{len(os.listdir(tmp_path))}"
            (tmp_path / f"{module}.py").write_text(source)
            eps.append(metadata.EntryPoint(name=name, value=module, group="corelib"))
        monkeypatch.setattr(metadata, "entry_points", lambda group: eps)
        return Registry()
    return install


def _plugins(*specs):
    return {name: PLUGIN.format(dist=f"corelib-{name}", priority=priority)
            for name, priority in specs}


@pytest.mark.parametrize("order", [("a", "b"), ("b", "a")])
def test_a_device_clash_is_never_settled_by_install_order(entry_points, order, monkeypatch):
    monkeypatch.delenv("CORELIB_DEVICE_CLASH", raising=False)
    fresh = entry_points(_plugins(*((n, 0) for n in order)))
    fresh.load()
    assert "clash" not in fresh.backends and "cpu" in fresh.backends
    with pytest.raises(RuntimeError, match=r"no backend owns device 'clash': both 'corelib-\w' "
                                           r"and 'corelib-\w' provide device 'clash' with equal "
                                           r"priority; set CORELIB_DEVICE_CLASH=<distribution>"):
        fresh.backend("clash")
    monkeypatch.setenv("CORELIB_DEVICE_CLASH", "corelib-b")
    fresh = entry_points(_plugins(*((n, 0) for n in order)))
    assert fresh.backend("clash").distribution == "corelib-b"
    monkeypatch.delenv("CORELIB_DEVICE_CLASH")
    fresh = entry_points(_plugins(*((n, 1 if n == "a" else 0) for n in order)))
    assert fresh.backend("clash").distribution == "corelib-a"   # the higher priority


def test_blocked_and_broken_plugins(entry_points, monkeypatch):
    monkeypatch.setenv("CORELIB_BLOCK_PLUGINS", "a")
    fresh = entry_points(_plugins(("a", 0), ("b", 0)))
    assert fresh.backend("clash").distribution == "corelib-b"
    monkeypatch.setenv("CORELIB_BLOCK_PLUGINS", "")
    fresh = entry_points({"broken": "import no_such_array_library\n",
                          "hookless": "KERNELS = {}\n"})
    with pytest.warns(RuntimeWarning, match="failed to load"):
        fresh.load()
    with pytest.raises(RuntimeError) as info:
        fresh.backend("clash")
    message = str(info.value)
    assert "no backend provides device 'clash'" in message and "pip install" not in message
    assert "No module named 'no_such_array_library'" in message
    assert "implements no corelib hook" in message and "installed backends: ['cpu']" in message
