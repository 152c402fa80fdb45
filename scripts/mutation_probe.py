"""Mutation probe of the CPU kernels: small wrong changes, one at a time, and whether the tests
catch them.

Each entry of MUTATIONS is a realistic one-line (or few-line) bug in a kernel of
backends/cpu/corelib_cpu/: an off-by-one, a swapped argument, ``<`` for ``<=``, a dropped
argument, NaN handling removed, a wrong identity... For every mutation the probe

1. applies it to a scratch copy of the repository (never to the checkout it is run from),
2. runs a narrow test selection on the cpu device only: the op table entries of the ops the
   kernel serves (forward vs NumPy and PyTorch, gradients vs PyTorch; finite differences only
   where the mutation says so) plus the dedicated tests named by the mutation, ``-x``, with a
   timeout,
3. records caught (some test failed, the tests errored or timed out) or survived,
4. restores the file (also on errors, timeouts and Ctrl-C).

Usage (from the repository root, with the venv's python)::

    .venv/bin/python scripts/mutation_probe.py                 # every mutation
    .venv/bin/python scripts/mutation_probe.py --family nn.pool
    .venv/bin/python scripts/mutation_probe.py --only softmax-no-max-shift,histc-flat-range
    .venv/bin/python scripts/mutation_probe.py --list          # the mutations, nothing run
    .venv/bin/python scripts/mutation_probe.py --check         # each snippet occurs once?
    .venv/bin/python scripts/mutation_probe.py --json probe.json

The scratch copy (``--tree``, default /tmp/corelib-mutation-tree) holds the repository's
tracked and untracked-but-not-ignored files as they are in the working tree, so new tests are
probed before they are committed. The test processes are forked from one parent that has
imported NumPy, PyTorch and pytest already (not corelib: each child imports the mutated
copy), which saves most of the start-up time per mutation; every child checks that the
corelib and corelib_cpu it imported are the copy's. Not part of CI (it takes minutes);
tests/test_mutation_catches.py checks that every snippet still occurs exactly once.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNEL_DIR = "backends/cpu/corelib_cpu"
OP_TABLE = "tests/ops/test_op_table.py"
DEFAULT_TREE = "/tmp/corelib-mutation-tree"


@dataclass
class Mutation:
    name: str
    family: str
    file: str            # relative to backends/cpu/corelib_cpu/
    old: str             # exact snippet, occurs once in the file
    new: str
    desc: str
    ops: tuple = ()      # op-table ids whose forward/gradient tests run
    tests: tuple = ()    # fnmatch patterns over collected node ids (cpu device only)
    gradcheck: bool = False   # also the op table's finite-difference checks

    @property
    def path(self):
        return os.path.join(KERNEL_DIR, self.file)


M = Mutation
SV = "tests/test_special_values.py::"
EW = "tests/test_elementwise.py::"
RD = "tests/test_reduction.py::"
IX = "tests/test_indexing.py::"
RN = "tests/test_random.py::"
LA = "tests/test_linalg.py::"
FN = "tests/test_functional.py::"
NL = "tests/nn/test_nn_layers.py::"
MC = "tests/test_mutation_catches.py::"
CD = "tests/test_conv_direct.py::"
TT = "tests/test_tensor.py::"
BAD = "tests/test_bad_input.py::test_misuse_raises_and_changes_nothing"

MUTATIONS = [
    # ------------------------------------------------------------------ elementwise: unary math
    M("sigmoid-unstable-neg", "elementwise.unary", "elementwise.py",
      "e = np.exp(-np.abs(x))", "e = np.exp(-x)",
      "sigmoid: exp(-|x|) -> exp(-x) (the negative branch wrong)",
      ops=("sigmoid", "silu")),
    M("frac-floor", "elementwise.unary", "elementwise.py",
      "return x - np.trunc(x)", "return x - np.floor(x)",
      "frac: trunc -> floor (wrong for negatives)", ops=("frac",)),
    M("round-neg-decimals", "elementwise.unary", "elementwise.py",
      "scale = xs.dtype.type(10.0 ** abs(decimals))", "scale = xs.dtype.type(10.0 ** decimals)",
      "round(decimals<0): abs() dropped from the scale",
      ops=("round[decimals]", "round[neg_decimals]")),
    M("softplus-beta-dropped", "elementwise.unary", "elementwise.py",
      "return np.where(bx > threshold, x, soft / x.dtype.type(beta))",
      "return np.where(bx > threshold, x, soft)",
      "softplus: the division by beta dropped", ops=("softplus", "softplus[beta]", "mish")),
    M("gelu-tanh-constant", "elementwise.unary", "elementwise.py",
      "(x + 0.044715 * x * x * x)", "(x + 0.04715 * x * x * x)",
      "gelu(tanh): a digit lost in the cubic coefficient", ops=("gelu[tanh]",)),
    M("elu-input-scale-dropped", "elementwise.unary", "elementwise.py",
      "np.expm1(np.minimum(x, 0) * x.dtype.type(input_scale))", "np.expm1(np.minimum(x, 0))",
      "elu: input_scale ignored (celu's 1/alpha)", ops=("elu", "elu[alpha]", "selu", "celu")),
    M("nan-to-num-neginf-as-posinf", "elementwise.unary", "elementwise.py",
      "r = np.where(np.isposinf(r),", "r = np.where(np.isinf(r),",
      "nan_to_num: -inf replaced by the +inf value", ops=("nan_to_num", "nan_to_num[values]")),
    M("hardswish-clip-top", "elementwise.unary", "elementwise.py",
      "return x * np.clip(x + 3, 0, 6) / 6", "return x * np.clip(x + 3, 0, 5) / 6",
      "hardswish: upper clip 6 -> 5", ops=("hardswish",)),
    M("relu-large-path-minimum", "elementwise.unary", "elementwise.py",
      "return np.maximum(x, _zeros_like(x), out=out)",
      "return np.minimum(x, _zeros_like(x), out=out)",
      "relu: the fast path for >= 4096 contiguous floats takes the minimum", ops=("relu",)),
    # ------------------------------------------------------------------ elementwise: special
    M("erf-inf-unclamped", "elementwise.special", "elementwise.py",
      "ab = np.minimum(np.abs(xb), 30.0)", "ab = np.abs(xb)",
      "erf: |x| no longer clamped at 30 (erf(+-inf) becomes NaN)", ops=("erf", "gelu"),
      tests=(EW + "test_erf_erfc_accuracy_against_math*",)),
    M("erfinv-two-halley-steps", "elementwise.special", "elementwise.py",
      "for far in (None, None, ya > 0.999):", "for far in (None, ya > 0.999):",
      "erfinv: one Halley refinement step fewer", ops=("erfinv",),
      tests=(EW + "test_erfinv_inverts_erf_and_handles_edges*",)),
    M("erfc-negative-tail", "elementwise.special", "elementwise.py",
      "np.where(x < 0, 2 - tail, tail)", "np.where(x < 0, 1 - tail, tail)",
      "erfc: 2 - tail -> 1 - tail for x < -0.5", ops=("erfc",),
      tests=(EW + "test_erf_erfc_accuracy_against_math*",)),
    M("xlogy-nan", "elementwise.special", "elementwise.py",
      "np.where((a == 0) & ~np.isnan(b), 0, r)", "np.where(a == 0, 0, r)",
      "xlogy: 0 * log(NaN) gives 0 instead of NaN", ops=("xlogy",),
      tests=(SV + "test_xlogy*",)),
    M("logit-eps-upper", "elementwise.special", "elementwise.py",
      "x = np.clip(x, eps, 1 - eps)", "x = np.clip(x, eps, 1)",
      "logit(eps): the upper clamp 1 - eps dropped", ops=("logit", "logit[eps]")),
    # ------------------------------------------------------------------ elementwise: binary
    M("div-trunc-fix-sign", "elementwise.binary", "elementwise.py",
      "r = np.asarray(q + fix)", "r = np.asarray(q - fix)",
      "div(rounding_mode='trunc') on integers: correction subtracted", ops=("div[trunc]",)),
    M("remainder-as-fmod", "elementwise.binary", "elementwise.py",
      '"remainder": _int_safe(np.remainder),', '"remainder": _int_safe(np.fmod),',
      "remainder: Python modulo -> C fmod (sign of the divisor lost)", ops=("remainder",)),
    M("atan2-swapped", "elementwise.binary", "elementwise.py",
      '"atan2": ufunc(np.arctan2),', '"atan2": lambda a, b, out=...: np.arctan2(b, a, out=out),',
      "atan2: arguments swapped", ops=("atan2",)),
    M("fmax-nan", "elementwise.binary", "elementwise.py",
      '"fmax": ufunc(np.fmax),', '"fmax": ufunc(np.maximum),',
      "fmax: NaN propagates (maximum instead of fmax)", ops=("fmax",)),
    M("right-shift-oversized", "elementwise.binary", "elementwise.py",
      "safe = np.where(bad, bits - 1, b).astype(dt)", "safe = np.where(bad, 0, b).astype(dt)",
      "right shift by >= bits (or < 0) leaves the value instead of sign-filling",
      ops=("bitwise_right_shift",), tests=(EW + "test_bitwise_and_shift_operators*",)),
    M("clamp-order", "elementwise.binary", "elementwise.py",
      "return np.minimum(np.maximum(x, lo), hi, out=out)",
      "return np.maximum(np.minimum(x, hi), lo, out=out)",
      "clamp: min applied last (min > max gives min, PyTorch gives max)",
      ops=("clamp", "clamp[on_bounds]"), tests=(EW + "test_clamp_with_min_above_max*",)),
    M("lerp-upper-branch-sign", "elementwise.binary", "elementwise.py",
      "e - diff * (1 - w))", "e - diff * (w - 1))",
      "lerp: (1 - w) -> (w - 1) in the weight >= 0.5 branch", ops=("lerp",)),
    M("int-divisor-any", "elementwise.binary", "elementwise.py",
      "not np.all(b):", "not np.any(b):",
      "integer division raises only if every divisor is 0",
      ops=("floor_divide", "remainder", "fmod"),
      tests=(EW + "test_integer_power_and_division_errors*",)),
    # ------------------------------------------------------------------ elementwise: comparisons
    M("le-strict", "elementwise.compare", "elementwise.py",
      '"le": ufunc(np.less_equal),', '"le": ufunc(np.less),',
      "le: <= -> < (ties)", ops=("le",)),
    M("ge-strict", "elementwise.compare", "elementwise.py",
      '"ge": ufunc(np.greater_equal),', '"ge": ufunc(np.greater),',
      "ge: >= -> > (ties)", ops=("ge",)),
    M("isposinf-any-inf", "elementwise.compare", "elementwise.py",
      '"isposinf": _np_unary(np.isposinf),', '"isposinf": _np_unary(np.isinf),',
      "isposinf: -inf counts too", ops=("isposinf",)),
    M("isclose-rtol-atol-swapped", "elementwise.compare", "elementwise.py",
      "np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)",
      "np.isclose(a, b, rtol=atol, atol=rtol, equal_nan=equal_nan)",
      "isclose: rtol and atol swapped", ops=("isclose", "allclose")),
    M("isclose-equal-nan-dropped", "elementwise.compare", "elementwise.py",
      "np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)",
      "np.isclose(a, b, rtol=rtol, atol=atol)",
      "isclose: equal_nan ignored", ops=("isclose", "allclose")),
    # ------------------------------------------------------------------ reduction
    M("nansum-as-sum", "reduction", "reduction.py",
      '"nansum": _accumulating(np.nansum),', '"nansum": _accumulating(np.add.reduce),',
      "nansum: NaN no longer skipped", ops=("nansum", "nanmean")),
    M("var-correction-ignored", "reduction", "reduction.py",
      "ddof=correction, dtype=_acc(x)", "ddof=1, dtype=_acc(x)",
      "var/std: correction ignored (always 1)", ops=("var", "std", "var_mean", "std_mean"),
      tests=(RD + "test_var_legacy_unbiased_and_correction*",)),
    M("logsumexp-inf-shift", "reduction", "reduction.py",
      "m = np.where(np.isfinite(m), m, 0)", "m = np.where(np.isnan(m), 0, m)",
      "logsumexp: an infinite max is used as the shift (all -inf slice gives NaN)",
      ops=("logsumexp",), tests=(SV + "test_logsumexp*",)),
    M("vector-norm-abs-dropped", "reduction", "reduction.py",
      "r = np.sum(xa ** ord, axis=dim, keepdims=keepdim) ** (1.0 / ord)",
      "r = np.sum(x.astype(xa.dtype) ** ord, axis=dim, keepdims=keepdim) ** (1.0 / ord)",
      "vector_norm(ord=p): |x| dropped for general p", ops=("vector_norm", "norm")),
    M("vector-norm-ninf-amax", "reduction", "reduction.py",
      "        r = np.amin(xa, axis=dim, keepdims=keepdim)",
      "        r = np.amax(xa, axis=dim, keepdims=keepdim)",
      "vector_norm(ord=-inf): max instead of min", ops=("vector_norm", "norm")),
    M("histc-out-of-range-clamped", "reduction", "reduction.py",
      "xa = xa[~np.isnan(xa)]", "xa = np.clip(xa[~np.isnan(xa)], lo, hi)",
      "histc: values outside [min, max] counted in the edge bins", ops=("histc",)),
    M("bincount-minlength", "reduction", "reduction.py",
      "np.bincount(x, weights=weights, minlength=minlength)", "np.bincount(x, weights=weights)",
      "bincount: minlength ignored", ops=("bincount",)),
    M("scatter-add-along-dupes", "reduction", "reduction.py",
      "np.add.at(out, _full_index(idx, dim), src)", "out[_full_index(idx, dim)] += src",
      "scatter_add_along (selection gradients): repeated indices not accumulated",
      ops=("median[all]", "median[dim]", "mode", "mode[repeats]", "max[dim]", "kthvalue",
           "amax", "amin"), tests=(RD + "test_selection_gradients_scatter_by_index*",
                                   RD + "test_tie_gradients_match_torch*")),
    # ------------------------------------------------------------------ reduction: scans, sort
    M("cummax-nan-dropped", "reduction.scan_sort", "reduction.py",
      "        hit |= np.isnan(x)", "        hit = hit",
      "cummax/cummin: NaN no longer moves the index", ops=("cummax", "cummin"),
      tests=(SV + "test_cummax*",)),
    M("cumsum-dtype-f16", "reduction.scan_sort", "reduction.py",
      "return fn(x.astype(np.float32), axis=dim).astype(np.float16)",
      "return fn(x, axis=dim).astype(np.float16)",
      "cumsum/cumprod of float16 accumulate in float16", ops=("cumsum", "cumprod")),
    M("argsort-desc-unstable", "reduction.scan_sort", "reduction.py",
      "    rev = np.flip(x, axis=dim)\n"
      "    order = np.flip(np.argsort(rev, axis=dim, kind=\"stable\"), axis=dim)\n"
      "    return (n - 1 - order).astype(np.int64)",
      "    order = np.flip(np.argsort(x, axis=dim, kind=\"stable\"), axis=dim)\n"
      "    return order.astype(np.int64)",
      "sort(descending): reversed ascending order (ties come out last-first)",
      ops=("sort", "sort[stable_ties]", "argsort", "topk")),
    M("topk-off-by-one", "reduction.scan_sort", "reduction.py",
      "np.take(order, np.arange(k), axis=dim)",
      "np.take(order, np.arange(1, k + 1) % max(order.shape[dim], 1), axis=dim)",
      "topk: the ranks start at 1", ops=("topk",)),
    M("kthvalue-off-by-one", "reduction.scan_sort", "reduction.py",
      "slice(k - 1, k) if d == dim", "slice(k - 2, k - 1) if d == dim",
      "kthvalue: k-1-th value", ops=("kthvalue",)),
    M("median-upper", "reduction.scan_sort", "reduction.py",
      "np.where(nans > 0, n - nans, (n - 1) // 2)", "np.where(nans > 0, n - nans, n // 2)",
      "median: the upper median of an even count", ops=("median[all]", "median[dim]")),
    M("nanmedian-upper", "reduction.scan_sort", "reduction.py",
      "np.maximum((n - nans - 1) // 2, 0)", "np.maximum((n - nans) // 2, 0)",
      "nanmedian: the upper median of an even count of non-NaNs",
      ops=("nanmedian", "median[nan]")),
    M("mode-first-occurrence", "reduction.scan_sort", "reduction.py",
      "last = first + count_at[np.arange(rows), first] - 1", "last = first",
      "mode: index of the first occurrence instead of the last", ops=("mode", "mode[repeats]")),
    M("unique-consecutive-counts", "reduction.scan_sort", "reduction.py",
      "counts = np.diff(np.append(np.flatnonzero(keep), n))",
      "counts = np.diff(np.append(np.flatnonzero(keep), n - 1))",
      "unique_consecutive: the last run's count one short", ops=("unique_consecutive",)),
    # ------------------------------------------------------------------ indexing
    M("bounds-off-by-one", "indexing", "shape.py",
      "if hi >= size or lo < (-size if negative_ok else 0):",
      "if hi > size or lo < (-size if negative_ok else 0):",
      "gather/scatter/index_*: index == size accepted", ops=("gather", "index_select"),
      tests=(BAD + "*index*", BAD + "*gather*", BAD + "*scatter*",
             IX + "test_errors_match_torch_types_and_name_the_op*")),
    M("scatter-include-self-ignored", "indexing", "shape.py",
      "        out[key] = _identity(ufunc, out.dtype)", "        pass",
      "scatter_reduce(include_self=False): self still included",
      ops=("scatter_reduce[sum]", "scatter_reduce[prod]", "scatter_reduce[mean]",
           "scatter_reduce[amax]", "scatter_reduce[amin]")),
    M("scatter-identity-swapped", "indexing", "shape.py",
      "return -np.inf if ufunc is np.maximum else np.inf",
      "return np.inf if ufunc is np.maximum else -np.inf",
      "scatter_reduce amax/amin: wrong reduction identity for floats",
      ops=("scatter_reduce[amax]", "scatter_reduce[amin]")),
    M("scatter-mean-count-self", "indexing", "shape.py",
      "count = np.zeros(a.shape, dtype=np.int64) + (1 if include_self else 0)",
      "count = np.zeros(a.shape, dtype=np.int64) + 1",
      "scatter_reduce(mean, include_self=False): self counted", ops=("scatter_reduce[mean]",)),
    M("index-add-alpha-ignored", "indexing", "shape.py",
      "src * alpha if alpha != 1 else src)", "src)",
      "index_add: alpha ignored", ops=("index_add",),
      tests=(IX + "test_inplace_index_ops_match_torch*",)),
    M("gather-backward-dupes", "indexing", "shape.py",
      "    np.add.at(out, key, g)\n    return out",
      "    out[key] += g\n    return out",
      "gather backward: repeated indices not accumulated", ops=("gather", "take_along_dim")),
    M("index-select-backward-dupes", "indexing", "shape.py",
      "np.add.at(out, _index_key(len(shape), dim, index), g)",
      "out[_index_key(len(shape), dim, index)] += g",
      "index_select backward: repeated indices not accumulated", ops=("index_select",)),
    M("accumulate-int-index-plain", "indexing", "shape.py",
      "if all(not isinstance(k, np.ndarray) or k.dtype == bool for k in key):",
      "if all(not isinstance(k, np.ndarray) or k.ndim <= 1 for k in key):",
      "index_put(accumulate=True) / advanced-index backward: 1-d int keys use +=",
      ops=("index_put", "getitem"),
      tests=(IX + "test_index_put_accumulates_repeated_indices*",
             IX + "test_advanced_read_and_gradient_accumulate_repeats*")),
    # ------------------------------------------------------------------ shape
    M("diagonal-neg-offset-axis", "shape", "shape.py",
      "start[dim1] = slice(min(-offset, n1), None)", "start[dim2] = slice(min(-offset, n2), None)",
      "diagonal(offset<0): the offset applied to the wrong axis",
      ops=("diagonal", "diagonal[3d]", "diag", "trace", "diag_embed")),
    M("expand-size1-stride0", "shape", "shape.py",
      "0 if n != s else st for n, s, st in", "0 if n == 1 else st for n, s, st in",
      "expand: non-expanded size-1 dims get stride 0 (PyTorch keeps theirs)",
      ops=("broadcast_to",), tests=("tests/test_views.py::test_expand_and_broadcast_strides*",)),
    M("tril-diagonal-sign", "shape", "shape.py",
      '"tril": lambda a, diagonal: np.tril(a, diagonal),',
      '"tril": lambda a, diagonal: np.tril(a, -diagonal),',
      "tril: diagonal sign flipped", ops=("tril",)),
    M("pad-value-ignored", "shape", "shape.py",
      'np.pad(a, widths, mode="constant", constant_values=value)',
      'np.pad(a, widths, mode="constant")',
      "constant pad: value ignored", ops=("pad", "pad[constant]")),
    M("flip-first-dim-only", "shape", "shape.py",
      '"flip": lambda a, dims: np.flip(a, dims).copy(),',
      '"flip": lambda a, dims: np.flip(a, dims[:1]).copy(),',
      "flip: only the first dim flipped", ops=("flip", "fliplr", "flipud", "rot90")),
    M("cat-skip-any-empty", "shape", "shape.py",
      "kept = [a for a in arrays if not (a.ndim == 1 and a.shape[0] == 0)]",
      "kept = [a for a in arrays if a.ndim == 1 and a.shape[0] == 0] or list(arrays)",
      "cat: keeps only the legacy empty arrays when there are any", ops=("cat",)),
    # ------------------------------------------------------------------ factories
    M("linspace-int-floor", "factories", "factories.py",
      "np.linspace(start, end, steps).astype(dtype),",
      "np.linspace(start, end, steps, dtype=dtype),",
      "linspace to an integer dtype floors instead of truncating", tests=(TT + "*",)),
    M("eye-square-only", "factories", "factories.py",
      '"eye": lambda n, m, dtype, device_index=0: np.eye(n, m, dtype=dtype),',
      '"eye": lambda n, m, dtype, device_index=0: np.eye(n, n, dtype=dtype)[:, :m],',
      "eye(n, m): m > n gets n columns", ops=("linalg.qr", "linalg.svd[full]"),
      tests=(TT + "test_creation_ops_match_numpy*",)),
    M("arange-step-ignored", "factories", "factories.py",
      "np.arange(start, end, step,", "np.arange(start, end, 1,",
      "arange: step ignored", ops=("repeat_interleave",),
      tests=(TT + "test_creation_ops_match_numpy*",)),
    # ------------------------------------------------------------------ random
    M("uniform-range", "random", "factories.py",
      "* dtype.type(high - low) + dtype.type(low)", "* dtype.type(high) + dtype.type(low)",
      "uniform_(low, high): scaled by high instead of high - low",
      tests=(RN + "test_moments_of_inplace_samplers*", RN + "test_functional_samplers*")),
    M("normal-variance-as-std", "random", "factories.py",
      "return gen.standard_normal(shape, dtype=dtype) * dtype.type(std) + dtype.type(mean)",
      "return gen.standard_normal(shape, dtype=dtype) * dtype.type(std * std) + "
      "dtype.type(mean)",
      "normal_(mean, std): scaled by the variance",
      tests=(RN + "test_moments_of_inplace_samplers*", RN + "test_functional_samplers*")),
    M("exponential-rate-as-scale", "random", "factories.py",
      "standard_exponential(shape, dtype=dtype) / dtype.type(lambd)",
      "standard_exponential(shape, dtype=dtype) * dtype.type(lambd)",
      "exponential_(lambd): lambda used as the scale",
      tests=(RN + "test_moments_of_inplace_samplers*", RN + "test_functional_samplers*")),
    M("bernoulli-inverted", "random", "factories.py",
      "(generator.random(p.shape) < p)", "(generator.random(p.shape) > p)",
      "bernoulli: draws 1 with probability 1 - p",
      tests=(RN + "test_moments_of_inplace_samplers*", RN + "test_functional_samplers*")),
    M("randint-inclusive-high", "random", "factories.py",
      "generator.integers(low, high, size=shape", "generator.integers(low, high + 1, size=shape",
      "randint: high included", tests=(RN + "*",)),
    M("multinomial-unnormalised", "random", "factories.py",
      "        cdf /= cdf[:, -1:]\n", "",
      "multinomial(replacement=True): weights not normalised",
      tests=(RN + "test_multinomial*",)),
    M("multinomial-noreplace-keys", "random", "factories.py",
      "keys = generator.standard_exponential((rows, n)) / probs",
      "keys = generator.standard_exponential((rows, n)) * probs",
      "multinomial(replacement=False): exponential keys multiplied by the weights",
      tests=(RN + "test_multinomial*",)),
    # ------------------------------------------------------------------ linalg
    M("pinv-cutoff-smallest", "linalg", "linalg.py",
      "cutoff = np.maximum(atol, rtol * s[..., :1])",
      "cutoff = np.maximum(atol, rtol * s[..., -1:])",
      "pinv: rtol relative to the smallest singular value",
      ops=("linalg.pinv", "pinverse"), tests=(SV + "test_pinv*",)),
    M("pinv-hermitian-signed", "linalg", "linalg.py",
      "        s = np.abs(w)\n", "        s = w\n",
      "pinv(hermitian): negative eigenvalues treated as zero", ops=("linalg.pinv[hermitian]",)),
    M("cholesky-upper-ignored", "linalg", "linalg.py",
      "return np.ascontiguousarray(np.swapaxes(low, -1, -2)) if upper else low", "return low",
      "cholesky(upper=True): the lower factor returned",
      ops=("linalg.cholesky[upper]", "cholesky")),
    M("eigh-uplo-ignored", "linalg", "linalg.py",
      "w, v = np.linalg.eigh(a, UPLO=UPLO)", "w, v = np.linalg.eigh(a)",
      "eigh: UPLO ignored", ops=("linalg.eigh", "linalg.eigh[upper]")),
    M("eigvalsh-uplo-ignored", "linalg", "linalg.py",
      "return np.linalg.eigvalsh(a, UPLO=UPLO)", "return np.linalg.eigvalsh(a)",
      "eigvalsh: UPLO ignored", ops=("linalg.eigvalsh",)),
    M("matmul-stack-axis", "linalg", "linalg.py",
      "return np.matmul(a.reshape(-1, a.shape[-1]), b).reshape(a.shape[:-1] + b.shape[-1:])",
      "return np.matmul(a.reshape(-1, b.shape[0]), b).reshape(a.shape[:-1] + b.shape[:1])",
      "matmul of an N-d stack by a matrix: result reshaped with b's row count",
      ops=("matmul", "linear", "tensordot")),
    M("cross-swapped", "linalg", "linalg.py",
      "np.cross(a, b, axis=dim)", "np.cross(b, a, axis=dim)",
      "cross: operands swapped", ops=("linalg.cross", "cross")),
    # ------------------------------------------------------------------ nn: convolution
    M("conv-out-size", "nn.conv", "nn.py",
      "return max((size - d * (k - 1) - 1) // s + 1, 0)",
      "return max((size - d * (k - 1)) // s + 1, 0)",
      "conv output size: one too many for some strides", ops=("conv1d", "conv2d", "unfold")),
    M("kernel-slices-dilation", "nn.conv", "nn.py",
      "return tuple(slice(k * d, k * d + s * (o - 1) + 1, s)",
      "return tuple(slice(k, k + s * (o - 1) + 1, s)",
      "window slices ignore dilation (strided conv, pooling, fold)",
      ops=("conv2d", "conv1d", "max_pool2d", "fold", "conv_transpose2d")),
    M("pointwise-ignores-stride", "nn.conv", "nn.py",
      "return all(k == 1 for k in kernel) and all(s == 1 for s in stride) and \\",
      "return all(k == 1 for k in kernel) and \\",
      "1x1 convolution fast path taken with stride > 1",
      ops=("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d")),
    M("conv-bwd-input-pads-swapped", "nn.conv", "nn.py",
      "pads = tuple((r - lo, r - hi) for (lo, hi), r in zip(padding, reach))",
      "pads = tuple((r - hi, r - lo) for (lo, hi), r in zip(padding, reach))",
      "conv input gradient (stride 1): asymmetric padding swapped",
      ops=("conv1d", "conv2d", "conv3d"), tests=(FN + "test_conv*", CD + "*")),
    M("conv-flip-dropped", "nn.conv", "nn.py",
      "wg = wg[(Ellipsis,) + (slice(None, None, -1),) * len(kernel)]", "wg = wg",
      "conv input gradient: kernel not flipped", ops=("conv1d", "conv2d"), tests=(CD + "*",)),
    M("conv-bwd-weight-last-chunk", "nn.conv", "nn.py",
      "        gw += np.matmul(gs.reshape(groups, og, m * plan.L),",
      "        gw[...] = np.matmul(gs.reshape(groups, og, m * plan.L),",
      "conv weight gradient: only the last batch chunk kept",
      ops=("conv2d", "conv1d", "conv3d"), tests=(FN + "test_conv*", CD + "*")),
    M("direct-conv-second-vector", "nn.conv", "native/conv.cpp",
      "acc[j][1] += ws[j] * r1;", "acc[j][1] += ws[j] * r0;",
      "direct convolution: the second vector of a row reads the first's inputs",
      ops=("conv2d",), tests=(CD + "*",)),
    M("direct-conv-weight-last-chunk", "nn.conv", "native/conv.cpp",
      "gw[(o0 + j) * wo + (c * KH + ky) * KW + k] +=",
      "gw[(o0 + j) * wo + (c * KH + ky) * KW + k] =",
      "direct convolution weight gradient: only the last chunk of images kept",
      ops=("conv2d",), tests=(CD + "*",)),
    M("fold-overlap-not-summed", "nn.conv", "nn.py",
      "acc[_window_index(slices, batch_last)] += cols[(slice(None),) + kpos]",
      "acc[_window_index(slices, batch_last)] = cols[(slice(None),) + kpos]",
      "fold / strided conv input gradient: overlapping windows overwritten",
      ops=("fold", "unfold", "conv2d", "conv_transpose2d")),
    # ------------------------------------------------------------------ nn: pooling
    M("maxpool-last-tie", "nn.pool", "nn.py",
      "np.greater(cands[i], best, out=mask)", "np.greater_equal(cands[i], best, out=mask)",
      "max pool: the last of tied maxima wins", ops=("max_pool1d", "max_pool2d"),
      tests=(SV + "test_max_pool*",)),
    M("maxpool-pad-zero", "nn.pool", "nn.py",
      "xp = _pad(x, [(p, p + e) for p, e in zip(padding, extra)], _lowest(x.dtype))",
      "xp = _pad(x, [(p, p + e) for p, e in zip(padding, extra)])",
      "max pool: padded with zeros instead of -inf", ops=("max_pool1d", "max_pool2d"),
      tests=(SV + "test_max_pool*",)),
    M("pool-ceil-window-in-pad", "nn.pool", "nn.py",
      "if ceil_mode and (o - 1) * s >= n + p:", "if ceil_mode and (o - 1) * s > n + p:",
      "pooling ceil_mode: a last window starting in the right padding is kept",
      ops=("max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d")),
    M("avgpool-divisor-beyond-pad", "nn.pool", "nn.py",
      "end = np.minimum(start + k, n + p)", "end = start + k",
      "avg pool (ceil_mode, count_include_pad): windows past the padding counted",
      ops=("avg_pool1d", "avg_pool2d")),
    M("avgpool-include-pad-inverted", "nn.pool", "nn.py",
      "        if not count_include_pad:", "        if count_include_pad:",
      "avg pool: count_include_pad inverted", ops=("avg_pool1d", "avg_pool2d")),
    M("avgpool-override-ignored", "nn.pool", "nn.py",
      "    if override:\n        return dtype.type(override)\n", "",
      "avg pool: divisor_override ignored", ops=("avg_pool1d", "avg_pool2d")),
    M("adaptive-max-floor-end", "nn.pool", "nn.py",
      "bounds = [[(i * n // o, -(-(i + 1) * n // o)) for i in range(o)]",
      "bounds = [[(i * n // o, (i + 1) * n // o) for i in range(o)]",
      "adaptive max pool: window end floored", ops=("adaptive_max_pool1d",
                                                    "adaptive_max_pool2d")),
    M("pool-scatter-unique", "nn.pool", "nn.py",
      "    if unique:\n        out = np.zeros(_prod(input_shape), dtype=g.dtype)",
      "    if True:\n        out = np.zeros(_prod(input_shape), dtype=g.dtype)",
      "max pool backward: shared maxima of overlapping windows not accumulated",
      ops=("max_pool1d", "max_pool2d", "adaptive_max_pool2d"),
      tests=(SV + "test_max_pool*",)),
    # ------------------------------------------------------------------ nn: normalization
    M("normalize-eps-dropped", "nn.norm", "nn.py",
      "    var += x.dtype.type(eps)\n", "",
      "batch/instance/group norm: eps dropped", ops=("batch_norm", "instance_norm",
                                                     "group_norm")),
    M("layer-norm-eps-dropped", "nn.norm", "nn.py",
      "    rstd += dt.type(eps)\n", "",
      "layer_norm: eps dropped", ops=("layer_norm", "layer_norm[fused]")),
    M("normalize-bwd-mean-g", "nn.norm", "nn.py",
      "    gx += _mean_keep(g, dim)\n", "",
      "normalization backward: the mean of g not subtracted",
      ops=("batch_norm", "instance_norm", "group_norm")),
    M("layer-norm-bwd-c2-weight", "nn.norm", "nn.py",
      "c2 = np.matmul(gw * xhat, ones)", "c2 = np.matmul(g2 * xhat, ones)",
      "layer_norm backward: weight missing in the xhat term",
      ops=("layer_norm", "layer_norm[fused]")),
    M("batch-norm-eps-dropped", "nn.norm", "nn.py",
      "scale = np.sqrt(var + dt.type(eps))", "scale = np.sqrt(var)",
      "batch_norm (training): eps dropped", ops=("batch_norm",)),
    M("batch-norm-bwd-mean-g", "nn.norm", "nn.py",
      "    dx -= a * sum_g / dt.type(n)\n", "",
      "batch_norm backward: the mean of g not subtracted", ops=("batch_norm",)),
    M("softmax-no-max-shift", "nn.norm", "nn.py",
      "e = np.subtract(x, x.max(dim, keepdims=True))", "e = np.array(x, dtype=x.dtype)",
      "softmax: the max is not subtracted (overflows for large logits)",
      ops=("softmax", "softmin")),
    M("log-softmax-bwd-sum", "nn.norm", "nn.py",
      "    e *= _sum_keep(g, dim)\n", "",
      "log_softmax backward: the sum of g dropped", ops=("log_softmax",)),
    # ------------------------------------------------------------------ nn: losses
    M("nll-mean-counts-ignored", "nn.loss", "nn.py",
      "total = total / x.dtype.type(_kept(target, ignore_index))",
      "total = total / x.dtype.type(target.size)",
      "nll_loss(mean): ignored targets counted in the mean",
      ops=("nll_loss", "cross_entropy", "cross_entropy[numpy]"),
      tests=(FN + "test_cross_entropy_matches_manual_formula*",)),
    M("nll-bwd-mean-counts-ignored", "nn.loss", "nn.py",
      "scale = scale / g.dtype.type(_kept(target, ignore_index))",
      "scale = scale / g.dtype.type(target.size)",
      "nll_loss backward (mean): ignored targets counted",
      ops=("nll_loss", "cross_entropy")),
    M("class-gather-keep-dropped", "nn.loss", "nn.py",
      "return picked if keep is None else picked * keep",
      "return picked",
      "nll_loss: ignore_index targets contribute class 0", ops=("nll_loss", "cross_entropy"),
      tests=(FN + "test_cross_entropy_matches_manual_formula*",)),
    M("nll-none-sign", "nn.loss", "nn.py",
      "return np.negative(picked, out=picked)", "return picked",
      "nll_loss(reduction='none'): the sign dropped", ops=("nll_loss", "cross_entropy")),
    M("class-scatter-keep-dropped", "nn.loss", "nn.py",
      "out[_class_index(safe)] = g if keep is None else g * keep",
      "out[_class_index(safe)] = g",
      "nll_loss backward: ignore_index targets get a gradient (at class 0)",
      ops=("nll_loss", "cross_entropy")),
    M("one-hot-bound", "nn.loss", "nn.py",
      "elif indices.size and indices.max() >= num_classes:",
      "elif indices.size and indices.max() > num_classes:",
      "one_hot: class == num_classes accepted", ops=("one_hot",),
      tests=(BAD + "*one_hot*", FN + "test_loss_and_argument_errors*")),
    # ------------------------------------------------------------------ nn: embedding
    M("embedding-padding-grad", "nn.embedding", "nn.py",
      "        acc[padding_idx] = 0\n", "        pass\n",
      "embedding backward: padding_idx row gets gradient",
      ops=("embedding", "embedding[padding]"), tests=(FN + "test_embedding*",)),
    M("embedding-renorm-short-rows", "nn.embedding", "nn.py",
      "np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)",
      "np.where(norms > 0, max_norm / (norms + 1e-7), 1.0)",
      "embedding max_norm: rows shorter than max_norm scaled up too", ops=("embedding",),
      tests=(FN + "test_embedding*",)),
    M("embedding-renorm-norm-type", "nn.embedding", "nn.py",
      "np.linalg.norm(weight[rows], ord=norm_type, axis=1)",
      "np.linalg.norm(weight[rows], axis=1)",
      "embedding max_norm: norm_type ignored", ops=("embedding",),
      tests=(FN + "test_embedding*",)),
    M("embedding-renorm-all-rows", "nn.embedding", "nn.py",
      "    rows = np.unique(indices)\n", "    rows = np.arange(weight.shape[0])\n",
      "embedding max_norm: every row renormalised, not only the looked-up ones",
      ops=("embedding",), tests=(FN + "test_embedding*",)),
    # ------------------------------------------------------------------ nn: attention, fused
    M("sdpa-causal-diagonal", "nn.attention", "nn.py",
      "bias[np.triu_indices(lq, 1, lk)] = -np.inf", "bias[np.triu_indices(lq, 0, lk)] = -np.inf",
      "attention(is_causal): the diagonal masked too",
      ops=("scaled_dot_product_attention", "scaled_dot_product_attention[fused]")),
    M("sdpa-bool-mask-inverted", "nn.attention", "nn.py",
      "np.copyto(s, dt.type(-np.inf), where=np.logical_not(mask))",
      "np.copyto(s, dt.type(-np.inf), where=mask)",
      "attention: boolean mask inverted",
      ops=("scaled_dot_product_attention", "scaled_dot_product_attention[fused]")),
    M("sdpa-masked-row-nan", "nn.attention", "nn.py",
      "            total[total == 0] = 1\n", "            pass\n",
      "attention: a fully masked row gives NaN instead of 0",
      ops=("scaled_dot_product_attention", "scaled_dot_product_attention[fused]")),
    M("sdpa-bwd-dk-scale", "nn.attention", "nn.py",
      "    dk *= dt.type(scale)\n", "",
      "attention backward: dk not scaled",
      ops=("scaled_dot_product_attention", "scaled_dot_product_attention[fused]")),
    M("threshold-bwd-ge", "nn.attention", "nn.py",
      "np.multiply(g, np.greater(x, x.dtype.type(threshold)), out=...)",
      "np.multiply(g, np.greater_equal(x, x.dtype.type(threshold)), out=...)",
      "relu/threshold backward: gradient 1 at the threshold itself",
      ops=("threshold_backward", "relu", "threshold"),
      tests=(EW + "test_gradient_at_kinks_matches_torch*",)),
    M("linear-bias-dropped", "nn.attention", "nn.py",
      "    if b is not None:\n        out += b\n", "",
      "linear: bias not added", ops=("linear",)),
    # ------------------------------------------------------------------ rnn
    M("lstm-forget-gate", "rnn", "rnn.py",
      "np.multiply(a[:, f_], c, out=cn)", "np.multiply(a[:, i_], c, out=cn)",
      "LSTM: the input gate used as the forget gate", ops=("rnn_sequence[LSTM]",)),
    M("gru-interp-swapped", "rnn", "rnn.py",
      "                np.subtract(h, a[2], out=hn)",
      "                np.subtract(a[2], h, out=hn)",
      "GRU: h' = z n + (1 - z) h instead of (1 - z) n + z h", ops=("rnn_sequence[GRU]",)),
    M("gru-bias-hh-dropped", "rnn", "rnn.py",
      "                if b_hh is not None:\n                    s += b_hh\n", "",
      "GRU: the hidden bias b_hh dropped", ops=("rnn_sequence[GRU]",)),
    M("rnn-relu-bwd-ge", "rnn", "rnn.py",
      "deriv = (y > 0).astype(dt)", "deriv = (y >= 0).astype(dt)",
      "RNN_RELU backward: derivative 1 where the unit is clipped to 0",
      ops=("rnn_sequence[RNN_RELU]",)),
    M("rnn-dw-h0-dropped", "rnn", "rnn.py",
      "dw = np.matmul(dhh[order[0]].T, h0)", "dw = np.zeros_like(w_hh)",
      "RNN backward: the initial state's share of dW_hh dropped",
      ops=("rnn_sequence[RNN_TANH]", "rnn_sequence[LSTM]", "rnn_sequence[GRU]")),
    M("rnn-reverse-prev-slices", "rnn", "rnn.py",
      "rest = slice(0, steps - 1) if reverse else slice(1, steps)",
      "rest = slice(1, steps) if reverse else slice(1, steps)",
      "RNN backward (reverse direction): dW_hh pairs the wrong steps",
      ops=("rnn_sequence[RNN_TANH]", "rnn_sequence[LSTM]", "rnn_sequence[GRU]"),
      tests=(NL + "*",)),
    M("lstm-bwd-dc-forget", "rnn", "rnn.py",
      "                dc *= f[t]\n", "",
      "LSTM backward: the cell gradient not carried through the forget gate",
      ops=("rnn_sequence[LSTM]",)),
]

# equivalent mutants found by the probe (no observable change; kept out of MUTATIONS):
EQUIVALENT = [
    M("sum-f16-accumulate", "reduction", "reduction.py",
      "        acc = _acc(x)\n        if acc is not None:",
      "        acc = None\n        if acc is not None:",
      "sum/mean/prod of float16 accumulate in float16 (NumPy's float16 reductions accumulate "
      "in float32 internally)", ops=("sum", "mean", "nansum", "prod")),
    M("histc-flat-range", "reduction", "reduction.py",
      "lo, hi = lo - 1, hi + 1", "lo, hi = lo - 0.5, hi + 0.5",
      "histc: a zero-width range widened by 0.5 instead of 1 (the data, all one value, lands in "
      "the middle bin either way)", ops=("histc",)),
    M("erf-nan-dropped", "elementwise.special", "elementwise.py",
      "out[big & np.isnan(x)] = np.nan", "pass",
      "erf: the explicit NaN for |x| >= 1 dropped (NaN propagates through the "
      "arithmetic anyway)", ops=("erf", "gelu"),
      tests=(EW + "test_erf_erfc_accuracy_against_math*",)),
    M("logical-xor-as-ne", "elementwise.compare", "elementwise.py",
      '"logical_xor": ufunc(np.logical_xor),', '"logical_xor": ufunc(np.not_equal),',
      "logical_xor: compares values instead of truth values (the frontend casts "
      "the operands to bool first)", ops=("logical_xor",)),
    M("index-fill-negative", "indexing", "shape.py",
      "index = _check_bounds(index, a.shape[dim], dim, negative_ok=True, error=IndexError)",
      "index = _check_bounds(index, a.shape[dim], dim, error=IndexError)",
      "index_fill: negative indices rejected (the frontend wraps them before the "
      "kernel)", ops=("index_fill",),
      tests=(IX + "test_inplace_index_ops_match_torch*",)),
]

# mutations whose tests live in tests/test_mutation_catches.py (added for the survivors of the
# first run): the patterns are appended to the mutation's selection
CATCHES = {
    "relu-large-path-minimum": (MC + "test_relu_large_contiguous_input*",),
    "erf-inf-unclamped": (MC + "test_erf_erfc_nan_and_infinities*",),
    "histc-out-of-range-clamped": (MC + "test_histc_ignores_values_outside_the_range*",),
    "linspace-int-floor": (MC + "test_linspace_integer_dtype_truncates_toward_zero*",),
    "eye-square-only": (MC + "test_eye_wide_and_tall*",),
    "multinomial-unnormalised": (MC + "test_multinomial_unnormalised_weights*",),
    "pinv-hermitian-signed": (MC + "test_pinv_hermitian_indefinite*",),
    "eigh-uplo-ignored": (MC + "test_eigh_reads_only_the_named_triangle*",),
    "eigvalsh-uplo-ignored": (MC + "test_eigh_reads_only_the_named_triangle*",),
    "pointwise-ignores-stride": (MC + "test_conv2d_1x1_strided_matches_torch*",),
    "conv-bwd-weight-last-chunk": (MC + "test_conv2d_weight_gradient_over_batch_chunks*",),
    "pool-ceil-window-in-pad": (MC + "test_pool_ceil_mode_drops_a_window*",),
    "batch-norm-eps-dropped": (MC + "test_batch_norm_training_with_variance_below_eps*",),
    "softmax-no-max-shift": (MC + "test_softmax_of_large_logits*",),
    "one-hot-bound": (MC + "test_one_hot_class_equal_to_num_classes_raises*",),
    "embedding-renorm-norm-type": (MC + "test_embedding_max_norm_with_norm_type*",),
    "embedding-renorm-short-rows": (MC + "test_embedding_max_norm_with_norm_type*",),
}


def find(name):
    for m in MUTATIONS:
        if m.name == name:
            return m
    raise KeyError(name)


def check_snippets(root=ROOT):
    """Problems with the mutation list: a snippet that does not occur exactly once, a
    mutation that changes nothing or does not compile, duplicate names. [] when all is
    well."""
    problems, seen = [], set()
    for m in MUTATIONS:
        if m.name in seen:
            problems.append(f"{m.name}: duplicate name")
        seen.add(m.name)
        if m.old == m.new:
            problems.append(f"{m.name}: the mutation changes nothing")
        with open(os.path.join(root, m.path)) as f:
            text = f.read()
        count = text.count(m.old)
        if count != 1:
            problems.append(f"{m.name}: snippet occurs {count} times in {m.path}")
            continue
        mutated = text.replace(m.old, m.new, 1)
        if m.file.endswith(".cpp"):
            run = subprocess.run(["g++", "-std=gnu++17", "-fsyntax-only", "-x", "c++", "-"],
                                 input=mutated, capture_output=True, text=True)
            if run.returncode:
                problems.append(f"{m.name}: the mutated file does not compile ({run.stderr})")
            continue
        try:
            compile(mutated, m.path, "exec")
        except SyntaxError as exc:
            problems.append(f"{m.name}: the mutated file does not compile ({exc})")
    return problems


# ---------------------------------------------------------------------------------------------
# the scratch copy
OVERLAY = ("tests/test_mutation_catches.py", "scripts/mutation_probe.py")


def make_tree(tree, overlay=OVERLAY):
    """A fresh copy of the committed tree (git archive HEAD) plus the working-tree versions of
    ``overlay`` (the probe's own files, so new tests count before they are committed); other
    uncommitted work in the checkout is left out."""
    tree = os.path.abspath(tree)
    if tree == ROOT or tree.startswith(ROOT + os.sep):
        raise SystemExit(f"--tree {tree} is inside the repository {ROOT}")
    if os.path.exists(tree):
        shutil.rmtree(tree)
    os.makedirs(tree)
    archive = subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
    for rel in overlay:
        if os.path.isfile(os.path.join(ROOT, rel)):
            shutil.copy2(os.path.join(ROOT, rel), os.path.join(tree, rel))
    return tree


# ---------------------------------------------------------------------------------------------
# running pytest in forked children of a parent that has the heavy imports done
ENV = {"CORELIB_CUDA_SIMULATE": "0", "CORELIB_TEST_BORROWED_DEVICE": "0",
       "PYTHONDONTWRITEBYTECODE": "1"}
WRONG_IMPORT = 97


def _preload():
    import numpy  # noqa: F401
    import pytest  # noqa: F401
    try:
        import torch  # noqa: F401
    except ImportError:
        pass
    assert "corelib" not in sys.modules, "the probe's parent must not import corelib"


class _Collector:
    def __init__(self):
        self.ids = []

    def pytest_collection_modifyitems(self, items):
        self.ids = [item.nodeid for item in items]


class _Config:
    def getoption(self, name, default=None):
        return default


class _Request:
    config = _Config()


def _kit_cases(module):
    """{function name: {param id: values}} of the conformance kit's parametrized tests."""
    cases = {}
    for name in dir(module):
        fn = getattr(module, name)
        if not name.startswith("test_") or not callable(fn):
            continue
        for mark in getattr(fn, "pytestmark", []):
            if mark.name == "parametrize":
                cases[name] = {p.id: p.values for p in mark.args[1]}
    return cases


def _run_op_table(nodeids):
    """Run op-table node ids by calling the kit's test functions directly (what pytest would
    call, minus collection): returns the first failure's description or None."""
    import inspect

    import pytest

    from corelib.testing import test_kit_ops as kit
    cases = _kit_cases(kit)
    fixtures = {"device": "cpu", "request": _Request()}
    for nid in nodeids:
        func, _, param = nid.split("::")[-1].partition("[")
        param = param[:-1][len("cpu-"):]
        fn = getattr(kit, func)
        kwargs = {}
        params = list(inspect.signature(fn).parameters)
        values = cases[func][param]
        for p, v in zip(params, values):
            kwargs[p] = v
        for p in params[len(values):]:
            if p == "torch":
                try:
                    import torch
                except ImportError:
                    kwargs = None
                    break
                kwargs[p] = torch
            else:
                kwargs[p] = fixtures[p]
        if kwargs is None:
            continue
        try:
            fn(**kwargs)
        except pytest.skip.Exception:
            continue
        except BaseException as exc:   # noqa: BLE001 - any exception fails the test
            return f"FAILED {nid} - {type(exc).__name__}: {str(exc)[:150]!r}"
    return None


def _child(tree, args, log, result_file=None, direct=()):
    """In a forked child: run the op-table node ids ``direct`` (directly), then pytest
    ``args`` if there are any, in ``tree``; exit 1 on a failure, else pytest's code."""
    code = 3
    try:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.chdir(tree)
        sys.path[:0] = [tree, os.path.join(tree, "backends", "cpu"),
                        os.path.join(tree, "tests")]
        os.environ.update(ENV)
        import corelib  # noqa: F401
        import corelib_cpu  # noqa: F401
        code = 0
        if direct:
            failure = _run_op_table(direct)
            if failure:
                print(failure)
                code = 1
        if code == 0 and (args or result_file):
            import pytest
            plugins = []
            collector = _Collector() if result_file else None
            if collector:
                plugins.append(collector)
            code = int(pytest.main(["-p", "no:cacheprovider", "-q", "-rfE", *args],
                                   plugins=plugins))
            if collector:
                with open(result_file, "w") as f:
                    json.dump(collector.ids, f)
        from corelib.dispatch import registry
        registry.backend("cpu")
        for mod in ("corelib", "corelib_cpu"):
            loaded = sys.modules.get(mod)
            if loaded is None or not os.path.abspath(loaded.__file__).startswith(
                    tree + os.sep):
                print(f"mutation probe: {mod} imported from "
                      f"{getattr(loaded, '__file__', None)}, not {tree}")
                code = WRONG_IMPORT
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException as exc:   # noqa: BLE001 - the child must exit, whatever happened
        try:
            import traceback
            traceback.print_exc()
            print(f"mutation probe child: {exc!r}")
            sys.stdout.flush()
        except Exception:
            pass
        code = 2
    os._exit(code)


def run_pytest(tree, args, log, timeout, result_file=None, direct=()):
    """(exit code or 'timeout', seconds) of the op-table node ids ``direct`` and pytest
    ``args`` run in ``tree`` in a fork."""
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child(tree, args, log, result_file, direct)
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status), time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return "timeout", time.monotonic() - t0
            time.sleep(0.1)
    except BaseException:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass
        raise


