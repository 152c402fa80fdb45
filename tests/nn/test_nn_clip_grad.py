"""nn.utils: clip_grad_norm_ / clip_grad_value_ vs torch, vector conversions."""
from __future__ import annotations

import numpy as np
import pytest

import corelib
from corelib.nn import Parameter
from corelib.nn.utils import (clip_grad_norm_, clip_grad_value_, parameters_to_vector,
                              vector_to_parameters)


def _pairs(torch, scale):
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s) * scale for s in [(3, 4), (5,), (2, 2, 2)]]
    core = [Parameter(corelib.tensor(a)) for a in arrays]
    ref = [torch.nn.Parameter(torch.tensor(a)) for a in arrays]
    for c, t, a in zip(core, ref, arrays):
        g = rng.standard_normal(a.shape) * scale
        c.grad, t.grad = corelib.tensor(g), torch.tensor(g)
    return core, ref


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(torch, norm_type, max_norm):
    core, ref = _pairs(torch, 2.0)
    total_c = clip_grad_norm_(core, max_norm, norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(ref, max_norm, norm_type)
    np.testing.assert_allclose(total_c.item(), total_t.item(), rtol=1e-12)
    for c, t in zip(core, ref):
        np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_nonfinite_and_edge_cases(torch):
    core, _ = _pairs(torch, 1.0)
    core[0].grad = corelib.full((3, 4), float("nan"), dtype=corelib.float64)
    before = core[1].grad.numpy().copy()
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(core, 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(core[1].grad.numpy(), before)
    assert clip_grad_norm_([Parameter(corelib.zeros(2))], 1.0).item() == 0.0
    single = Parameter(corelib.ones(4))
    single.grad = corelib.full((4,), 3.0)
    assert clip_grad_norm_(single, 1.0).item() == pytest.approx(6.0)
    np.testing.assert_allclose(single.grad.numpy(), 0.5, rtol=1e-5)


def test_clip_grad_value_matches_torch(torch):
    core, ref = _pairs(torch, 2.0)
    clip_grad_value_(core, 0.7)
    torch.nn.utils.clip_grad_value_(ref, 0.7)
    for c, t in zip(core, ref):
        np.testing.assert_array_equal(c.grad.numpy(), t.grad.numpy())


def test_parameters_vector_roundtrip():
    params = [Parameter(corelib.randn(2, 3)), Parameter(corelib.randn(4))]
    ids = [id(p) for p in params]
    vec = parameters_to_vector(params)
    assert vec.shape == (10,)
    np.testing.assert_array_equal(vec.detach().numpy()[:6],
                                  params[0].detach().numpy().ravel())
    vector_to_parameters(corelib.arange(10.0), params)
    assert [id(p) for p in params] == ids
    np.testing.assert_array_equal(params[1].detach().numpy(), [6, 7, 8, 9])
    assert params[0].shape == (2, 3) and params[0].requires_grad
    with pytest.raises(TypeError, match="expected torch.Tensor"):
        vector_to_parameters([1.0], params)
