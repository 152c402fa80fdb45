"""The launch seam: every kernel of this backend runs through ``launch``.

A ``Module`` is one compilation unit (a source text from ``corelib_cuda.sources``). On a real
GPU it is a ``cupy.RawModule`` compiled by NVRTC; under ``CORELIB_CUDA_SIMULATE=1`` it is the
same text compiled by the simulator (g++ and a shim header). Both hand out kernel objects with
CuPy's calling convention ``kernel(grid, block, args, shared_mem=...)``: arrays by pointer,
NumPy scalars by value. Modules and kernels are built once and cached, never per call.
"""
from __future__ import annotations

import os

from . import runtime

# NVRTC options of every module; CuPy adds -ftz=true, -arch=sm_XX and
# --device-as-default-execution-space itself (corelib_cuda.nvrtc repeats that assembly).
OPTIONS = ("--std=c++17",)


def cuda_include_dir():
    """Directory holding cuda_fp16.h (from the nvidia-cuda-runtime wheel)."""
    import nvidia
    for root in nvidia.__path__:
        path = os.path.join(root, "cu13", "include")
        if os.path.exists(os.path.join(path, "cuda_fp16.h")):
            return path
    raise RuntimeError("cuda_fp16.h not found: install the nvidia-cuda-runtime wheel "
                       "(`pip install nvidia-cuda-runtime`)")


class Module:
    """One compiled source: ``function(name)`` returns a cached kernel object."""

    def __init__(self, name, text):
        self.name, self.text = name, text
        self._impl = None
        self._functions = {}

    def _build(self):
        if runtime.SIMULATE:
            from . import simulator
            return simulator.compile_module(self.text, self.name)
        runtime.require()
        import cupy
        return cupy.RawModule(code=self.text, backend="nvrtc",
                              options=OPTIONS + ("-I" + cuda_include_dir(),))

    def function(self, kernel_name):
        fn = self._functions.get(kernel_name)
        if fn is None:
            if self._impl is None:
                self._impl = self._build()
            fn = self._functions[kernel_name] = self._impl.get_function(kernel_name)
        return fn


def launch(kernel, grid, block, args, shared_mem=0):
    """Run ``kernel`` on a ``grid`` of ``block``-sized thread blocks (CuPy's convention)."""
    kernel(grid, block, args, shared_mem=shared_mem)