# ---------------------------------------------------------------------------------------------
# selections
def test_files(mutations):
    files = {OP_TABLE}
    for m in mutations:
        for pat in m.tests + CATCHES.get(m.name, ()):
            files.add(pat.split("::")[0])
    return sorted(files)


def collect(tree, files, workdir, timeout):
    out = os.path.join(workdir, "collected.json")
    log = os.path.join(workdir, "collect.log")
    code, _ = run_pytest(tree, ["--collect-only", *files], log, timeout, result_file=out)
    if code != 0:
        raise SystemExit(f"collection failed (exit {code}); see {log}")
    with open(out) as f:
        return json.load(f)


def _op_id(nodeid):
    """(test function, op-table id) of an op-table node id, e.g.
    test_forward_numpy[cpu-add[alpha]-float32] -> ('test_forward_numpy', 'add[alpha]')."""
    func, _, param = nodeid.split("::")[-1].partition("[")
    param = param[:-1]
    if not param.startswith("cpu-"):
        return func, None
    param = param[4:]
    if func.startswith("test_forward"):
        param = param.rsplit("-", 1)[0]
    return func, param


def selection(m, nodeids):
    chosen = []
    for nid in nodeids:
        if nid.startswith(OP_TABLE + "::"):
            func, op = _op_id(nid)
            if op in m.ops and (func != "test_gradcheck" or m.gradcheck):
                chosen.append(nid)
    for pat in m.tests + CATCHES.get(m.name, ()):
        chosen += [n for n in nodeids if fnmatch.fnmatchcase(n, pat) and n not in chosen]
    return chosen


