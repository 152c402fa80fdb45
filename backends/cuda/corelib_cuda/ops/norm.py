"""softmax / log_softmax and their backwards, normalize (the layer/group/instance/batch norm
core) and its backward, the NLL loss pair and the class gathers (the CPU backend's nn kernels of
the same names and signatures).

softmax and normalize are row kernels (kernels/softmax.cu, kernels/norm.cu): the operands, any
strided views, are read as rows (all dims but the normalized ones) handled by a block row of
threads each, with the row statistics reduced by warp shuffles and shared memory
(ops/reduction.py: split_layout, row_config). The loss kernels (kernels/loss.cu) gather and
scatter at class targets; the reduced NLL runs in one block.
"""
from __future__ import annotations

import numpy as np

from .. import sources
from ._util import (CTYPE, FLOATS, element_strides, empty, f64, grid_for, i32, i64, launch,
                    layout, xp)
from .elementwise import astype
from .reduction import row_config, split_layout, split_strides, threads_for


def _generate(macro):
    return "".join(f"{macro}({dt}, {CTYPE[dt]})\n" for dt in FLOATS)


sources.register("softmax", "softmax.cu", lambda: _generate("SOFTMAX_KERNELS"))
sources.register("norm", "norm.cu", lambda: _generate("NORM_KERNELS"))
sources.register(
    "loss", "loss.cu",
    lambda: "".join(f"CLASS_GATHER_KERNEL(class_gather_{dt}, {CTYPE[dt]})\n"
                    f"CLASS_SCATTER_KERNEL(class_scatter_{dt}, {CTYPE[dt]})\n"
                    f"NLL_REDUCE_KERNEL(nll_reduce_{dt}, {CTYPE[dt]})\n" for dt in FLOATS))


def _check_float(name, x):
    if x.dtype.name not in FLOATS:
        raise TypeError(f'"{name}" has no CUDA kernel for dtype {x.dtype.name}')
    return x.dtype.name


def _rows(source, name, inputs, dims, *extra):
    """Run row kernel ``name`` over ``inputs`` (same shape) normalized over ``dims``; returns
    the new contiguous result."""
    x = inputs[0]
    dt = _check_float(name, x)
    y = empty(x.shape, dt)
    if y.size:
        nk, nr, meta, inner = split_layout(x.shape, tuple(inputs) + (y,), dims)
        length = 1
        for d in dims:
            length *= x.shape[d]
        rows = y.size // length
        grid, block = row_config(rows, length, inner)
        launch(sources.kernel(source, f"{name}_{dt}"), grid, block,
               (*inputs, y, meta, i32(nk), i32(nr), i64(rows), i64(length), *extra))
    return y


# ---------------------------------------------------------------------------------------------
# softmax family
def softmax(x, dim):
    return _rows("softmax", "softmax", (x,), (dim,))


def log_softmax(x, dim):
    return _rows("softmax", "log_softmax", (x,), (dim,))


def softmax_backward_data(g, out, dim):
    return _rows("softmax", "softmax_backward_data", (g, out), (dim,))


def log_softmax_backward_data(g, out, dim):
    return _rows("softmax", "log_softmax_backward_data", (g, out), (dim,))


# ---------------------------------------------------------------------------------------------
# normalization over ``dim`` (a tuple of dims)
def normalize(x, dim, eps):
    return _rows("norm", "normalize", (x,), tuple(dim), f64(eps))


def normalize_backward(g, x, dim, eps):
    if x.size == 0:
        return xp().array(g, copy=True)
    return _rows("norm", "normalize_backward", (g, x), tuple(dim), f64(eps))


# ---------------------------------------------------------------------------------------------
# class gathers and the NLL loss: x / y are (N, C, *d), targets (N, *d) int64
def _targets(target):
    return target if target.dtype == np.int64 else astype(target, np.int64)


