"""Coverage against PyTorch's own OpInfo database (``op_db``), float32 (or int64) samples.

Every entry of ``torch.testing._internal.common_methods_invocations.op_db`` is mapped to
corelib by name (``op.name``): ``"add"`` -> ``corelib.add``, ``"nn.functional.relu"`` ->
``corelib.nn.functional.relu``, ``"linalg.svd"`` -> ``corelib.linalg.svd``; names with no
function fall back to the Tensor method of that name (``"__radd__"``, ``"T"``) when the
OpInfo has a method variant, and a private entry name over a public torch function to that
function (``"_segment_reduce"`` -> ``corelib.segment_reduce``). Where the OpInfo's op is a lambda of PyTorch's test module
(argument order, ``x.mT``), the same lambda runs over ``corelib``. Where it is a named helper
of the test module calling private aten ops (``max_pool2d_with_indices_backward``), the
documented table ``TEST_WRAPPERS`` gives its counterpart written with corelib's public API.
Entries with no counterpart count as *not implemented*.

Each float32 sample (``op.sample_inputs("cpu", torch.float32,
requires_grad=op.supports_autograd)``) is converted (tensors through NumPy, torch dtypes and
memory formats to corelib's by name, option records of torch.nn to corelib.nn's, nested
lists/tuples/dicts), run through torch and corelib, and its outputs compared with
``np.allclose`` (the OpInfo's float32 tolerance override if any, else PyTorch's float32
defaults rtol=1.3e-6, atol=1e-5), with shapes and dtypes. Outputs defined only up to a gauge
(singular and eigen-vectors: ``GAUGE``) are aligned to PyTorch's first. Where the op supports
autograd, the gradients of the sum of the float outputs with respect to the float inputs that
require grad are compared too, of the outputs as PyTorch's own gradient tests take them:
through the OpInfo's ``gradcheck_wrapper`` and the sample's ``output_process_fn_grad`` (for
svd and eigh these make the loss invariant under the signs of the vectors, the only setting
in which those gradients are defined); an output that does not depend on the inputs passes
where PyTorch's gradients are all zero. A sample is ``pass``, ``fail`` (reason: the exception
class raised by corelib, ``mismatch``, ``shape``, ``dtype``, ``grad mismatch``, ...) or
``unsupported`` (an argument cannot be converted: complex tensors, generators, callables...).

``--dtype int64`` measures the entries' int64 samples the same way, forward only.

Samples with more than ``MAX_NUMEL`` elements are skipped, and a sample running longer than
``SAMPLE_TIMEOUT`` seconds fails with reason ``timeout``. Where the OpInfo runs its op under
``wrapper_set_seed``, PyTorch runs each sample again under another seed and a sample whose
output changes (dropout in training) is skipped as ``random``. Float outputs (and gradients)
outside the tolerances still pass when they are as accurate as PyTorch's own float32 result:
their largest error against PyTorch run in float64 on the same sample is at most
``ACCURACY_FACTOR`` (2) times PyTorch's float32 error plus atol (PyTorch's decomposition
tests judge against a float64 reference the same way); ill-conditioned samples (large sums,
values in the thousands) then do not fail on summation order alone. An entry with no
counterpart counts the samples an implementation would be measured on (the same
``requires_grad`` setting).

The *core op set* (``CORE``) is a fixed, documented list of names: elementwise arithmetic
and unary math, comparisons, reductions, the matmul family, shape/view ops, indexing,
softmax/log_softmax, conv/pool/norm and the common losses.

Run ``python -m corelib.testing.op_db [--json] [--ops a,b]``. Requires PyTorch.
"""
from __future__ import annotations

import argparse
import collections
import dataclasses
import functools
import json
import math
import signal
import sys
import time
import types
import warnings

try:
    import torch
    from torch.testing._internal.common_methods_invocations import op_db as _torch_op_db
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "corelib.testing.op_db measures corelib against PyTorch's OpInfo database and needs "
        "PyTorch installed, with the modules its test database imports (pip install torch "
        f"expecttest): {exc}") from exc

import numpy as np

import corelib

MAX_NUMEL = 1_000_000
SAMPLE_TIMEOUT = 10.0
DEFAULT_RTOL, DEFAULT_ATOL = 1.3e-6, 1e-5