def _direct(nodeids):
    return [n for n in nodeids if n.startswith(OP_TABLE + "::")]


def _others(nodeids):
    return [n for n in nodeids if not n.startswith(OP_TABLE + "::")]


def missing_ops(mutations, nodeids):
    have = {_op_id(n)[1] for n in nodeids if n.startswith(OP_TABLE + "::")}
    return sorted({op for m in mutations for op in m.ops if op not in have})


def _first_failure(log):
    try:
        with open(log) as f:
            lines = f.read().splitlines()
    except OSError:
        return ""
    for line in lines:
        if line.startswith(("FAILED ", "ERROR ")):
            return line[:200]
    for line in reversed(lines):
        if "Error" in line or "error" in line:
            return line.strip()[:200]
    return lines[-1][:200] if lines else ""


# ---------------------------------------------------------------------------------------------
def probe(mutations, tree, workdir, timeout, baseline=True, progress=print):
    nodeids = collect(tree, test_files(mutations), workdir, timeout=max(timeout, 300))
    gone = missing_ops(mutations, nodeids)
    if gone:
        raise SystemExit(f"op-table ids named by mutations but not collected: {gone}")
    results = []
    if baseline:   # every selection passes on the unmutated kernels
        union = []
        for m in mutations:
            union += [n for n in selection(m, nodeids) if n not in union]
        log = os.path.join(workdir, "baseline.log")
        code, secs = run_pytest(tree, _others(union), log, timeout * 4,
                                direct=_direct(union))
        progress(f"baseline: {len(union)} tests, exit {code}, {secs:.0f}s")
        if code != 0:
            raise SystemExit(f"the unmutated selection fails (exit {code}): see {log}\n"
                             + _first_failure(log))
    for i, m in enumerate(mutations, 1):
        path = os.path.join(tree, m.path)
        with open(path) as f:
            original = f.read()
        if original.count(m.old) != 1:
            raise SystemExit(f"{m.name}: snippet occurs {original.count(m.old)} times in "
                             f"{m.path}")
        chosen = selection(m, nodeids)
        log = os.path.join(workdir, f"{m.name}.log")
        if not chosen:
            code, secs = "no-tests", 0.0
        else:
            try:
                with open(path, "w") as f:
                    f.write(original.replace(m.old, m.new, 1))
                others = _others(chosen)
                code, secs = run_pytest(tree, ["-x", *others] if others else [], log,
                                        timeout, direct=_direct(chosen))
            finally:
                with open(path, "w") as f:
                    f.write(original)
        if code == 0 or code == "no-tests":
            status = "survived"
        elif code in (1, 2, 3, "timeout"):
            status = "caught"
        else:
            status = "error"
        r = dict(name=m.name, family=m.family, file=m.path, desc=m.desc, status=status,
                 exit=code, tests=len(chosen), seconds=round(secs, 1),
                 first_failure=_first_failure(log) if status == "caught" else "")
        results.append(r)
        progress(f"[{i}/{len(mutations)}] {m.family:20s} {m.name:32s} {status:8s} "
                 f"({len(chosen)} tests, {secs:.0f}s) {r['first_failure'][:90]}")
    return results


