"""The checks run for every (OpInfo, device, dtype): forward vs NumPy and PyTorch, gradients by
finite differences (gradcheck) and vs PyTorch. Used by tests/ops and by third-party backends."""
from __future__ import annotations

import warnings

import numpy as np

import corelib
from corelib._device import canonical

from .compare import assert_close
from .opinfo import flatten_outputs, seed_samples, to_numpy, to_torch


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def _tol(info, dtype):
    if dtype == "float16":
        return dict(rtol=max(info.rtol, 1e-3), atol=max(info.atol, 1e-3))
    if dtype == "float32":
        return dict(rtol=max(info.rtol, 1e-5), atol=info.atol)
    return dict(rtol=info.rtol, atol=info.atol)


def samples(info, dtype, device):
    """The entry's samples for (dtype, device): the same data on every device."""
    seed_samples(f"{info.id}-{dtype}")
    return info.samples(dtype, device)


def check_device(info, sample, out, device):
    """Every tensor an op returns lives on the device under test."""
    expected = canonical(device)
    for o in flatten_outputs(out):
        if isinstance(o, corelib.Tensor):
            assert o.device == expected, \
                f"{info.id} {sample}: output on {o.device}, expected {expected}"


def check_forward(info, device, dtype):
    """Forward against the NumPy reference (and outputs on the device under test)."""
    for sample in samples(info, dtype, device):
        out = info.op(*sample.args, **sample.kwargs)
        check_device(info, sample, out, device)
        if info.ref is None:
            continue
        expected = info.ref(*to_numpy(sample.args), **to_numpy(sample.kwargs))
        outs, exps = flatten_outputs(out), flatten_outputs(expected)
        assert len(outs) == len(exps), f"{info.id} {sample}: {len(outs)} outputs vs {len(exps)}"
        for o, e in zip(outs, exps):
            assert_close(o, np.asarray(e).astype(np.asarray(e).dtype), **_tol(info, dtype),
                         msg=f"{info.id} {sample} vs NumPy:")


def _picked(items, positions):
    return items if positions is None else [items[i] for i in positions]


def special_samples(info, dtype, device):
    """The entry's special (forward-only) samples for (dtype, device)."""
    seed_samples(f"{info.id}-{dtype}-special")
    return info.special(dtype, device)


def check_special(info, device, torch=None):
    """The special samples (NaN, inf, ties, zero-size, strided, rank-deficient) against
    ``special_ref`` and, given ``torch``, PyTorch: values, NaNs where they are (assert_close
    compares NaN equal) and result dtypes. Returns the number of samples checked."""
    ref = info.ref if info.special_ref == "same" else info.special_ref
    fn = torch_fn(info, torch) if torch is not None and info.torch_ref is not None else None
    count = 0
    for dtype in info.special_types:
        for sample in special_samples(info, dtype, device):
            out = info.op(*sample.args, **sample.kwargs)
            check_device(info, sample, out, device)
            outs = _picked(flatten_outputs(out), sample.outputs)
            count += 1
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                expected = ref(*to_numpy(sample.args), **to_numpy(sample.kwargs)) \
                    if ref is not None else None
                t_expected = fn(*to_torch(sample.args, torch), **to_torch(sample.kwargs, torch)) \
                    if fn is not None else None
            if expected is not None:
                exps = _picked(flatten_outputs(expected), sample.outputs)
                assert len(outs) == len(exps), \
                    f"{info.id} {sample}: {len(outs)} outputs vs {len(exps)}"
                for o, e in zip(outs, exps):
                    assert_close(o, np.asarray(e), **_tol(info, dtype),
                                 msg=f"{info.id} special {sample} vs NumPy:")
            if t_expected is not None:
                exps = _picked(flatten_outputs(t_expected), sample.outputs)
                assert len(outs) == len(exps), \
                    f"{info.id} {sample}: {len(outs)} outputs vs torch {len(exps)}"
                for o, e in zip(outs, exps):
                    if not isinstance(e, torch.Tensor):
                        assert o == e or (o != o and e != e), \
                            f"{info.id} special {sample}: {o} vs torch {e}"
                        continue
                    assert_close(o, e.detach().cpu().numpy(), check_dtype=info.check_dtype,
                                 **_tol(info, dtype), msg=f"{info.id} special {sample} vs PyTorch:")
    return count


def torch_fn(info, torch):
    ref = info.torch_ref
    if ref == "same":
        name = info.name
        for space in (torch, torch.nn.functional, torch.linalg, torch.special):
            if hasattr(space, name):
                return getattr(space, name)
        raise AttributeError(f"torch has no {name}")
    if isinstance(ref, str):
        obj = torch
        for part in ref.split("."):
            obj = getattr(obj, part)
        return obj
    return ref


def check_torch(info, device, dtype):
    """Forward values and result dtypes against PyTorch (and outputs on the device)."""
    torch = _torch()
    fn = torch_fn(info, torch)
    for sample in samples(info, dtype, device):
        out = info.op(*sample.args, **sample.kwargs)
        check_device(info, sample, out, device)
        expected = fn(*to_torch(sample.args, torch), **to_torch(sample.kwargs, torch))
        outs, exps = flatten_outputs(out), flatten_outputs(expected)
        assert len(outs) == len(exps), f"{info.id} {sample}: {len(outs)} outputs vs {len(exps)}"
        for o, e in zip(outs, exps):
            if not isinstance(e, torch.Tensor):
                assert o == e, f"{info.id} {sample}: {o} vs torch {e}"
                continue
            assert_close(o, e.detach().cpu().numpy(), check_dtype=info.check_dtype,
                         **_tol(info, dtype), msg=f"{info.id} {sample} vs PyTorch:")


