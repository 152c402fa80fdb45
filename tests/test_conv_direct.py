"""The CPU backend's compiled direct convolution (corelib_cpu/native/conv.cpp) and the columns
+ GEMM path it replaces for some shapes: both against an independent float64 reference (a sum
over kernel positions of window products), forward and both gradients, over shapes that hit
every branch (row tails, single output channels, groups, dilation, asymmetric padding, kernel
widths 1-6, non-contiguous input, non-finite values)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import corelib
import corelib.nn.functional as F

DEVICE = "cpu"
RNG = np.random.default_rng(0)


def reference(x, w, b, g, padding, dilation, groups):
    """out, dL/dx, dL/dw of a stride-1 convolution with ``padding`` ((top, bottom), (left,
    right)), in float64, for the output gradient ``g`` (None: forward only)."""
    x, w = x.astype(np.float64), w.astype(np.float64)
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(padding))
    n, c, ph, pw = xp.shape
    o, cg, kh, kw = w.shape
    (dh, dw), og = dilation, o // groups
    oh, ow = ph - dh * (kh - 1), pw - dw * (kw - 1)
    out = np.zeros((n, o, oh, ow))
    dxp, dwt = np.zeros_like(xp), np.zeros_like(w)
    for gi in range(groups):
        cs, os_ = slice(gi * cg, (gi + 1) * cg), slice(gi * og, (gi + 1) * og)
        for ky in range(kh):
            for kx in range(kw):
                rows, cols = slice(ky * dh, ky * dh + oh), slice(kx * dw, kx * dw + ow)
                win = xp[:, cs, rows, cols]
                out[:, os_] += np.einsum("nchw,oc->nohw", win, w[os_, :, ky, kx])
                if g is not None:
                    dwt[os_, :, ky, kx] = np.einsum("nchw,nohw->oc", win, g[:, os_])
                    dxp[:, cs, rows, cols] += np.einsum("nohw,oc->nchw", g[:, os_],
                                                        w[os_, :, ky, kx])
    if b is not None:
        out += b[:, None, None]
    (top, _), (left, _) = padding
    return out, dxp[:, :, top:top + x.shape[2], left:left + x.shape[3]], dwt


def assert_close(got, want, dtype):
    tol = 2e-5 if dtype == np.float32 else 1e-12
    scale = max(np.nanmax(np.abs(want[np.isfinite(want)]), initial=0.0), 1.0)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * scale)


# (N, C, H, W, O, kernel, padding (ints or 'same'), dilation, groups): chosen so that the direct
# kernels run for most (>= 6 output channels per group, rows of >= 1.5 vectors) and so that
# rows end in partial vectors, output-channel blocks have remainders, and KW = 6 falls back
GEOMETRIES = [
    (2, 3, 12, 32, 16, (3, 3), 1, (1, 1), 1),         # the benchmark CNN's first layer, small
    (3, 16, 9, 16, 32, (3, 3), 1, (1, 1), 1),         # its second layer's channels
    (2, 5, 7, 13, 7, (3, 3), 1, (1, 1), 1),           # row tails (13), 6 + 1 output channels
    (1, 4, 11, 29, 13, (2, 5), "same", (1, 1), 1),    # asymmetric 'same' padding, KW 5
    (2, 6, 10, 21, 12, (3, 3), 2, (2, 1), 2),         # groups, dilation
    (2, 2, 6, 19, 8, (1, 4), "same", (1, 2), 1),      # 1 x 4, dilated width
    (2, 3, 8, 17, 6, (2, 6), 0, (1, 1), 1),           # KW 6: the weight gradient falls back
    (2, 8, 5, 40, 9, (1, 1), 0, (1, 1), 1),           # 1 x 1
    (1, 6, 6, 12, 6, (3, 3), 1, (1, 1), 6),           # depthwise
    (4, 3, 6, 6, 3, (3, 3), 1, (1, 1), 1),            # below the shape rule: columns
]


def _padding(padding, kernel, dilation):
    if padding == "same":
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in total)
    return ((padding, padding),) * 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("geometry", GEOMETRIES, ids=[str(i) for i in range(len(GEOMETRIES))])
def test_conv2d_forward_and_gradients(cpu_conv_path, geometry, dtype):
    n, c, h, wd, o, kernel, padding, dilation, groups = geometry
    x = RNG.standard_normal((n, c, h, wd)).astype(dtype)
    w = RNG.standard_normal((o, c // groups) + kernel).astype(dtype)
    b = RNG.standard_normal(o).astype(dtype)
    xt = corelib.tensor(x, device=DEVICE, requires_grad=True)
    wt = corelib.tensor(w, device=DEVICE, requires_grad=True)
    bt = corelib.tensor(b, device=DEVICE, requires_grad=True)
    out = F.conv2d(xt, wt, bt, padding=padding, dilation=dilation, groups=groups)
    g = RNG.standard_normal(tuple(out.shape)).astype(dtype)
    want, dx, dw = reference(x, w, b, g, _padding(padding, kernel, dilation), dilation, groups)
    assert_close(out.detach().cpu().numpy(), want, dtype)
    out.backward(corelib.tensor(g, device=DEVICE))
    assert_close(xt.grad.cpu().numpy(), dx, dtype)
    assert_close(wt.grad.cpu().numpy(), dw, dtype)
    assert_close(bt.grad.cpu().numpy(), g.astype(np.float64).sum((0, 2, 3)), dtype)


# (N, C, L, O, kernel, padding, dilation, groups): 1-D convolutions at stride 1 run the 2-D
# direct kernels on a unit height
GEOMETRIES_1D = [(4, 3, 100, 16, 5, 2, 1, 1), (2, 8, 37, 12, 3, 1, 2, 2),
                 (3, 2, 9, 6, 4, 0, 1, 1), (2, 4, 50, 3, 3, 1, 1, 1)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("geometry", GEOMETRIES_1D,
                         ids=[str(i) for i in range(len(GEOMETRIES_1D))])
def test_conv1d_forward_and_gradients(cpu_conv_path, geometry, dtype):
    n, c, length, o, k, padding, dilation, groups = geometry
    x = RNG.standard_normal((n, c, length)).astype(dtype)
    w = RNG.standard_normal((o, c // groups, k)).astype(dtype)
    b = RNG.standard_normal(o).astype(dtype)
    xt = corelib.tensor(x, device=DEVICE, requires_grad=True)
    wt = corelib.tensor(w, device=DEVICE, requires_grad=True)
    out = F.conv1d(xt, wt, corelib.tensor(b, device=DEVICE), padding=padding,
                   dilation=dilation, groups=groups)
    g = RNG.standard_normal(tuple(out.shape)).astype(dtype)
    want, dx, dw = reference(x[:, :, None], w[:, :, None], b, g[:, :, None],
                             ((0, 0), (padding, padding)), (1, dilation), groups)
    assert_close(out.detach().cpu().numpy(), want[:, :, 0], dtype)
    out.backward(corelib.tensor(g, device=DEVICE))
    assert_close(xt.grad.cpu().numpy(), dx[:, :, 0], dtype)
    assert_close(wt.grad.cpu().numpy(), dw[:, :, 0], dtype)


def test_conv2d_non_contiguous_input_and_output_gradient(cpu_conv_path):
    x = RNG.standard_normal((2, 4, 20, 14)).astype(np.float32)
    w = RNG.standard_normal((8, 4, 3, 3)).astype(np.float32)
    xt = corelib.tensor(x, device=DEVICE).transpose(2, 3).requires_grad_()   # (2, 4, 14, 20)
    wt = corelib.tensor(w, device=DEVICE, requires_grad=True)
    out = F.conv2d(xt, wt, padding=1)
    g = RNG.standard_normal((2, 8, 20, 14)).astype(np.float32)
    out.backward(corelib.tensor(g, device=DEVICE).transpose(2, 3))
    want, dx, dw = reference(x.transpose(0, 1, 3, 2), w, None, g.transpose(0, 1, 3, 2),
                             ((1, 1), (1, 1)), (1, 1), 1)
    assert_close(out.detach().cpu().numpy(), want, np.float32)
    assert_close(xt.grad.cpu().numpy(), dx, np.float32)
    assert_close(wt.grad.cpu().numpy(), dw, np.float32)


def test_conv2d_non_finite_inputs(cpu_conv_path):
    """inf and NaN propagate as in the plain sum (the kernels' extra lanes never reach an
    output, and the zero padding never meets an inf from a neighbouring row)."""
    x = RNG.standard_normal((2, 3, 8, 20))
    x[0, 1, 2, 5] = np.inf
    x[1, 0, 7, 19] = -np.inf
    x[1, 2, 0, 0] = np.nan
    w = RNG.standard_normal((7, 3, 3, 3))
    got = F.conv2d(corelib.tensor(x, device=DEVICE), corelib.tensor(w, device=DEVICE),
                   padding=1)
    want = reference(x, w, None, None, ((1, 1), (1, 1)), (1, 1), 1)[0]
    got = got.cpu().numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got) & (got > 0), np.isinf(want) & (want > 0))
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-12, atol=1e-12)


def test_benchmark_cnn_layers_take_the_direct_kernels():
    """The benchmark CNN's layers (3->16 and 16->32 channels, 3x3, 32x32 and 16x16 images)
    are the shapes the direct kernels are for: forward, weight gradient and the input
    gradient's flipped convolution all pick them."""
    from corelib_cpu import native, nn
    if native.library() is None:
        pytest.skip(f"compiled kernels unavailable (the C++ compiler is not installed or "
                    f"failed): {native.status()}")
    f32 = np.dtype(np.float32)
    for shape, c, o in (((32, 3, 32, 32), 3, 16), ((32, 16, 16, 16), 16, 32)):
        plan = nn._plan_of(shape, (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1))
        assert nn._direct(plan, f32, "forward", c, o) is not None
        assert nn._direct(plan, f32, "weight", c, o) is not None
    plan = nn._plan_of((32, 32, 16, 16), (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1))
    assert nn._direct(plan, f32, "forward", 32, 16) is not None     # conv2's input gradient
    assert nn._direct_1d((4, 3, 100), (5,), (1,), ((2, 2),), (1,), f32, "forward", 3, 16)