def table(results):
    fams = {}
    for r in results:
        f = fams.setdefault(r["family"], [0, 0])
        f[0] += 1
        f[1] += r["status"] == "caught"
    lines = ["| family | mutations | caught | rate |", "| --- | ---: | ---: | ---: |"]
    total = [0, 0]
    for fam, (n, c) in fams.items():
        lines.append(f"| {fam} | {n} | {c} | {100 * c / n:.0f}% |")
        total[0] += n
        total[1] += c
    if total[0]:
        lines.append(f"| **all** | {total[0]} | {total[1]} | "
                     f"{100 * total[1] / total[0]:.0f}% |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--family", action="append", help="only this family (repeatable; a "
                    "prefix such as 'nn' selects nn.*)")
    ap.add_argument("--only", help="comma-separated mutation names")
    ap.add_argument("--list", action="store_true", help="list the mutations and exit")
    ap.add_argument("--check", action="store_true", help="check the snippets and exit")
    ap.add_argument("--json", metavar="PATH", help="write the results as JSON")
    ap.add_argument("--tree", default=DEFAULT_TREE, help="scratch copy of the repository "
                    "(recreated on every run)")
    ap.add_argument("--timeout", type=float, default=240, help="seconds per mutation")
    ap.add_argument("--without-new-tests", action="store_true",
                    help="leave out the tests added for the survivors (CATCHES): the suite "
                         "as it was before them")
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip the run of the unmutated selection")
    args = ap.parse_args(argv)

    problems = check_snippets()
    if args.check or problems:
        print("\n".join(problems) or f"{len(MUTATIONS)} mutations, every snippet found once")
        return 1 if problems else 0
    chosen = MUTATIONS
    if args.family:
        chosen = [m for m in chosen if any(m.family == f or m.family.startswith(f + ".")
                                           for f in args.family)]
    if args.only:
        names = args.only.split(",")
        chosen = [find(n) for n in names]
    if args.list:
        for m in chosen:
            print(f"{m.family:20s} {m.name:32s} {m.path}: {m.desc}")
        return 0
    if not chosen:
        print("no mutation selected")
        return 1
    if args.without_new_tests:
        CATCHES.clear()
    _preload()
    tree = make_tree(args.tree)
    workdir = os.path.join(tree, ".mutation-logs")
    os.makedirs(workdir, exist_ok=True)
    t0 = time.monotonic()
    results = probe(chosen, tree, workdir, args.timeout, baseline=not args.no_baseline)
    print()
    print(table(results))
    survivors = [r for r in results if r["status"] != "caught"]
    if survivors:
        print("\nsurvivors:")
        for r in survivors:
            print(f"  {r['family']:20s} {r['name']:32s} {r['desc']}"
                  + ("" if r["status"] == "survived" else f" [{r['status']}: exit {r['exit']}]"))
    print(f"\n{len(results)} mutations in {time.monotonic() - t0:.0f}s; logs in {workdir}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(results=results, table=table(results)), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
