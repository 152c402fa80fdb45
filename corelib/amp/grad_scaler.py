"""GradScaler: PyTorch's dynamic loss scaling (torch.amp.GradScaler), on the frontend API.

The scale is kept as a Python float rounded to float32 after every change (PyTorch keeps a
float32 tensor), so scales, skipped steps and growth follow PyTorch's step for step.
"""
from __future__ import annotations

import struct
import warnings
from collections import defaultdict
from enum import Enum

from .. import _dtype
from .._tensor import Tensor

__all__ = ["GradScaler", "OptState"]


def _f32(x):
    """``x`` rounded to the nearest float32 (PyTorch's scale tensor is float32)."""
    try:
        return struct.unpack("f", struct.pack("f", x))[0]
    except OverflowError:
        return float("inf") if x > 0 else float("-inf")


class OptState(Enum):
    """OptState: where an optimizer is in GradScaler's unscale_/step/update cycle."""

    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _refresh_per_optimizer_state():
    return {"stage": OptState.READY, "found_inf_per_device": {}}


class GradScaler:
    """GradScaler(device="cuda", init_scale=2.**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000, enabled=True)

    Dynamic loss scaling: scale the loss, unscale the gradients, skip steps with inf/NaN
    gradients (backing off the scale) and grow the scale after ``growth_interval`` clean steps.
    """

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0,
                 backoff_factor=0.5, growth_interval=2000, enabled=True):
        self._device = str(device)
        self._enabled = bool(enabled)
        if self._device == "cuda" and enabled:
            from .. import cuda
            if not cuda.is_available():
                warnings.warn("corelib.cuda.amp.GradScaler is enabled, but CUDA is not "
                              "available.  Disabling.")
                self._enabled = False
        if self._enabled:
            if not growth_factor > 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if not backoff_factor < 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
            self._init_scale = init_scale
            self._scale = None
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker = None
            self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    def _check_scale_growth_tracker(self, funcname):
        fix = "This may indicate your script did not use scaler.scale(loss or outputs) earlier " \
              "in the iteration."
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  {fix}")
        if self._growth_tracker is None:
            raise AssertionError(f"Attempted {funcname} but _growth_tracker is None.  {fix}")
        return self._scale, self._growth_tracker

    def _lazy_init_scale_growth_tracker(self):
        self._scale = _f32(float(self._init_scale))
        self._growth_tracker = self._init_growth_tracker

    def scale(self, outputs):
        """scale(outputs) -> Tensor | Iterable[Tensor]

        Multiply a tensor (or an iterable of tensors) by the current scale factor.
        """
        if not self._enabled:
            return outputs
        if self._scale is None:
            self._lazy_init_scale_growth_tracker()

        def apply(v):
            if isinstance(v, Tensor):
                return v * self._scale
            if isinstance(v, (list, tuple)):
                out = [apply(x) for x in v]
                return type(v)(out) if isinstance(v, tuple) else out
            if hasattr(v, "__iter__"):
                return map(apply, v)
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")
        return apply(outputs)

    def _unscale_grads_(self, optimizer, inv_scale, allow_fp16):
        from ..autograd.grad_mode import no_grad
        found = {}
        with no_grad():
            for group in optimizer.param_groups:
                for param in group["params"]:
                    g = param.grad
                    if g is None:
                        continue
                    if not allow_fp16 and g.dtype is _dtype.float16:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    g.mul_(inv_scale)
                    bad = (~g.isfinite()).any()
                    dev = str(g.device)
                    found[dev] = bad if dev not in found else (found[dev] | bad)
        return found

    def unscale_(self, optimizer):
        """unscale_(optimizer) -> None

        Divide ("unscale") the optimizer's gradients by the scale factor, in place, and record
        whether any is inf or NaN.
        """
        if not self._enabled:
            return
        self._check_scale_growth_tracker("unscale_")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since "
                               "the last update().")
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale = _f32(1.0 / self._scale)
        state["found_inf_per_device"] = self._unscale_grads_(optimizer, inv_scale, False)
        state["stage"] = OptState.UNSCALED

    @staticmethod
    def _found_inf(state):
        return sum(int(bool(v.item())) for v in state["found_inf_per_device"].values())

    def step(self, optimizer, *args, **kwargs):
        """step(optimizer, *args, **kwargs) -> Optional[float]

        Unscale the gradients if not done yet and call ``optimizer.step()`` unless they hold
        inf or NaN (the step is then skipped and None returned).
        """
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        self._check_scale_growth_tracker("step")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if not state["found_inf_per_device"]:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        retval = None
        if not self._found_inf(state):
            retval = optimizer.step(*args, **kwargs)
        state["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale=None):
        """update(new_scale=None) -> None

        Update the scale: set it to ``new_scale``, or back it off if any step of this iteration
        saw inf/NaN gradients, or grow it after ``growth_interval`` clean iterations.
        """
        if not self._enabled:
            return
        self._check_scale_growth_tracker("update")
        if new_scale is not None:
            if isinstance(new_scale, float):
                self._scale = _f32(new_scale)
            else:
                if not (isinstance(new_scale, Tensor) and new_scale.numel() == 1 and
                        new_scale.dtype is _dtype.float32 and not new_scale.requires_grad):
                    raise AssertionError("new_scale should be a float or a 1-element "
                                         "torch.cuda.FloatTensor or torch.FloatTensor with "
                                         "requires_grad=False.")
                self._scale = _f32(float(new_scale.item()))
        else:
            states = list(self._per_optimizer_states.values())
            founds = [v for s in states for v in s["found_inf_per_device"].values()]
            if not founds:
                raise AssertionError("No inf checks were recorded prior to update.")
            found_inf = sum(int(bool(v.item())) for v in founds)
            if found_inf:
                self._scale = _f32(self._scale * self._backoff_factor)
                self._growth_tracker = 0
            else:
                successful = self._growth_tracker + 1
                if successful == self._growth_interval:
                    grown = _f32(self._scale * self._growth_factor)
                    if grown != float("inf"):
                        self._scale = grown
                    self._growth_tracker = 0
                else:
                    self._growth_tracker = successful
        self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    def _get_scale_async(self):
        return self._scale

    def get_scale(self):
        """get_scale() -> float

        The current scale factor (1.0 when disabled).
        """
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale

    def get_growth_factor(self):
        """get_growth_factor() -> float

        The factor the scale grows by after ``growth_interval`` clean iterations.
        """
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        """set_growth_factor(new_factor) -> None

        Set the scale growth factor.
        """
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        """get_backoff_factor() -> float

        The factor the scale is multiplied by after an iteration with inf/NaN gradients.
        """
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        """set_backoff_factor(new_factor) -> None

        Set the scale backoff factor.
        """
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        """get_growth_interval() -> int

        How many consecutive clean iterations grow the scale.
        """
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        """set_growth_interval(new_interval) -> None

        Set the growth interval.
        """
        self._growth_interval = new_interval

    def _get_growth_tracker(self):
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else \
            self._growth_tracker

    def is_enabled(self):
        """is_enabled() -> bool

        Whether this scaler is enabled.
        """
        return self._enabled

    def state_dict(self):
        """state_dict() -> dict

        The scaler's state (scale, growth_factor, backoff_factor, growth_interval,
        _growth_tracker); empty when disabled.
        """
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict):
        """load_state_dict(state_dict) -> None

        Load a state saved by ``state_dict()``.
        """
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale = _f32(float(state_dict["scale"]))
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker = state_dict["_growth_tracker"]
