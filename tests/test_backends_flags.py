"""corelib.backends: PyTorch's torch.backends flags (names, defaults, settable, checked values)
and opt_einsum's flags steering corelib.einsum's contraction order."""
from __future__ import annotations

import numpy as np
import pytest

import corelib
from corelib import backends


def test_flags_defaults_and_settable():
    assert backends.cudnn.enabled is True and backends.cudnn.benchmark is False
    assert backends.cudnn.deterministic is False and backends.cudnn.allow_tf32 is True
    assert backends.cudnn.is_available() is False and backends.cudnn.version() is None
    assert backends.cuda.matmul.allow_tf32 is False
    assert backends.mps.is_available() is False and backends.mps.is_built() is False
    assert backends.mkldnn.is_available() is False
    assert backends.cpu.get_cpu_capability() in ("AVX512", "AVX2", "DEFAULT", "NO AVX")
    assert isinstance(backends.cuda.is_built(), bool)
    backends.cudnn.benchmark = True
    backends.cuda.matmul.allow_tf32 = True
    try:
        assert backends.cudnn.benchmark and backends.cuda.matmul.allow_tf32
        with backends.cudnn.flags(enabled=False, deterministic=True):
            assert not backends.cudnn.enabled and backends.cudnn.deterministic
        assert backends.cudnn.enabled and not backends.cudnn.deterministic
    finally:
        backends.cudnn.benchmark = False
        backends.cuda.matmul.allow_tf32 = False
    # as in PyTorch, cudnn.deterministic is its own flag
    assert corelib.are_deterministic_algorithms_enabled() is False


def test_matches_torch_names(torch):
    for sub in ("cudnn", "cuda", "mps", "cpu", "mkldnn", "opt_einsum"):
        assert hasattr(backends, sub)
    assert backends.cpu.get_cpu_capability() == torch.backends.cpu.get_cpu_capability()
    assert backends.opt_einsum.strategy == torch.backends.opt_einsum.strategy
    for name in ("enabled", "benchmark", "deterministic", "allow_tf32"):
        assert getattr(backends.cudnn, name) == getattr(torch.backends.cudnn, name)


def test_opt_einsum_flags_steer_einsum(monkeypatch):
    pytest.importorskip("opt_einsum")
    from corelib._ops import linalg
    oe = backends.opt_einsum
    assert oe.is_available() and oe.enabled and oe.strategy == "auto"
    with pytest.raises(ValueError, match="must be one of the following"):
        oe.strategy = "fastest"
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in ((3, 40), (40, 2), (2, 50))]
    xs = [corelib.tensor(a) for a in arrays]
    want = np.einsum("ij,jk,kl->il", *arrays)
    paths = []
    real = linalg._einsum_path
    monkeypatch.setattr(linalg, "_einsum_path",
                        lambda *a: paths.append(real(*a)) or paths[-1])
    for enabled, strategy in ((True, "greedy"), (True, "optimal"), (False, None)):
        with oe.flags(enabled, strategy):
            assert oe.enabled is enabled
            out = corelib.einsum("ij,jk,kl->il", *xs)
        np.testing.assert_allclose(out.numpy(), want, rtol=1e-10)
    assert paths[-1] == [(0, 1), (0, 1)]   # disabled: left to right
    assert oe.enabled and oe.strategy == "auto"
    with oe.flags(enabled=False):
        with pytest.raises(ValueError, match="not enabled"):
            oe.strategy = "greedy"


def test_public_names_documented_and_listed():
    from public_names import undocumented as _undocumented
    for sub in (backends, backends.cudnn, backends.cuda, backends.mps, backends.cpu,
                backends.mkldnn, backends.opt_einsum):
        assert not _undocumented(sub), sub.__name__
    assert "backends" in dir(corelib)
