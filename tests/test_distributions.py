"""corelib.distributions against scipy.stats and torch.distributions at the same parameters
(log_prob, entropy, moments, cdf/icdf), sample moments with a fixed seed (tolerances of several
standard errors), rsample gradients against finite differences / analytic expectations,
kl_divergence against torch, and PyTorch's validation errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import corelib
import corelib.distributions as D

pytest.importorskip("scipy")
from scipy import special, stats  # noqa: E402

RNG = np.random.default_rng(0)


def _t(a, device="cpu", **kw):
    return corelib.tensor(np.asarray(a, dtype=np.float64), device=device, **kw)


def _np(t):
    return t.detach().cpu().numpy()


P = dict(loc=np.array([-1.0, 0.5, 2.0]), scale=np.array([0.5, 1.0, 3.0]),
         low=np.array([-1.0, 0.0, 2.0]), high=np.array([1.0, 0.5, 5.0]),
         rate=np.array([0.5, 1.0, 4.0]), conc=np.array([0.4, 1.0, 7.5]),
         c0=np.array([0.7, 2.0, 3.0]), probs=np.array([0.1, 0.5, 0.85]),
         cat=np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]), n=np.array([3.0, 10.0, 7.0]))

# name: (corelib factory, torch factory(torch, tensor), scipy frozen or None, values,
#        has cdf/icdf)
CASES = {
    "Normal": (lambda t: D.Normal(t(P["loc"]), t(P["scale"])),
               lambda th, t: th.distributions.Normal(t(P["loc"]), t(P["scale"])),
               stats.norm(P["loc"], P["scale"]), np.array([-0.3, 0.7, 4.0]), True),
    "Uniform": (lambda t: D.Uniform(t(P["low"]), t(P["high"])),
                lambda th, t: th.distributions.Uniform(t(P["low"]), t(P["high"])),
                stats.uniform(P["low"], P["high"] - P["low"]), np.array([0.3, 0.2, 4.0]), True),
    "Exponential": (lambda t: D.Exponential(t(P["rate"])),
                    lambda th, t: th.distributions.Exponential(t(P["rate"])),
                    stats.expon(scale=1 / P["rate"]), np.array([0.3, 2.0, 0.1]), True),
    "Laplace": (lambda t: D.Laplace(t(P["loc"]), t(P["scale"])),
                lambda th, t: th.distributions.Laplace(t(P["loc"]), t(P["scale"])),
                stats.laplace(P["loc"], P["scale"]), np.array([-0.3, 0.7, 4.0]), True),
    "Gamma": (lambda t: D.Gamma(t(P["conc"]), t(P["rate"])),
              lambda th, t: th.distributions.Gamma(t(P["conc"]), t(P["rate"])),
              stats.gamma(P["conc"], scale=1 / P["rate"]), np.array([0.3, 2.0, 1.5]), False),
    "Beta": (lambda t: D.Beta(t(P["conc"]), t(P["c0"])),
             lambda th, t: th.distributions.Beta(t(P["conc"]), t(P["c0"])),
             stats.beta(P["conc"], P["c0"]), np.array([0.3, 0.9, 0.6]), False),
    "LogNormal": (lambda t: D.LogNormal(t(P["loc"]), t(P["scale"])),
                  lambda th, t: th.distributions.LogNormal(t(P["loc"]), t(P["scale"])),
                  stats.lognorm(P["scale"], scale=np.exp(P["loc"])), np.array([0.3, 2.0, 9.0]),
                  True),
    "Chi2": (lambda t: D.Chi2(t(P["n"])),
             lambda th, t: th.distributions.Chi2(t(P["n"])),
             stats.chi2(P["n"]), np.array([0.3, 12.0, 5.0]), False),
    "Bernoulli": (lambda t: D.Bernoulli(t(P["probs"])),
                  lambda th, t: th.distributions.Bernoulli(t(P["probs"])),
                  stats.bernoulli(P["probs"]), np.array([1.0, 0.0, 1.0]), False),
    "BernoulliLogits": (lambda t: D.Bernoulli(logits=t(special.logit(P["probs"]))),
                        lambda th, t: th.distributions.Bernoulli(
                            logits=t(special.logit(P["probs"]))),
                        stats.bernoulli(P["probs"]), np.array([0.0, 1.0, 1.0]), False),
    "Poisson": (lambda t: D.Poisson(t(P["rate"])),
                lambda th, t: th.distributions.Poisson(t(P["rate"])),
                stats.poisson(P["rate"]), np.array([0.0, 3.0, 4.0]), False),
    "Binomial": (lambda t: D.Binomial(t(P["n"]), t(P["probs"])),
                 lambda th, t: th.distributions.Binomial(t(P["n"]), t(P["probs"])),
                 stats.binom(P["n"], P["probs"]), np.array([1.0, 5.0, 7.0]), False),
    "Categorical": (lambda t: D.Categorical(t(P["cat"])),
                    lambda th, t: th.distributions.Categorical(t(P["cat"])),
                    None, np.array([2.0, 0.0]), False),
    "CategoricalLogits": (lambda t: D.Categorical(logits=t(np.log(P["cat"]) + 1.3)),
                          lambda th, t: th.distributions.Categorical(
                              logits=t(np.log(P["cat"]) + 1.3)),
                          None, np.array([1.0, 2.0]), False),
    "OneHotCategorical": (lambda t: D.OneHotCategorical(t(P["cat"])),
                          lambda th, t: th.distributions.OneHotCategorical(t(P["cat"])),
                          None, np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]), False),
    "Cauchy": (lambda t: D.Cauchy(t(P["loc"]), t(P["scale"])),
               lambda th, t: th.distributions.Cauchy(t(P["loc"]), t(P["scale"])),
               stats.cauchy(P["loc"], P["scale"]), np.array([-0.3, 0.7, 4.0]), True),
    "HalfNormal": (lambda t: D.HalfNormal(t(P["scale"])),
                   lambda th, t: th.distributions.HalfNormal(t(P["scale"])),
                   stats.halfnorm(scale=P["scale"]), np.array([0.3, 0.7, 4.0]), True),
    "StudentT": (lambda t: D.StudentT(t([0.8, 1.5, 5.0]), t(P["loc"]), t(P["scale"])),
                 lambda th, t: th.distributions.StudentT(t([0.8, 1.5, 5.0]), t(P["loc"]),
                                                         t(P["scale"])),
                 None, np.array([-0.3, 0.7, 4.0]), False),
    "Geometric": (lambda t: D.Geometric(t(P["probs"])),
                  lambda th, t: th.distributions.Geometric(t(P["probs"])),
                  stats.geom(P["probs"], loc=-1), np.array([0.0, 3.0, 1.0]), False),
    "Multinomial": (lambda t: D.Multinomial(6, t(P["cat"])),
                    lambda th, t: th.distributions.Multinomial(6, t(P["cat"])),
                    None, np.array([[1.0, 2.0, 3.0], [6.0, 0.0, 0.0]]), False),
    "Dirichlet": (lambda t: D.Dirichlet(t(P["cat"] * 3)),
                  lambda th, t: th.distributions.Dirichlet(t(P["cat"] * 3)),
                  None, np.array([[0.1, 0.3, 0.6], [0.5, 0.25, 0.25]]), False),
}
_MVN_COV = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]])


@pytest.mark.parametrize("name", list(CASES))
def test_against_scipy_and_torch(torch, name):
    ours_f, torch_f, ref, values, has_cdf = CASES[name]
    ours = ours_f(_t)
    theirs = torch_f(torch, lambda a: torch.tensor(a, dtype=torch.float64))
    x = _t(values)
    tx = torch.tensor(values, dtype=torch.float64)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    np.testing.assert_allclose(_np(ours.log_prob(x)), theirs.log_prob(tx).numpy(), rtol=1e-10,
                               atol=1e-12)
    for attr in ("mean", "variance", "stddev", "mode"):
        try:
            want = getattr(theirs, attr).numpy()
        except NotImplementedError:
            with pytest.raises(NotImplementedError):
                getattr(ours, attr)
            continue
        np.testing.assert_allclose(_np(getattr(ours, attr)), want, rtol=1e-10, err_msg=attr)
    try:
        want_entropy = theirs.entropy().numpy()
    except NotImplementedError:
        want_entropy = None
    if want_entropy is not None:   # torch's Multinomial takes lgamma(n + 1) in float32
        np.testing.assert_allclose(_np(ours.entropy()), want_entropy, atol=1e-12,
                                   rtol=1e-7 if name == "Multinomial" else 1e-10)
    if ref is not None:
        logpdf = ref.logpmf(values) if hasattr(ref.dist, "pmf") else ref.logpdf(values)
        np.testing.assert_allclose(_np(ours.log_prob(x)), logpdf, rtol=1e-9)
        np.testing.assert_allclose(_np(ours.mean), ref.mean(), rtol=1e-10)
        if name != "Cauchy":   # scipy: NaN, PyTorch: inf
            np.testing.assert_allclose(_np(ours.variance), ref.var(), rtol=1e-10)
        if want_entropy is not None and name != "Binomial":
            np.testing.assert_allclose(_np(ours.entropy()), ref.entropy(), rtol=1e-9)
    if has_cdf:
        np.testing.assert_allclose(_np(ours.cdf(x)), ref.cdf(values), rtol=1e-10, atol=1e-14)
        q = np.array([0.1, 0.5, 0.95])
        np.testing.assert_allclose(_np(ours.icdf(_t(q))), ref.ppf(q), rtol=1e-8)
    if ours.has_enumerate_support and not isinstance(ours, D.Binomial):
        np.testing.assert_array_equal(_np(ours.enumerate_support()),
                                      theirs.enumerate_support().numpy())
    assert ours.has_rsample == theirs.has_rsample
    shape = (2,) + tuple(ours.batch_shape)
    ex, tex = ours.expand(shape), theirs.expand(shape)
    assert type(ex) is type(ours) and tuple(ex.batch_shape) == shape
    np.testing.assert_allclose(_np(ex.log_prob(x)), tex.log_prob(tx).numpy(), rtol=1e-10,
                               atol=1e-12)
    assert tuple(ex.sample((4,)).shape) == tuple(tex.sample((4,)).shape)


def test_gamma_cdf(torch):
    """Gamma/Chi2 cdf against scipy's regularized incomplete gamma and torch's, with its
    gradient in the value equal to the density."""
    conc = np.array([0.05, 0.4, 1.0, 7.5, 120.0])
    x = np.array([0.3, 2.0, 1.5, 9.0, 100.0])
    value = _t(x, requires_grad=True)
    got = D.Gamma(_t(conc), _t(2.0)).cdf(value)
    np.testing.assert_allclose(_np(got), special.gammainc(conc, 2.0 * x), rtol=1e-10)
    np.testing.assert_allclose(_np(got), torch.distributions.Gamma(
        torch.tensor(conc), 2.0).cdf(torch.tensor(x)).numpy(), rtol=1e-6)
    got.sum().backward()
    # the derivative of the series sums terms of either sign: absolute error ~1e-14 where the
    # density itself is tiny (the last point, 7 standard deviations out)
    np.testing.assert_allclose(_np(value.grad), stats.gamma(conc, scale=0.5).pdf(x),
                               rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(_np(D.Chi2(_t(P["n"])).cdf(_t([0.3, 12.0, 5.0]))),
                               stats.chi2(P["n"]).cdf([0.3, 12.0, 5.0]), rtol=1e-10)


def test_module_paths():
    from corelib.distributions.normal import Normal
    from corelib.distributions.one_hot_categorical import OneHotCategorical
    assert Normal is D.Normal and OneHotCategorical is D.OneHotCategorical


def test_multivariate_normal_parameterizations(torch):
    loc = RNG.standard_normal((2, 3))
    L = np.linalg.cholesky(_MVN_COV)
    value = RNG.standard_normal((4, 2, 3))
    ref = [stats.multivariate_normal(m, _MVN_COV) for m in loc]
    want = np.stack([r.logpdf(value[:, i]) for i, r in enumerate(ref)], -1)
    for kw in ({"covariance_matrix": _MVN_COV}, {"scale_tril": L},
               {"precision_matrix": np.linalg.inv(_MVN_COV)}):
        (key, mat), = kw.items()
        ours = D.MultivariateNormal(_t(loc), **{key: _t(mat)})
        assert tuple(ours.batch_shape) == (2,) and tuple(ours.event_shape) == (3,)
        np.testing.assert_allclose(_np(ours.log_prob(_t(value))), want, rtol=1e-10)
        np.testing.assert_allclose(_np(ours.entropy()), [r.entropy() for r in ref], rtol=1e-10)
        np.testing.assert_allclose(_np(ours.covariance_matrix[1]), _MVN_COV, rtol=1e-10,
                                   atol=1e-12)
        np.testing.assert_allclose(_np(ours.precision_matrix[0]), np.linalg.inv(_MVN_COV),
                                   rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(_np(ours.variance[0]), np.diag(_MVN_COV), rtol=1e-10)
    theirs = torch.distributions.MultivariateNormal(torch.tensor(loc),
                                                    torch.tensor(_MVN_COV))
    np.testing.assert_allclose(_np(ours.scale_tril[0]), theirs.scale_tril[0].numpy(),
                               rtol=1e-10, atol=1e-12)


def test_composites_against_torch(torch):
    loc, scale = RNG.standard_normal((2, 3)), RNG.uniform(0.5, 2, (2, 3))
    probs = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    x = RNG.standard_normal((5, 2))
    td = torch.distributions
    T = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    mix = D.MixtureSameFamily(D.Categorical(_t(probs)), D.Normal(_t(loc), _t(scale)))
    tmix = td.MixtureSameFamily(td.Categorical(T(probs)), td.Normal(T(loc), T(scale)))
    np.testing.assert_allclose(_np(mix.log_prob(_t(x))), tmix.log_prob(T(x)).numpy(),
                               rtol=1e-10)
    np.testing.assert_allclose(_np(mix.cdf(_t(x))), tmix.cdf(T(x)).numpy(), rtol=1e-10)
    np.testing.assert_allclose(_np(mix.mean), tmix.mean.numpy(), rtol=1e-10)
    np.testing.assert_allclose(_np(mix.variance), tmix.variance.numpy(), rtol=1e-10)
    ind = D.Independent(D.Normal(_t(loc), _t(scale)), 1)
    tind = td.Independent(td.Normal(T(loc), T(scale)), 1)
    assert tuple(ind.batch_shape) == (2,) and tuple(ind.event_shape) == (3,)
    v = RNG.standard_normal((4, 2, 3))
    np.testing.assert_allclose(_np(ind.log_prob(_t(v))), tind.log_prob(T(v)).numpy(),
                               rtol=1e-10)
    np.testing.assert_allclose(_np(ind.entropy()), tind.entropy().numpy(), rtol=1e-10)
    tr = D.TransformedDistribution(D.Normal(_t(loc), _t(scale)),
                                   [D.AffineTransform(1.0, 2.0), D.SigmoidTransform()])
    ttr = td.TransformedDistribution(td.Normal(T(loc), T(scale)),
                                     [td.AffineTransform(1.0, 2.0), td.SigmoidTransform()])
    u = RNG.uniform(0.05, 0.95, (2, 3))
    np.testing.assert_allclose(_np(tr.log_prob(_t(u))), ttr.log_prob(T(u)).numpy(), rtol=1e-9)
    np.testing.assert_allclose(_np(tr.cdf(_t(u))), ttr.cdf(T(u)).numpy(), rtol=1e-9)
    ex = D.Normal(_t(loc[0]), _t(scale[0])).expand((4, 3))
    assert tuple(ex.batch_shape) == (4, 3) and tuple(ex.sample((2,)).shape) == (2, 4, 3)
    assert tuple(D.Categorical(_t(probs)).expand((5, 2)).sample((3,)).shape) == (3, 5, 2)


KL_PAIRS = {
    "Normal": (lambda m, T: m.Normal(T([0.3, -1.0]), T([1.0, 2.0])),
               lambda m, T: m.Normal(T([1.0, 0.0]), T([0.5, 3.0]))),
    "Categorical": (lambda m, T: m.Categorical(T([[0.2, 0.3, 0.5], [0.0, 0.4, 0.6]])),
                    lambda m, T: m.Categorical(T([[0.1, 0.6, 0.3], [0.3, 0.3, 0.4]]))),
    "Bernoulli": (lambda m, T: m.Bernoulli(T([0.2, 0.0, 0.9])),
                  lambda m, T: m.Bernoulli(T([0.5, 0.3, 0.4]))),
    "Uniform": (lambda m, T: m.Uniform(T([0.0, -1.0]), T([1.0, 1.0])),
                lambda m, T: m.Uniform(T([-1.0, 0.0]), T([2.0, 1.0]))),
    "MVN": (lambda m, T: m.MultivariateNormal(T([0.0, 1.0, 0.5]), T(_MVN_COV)),
            lambda m, T: m.MultivariateNormal(T([[0.3, 0.0, 0.0], [1.0, 1.0, 1.0]]),
                                              scale_tril=T(np.diag([1.0, 2.0, 0.7])))),
    "Gamma": (lambda m, T: m.Gamma(T([0.5, 3.0]), T([1.0, 2.0])),
              lambda m, T: m.Gamma(T([2.0, 1.0]), T([0.5, 1.5]))),
    "Beta": (lambda m, T: m.Beta(T([0.5, 3.0]), T([1.0, 2.0])),
             lambda m, T: m.Beta(T([2.0, 1.0]), T([0.5, 1.5]))),
    "Exponential": (lambda m, T: m.Exponential(T([0.5, 3.0])),
                    lambda m, T: m.Exponential(T([2.0, 1.0]))),
    "Poisson": (lambda m, T: m.Poisson(T([0.5, 3.0])), lambda m, T: m.Poisson(T([2.0, 1.0]))),
    "Laplace": (lambda m, T: m.Laplace(T([0.5, 3.0]), T([1.0, 2.0])),
                lambda m, T: m.Laplace(T([2.0, 1.0]), T([0.5, 1.5]))),
}


@pytest.mark.parametrize("pair", list(KL_PAIRS))
def test_kl_divergence_against_torch(torch, pair):
    fp, fq = KL_PAIRS[pair]
    T = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    got = D.kl_divergence(fp(D, _t), fq(D, _t))
    want = torch.distributions.kl_divergence(fp(torch.distributions, T),
                                             fq(torch.distributions, T))
    np.testing.assert_allclose(_np(got), want.numpy(), rtol=1e-10)


def test_kl_registry():
    class MyNormal(D.Normal):
        pass
    p, q = MyNormal(0.0, 1.0), D.Normal(1.0, 2.0)
    assert math.isclose(float(D.kl_divergence(p, q)), float(D.kl_divergence(D.Normal(0.0, 1.0),
                                                                             q)))
    with pytest.raises(NotImplementedError, match="No KL"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Gamma(1.0, 1.0))

    @D.register_kl(MyNormal, D.Normal)
    def _kl(p, q):
        return corelib.tensor(42.0)
    assert float(D.kl_divergence(p, q)) == 42.0


SAMPLE_CASES = {   # corelib factory, exact mean, exact variance (per batch element)
    "Normal": (lambda: D.Normal(_t(P["loc"]), _t(P["scale"]))),
    "Uniform": (lambda: D.Uniform(_t(P["low"]), _t(P["high"]))),
    "Exponential": (lambda: D.Exponential(_t(P["rate"]))),
    "Laplace": (lambda: D.Laplace(_t(P["loc"]), _t(P["scale"]))),
    "Gamma": (lambda: D.Gamma(_t(P["conc"]), _t(P["rate"]))),
    "Beta": (lambda: D.Beta(_t(P["conc"]), _t(P["c0"]))),
    "LogNormal": (lambda: D.LogNormal(_t([0.0, 0.5]), _t([0.3, 0.5]))),
    "Bernoulli": (lambda: D.Bernoulli(_t(P["probs"]))),
    "Poisson": (lambda: D.Poisson(_t(P["rate"]))),
    "Binomial": (lambda: D.Binomial(_t(P["n"]), _t(P["probs"]))),
    "Categorical": (lambda: D.OneHotCategorical(_t(P["cat"]))),
    "Dirichlet": (lambda: D.Dirichlet(_t(P["cat"] * 3))),
    "MVN": (lambda: D.MultivariateNormal(_t([0.0, 1.0, 0.5]), _t(_MVN_COV))),
    "HalfNormal": (lambda: D.HalfNormal(_t(P["scale"]))),
    "StudentT": (lambda: D.StudentT(_t([5.0, 9.0]), _t([0.0, 1.0]), _t([1.0, 2.0]))),
    "Geometric": (lambda: D.Geometric(_t([0.3, 0.8]))),
    "Multinomial": (lambda: D.Multinomial(6, _t(P["cat"]))),
    "Mixture": (lambda: D.MixtureSameFamily(D.Categorical(_t([0.3, 0.7])),
                                            D.Normal(_t([-2.0, 1.0]), _t([0.5, 1.0])))),
}


@pytest.mark.parametrize("name", list(SAMPLE_CASES))
def test_sample_moments(name):
    """Sample means within 5 standard errors (sd / sqrt(n)) of the exact mean; sample
    variances within 5 standard errors of the variance estimate (using the sample's 4th
    central moment); seeded, so reproducible."""
    dist = SAMPLE_CASES[name]()
    n = 20000
    corelib.manual_seed(1234)
    s = dist.sample((n,))
    corelib.manual_seed(1234)
    assert np.array_equal(_np(dist.sample((n,))), _np(s))   # reproducible
    assert tuple(s.shape) == (n,) + tuple(dist.batch_shape) + tuple(dist.event_shape)
    x = _np(s)
    mean, var = _np(dist.mean), _np(dist.variance)
    se_mean = np.sqrt(var / n)
    assert np.all(np.abs(x.mean(0) - mean) <= 5 * se_mean + 1e-12), (x.mean(0), mean)
    m4 = ((x - x.mean(0)) ** 4).mean(0)
    se_var = np.sqrt(np.maximum(m4 - var ** 2, 0) / n)
    assert np.all(np.abs(x.var(0) - var) <= 5 * se_var + 1e-12), (x.var(0), var)
    if not dist.support.is_discrete:
        assert bool(dist.support.check(s).all())


def _fd(f, x, eps=1e-6):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def test_rsample_gradients():
    # Normal / Laplace / Exponential / Uniform / LogNormal: the pathwise derivative, sample by
    # sample, equals the derivative of the sampler at fixed noise (finite differences with the
    # same seed)
    makers = {"Normal": lambda a: D.Normal(a, 2.0), "Laplace": lambda a: D.Laplace(a * 0.3, a),
              "Exponential": lambda a: D.Exponential(a), "Uniform": lambda a: D.Uniform(-a, a),
              "LogNormal": lambda a: D.LogNormal(0.1, a), "Gamma": lambda a: D.Gamma(a, 1.5),
              "Beta": lambda a: D.Beta(a, 2.0)}
    for name, make in makers.items():
        a = _t(1.3, requires_grad=True)
        corelib.manual_seed(7)
        s = make(a).rsample((50,))
        s.sum().backward()

        def total(v):
            corelib.manual_seed(7)
            with corelib.no_grad():
                return float(make(_t(v)).rsample((50,)).sum())
        if name in ("Gamma", "Beta"):
            continue   # rejection sampler: the noise does not fix the sample; checked below
        assert math.isclose(float(a.grad), _fd(total, 1.3), rel_tol=1e-5), name


def test_gamma_rsample_gradient_implicit_reparameterization(torch):
    """d sample / d concentration = -(dF/dalpha) / pdf at each sample, F the gamma CDF (scipy's
    regularized incomplete gamma, differentiated by central differences); and agreement with
    torch's own approximation of the same derivative."""
    alpha = np.array([0.3, 0.9, 2.5, 11.0, 150.0])
    a = _t(alpha, requires_grad=True)
    corelib.manual_seed(3)
    x = D.Gamma(a, 1.0).rsample()
    x.sum().backward()
    xs = _np(x)
    h = 1e-6
    dF = (special.gammainc(alpha + h, xs) - special.gammainc(alpha - h, xs)) / (2 * h)
    want = -dF / stats.gamma.pdf(xs, alpha)
    np.testing.assert_allclose(_np(a.grad), want, rtol=1e-6)
    theirs = torch._standard_gamma_grad(torch.tensor(alpha), torch.tensor(xs))
    np.testing.assert_allclose(_np(a.grad), theirs.numpy(), rtol=5e-3)
    # rate: d (x / rate) / d rate = -x / rate
    r = _t(2.0, requires_grad=True)
    corelib.manual_seed(3)
    y = D.Gamma(_t(alpha), r).rsample()
    y.sum().backward()
    assert math.isclose(float(r.grad), -float(y.sum()) / 2.0, rel_tol=1e-10)