# The core op set: names of op_db entries (OpInfo.name) that corelib treats as primitives.
CORE = tuple(sorted(set("""
abs neg exp exp2 expm1 log log2 log10 log1p sqrt rsqrt sin cos tan asin acos atan sinh cosh
tanh asinh acosh atanh sigmoid reciprocal sign floor ceil round trunc frac erf erfc square
add sub mul div true_divide pow atan2 remainder fmod maximum minimum clamp lerp where
eq ne lt le gt ge isnan isinf isfinite logical_not logical_and logical_or
sum mean prod amax amin max min argmax argmin std var logsumexp cumsum cumprod norm all any
matmul mm bmm addmm mv dot outer einsum
reshape view flatten squeeze unsqueeze permute transpose t expand expand_as cat stack split chunk
narrow flip roll repeat contiguous tril triu
index_select gather scatter scatter_add masked_fill masked_select take_along_dim __getitem__
softmax log_softmax nn.functional.softmax nn.functional.log_softmax
nn.functional.conv1d nn.functional.conv2d nn.functional.max_pool2d nn.functional.avg_pool2d
nn.functional.batch_norm nn.functional.layer_norm nn.functional.group_norm
nn.functional.linear nn.functional.relu nn.functional.gelu nn.functional.silu
nn.functional.dropout nn.functional.embedding nn.functional.pad
nn.functional.cross_entropy nn.functional.nll_loss nn.functional.mse_loss
nn.functional.l1_loss nn.functional.binary_cross_entropy
nn.functional.binary_cross_entropy_with_logits nn.functional.smooth_l1_loss
""".split())))

# Random or uninitialized outputs: not comparable sample-for-sample, left out of the totals.
_RANDOM = set("""
nn.functional.dropout nn.functional.dropout2d nn.functional.dropout3d nn.functional.alpha_dropout
nn.functional.feature_alpha_dropout nn.functional.rrelu nn.functional.fractional_max_pool2d
nn.functional.fractional_max_pool3d cauchy exponential geometric log_normal normal uniform randn
randn_like rand_like randint randint_like multinomial bernoulli svd_lowrank pca_lowrank empty
empty_like new_empty new_empty_strided empty_strided empty_permuted
""".split())


def _rebind(fn):
    """A copy of an OpInfo's wrapper lambda that sees ``corelib`` where it says ``torch``."""
    glb = dict(fn.__globals__)
    glb["torch"] = corelib
    glb["wrapper_set_seed"] = lambda f, *a, **k: f(*a, **k)
    rebound = types.FunctionType(fn.__code__, glb, fn.__name__, fn.__defaults__, fn.__closure__)
    rebound.__kwdefaults__ = fn.__kwdefaults__   # keyword-only defaults are not in the code
    return rebound


class Unsupported(Exception):
    """An argument has no corelib counterpart (complex tensor, generator, callable...)."""


class _Timeout(Exception):
    pass


def _max_pool2d_backward(input, kernel_size=(), stride=(), padding=(0,), dilation=(1,),
                         ceil_mode=False, **kwargs):
    """PyTorch's test wrapper ``max_pool2d_backward``: the gradient of max_pool2d's output
    with respect to its input for a gradient of ones (PyTorch calls the private
    ``aten.max_pool2d_with_indices_backward`` with the forward's indices; corelib gets the
    same from autograd through max_pool2d's derivative rule)."""
    x = input if input.requires_grad else input.detach().requires_grad_(True)
    with corelib.enable_grad():
        out = corelib.nn.functional.max_pool2d(x, kernel_size, stride=stride or None,
                                               padding=padding, dilation=dilation,
                                               ceil_mode=ceil_mode)
        (grad,) = corelib.autograd.grad(out, x, grad_outputs=corelib.ones_like(out),
                                        create_graph=input.requires_grad)
    return grad


# Wrappers defined in PyTorch's test modules (OpInfo.op is a function of
# torch.testing._internal that calls private aten ops): corelib counterparts written with
# corelib's public API only, so the entry measures the public behaviour the wrapper tests.
TEST_WRAPPERS = {
    "max_pool2d_with_indices_backward": _max_pool2d_backward,
}


def _is_test_wrapper(fn):
    return getattr(fn, "__module__", "").startswith("torch.testing._internal")


