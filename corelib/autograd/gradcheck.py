"""Finite-difference checks of analytical gradients (float64), as torch.autograd.gradcheck.

Written with frontend ops only, so it checks any backend.
"""
from __future__ import annotations

from .grad_mode import no_grad

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    pass


def _outputs(fn, inputs):
    out = fn(*inputs)
    return out if isinstance(out, (tuple, list)) else (out,)


def _diff_inputs(inputs):
    from .._tensor import Tensor
    return [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]


def _numerical_jacobian(fn, inputs, idx, out_index, eps):
    """Column j = d out / d inputs[idx].flat[j] by central differences."""
    x = inputs[idx]
    flat = x.detach().reshape(-1)   # shares storage with x when x is contiguous
    if flat.numel() and flat._data is not None and not x.is_contiguous():
        raise GradcheckError("gradcheck inputs must be contiguous")
    columns = []

    def evaluate(value):
        with no_grad():
            flat[j] = value
        return _outputs(fn, inputs)[out_index].detach().double().reshape(-1).clone()

    for j, orig in enumerate(flat.tolist()):   # one device-to-host copy, not one per element
        plus, minus = evaluate(orig + eps), evaluate(orig - eps)
        with no_grad():
            flat[j] = orig
        columns.append((plus - minus) / (2 * eps))
    return columns


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, fast_mode=False, **_):
    """Compare autograd's Jacobian of ``func`` at ``inputs`` with finite differences."""
    from . import grad as autograd_grad
    from .._ops.creation import zeros_like
    from .._ops.elementwise import abs as _abs
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    diff = _diff_inputs(inputs)
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    for i in diff:
        if inputs[i].dtype.name != "float64":
            import warnings
            warnings.warn(f"gradcheck: input {i} is {inputs[i].dtype}, not float64; the check "
                          f"may fail from rounding alone", UserWarning)
    n_outputs = len(_outputs(func, inputs))
    for o_index in range(n_outputs):
        # finite differences first: they write into the inputs (bumping their versions)
        numeric = {i: _numerical_jacobian(func, inputs, i, o_index, eps) for i in diff}
        numeric = {i: [col.tolist() for col in cols] for i, cols in numeric.items()}  # host
        out = _outputs(func, inputs)[o_index]
        if not getattr(out, "requires_grad", False):
            continue
        n_out = out.numel()
        for k in range(n_out):
            g = zeros_like(out).reshape(-1)
            g[k] = 1.0
            g = g.reshape(out.shape)
            analytic = autograd_grad(out, [inputs[i] for i in diff], g, retain_graph=True,
                                     allow_unused=True)
            for i, a in zip(diff, analytic):
                a = zeros_like(inputs[i]) if a is None else a
                a = a.detach().double().reshape(-1).tolist()
                for j, col in enumerate(numeric[i]):
                    n_val, a_val = col[k], a[j]
                    if abs(n_val - a_val) > atol + rtol * abs(n_val):
                        msg = (f"Jacobian mismatch for output {o_index} with respect to input "
                               f"{i}: d out[{k}] / d in[{j}] numerical {n_val:.6g} vs "
                               f"analytical {a_val:.6g}")
                        if raise_exception:
                            raise GradcheckError(msg)
                        return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, **_):
    """gradcheck of the gradient function: checks second derivatives."""
    from . import grad as autograd_grad
    from .._ops.creation import randn_like
    from .._tensor import Tensor
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    diff = _diff_inputs(inputs)
    outputs = _outputs(func, inputs)
    if grad_outputs is None:
        grad_outputs = tuple(randn_like(o, dtype=o.dtype).requires_grad_(True)
                             for o in outputs if isinstance(o, Tensor) and o.requires_grad)
    n_in = len(inputs)

    def first_grads(*args):
        xs, gs = args[:n_in], args[n_in:]
        outs = [o for o in _outputs(func, xs) if isinstance(o, Tensor) and o.requires_grad]
        grads = autograd_grad(outs, [xs[i] for i in diff], list(gs), create_graph=True,
                              allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_grads, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