@pytest.mark.parametrize("env, status", [({"CORELIB_CPU_NATIVE": "0"}, "off"),
                                         ({"CORELIB_CPU_CXX": "/nonexistent/c++"},
                                          "unavailable")])
def test_without_compiled_kernels_convolution_still_runs(tmp_path, env, status):
    """No compiler (or compiled kernels turned off): the NumPy kernels run, and status() says
    why."""
    code = (
        "import numpy as np, corelib, corelib.nn.functional as F\n"
        "from corelib_cpu import native\n"
        "x = corelib.ones(2, 3, 12, 32); w = corelib.ones(16, 3, 3, 3)\n"
        "out = F.conv2d(x, w, padding=1)\n"
        "assert float(out[0, 0, 5, 5]) == 27.0 and float(out[0, 0, 0, 0]) == 12.0\n"
        "print(native.status())\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "CORELIB_CPU_CACHE": str(tmp_path), **env})
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(status), run.stdout
    assert not list(tmp_path.glob("*.so"))


def test_threads_split_the_work_without_changing_results():
    """corelib.set_num_threads(n) splits the direct kernels over n OS threads (images in the
    forward, output-channel blocks in the weight gradient): the same arithmetic per output, so
    the results are bitwise those of one thread."""
    from corelib_cpu import native
    if native.library() is None:
        pytest.skip(f"compiled kernels unavailable (the C++ compiler is not installed or "
                    f"failed): {native.status()}")
    x = corelib.tensor(RNG.standard_normal((16, 8, 24, 24)).astype(np.float32), device=DEVICE)
    w = corelib.tensor(RNG.standard_normal((14, 8, 3, 3)).astype(np.float32), device=DEVICE)
    g = corelib.tensor(RNG.standard_normal((16, 14, 24, 24)).astype(np.float32), device=DEVICE)
    results = []
    was = corelib.get_num_threads()
    try:
        for threads in (1, 3):
            corelib.set_num_threads(threads)
            wt = w.detach().requires_grad_()
            out = F.conv2d(x, wt, padding=1)
            out.backward(g)
            results.append((out.detach().cpu().numpy(), wt.grad.cpu().numpy()))
    finally:
        corelib.set_num_threads(was)
    for one, many in zip(*results):
        np.testing.assert_array_equal(one, many)
