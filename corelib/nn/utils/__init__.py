"""corelib.nn.utils: gradient clipping and parameter/vector conversion."""
from __future__ import annotations

from .clip_grad import (clip_grad_norm, clip_grad_norm_, clip_grad_value_,  # noqa: F401
                        clip_grads_with_norm_, get_total_norm)
from . import rnn  # noqa: F401  (packed sequences)
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401

__all__ = ["rnn", "clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_",
           "get_total_norm", "parameters_to_vector", "vector_to_parameters"]
