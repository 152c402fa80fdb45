"""Thread-local gradient modes: no_grad, enable_grad, set_grad_enabled, inference_mode."""
from __future__ import annotations

import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]


class _State(threading.local):
    grad_enabled = True
    inference = False


STATE = _State()


def is_grad_enabled():
    return STATE.grad_enabled


def is_inference_mode_enabled():
    return STATE.inference


class _Mode:
    """Base for context managers that are also decorators."""
    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return type(self)()

    def __enter__(self):
        self.prev = (STATE.grad_enabled, STATE.inference)
        self._set()

    def __exit__(self, *exc):
        STATE.grad_enabled, STATE.inference = self.prev


class no_grad(_Mode):
    def _set(self):
        STATE.grad_enabled = False


class enable_grad(_Mode):
    def _set(self):
        STATE.grad_enabled = True


class set_grad_enabled(_Mode):
    def __init__(self, mode: bool):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(): argument 'enabled' (position 1) must be bool, "
                            f"not {type(mode).__name__}")
        self.mode = mode
        self.prev = (STATE.grad_enabled, STATE.inference)
        STATE.grad_enabled = self.mode   # takes effect as a function call too, like PyTorch

    def clone(self):
        return set_grad_enabled(self.mode)

    def __enter__(self):
        pass   # the state was saved and set in __init__


class inference_mode(_Mode):
    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def clone(self):
        return inference_mode(self.mode)

    def _set(self):
        if self.mode:
            STATE.grad_enabled, STATE.inference = False, True