def _without_class(a):
    """Element strides of an (N, C, *d) array without its class dim, and the class dim's."""
    s = [st // a.itemsize for st in a.strides]
    return tuple(s[:1] + s[2:]), s[1]


def _over_targets(target, *operand_strides):
    """(ndim, meta) of operands with the given element strides over the target's shape."""
    ndim, _, meta, _ = split_strides(target.shape, list(operand_strides), ())
    return ndim, meta


def _gather_launch(x, target, ignore_index, scale):
    dt = _check_float("class_gather", x)
    target = _targets(target)
    y = empty(target.shape, dt)
    n = y.size
    if n:
        xs, cstride = _without_class(x)
        ndim, meta = _over_targets(target, xs, element_strides(target, target.shape),
                                   element_strides(y, target.shape))
        threads = threads_for(n)
        launch(sources.kernel("loss", f"class_gather_{dt}"), (grid_for(n, threads),),
               (threads,), (x, target, y, meta, i32(ndim), i64(n), i64(cstride),
                            i64(x.shape[1]), i64(ignore_index), f64(scale)))
    return y


def _scatter_launch(g, target, num_classes, ignore_index, scale, count=None):
    dt = _check_float("class_scatter", g)
    target = _targets(target)
    y = xp().zeros((target.shape[0], num_classes) + tuple(target.shape[1:]), dtype=dt)
    n = target.size
    if n and num_classes:
        ys, cstride = _without_class(y)
        ndim, meta = _over_targets(target, element_strides(g, target.shape),
                                   element_strides(target, target.shape), ys)
        threads = threads_for(n)
        launch(sources.kernel("loss", f"class_scatter_{dt}"), (grid_for(n, threads),),
               (threads,), (g, target, y, meta, i32(ndim), i64(n), i64(cstride),
                            i64(num_classes), i64(ignore_index), f64(scale), count))
    return y


def class_gather(x, target, ignore_index):
    """x[n, target[n, ...], ...] (0 where target == ignore_index); x is (N, C, *d)."""
    return _gather_launch(x, target, ignore_index, 1.0)


def class_scatter(g, target, num_classes, ignore_index):
    """The transpose of class_gather: g placed at the target class of zeros (N, C, *d)."""
    return _scatter_launch(g, target, num_classes, ignore_index, 1.0)


def _count_targets(target, ignore_index):
    """Device int64 scalar: how many targets are not ignore_index (one block)."""
    count = xp().zeros((1,), np.int64)
    n = target.size
    if n:
        ndim, meta = layout(target.shape, (target,))
        launch(sources.kernel("loss", "count_targets"), (1,), (min(256, threads_for(n)),),
               (target, count, meta, i32(ndim), i64(n), i64(ignore_index)))
    return count


def nll_loss(x, target, ignore_index, reduction):
    """-x at the targets: per element ('none'), summed, or averaged over the non-ignored."""
    if reduction == "none":
        return _gather_launch(x, target, ignore_index, -1.0)
    dt = _check_float("nll_loss", x)
    target = _targets(target)
    y = empty((), dt)
    n = target.size
    xs, cstride = _without_class(x)
    ndim, meta = _over_targets(target, xs, element_strides(target, target.shape))
    launch(sources.kernel("loss", f"nll_reduce_{dt}"), (1,), (min(256, threads_for(n)),),
           (x, target, y, meta, i32(ndim), i64(n), i64(cstride), i64(x.shape[1]),
            i64(ignore_index), i32(reduction == "mean")))
    return y


def nll_loss_backward(g, target, num_classes, ignore_index, reduction):
    """-g (divided by the count of non-ignored targets for 'mean') at the targets."""
    target = _targets(target)
    count = _count_targets(target, ignore_index) if reduction == "mean" else None
    return _scatter_launch(g, target, num_classes, ignore_index, -1.0, count)


KERNELS = {
    "softmax": softmax,
    "log_softmax": log_softmax,
    "softmax_backward_data": softmax_backward_data,
    "log_softmax_backward_data": log_softmax_backward_data,
    "normalize": normalize,
    "normalize_backward": normalize_backward,
    "nll_loss": nll_loss,
    "nll_loss_backward": nll_loss_backward,
    "class_gather": class_gather,
    "class_scatter": class_scatter,
}