def test_dirichlet_rsample_gradient_in_expectation():
    """d/dalpha E[x_0^2] by the pathwise estimator vs the analytic derivative of
    E[x_0^2] = a0 (a0 + 1) / (A (A + 1)); tolerance of 5 Monte Carlo standard errors."""
    alpha = np.array([1.5, 2.0, 3.0])
    c = _t(alpha, requires_grad=True)
    corelib.manual_seed(11)
    n = 4000
    x = D.Dirichlet(c).rsample((n,))
    per = x[:, 0] ** 2
    per.mean().backward()
    A = alpha.sum()

    def m2(al):
        s = al.sum()
        return al[0] * (al[0] + 1) / (s * (s + 1))
    want = np.array([_fd(lambda v: m2(np.where(np.arange(3) == i, v, alpha)), alpha[i])
                     for i in range(3)])
    # per-sample gradients' spread, from a smaller batch
    grads = []
    for seed in range(10):
        cc = _t(alpha, requires_grad=True)
        corelib.manual_seed(100 + seed)
        (D.Dirichlet(cc).rsample((400,))[:, 0] ** 2).mean().backward()
        grads.append(_np(cc.grad))
    se = np.std(grads, 0) * math.sqrt(400 / n)
    assert np.all(np.abs(_np(c.grad) - want) <= 5 * se + 1e-4), (_np(c.grad), want, A)


