"""Random ops: reproducibility from seeds and generators, independence, statistics."""
import math

import numpy as np
import pytest

import corelib


@pytest.fixture(autouse=True)
def on_device(device):
    """Every test runs on each installed device (tensors made without device= land there)."""
    corelib.set_default_device(device)
    yield
    corelib.set_default_device(None)


def _draws():
    """One draw from every sampler, all from the default generator."""
    x = corelib.empty(50)
    return [x.clone().uniform_(-1, 2), x.clone().normal_(1, 3), x.clone().exponential_(2),
            x.clone().bernoulli_(0.3), x.clone().random_(0, 10), x.clone().cauchy_(),
            x.clone().log_normal_(), x.clone().geometric_(0.4),
            corelib.bernoulli(corelib.full((50,), 0.7)),
            corelib.multinomial(corelib.tensor([0.2, 0.3, 0.5]), 20, True),
            corelib.normal(corelib.zeros(50), 2.0), corelib.normal(0.0, 1.0, (50,)),
            corelib.poisson(corelib.full((50,), 4.0))]


def test_manual_seed_reproduces_every_sampler():
    corelib.manual_seed(123)
    first = _draws()
    corelib.manual_seed(123)
    second = _draws()
    corelib.manual_seed(124)
    third = _draws()
    for a, b in zip(first, second):
        assert np.array_equal(a.cpu().numpy(), b.cpu().numpy())
    assert sum(not np.array_equal(a.cpu().numpy(), c.cpu().numpy()) for a, c in zip(first, third)) >= 11


def test_generators_are_independent_of_the_default_and_each_other():
    g1, g2 = corelib.Generator(corelib.get_default_device()).manual_seed(7), corelib.Generator(corelib.get_default_device()).manual_seed(7)
    a = corelib.empty(100).normal_(generator=g1)
    corelib.manual_seed(0)
    corelib.empty(100).normal_()          # default generator draws do not disturb g2
    b = corelib.empty(100).normal_(generator=g2)
    assert np.array_equal(a.cpu().numpy(), b.cpu().numpy())
    c = corelib.empty(100).normal_(generator=g1)   # g1 advanced
    assert not np.array_equal(a.cpu().numpy(), c.cpu().numpy())
    h = corelib.Generator(corelib.get_default_device()).manual_seed(8)
    d = corelib.multinomial(corelib.ones(10), 10, generator=h)
    e = corelib.multinomial(corelib.ones(10), 10, generator=corelib.Generator(corelib.get_default_device()).manual_seed(8))
    assert np.array_equal(d.cpu().numpy(), e.cpu().numpy())


def test_generator_state_round_trip():
    g = corelib.Generator(corelib.get_default_device()).manual_seed(5)
    state = g.get_state()
    a = corelib.bernoulli(corelib.full((30,), 0.5), generator=g)
    g.set_state(state)
    b = corelib.bernoulli(corelib.full((30,), 0.5), generator=g)
    assert np.array_equal(a.cpu().numpy(), b.cpu().numpy())


@pytest.mark.parametrize("fill,mean,var", [
    (lambda x: x.uniform_(-1, 3), 1.0, 16 / 12),
    (lambda x: x.normal_(2, 0.5), 2.0, 0.25),
    (lambda x: x.exponential_(4.0), 0.25, 1 / 16),
    (lambda x: x.bernoulli_(0.3), 0.3, 0.21),
    (lambda x: x.geometric_(0.25), 4.0, 0.75 / 0.0625),
    (lambda x: x.log_normal_(0.0, 0.5), math.exp(0.125), (math.exp(0.25) - 1) * math.exp(0.25)),
    (lambda x: x.random_(0, 10), 4.5, 99 / 12),
])
def test_moments_of_inplace_samplers(fill, mean, var):
    corelib.manual_seed(1)
    x = fill(corelib.empty(200_000, dtype=corelib.float64)).cpu().numpy()
    n = x.size
    assert abs(x.mean() - mean) < 5 * math.sqrt(var / n)
    assert abs(x.var() - var) < 0.05 * var


