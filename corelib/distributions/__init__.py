"""corelib.distributions: PyTorch's ``torch.distributions``, written on corelib's frontend API.

Parameters broadcast as in PyTorch; ``sample``/``rsample(sample_shape)`` return
``sample_shape + batch_shape + event_shape`` drawn from corelib's default generator
(``corelib.manual_seed`` makes them reproducible); ``rsample`` is differentiable where PyTorch's
is (``has_rsample``), gradients coming from autograd through frontend ops, so every
distribution works on every device. Gamma, Beta, Dirichlet and Chi2 samples come from a
vectorized Marsaglia-Tsang sampler with implicit-reparameterization gradients.
``validate_args`` (default on, as PyTorch's ``__debug__``) checks parameters and samples against
the ``constraints`` and raises PyTorch's ValueError messages.
"""
from __future__ import annotations

from . import constraints, transforms
from .composite import Independent, LogNormal, MixtureSameFamily, TransformedDistribution
from .constraints import Constraint
from .continuous import (Beta, Chi2, Dirichlet, Exponential, ExponentialFamily, Gamma, Laplace,
                         Normal, Uniform)
from .discrete import (Bernoulli, Binomial, Categorical, OneHotCategorical,
                       OneHotCategoricalStraightThrough, Poisson)
from .distribution import Distribution
from .kl import kl_divergence, register_kl
from .more import Cauchy, Geometric, HalfNormal, Multinomial, StudentT
from .multivariate_normal import MultivariateNormal
from .transforms import (AbsTransform, AffineTransform, ComposeTransform, ExpTransform,
                         PowerTransform, SigmoidTransform, SoftplusTransform, TanhTransform,
                         Transform)

__all__ = ["AbsTransform", "AffineTransform", "Bernoulli", "Beta", "Binomial", "Categorical",
           "Cauchy", "Chi2", "Geometric", "HalfNormal", "Multinomial", "StudentT", "ComposeTransform", "Constraint", "Dirichlet", "Distribution",
           "ExpTransform", "Exponential", "ExponentialFamily", "Gamma", "Independent",
           "Laplace", "LogNormal", "MixtureSameFamily", "MultivariateNormal", "Normal",
           "OneHotCategorical", "OneHotCategoricalStraightThrough", "Poisson",
           "PowerTransform", "SigmoidTransform", "SoftplusTransform", "TanhTransform",
           "Transform", "TransformedDistribution", "Uniform", "constraints", "kl_divergence",
           "register_kl", "transforms"]


def _alias_modules():
    """PyTorch's per-distribution module paths (``corelib.distributions.normal.Normal``, ...)
    as small modules naming the classes above."""
    import sys
    import types
    paths = {"normal": ["Normal"], "uniform": ["Uniform"], "exponential": ["Exponential"],
             "laplace": ["Laplace"], "gamma": ["Gamma"], "chi2": ["Chi2"], "beta": ["Beta"],
             "dirichlet": ["Dirichlet"], "exp_family": ["ExponentialFamily"],
             "bernoulli": ["Bernoulli"], "categorical": ["Categorical"],
             "one_hot_categorical": ["OneHotCategorical", "OneHotCategoricalStraightThrough"],
             "poisson": ["Poisson"], "binomial": ["Binomial"], "log_normal": ["LogNormal"],
             "independent": ["Independent"], "mixture_same_family": ["MixtureSameFamily"],
             "transformed_distribution": ["TransformedDistribution"], "cauchy": ["Cauchy"],
             "half_normal": ["HalfNormal"], "studentT": ["StudentT"],
             "geometric": ["Geometric"], "multinomial": ["Multinomial"]}
    package = sys.modules[__name__]
    for path, names in paths.items():
        module = types.ModuleType(f"{__name__}.{path}",
                                  f"PyTorch's torch.distributions.{path} path: "
                                  f"{', '.join(names)}.")
        module.__all__ = list(names)
        for name in names:
            setattr(module, name, getattr(package, name))
        sys.modules[module.__name__] = module
        setattr(package, path, module)


_alias_modules()
del _alias_modules
