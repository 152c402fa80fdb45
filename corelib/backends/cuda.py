"""corelib.backends.cuda: PyTorch's CUDA flags (matmul TF32 / reduced-precision reductions,
scaled-dot-product-attention backend switches) and ``is_built()``.

corelib's CUDA kernels compute float32 matmuls in float32 and have one attention
implementation, so these flags are recorded (as PyTorch records them) without changing results.
"""
from __future__ import annotations

import contextlib

__all__ = ["is_built", "matmul", "cufft_plan_cache", "preferred_linalg_library",
           "preferred_blas_library", "flash_sdp_enabled", "enable_flash_sdp",
           "mem_efficient_sdp_enabled", "enable_mem_efficient_sdp", "math_sdp_enabled",
           "enable_math_sdp", "cudnn_sdp_enabled", "enable_cudnn_sdp", "sdp_kernel"]


def is_built():
    """is_built() -> bool

    Whether corelib has CUDA support: True when the corelib-cuda backend plugin is installed
    (whether or not a GPU is present; see ``corelib.cuda.is_available()``).
    """
    from ..dispatch import registry
    registry.load()
    return "cuda" in registry.backends


class cuBLASModule:
    """cuBLASModule: ``corelib.backends.cuda.matmul``, the cuBLAS matmul flags."""

    allow_tf32 = False
    allow_fp16_reduced_precision_reduction = True
    allow_bf16_reduced_precision_reduction = True

    def __repr__(self):
        return (f"cuBLASModule(allow_tf32={self.allow_tf32}, allow_fp16_reduced_precision_"
                f"reduction={self.allow_fp16_reduced_precision_reduction})")


matmul = cuBLASModule()


class cuFFTPlanCache:
    """cuFFTPlanCache: PyTorch's cuFFT plan cache handle (corelib keeps no plans: size 0)."""

    max_size = 4096

    @property
    def size(self):
        """The number of cached plans (always 0)."""
        return 0

    def clear(self):
        """clear() -> None

        Forget every cached plan (none are kept).
        """


cufft_plan_cache = cuFFTPlanCache()
_LINALG = ["default"]
_BLAS = ["cublas"]
_SDP = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def preferred_linalg_library(backend=None):
    """preferred_linalg_library(backend=None) -> str

    Record and return the preferred CUDA linear-algebra library ("default", "cusolver", "magma").
    """
    if backend is not None:
        if str(backend).lower() not in ("default", "cusolver", "magma"):
            raise RuntimeError("Unknown input value. Choose from: default, cusolver, magma.")
        _LINALG[0] = str(backend).lower()
    return _LINALG[0]


def preferred_blas_library(backend=None):
    """preferred_blas_library(backend=None) -> str

    Record and return the preferred CUDA BLAS library ("cublas", "cublaslt").
    """
    if backend is not None:
        if str(backend).lower() not in ("cublas", "cublaslt", "hipblaslt", "ck", "default"):
            raise RuntimeError("Unknown input value. Choose from: cublas, cublaslt, ck.")
        _BLAS[0] = str(backend).lower()
    return _BLAS[0]


def flash_sdp_enabled():
    """flash_sdp_enabled() -> bool

    Whether the flash scaled-dot-product-attention backend is enabled (a recorded flag).
    """
    return _SDP["flash"]


def enable_flash_sdp(enabled):
    """enable_flash_sdp(enabled) -> None

    Enable or disable the flash scaled-dot-product-attention backend (a recorded flag).
    """
    _SDP["flash"] = bool(enabled)


def mem_efficient_sdp_enabled():
    """mem_efficient_sdp_enabled() -> bool

    Whether the memory-efficient attention backend is enabled (a recorded flag).
    """
    return _SDP["mem_efficient"]


def enable_mem_efficient_sdp(enabled):
    """enable_mem_efficient_sdp(enabled) -> None

    Enable or disable the memory-efficient attention backend (a recorded flag).
    """
    _SDP["mem_efficient"] = bool(enabled)


def math_sdp_enabled():
    """math_sdp_enabled() -> bool

    Whether the math (reference) attention backend is enabled (a recorded flag).
    """
    return _SDP["math"]


def enable_math_sdp(enabled):
    """enable_math_sdp(enabled) -> None

    Enable or disable the math attention backend (a recorded flag).
    """
    _SDP["math"] = bool(enabled)


def cudnn_sdp_enabled():
    """cudnn_sdp_enabled() -> bool

    Whether the cuDNN attention backend is enabled (a recorded flag).
    """
    return _SDP["cudnn"]


def enable_cudnn_sdp(enabled):
    """enable_cudnn_sdp(enabled) -> None

    Enable or disable the cuDNN attention backend (a recorded flag).
    """
    _SDP["cudnn"] = bool(enabled)


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True,
               enable_cudnn=True):
    """sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True, enable_cudnn=True)

    Context manager setting the attention-backend flags for its block (deprecated in PyTorch).
    """
    old = dict(_SDP)
    _SDP.update(flash=bool(enable_flash), math=bool(enable_math),
                mem_efficient=bool(enable_mem_efficient), cudnn=bool(enable_cudnn))
    try:
        yield
    finally:
        _SDP.update(old)