def test_functional_samplers_statistics():
    corelib.manual_seed(2)
    p = corelib.tensor([0.1, 0.9] * 50_000)
    b = corelib.bernoulli(p).cpu().numpy()
    assert abs(b[0::2].mean() - 0.1) < 0.01 and abs(b[1::2].mean() - 0.9) < 0.01
    y = corelib.normal(corelib.tensor([[-5.0], [5.0]]), corelib.tensor([0.5, 2.0]))
    assert y.shape == (2, 2)   # mean and std broadcast
    big = corelib.normal(corelib.full((100_000,), 3.0), corelib.full((100_000,), 2.0)).cpu().numpy()
    assert abs(big.mean() - 3) < 0.03 and abs(big.std() - 2) < 0.03
    pois = corelib.poisson(corelib.full((100_000,), 4.0)).cpu().numpy()
    assert abs(pois.mean() - 4) < 0.04 and abs(pois.var() - 4) < 0.15
    assert np.all(pois == np.round(pois))


def _chi_square(counts, probs):
    expected = probs * counts.sum()
    return ((counts - expected) ** 2 / expected).sum()


@pytest.mark.parametrize("replacement", [True, False])
def test_multinomial_frequencies(replacement):
    probs = np.array([0.1, 0.2, 0.3, 0.4])
    corelib.manual_seed(3)
    if replacement:
        draws = corelib.multinomial(corelib.tensor(probs), 40_000, True).cpu().numpy()
        counts = np.bincount(draws, minlength=4)
        # 3 degrees of freedom: P(chi2 > 16.3) ~ 0.001
        assert _chi_square(counts, probs) < 16.3
    else:
        rows = corelib.tensor(np.tile(probs, (20_000, 1)))
        first = corelib.multinomial(rows, 1).cpu().numpy().ravel()
        assert _chi_square(np.bincount(first, minlength=4), probs) < 16.3
        full = corelib.multinomial(rows[:100], 4).cpu().numpy()
        assert np.all(np.sort(full, axis=1) == np.arange(4))   # no repeats without replacement


def test_multinomial_zero_probability_never_drawn_and_errors():
    corelib.manual_seed(4)
    d = corelib.multinomial(corelib.tensor([0.0, 1.0, 0.0, 2.0]), 1000, True).cpu().numpy()
    assert set(np.unique(d)) <= {1, 3}
    with pytest.raises(RuntimeError, match="multinomial"):
        corelib.multinomial(corelib.tensor([0.5, 0.5]), 3)
    with pytest.raises(RuntimeError, match="multinomial"):
        corelib.multinomial(corelib.tensor([-0.5, 1.5]), 1)


def test_sampler_errors_and_dtypes():
    with pytest.raises(RuntimeError, match="bernoulli"):
        corelib.bernoulli(corelib.tensor([1.5]))
    with pytest.raises(RuntimeError, match="normal"):
        corelib.empty(3).normal_(0, -1)
    with pytest.raises(RuntimeError, match="random_"):
        corelib.empty(3).random_(5, 2)
    leaf = corelib.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.uniform_()
    ints = corelib.empty(1000, dtype=corelib.int8).random_()
    assert ints.dtype is corelib.int8 and int(ints.min()) >= 0
    assert corelib.normal(0.0, 1.0, (2, 3), dtype=corelib.float64).dtype is corelib.float64
    assert corelib.bernoulli(corelib.full((3,), 0.5, dtype=corelib.float16)).dtype is \
        corelib.float16
    h = corelib.empty(1000, dtype=corelib.float16).uniform_()
    assert 0 <= float(h.min()) and float(h.max()) <= 1


def test_registering_a_plugin_without_a_device_keeps_the_random_stream():
    """A wrapper plugin coming or going (a profiler) must not restart a seeded stream."""
    from corelib.dispatch import registry
    from corelib.hookspecs import hookimpl

    class Wrapper:
        @hookimpl
        def corelib_wrap_kernel(self, op, device_type, kernel):
            return None

    def three_draws(between):
        corelib.manual_seed(7)
        draws = [corelib.rand(3)]
        name = registry.register(Wrapper(), name="test-wrapper-keeps-stream") if between else None
        try:
            draws.append(corelib.rand(3))
        finally:
            if name:
                registry.unregister(name=name)
        draws.append(corelib.rand(3))
        return corelib.cat(draws).cpu().numpy()

    plain = three_draws(between=False)
    assert len(np.unique(plain)) == 9     # three different draws, not a restarted stream
    np.testing.assert_array_equal(three_draws(between=True), plain)