def test_validation_errors(torch):
    cases = [
        (lambda m, T: m.Normal(T([0.0]), T([-1.0])), "Expected parameter scale"),
        (lambda m, T: m.Bernoulli(T([1.5])), "Expected parameter probs"),
        (lambda m, T: m.Bernoulli(), "Either `probs` or `logits` must be specified"),
        (lambda m, T: m.Categorical(T([0.5, 0.5]), T([0.0, 0.0])), "but not both"),
        (lambda m, T: m.MultivariateNormal(T([0.0, 0.0])), "Exactly one of covariance_matrix"),
        (lambda m, T: m.MultivariateNormal(T([0.0, 0.0]), T([[1.0, 2.0], [2.0, 1.0]])),
         "Expected parameter covariance_matrix"),
        (lambda m, T: m.MultivariateNormal(T(0.0), T([[1.0]])),
         "loc must be at least one-dimensional"),
        (lambda m, T: m.Normal(T([0.0, 1.0]), T([1.0, 1.0])).log_prob(T([1.0, 2.0, 3.0])),
         "Value is not broadcastable"),
        (lambda m, T: m.Exponential(T([1.0])).log_prob(T([-1.0])),
         "Expected value argument"),
        (lambda m, T: m.Uniform(T([1.0]), T([0.0])), "Expected parameter low"),
        (lambda m, T: m.Independent(m.Normal(T([0.0]), T([1.0])), 2),
         "Expected reinterpreted_batch_ndims"),
        (lambda m, T: m.Dirichlet(T([1.0, 2.0])).log_prob(T([0.5, 0.6])),
         "Expected value argument"),
    ]
    T_ours = _t
    T_torch = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    for make, match in cases:
        with pytest.raises(ValueError, match=match):
            make(torch.distributions, T_torch)
        with pytest.raises(ValueError, match=match):
            make(D, T_ours)
    # validate_args=False: no checks
    D.Normal(_t([0.0]), _t([-1.0]), validate_args=False)
    with pytest.raises(NotImplementedError):
        D.Categorical(_t([0.5, 0.5])).rsample()


