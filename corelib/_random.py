"""Random state: ``corelib.Generator`` per device and the default generators.

The state object itself belongs to the backend (``BackendSpec.make_generator``); the frontend
only keeps the seed and hands the state to random kernels as ``generator=``.
"""
from __future__ import annotations

import time

from ._device import canonical
from .dispatch import registry

__all__ = ["Generator", "manual_seed", "seed", "initial_seed", "default_generator"]


class Generator:
    """A random-number generator for one device, seeded independently."""

    def __init__(self, device="cpu"):
        self.device = canonical(device)
        self._seed = 67280421310721   # PyTorch's default seed
        self._state = None

    @property
    def state(self):
        if self._state is None:
            spec = registry.backend(self.device.type)
            self._state = spec.make_generator(self._seed)
        return self._state

    def manual_seed(self, seed):
        seed = int(seed)
        if seed < 0:
            seed += 1 << 64
        if not 0 <= seed < 1 << 64:
            raise RuntimeError(f"manual_seed(): seed must be within [0, 2**64), got {seed}")
        self._seed = seed
        self._state = None
        return self

    def seed(self):
        self.manual_seed(time.time_ns() & ((1 << 63) - 1))
        return self._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """A copy of the generator's state (backend-defined), for ``set_state``."""
        from ._ops.random import generator_get_state
        return generator_get_state.kernel(self.device.type)(self.state)

    def set_state(self, state):
        """Restore a state returned by ``get_state``."""
        from ._ops.random import generator_set_state
        generator_set_state.kernel(self.device.type)(self.state, state)

    def __repr__(self):
        return f"<corelib.Generator object on {self.device}>"


_defaults: dict = {}
_global_seed = [None]


def default_generator(device="cpu") -> Generator:
    device = canonical(device)
    gen = _defaults.get(device)
    if gen is None:
        gen = _defaults[device] = Generator(device)
        if _global_seed[0] is not None:
            gen.manual_seed(_global_seed[0])
    return gen


def manual_seed(seed):
    """Seed the default generator of every device (present and future)."""
    _global_seed[0] = int(seed)
    for gen in _defaults.values():
        gen.manual_seed(seed)
    return default_generator("cpu")


def seed():
    s = time.time_ns() & ((1 << 63) - 1)
    manual_seed(s)
    return s


def initial_seed():
    return default_generator("cpu").initial_seed()


def get_rng_state():
    return default_generator("cpu").get_state()


def set_rng_state(state):
    default_generator("cpu").set_state(state)


def _forget_states(device_type=None):
    """Drop the backend states of the default generators of ``device_type`` (None: all): its
    backend changed; they are made again from their seeds."""
    for gen in _defaults.values():
        if device_type is None or gen.device.type == device_type:
            gen._state = None


registry.listeners.append(_forget_states)
