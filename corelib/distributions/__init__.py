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
from .multivariate_normal import MultivariateNormal
from .transforms import (AbsTransform, AffineTransform, ComposeTransform, ExpTransform,
                         PowerTransform, SigmoidTransform, SoftplusTransform, TanhTransform,
                         Transform)

__all__ = ["AbsTransform", "AffineTransform", "Bernoulli", "Beta", "Binomial", "Categorical",
           "Chi2", "ComposeTransform", "Constraint", "Dirichlet", "Distribution",
           "ExpTransform", "Exponential", "ExponentialFamily", "Gamma", "Independent",
           "Laplace", "LogNormal", "MixtureSameFamily", "MultivariateNormal", "Normal",
           "OneHotCategorical", "OneHotCategoricalStraightThrough", "Poisson",
           "PowerTransform", "SigmoidTransform", "SoftplusTransform", "TanhTransform",
           "Transform", "TransformedDistribution", "Uniform", "constraints", "kl_divergence",
           "register_kl", "transforms"]