def _resolve(op):
    """(callable(args, kwargs) running corelib's version, kind) or (None, None)."""
    name = op.name
    if name in TEST_WRAPPERS:
        fn = TEST_WRAPPERS[name]
        return (lambda x, a, k: fn(x, *a, **k)), "test wrapper"
    run, kind = _resolve_name(op)
    if run is None and getattr(op.op, "__name__", "") == "<lambda>" and \
            _is_test_wrapper(op.op) and hasattr(corelib.Tensor, name.split(".")[-1]):
        run, kind = True, "method"   # a lambda over a Tensor method or attribute (x.mT)
    if run is not None and getattr(op.op, "__name__", "") == "<lambda>":
        # The OpInfo wraps torch's function (argument order, method call): run the same
        # wrapper over corelib.
        wrapped = _rebind(op.op)
        return (lambda x, a, k: wrapped(x, *a, **k)), kind
    return run, kind


def _resolve_name(op):
    name = op.name
    obj = corelib
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            break
    if obj is not None and callable(obj) and not isinstance(obj, type):
        return (lambda x, a, k: obj(x, *a, **k)), "function"
    public = getattr(op.op, "__name__", "")
    if name.startswith("_") and not name.startswith("__") and \
            getattr(op.op, "__module__", "") == "torch" and hasattr(corelib, public):
        # a private entry name over a public torch function (_segment_reduce: segment_reduce)
        fn = getattr(corelib, public)
        return (lambda x, a, k: fn(x, *a, **k)), "function"
    if op.method_variant is not None or name.startswith("__"):
        attr = name.split(".")[-1]
        if hasattr(corelib.Tensor, attr):
            def run(x, a, k):
                m = getattr(x, attr)
                return m(*a, **k) if callable(m) else m
            return run, "method"
    return None, None