def _with_grad(sample, contiguous=False):
    """Copies of the sample's floating tensors that require grad (contiguous ones for
    gradcheck), and a rebuild function."""
    leaves = []

    def mark(a):
        if isinstance(a, corelib.Tensor) and a.dtype.is_floating_point:
            t = (a.detach().contiguous() if contiguous else a.detach()).clone()
            t.requires_grad_(True)
            leaves.append(t)
            return t
        if isinstance(a, (list, tuple)) and any(isinstance(x, corelib.Tensor) for x in a):
            return type(a)(mark(x) for x in a)
        return a
    args = tuple(mark(a) for a in sample.args)
    kwargs = {k: mark(v) for k, v in sample.kwargs.items()}
    return args, kwargs, leaves


def _rebuild(args, kwargs, leaves, new_leaves):
    mapping = {id(a): b for a, b in zip(leaves, new_leaves)}

    def sub(a):
        if isinstance(a, corelib.Tensor):
            return mapping.get(id(a), a)
        if isinstance(a, (list, tuple)):
            return type(a)(sub(x) for x in a)
        return a
    return tuple(sub(a) for a in args), {k: sub(v) for k, v in kwargs.items()}


def _differentiable_outputs(out):
    return tuple(o for o in flatten_outputs(out)
                 if isinstance(o, corelib.Tensor) and o.requires_grad)


def _check_tracked(info, sample, out):
    """An entry declared differentiable (``grad=True``) whose inputs require grad returns its
    floating outputs with autograd history: a detached (or no_grad) result fails here instead
    of leaving gradcheck nothing to check."""
    floats = [o for o in flatten_outputs(out)
              if isinstance(o, corelib.Tensor) and o.dtype.is_floating_point]
    lost = [i for i, o in enumerate(floats) if not o.requires_grad]
    assert not floats or not lost, (
        f"{info.id} {sample}: floating output(s) {lost} of {len(floats)} carry no autograd "
        f"history (requires_grad=False, grad_fn={floats[lost[0]].grad_fn}) although the "
        f"inputs require grad and the entry is declared differentiable")


def check_gradients(info, device, dtype="float64", second_order=False):
    """gradcheck (and gradgradcheck) on every sample with non-empty float inputs."""
    for sample in samples(info, dtype, device):
        args, kwargs, leaves = _with_grad(sample, contiguous=True)
        if not leaves or all(t.numel() == 0 for t in leaves) or \
                sum(t.numel() for t in leaves) > 200:
            continue

        def fn(*new_leaves):
            a, k = _rebuild(args, kwargs, leaves, new_leaves)
            return _differentiable_outputs(info.op(*a, **k))
        _check_tracked(info, sample, info.op(*args, **kwargs))
        if not fn(*leaves):
            continue
        corelib.autograd.gradcheck(fn, tuple(leaves), eps=1e-6, atol=1e-5, rtol=1e-3)
        if second_order:
            corelib.autograd.gradgradcheck(fn, tuple(leaves), eps=1e-6, atol=1e-4, rtol=1e-3)


def check_gradients_torch(info, device, dtype="float64"):
    """Gradients of sum(out * w) against PyTorch's."""
    torch = _torch()
    fn = torch_fn(info, torch)
    for sample in samples(info, dtype, device):
        args, kwargs, leaves = _with_grad(sample)
        if not leaves:
            continue
        raw = info.op(*args, **kwargs)
        outs = _differentiable_outputs(raw)
        t_args, t_kwargs = to_torch(args, torch), to_torch(kwargs, torch)
        t_leaves = []

        def collect(a):
            if isinstance(a, torch.Tensor) and a.requires_grad:
                t_leaves.append(a)
            elif isinstance(a, (list, tuple)):
                for x in a:
                    collect(x)
        collect(list(t_args) + list(t_kwargs.values()))
        t_outs = [o for o in flatten_outputs(fn(*t_args, **t_kwargs))
                  if isinstance(o, torch.Tensor) and o.requires_grad]
        assert len(outs) == len(t_outs), (
            f"{info.id} {sample}: {len(outs)} output(s) with autograd history, torch has "
            f"{len(t_outs)} (an output detached from the graph?)")
        if not outs:
            continue
        weights = [np.random.default_rng(0).standard_normal(o.shape) for o in outs]
        loss = sum((o * corelib.tensor(w, dtype=o.dtype, device=o.device)).sum()
                   for o, w in zip(outs, weights))
        grads = corelib.autograd.grad(loss, leaves, allow_unused=True)
        t_loss = sum((o * torch.tensor(w, dtype=o.dtype)).sum() for o, w in zip(t_outs, weights))
        t_grads = torch.autograd.grad(t_loss, t_leaves, allow_unused=True)
        for g, tg, leaf in zip(grads, t_grads, leaves):
            if tg is None:
                continue
            assert g is not None, f"{info.id} {sample}: gradient missing (torch has one)"
            assert g.device == leaf.device, \
                f"{info.id} {sample}: gradient on {g.device}, its input on {leaf.device}"
            assert_close(g, tg.detach().cpu().numpy(), rtol=1e-6, atol=1e-7,
                         msg=f"{info.id} {sample} grad:")