def test_on_device(device):
    """log_prob, rsample gradients and samples on every installed device."""
    loc = corelib.tensor([0.5, -1.0], device=device, requires_grad=True)
    scale = corelib.tensor([1.0, 2.0], device=device)
    d = D.Normal(loc, scale)
    corelib.manual_seed(0)
    s = d.rsample((3,))
    assert s.device.type == corelib.device(device).type
    s.sum().backward()
    np.testing.assert_allclose(_np(loc.grad), [3.0, 3.0])
    lp = d.log_prob(corelib.tensor([0.0, 0.0], device=device))
    np.testing.assert_allclose(_np(lp), stats.norm([0.5, -1.0], [1.0, 2.0]).logpdf(0.0),
                               rtol=1e-6)
    g = D.Gamma(corelib.tensor([2.0, 0.5], device=device), 1.0).sample((4,))
    assert g.device.type == s.device.type and bool((g > 0).all())
    c = D.Categorical(logits=corelib.tensor([[0.0, 1.0, 2.0]], device=device))
    assert c.sample((5,)).device.type == s.device.type
    cov = corelib.tensor(_MVN_COV, device=device)
    mvn = D.MultivariateNormal(corelib.zeros(3, device=device, dtype=cov.dtype), cov)
    np.testing.assert_allclose(_np(mvn.log_prob(corelib.zeros(3, device=device,
                                                               dtype=cov.dtype))),
                               stats.multivariate_normal(np.zeros(3), _MVN_COV).logpdf(
                                   np.zeros(3)), rtol=1e-5)


def test_public_names_documented_and_listed():
    from public_names import undocumented as _undocumented
    for module in (D, D.constraints, D.transforms, D.utils):
        assert not _undocumented(module), module.__name__
    assert "distributions" in dir(corelib)


@pytest.mark.parametrize("package", ["distributions", "amp", "backends"])
def test_frontend_only(package):
    """Written on corelib's frontend API: no NumPy, CuPy or backend imports."""
    import ast
    import pathlib
    root = pathlib.Path(corelib.__file__).parent / package
    bad = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            bad += [f"{path.name}: {n}" for n in names if n and n.split(".")[0] in
                    ("numpy", "cupy", "scipy", "corelib_cpu", "corelib_cuda")]
    assert not bad