def _to_corelib(obj, memo):
    if isinstance(obj, torch.Tensor):
        key = id(obj)
        if key in memo:
            return memo[key]
        if obj.is_complex() or obj.layout != torch.strided or obj.is_quantized:
            raise Unsupported(f"tensor of {obj.dtype}/{obj.layout}")
        arr = obj.detach().resolve_conj().resolve_neg()
        if obj.dtype == torch.bfloat16 or obj.dtype == torch.float16:
            raise Unsupported(f"tensor of {obj.dtype}")
        t = corelib.from_numpy(arr.cpu().numpy().copy())
        if obj.requires_grad:
            t.requires_grad_(True)
        memo[key] = t
        return t
    if isinstance(obj, torch.dtype):
        d = getattr(corelib, str(obj).split(".")[-1], None)
        if d is None:
            raise Unsupported(f"dtype {obj}")
        return d
    if isinstance(obj, torch.device):
        return "cpu"
    if isinstance(obj, torch.memory_format):
        fmt = getattr(corelib, str(obj).split(".")[-1], None)
        if not isinstance(fmt, corelib.memory_format):
            raise Unsupported(f"memory format {obj}")
        return fmt
    if isinstance(obj, torch.Size):
        return tuple(obj)
    if isinstance(obj, (list, tuple)):
        conv = [_to_corelib(o, memo) for o in obj]
        return type(obj)(conv) if type(obj) in (list, tuple) else tuple(conv)
    if isinstance(obj, dict):
        return {k: _to_corelib(v, memo) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        # an options record of torch.nn (LinearCrossEntropyOptions): corelib.nn's of that name
        cls = getattr(corelib.nn, type(obj).__name__, None)
        if cls is None or not type(obj).__module__.startswith("torch.nn"):
            raise Unsupported(type(obj).__name__)
        return cls(**{f.name: _to_corelib(getattr(obj, f.name), memo)
                      for f in dataclasses.fields(obj)})
    if obj is None or isinstance(obj, (bool, int, float, str, slice, type(Ellipsis))):
        return obj
    if isinstance(obj, complex):
        raise Unsupported("complex scalar")
    raise Unsupported(type(obj).__name__)


def _flatten(out):
    if isinstance(out, (list, tuple)):
        res = []
        for o in out:
            res.extend(_flatten(o))
        return res
    return [out]


def _is_float_tensor(x):
    return isinstance(x, torch.Tensor) and x.dtype.is_floating_point


def _tol(op):
    for dec in getattr(op, "decorators", ()) or ():
        tols = getattr(dec, "tols", None)
        if tols and torch.float32 in tols:
            t = tols[torch.float32]
            return max(t.rtol, DEFAULT_RTOL), max(t.atol, DEFAULT_ATOL)
    return DEFAULT_RTOL, DEFAULT_ATOL


def _compare(expected, actual, rtol, atol, what=""):
    """None when equal, else a reason string."""
    exp, act = _flatten(expected), _flatten(actual)
    if len(exp) != len(act):
        return f"{what}structure"
    for e, a in zip(exp, act):
        if isinstance(e, torch.Tensor):
            if not corelib.is_tensor(a):
                if isinstance(a, (int, float, bool)) and e.numel() == 1:
                    a = np.asarray(a)
                else:
                    return f"{what}structure"
            else:
                if str(a.dtype).split(".")[-1] != str(e.dtype).split(".")[-1]:
                    return f"{what}dtype"
                a = a.detach().cpu().numpy()
            e = e.detach().resolve_conj().resolve_neg()
            if e.dtype in (torch.bfloat16, torch.float16):
                e = e.float()
            e = e.numpy(force=True)
            if tuple(np.shape(a)) != tuple(e.shape):
                return f"{what}shape"
            if e.dtype == np.bool_ or np.asarray(a).dtype == np.bool_ or not np.issubdtype(e.dtype, np.floating):
                if not np.array_equal(np.asarray(a), e):
                    return f"{what}mismatch"
            elif not np.allclose(np.asarray(a, dtype=np.float64), e.astype(np.float64),
                                 rtol=rtol, atol=atol, equal_nan=True):
                return f"{what}mismatch"
        elif e is None:
            if a is not None:
                return f"{what}structure"
        elif isinstance(e, (bool, int, float)):
            if corelib.is_tensor(a):
                a = a.item()
            if not (isinstance(a, (bool, int, float)) and
                    (math.isclose(float(a), float(e), rel_tol=rtol, abs_tol=atol) or
                     (math.isnan(float(e)) and math.isnan(float(a))))):
                return f"{what}mismatch"
        elif isinstance(e, torch.Size):
            if tuple(a) != tuple(e):
                return f"{what}mismatch"
    return None


def _grad_inputs(obj, acc):
    """Torch tensors requiring grad, in order, without repetition."""
    if isinstance(obj, torch.Tensor):
        if obj.requires_grad and obj.is_leaf and all(obj is not x for x in acc):
            acc.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _grad_inputs(o, acc)
    elif isinstance(obj, dict):
        for o in obj.values():
            _grad_inputs(o, acc)
    return acc


def _numel(obj):
    if isinstance(obj, torch.Tensor):
        return obj.numel()
    if isinstance(obj, (list, tuple)):
        return sum(_numel(o) for o in obj)
    if isinstance(obj, dict):
        return sum(_numel(o) for o in obj.values())
    return 0


def _alarm(signum, frame):
    raise _Timeout()


def _seeded(op):
    """Whether the OpInfo runs its op under ``wrapper_set_seed`` (random for some samples)."""
    code = getattr(op.op, "__code__", None)
    return code is not None and "wrapper_set_seed" in code.co_names


def _random_sample(op, sample, expected):
    """Whether PyTorch's own output changes with the seed (dropout in training, say): such a
    sample cannot be compared with corelib's, whose random streams differ from PyTorch's."""
    def other_seed(f, *args, **kwargs):     # wrapper_set_seed fixes seed 42
        with torch.random.fork_rng():
            torch.manual_seed(7)
            return f(*args, **kwargs)

    glb = dict(op.op.__globals__)
    glb["wrapper_set_seed"] = other_seed
    fn = types.FunctionType(op.op.__code__, glb, op.op.__name__, op.op.__defaults__,
                            op.op.__closure__)
    with torch.no_grad():
        again = fn(sample.input, *sample.args, **sample.kwargs)
    first, second = _flatten(expected), _flatten(again)
    if len(first) != len(second):
        return True
    for a, b in zip(first, second):
        if isinstance(a, torch.Tensor):
            a = a.detach()
            if not isinstance(b, torch.Tensor) or a.shape != b.shape or a.dtype != b.dtype:
                return True
            same = (torch.allclose(a, b, rtol=0.0, atol=0.0, equal_nan=True)
                    if a.is_floating_point() else torch.equal(a, b))
            if not same:
                return True
        elif a != b and a == a:
            return True
    return False


def _np(t):
    return t.detach().cpu().numpy().astype(np.float64)


def _align_columns(ref, act):
    """``act`` with each column's sign flipped to agree with ``ref``'s column, and the signs
    (shape ``(..., k)``) used."""
    signs = np.sign(np.sum(ref * act, axis=-2))
    signs[signs == 0] = 1
    return act * signs[..., None, :], signs


def _align_svd(name, expected, actual):
    """svd / linalg.svd: singular vectors are defined up to a sign shared by the pair
    (u_j, v_j), and full_matrices' extra columns of U (rows of Vh) up to any orthonormal
    basis of the complement. corelib's are turned onto PyTorch's (signs from U, the same
    signs applied to V; the complement block rotated by the orthogonal matrix U2^T U2_torch,
    which gives PyTorch's block exactly when both span the same space) before comparing."""
    u_t, s_t, v_t = (_np(t) for t in expected)
    u, s, v = (_np(t) for t in actual)
    linalg = name == "linalg.svd"
    vh_t, vh = (v_t, v) if linalg else (np.swapaxes(v_t, -1, -2), np.swapaxes(v, -1, -2))
    k = s_t.shape[-1]
    u[..., :k], signs = _align_columns(u_t[..., :k], u[..., :k])
    vh[..., :k, :] *= signs[..., :, None]
    if u.shape[-1] > k:
        u[..., k:] = u[..., k:] @ (np.swapaxes(u[..., k:], -1, -2) @ u_t[..., k:])
    if vh.shape[-2] > k:
        extra, extra_t = np.swapaxes(vh[..., k:, :], -1, -2), np.swapaxes(vh_t[..., k:, :], -1, -2)
        vh[..., k:, :] = np.swapaxes(extra @ (np.swapaxes(extra, -1, -2) @ extra_t), -1, -2)
    v = vh if linalg else np.swapaxes(vh, -1, -2)
    out = [corelib.from_numpy(x.astype(np.float32)) for x in (u, s, v)]
    return type(actual)(out) if type(actual) in (tuple, list) else tuple(out)


def _align_eigh(name, expected, actual):
    """linalg.eigh: each eigenvector is defined up to its sign (distinct eigenvalues, as
    the samples have); corelib's are flipped onto PyTorch's before comparing."""
    w, q = actual
    q_aligned, _ = _align_columns(_np(expected[1]), _np(q))
    return (w, corelib.from_numpy(q_aligned.astype(np.float32)))


# Outputs defined only up to a gauge: corelib's are aligned to PyTorch's before the forward
# comparison (the gradient comparison differentiates gauge-invariant losses, see
# ``_differentiated``).
GAUGE = {"svd": _align_svd, "linalg.svd": _align_svd, "linalg.eigh": _align_eigh}

ACCURACY_FACTOR = 2.0


def _float64_reference(op, sample, grads=False):
    """PyTorch's outputs (and, with ``grads``, the gradients of the sum of its float outputs
    with respect to the float inputs requiring grad, in ``_grad_inputs`` order) for the
    sample with its float32 tensors in float64; None where PyTorch cannot run that."""
    leaves = {}

    def up(t):
        if not (isinstance(t, torch.Tensor) and t.dtype == torch.float32):
            return t
        key = id(t)
        if key not in leaves:
            leaves[key] = t.detach().double().requires_grad_(grads and t.requires_grad)
        return leaves[key]

    try:
        s64 = sample.transform(up)
        with torch.enable_grad() if grads else torch.no_grad():
            outs = op(s64.input, *s64.args, **s64.kwargs)
        if not grads:
            return outs, None
        inputs = _grad_inputs([s64.input, s64.args, s64.kwargs], [])
        with torch.enable_grad():
            try:
                diff = _differentiated(op, s64, outs, op.op, s64.input, s64.args, s64.kwargs)
            except Exception:
                diff = outs
        floats = [o for o in _flatten(diff) if _is_float_tensor(o) and o.requires_grad]
        g = torch.autograd.grad(sum(o.sum() for o in floats), inputs, allow_unused=True)
        return outs, list(g)
    except Exception:
        return None


def _accurate(expected, actual, ref, atol):
    """Whether corelib's float outputs are as close to the float64 reference as PyTorch's
    own float32 outputs are (within ``ACCURACY_FACTOR`` times PyTorch's largest error, plus
    ``atol``); non-float outputs must match exactly."""
    exp, act, ref = _flatten(expected), _flatten(actual), _flatten(ref)
    if not len(exp) == len(act) == len(ref):
        return False
    for e, a, r in zip(exp, act, ref):
        if not (_is_float_tensor(e) and isinstance(r, torch.Tensor) and corelib.is_tensor(a)
                and r.dtype == torch.float64):
            if _compare(e, a, 0.0, 0.0) is not None:
                return False
            continue
        r = r.detach().cpu().numpy()
        e = e.detach().cpu().numpy().astype(np.float64)
        a = a.detach().cpu().numpy().astype(np.float64)
        if a.shape != r.shape or not np.array_equal(np.isnan(a), np.isnan(r)):
            return False
        finite = np.isfinite(r)
        if not np.array_equal(a[~finite], r[~finite], equal_nan=True):
            return False
        if finite.any():
            torch_err = np.abs(e[finite] - r[finite]).max()
            if np.abs(a[finite] - r[finite]).max() > ACCURACY_FACTOR * torch_err + atol:
                return False
    return True


def _within_torch_error(op, sample, expected, actual, atol):
    ref = _float64_reference(op, sample)
    return ref is not None and _accurate(expected, actual, ref[0], atol)


def _is_default(fn):
    """OpInfo's identity defaults for ``gradcheck_wrapper`` and ``output_process_fn_grad``."""
    return getattr(fn, "__module__", "") == "torch.testing._internal.opinfo.core" and \
        getattr(fn, "__name__", "") == "<lambda>"


def _differentiated(op, sample, outputs, call, inp, args, kwargs, rebind=False):
    """What PyTorch's gradient tests differentiate: the op called through the OpInfo's
    ``gradcheck_wrapper`` (eigh's symmetrized input, say), passed through the sample's
    ``output_process_fn_grad`` (|U| for svd: a loss invariant under the sign of singular
    vectors). ``outputs`` is the plain forward result, reused when the wrapper is the
    identity. With ``rebind`` the two functions see ``corelib`` where they say ``torch``."""
    wrapper, post = op.gradcheck_wrapper, sample.output_process_fn_grad
    if not _is_default(wrapper):
        outputs = (_rebind_any(wrapper) if rebind else wrapper)(call, inp, *args, **kwargs)
    if not _is_default(post):
        outputs = (_rebind_any(post) if rebind else post)(outputs)
    return outputs


def _rebind_any(fn):
    """``_rebind`` through functools.partial; other callables unchanged."""
    if isinstance(fn, functools.partial):
        return functools.partial(_rebind_any(fn.func), *fn.args, **fn.keywords)
    return _rebind(fn) if hasattr(fn, "__code__") else fn


def run_sample(op, run, sample, rtol, atol, check_grad):
    """('pass'|'fail'|'unsupported'|'skipped', reason)."""
    if _numel([sample.input, sample.args, sample.kwargs]) > MAX_NUMEL:
        return "skipped", "too large"
    memo = {}
    try:
        cx = _to_corelib(sample.input, memo)
        ca = _to_corelib(list(sample.args), memo)
        ck = _to_corelib(dict(sample.kwargs), memo)
    except Unsupported as exc:
        return "unsupported", str(exc)
    try:
        expected = op(sample.input, *sample.args, **sample.kwargs)
    except Exception as exc:  # the reference rejects its own sample: nothing to measure
        return "skipped", f"torch raised {type(exc).__name__}"
    if _seeded(op) and _random_sample(op, sample, expected):
        return "skipped", "random"
    try:
        actual = run(cx, ca, ck)
    except _Timeout:
        raise
    except Exception as exc:
        return "fail", type(exc).__name__
    compared = actual
    if op.name in GAUGE and isinstance(actual, (tuple, list)):
        try:
            compared = GAUGE[op.name](op.name, expected, actual)
        except Exception:   # shapes off: the comparison below names it
            compared = actual
    reason = _compare(expected, compared, rtol, atol)
    if reason == "mismatch" and _within_torch_error(op, sample, expected, compared, atol):
        reason = None
    if reason:
        return "fail", reason
    if not check_grad:
        return "pass", None
    t_inputs = _grad_inputs([sample.input, sample.args, sample.kwargs], [])
    if not t_inputs:
        return "pass", None
    def c_call(x, *a, **k):
        return run(x, a, k)

    c_call.__name__ = getattr(op.op, "__name__", "op")
    try:
        t_diff = _differentiated(op, sample, expected, op.op, sample.input, sample.args,
                                 sample.kwargs)
        c_diff = _differentiated(op, sample, actual, c_call, cx, ca, ck, rebind=True)
    except _Timeout:
        raise
    except Exception:
        # the test helpers call into torch internals corelib does not mirror
        # (torch.masked._output_mask): both sides fall back to the plain outputs
        t_diff, c_diff = expected, actual
    t_outs = [o for o in _flatten(t_diff) if _is_float_tensor(o) and o.requires_grad]
    if not t_outs:
        return "pass", None
    if len(_flatten(c_diff)) != len(_flatten(t_diff)):
        return "fail", "grad: structure"
    c_outs = [c for e, c in zip(_flatten(t_diff), _flatten(c_diff))
              if _is_float_tensor(e) and e.requires_grad]
    try:
        t_grads = torch.autograd.grad(sum(o.sum() for o in t_outs), t_inputs, allow_unused=True)
    except Exception as exc:
        return "skipped", f"torch grad raised {type(exc).__name__}"
    try:
        loss = None
        for c in c_outs:
            s = c.sum()
            loss = s if loss is None else loss + s
        c_inputs = [memo[id(t)] for t in t_inputs]
        for c in c_inputs:
            c.grad = None
        if not getattr(loss, "requires_grad", False):
            # An output that does not depend differentiably on the inputs is right only
            # where PyTorch's gradients are all zero (a backward op's own backward, say).
            if all(tg is None or bool((tg == 0).all()) for tg in t_grads):
                return "pass", None
            return "fail", "grad: output does not require grad"
        loss.backward()
        c_grads = [c.grad for c in c_inputs]
    except _Timeout:
        raise
    except Exception as exc:
        return "fail", f"grad: {type(exc).__name__}"
    ref64 = None
    for tg_input, tg, cg in zip(t_inputs, t_grads, c_grads):
        if tg is None:
            continue
        if cg is None:
            if bool((tg == 0).all()):
                continue
            return "fail", "grad: missing"
        r = _compare(tg, cg, max(rtol, 1e-5), max(atol, 1e-5), "grad: ")
        if r == "grad: mismatch":
            if ref64 is None:
                ref64 = _float64_reference(op, sample, grads=True) or (None, None)
            i = next(i for i, t in enumerate(t_inputs) if t is tg_input)
            if ref64[1] is not None and _accurate(tg, cg, ref64[1][i], max(atol, 1e-5)):
                r = None
        if r:
            return "fail", r
    return "pass", None


def measure(names=None, progress=None, dtype="float32"):
    """Run the database (or the entries named in ``names``) on its ``dtype`` samples
    (float32, or int64: forward only); return the result dict."""
    dtype = getattr(torch, dtype)
    wanted = set(names) if names else None
    entries = []
    use_alarm = hasattr(signal, "setitimer")
    if use_alarm:
        old = signal.signal(signal.SIGALRM, _alarm)
    start = time.time()
    try:
        for op in _torch_op_db:
            if wanted is not None and op.name not in wanted:
                continue
            full = op.name + (f".{op.variant_test_name}" if op.variant_test_name else "")
            entry = {"name": op.name, "variant": op.variant_test_name, "entry": full,
                     "core": op.name in CORE, "implemented": False,
                     "pass": 0, "fail": 0, "unsupported": 0, "skipped": 0,
                     "reasons": collections.Counter()}
            entries.append(entry)
            if dtype not in op.supported_dtypes("cpu"):
                entry["no_float32"] = True   # (no samples of the measured dtype)
                continue
            run, kind = _resolve(op)
            if run is None:
                # Counted so the whole-database figure has these samples as failing.
                try:   # the samples an implementation would be measured on
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        entry["not_implemented_samples"] = sum(
                            1 for _ in op.sample_inputs("cpu", dtype, requires_grad=bool(
                                op.supports_autograd and dtype.is_floating_point)))
                except Exception:
                    entry["not_implemented_samples"] = 0
                continue
            entry["implemented"] = True
            if op.name in _RANDOM:
                entry["random"] = True
                continue
            rtol, atol = _tol(op)   # (integer outputs are exact within them)
            check_grad = bool(op.supports_autograd and dtype.is_floating_point)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    samples = list(op.sample_inputs("cpu", dtype, requires_grad=check_grad))
            except Exception as exc:
                entry["reasons"][f"sample_inputs raised {type(exc).__name__}"] += 1
                continue
            for sample in samples:
                if use_alarm:
                    signal.setitimer(signal.ITIMER_REAL, SAMPLE_TIMEOUT)
                try:
                    with warnings.catch_warnings(), np.errstate(all="ignore"):
                        warnings.simplefilter("ignore")
                        status, reason = run_sample(op, run, sample, rtol, atol, check_grad)
                except _Timeout:
                    status, reason = "fail", "timeout"
                except Exception as exc:  # the harness itself must not stop the run
                    status, reason = "fail", f"harness: {type(exc).__name__}"
                finally:
                    if use_alarm:
                        signal.setitimer(signal.ITIMER_REAL, 0)
                entry[status] += 1
                if status in ("fail", "unsupported"):
                    entry["reasons"][f"{status}: {reason}"] += 1
            if progress:
                progress(entry)
    finally:
        if use_alarm:
            signal.signal(signal.SIGALRM, old)
    return dict(_summarize(entries, time.time() - start), dtype=str(dtype).split(".")[-1])


def _totals(entries):
    measured = [e for e in entries if not e.get("no_float32")]
    impl = [e for e in measured if e["implemented"] and not e.get("random")]
    p = sum(e["pass"] for e in impl)
    f = sum(e["fail"] for e in impl)
    u = sum(e["unsupported"] for e in impl)
    tried = p + f + u
    missing = sum(e.get("not_implemented_samples", 0) for e in measured
                  if not e["implemented"])
    return {
        "entries": len(measured),
        "not_implemented": sum(1 for e in measured if not e["implemented"]),
        "implemented": len(impl),
        "fully_passing": sum(1 for e in impl if e["fail"] == 0 and e["unsupported"] == 0
                             and e["pass"] > 0 and not any(
                                 r.startswith("sample_inputs") for r in e["reasons"])),
        "samples_pass": p, "samples_fail": f, "samples_unsupported": u,
        "samples_skipped": sum(e["skipped"] for e in impl),
        "samples_not_implemented": missing,
        # Headline: samples of entries with no corelib counterpart count as failing.
        "pass_pct": round(100.0 * p / (tried + missing), 2) if tried + missing else 0.0,
        "pass_pct_implemented": round(100.0 * p / tried, 2) if tried else 0.0,
    }


def _summarize(entries, seconds):
    reasons = collections.Counter()
    reason_entries = collections.defaultdict(set)
    for e in entries:
        for r, n in e["reasons"].items():
            reasons[r] += n
            reason_entries[r].add(e["name"])
    return {
        "torch_version": torch.__version__,
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "seconds": round(seconds, 1),
        "whole": _totals(entries),
        "core": _totals([e for e in entries if e["core"]]),
        "reasons": [{"reason": r, "samples": n, "entries": sorted(reason_entries[r])}
                    for r, n in reasons.most_common()],
        "entries": [dict(e, reasons=dict(e["reasons"])) for e in entries],
    }


def _print(result, top=25):
    print(f"corelib vs PyTorch {result['torch_version']} op_db, {result['dtype']} samples "
          f"({result['date']}, {result['seconds']} s)")
    for label in ("core", "whole"):
        t = result[label]
        print(f"  {label:5s}: {t['pass_pct']:6.2f}% of samples pass "
              f"({t['samples_pass']} pass, {t['samples_fail']} fail, "
              f"{t['samples_unsupported']} unsupported, {t['samples_skipped']} skipped, "
              f"{t['samples_not_implemented']} of entries not implemented; "
              f"{t['pass_pct_implemented']:.2f}% over implemented entries); "
              f"entries {t['entries']}: {t['fully_passing']} fully passing, "
              f"{t['not_implemented']} not implemented")
    print("top failure reasons (samples, entries):")
    for r in result["reasons"][:top]:
        names = r["entries"]
        shown = ", ".join(names[:8]) + (f", ... (+{len(names) - 8})" if len(names) > 8 else "")
        print(f"  {r['samples']:5d}  {r['reason']}  [{shown}]")
    failing = [e for e in result["entries"] if e["core"] and e["implemented"]
               and (e["fail"] or e["unsupported"])]
    if failing:
        print("core entries not fully passing:")
        for e in failing:
            print(f"  {e['entry']}: {e['pass']} pass, {e['fail']} fail, "
                  f"{e['unsupported']} unsupported  {e['reasons']}")
    missing = [e["entry"] for e in result["entries"] if e["core"] and not e["implemented"]
               and not e.get("no_float32")]
    if missing:
        print("core entries not implemented: " + ", ".join(missing))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m corelib.testing.op_db", description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true", help="print the full result as JSON")
    ap.add_argument("--ops", default="", help="comma-separated op_db names (default: all)")
    ap.add_argument("--core", action="store_true", help="only the core op set")
    ap.add_argument("--dtype", default="float32", choices=("float32", "int64"),
                    help="which samples: float32 (forward and gradients, default) or int64 "
                         "(forward)")
    args = ap.parse_args(argv)
    names = [n for n in args.ops.split(",") if n] or (list(CORE) if args.core else None)
    result = measure(names, dtype=args.dtype)
    if args.json:
        json.dump(result, sys.stdout, indent=1)
        print()
    else:
        _print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
