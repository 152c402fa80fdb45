"""Compile kernel sources with NVRTC exactly as CuPy's RawModule does, without a GPU.

CuPy's public compile path asks the device for its architecture, so it fails on a machine
without one. NVRTC itself needs no GPU: this module repeats CuPy's option assembly (the
backend's options, then ``-ftz=true``, ``-arch=sm_XX`` and
``--device-as-default-execution-space``) and compiles with CuPy's own NVRTC program class to a
cubin for a chosen architecture. Used by the test suite (every source, sm_80 and sm_90).
"""
from __future__ import annotations

from .launch import OPTIONS, cuda_include_dir

ARCHS = ("80", "90")


def options(arch):
    """The full NVRTC option tuple CuPy would pass for a device of compute capability ``arch``."""
    return OPTIONS + ("-I" + cuda_include_dir(), "-ftz=true", f"-arch=sm_{arch}",
                      "--device-as-default-execution-space")


def compile_cubin(text, arch, name="kernel.cu"):
    """The cubin NVRTC makes of ``text`` for sm_``arch``; raises CompileException with the log."""
    from cupy.cuda.compiler import _NVRTCProgram
    program = _NVRTCProgram(text, name, method="cubin")
    cubin, _ = program.compile(options(arch))
    return cubin


def cache_dir():
    """Where compiled artifacts are kept: $CORELIB_CUDA_CACHE or ~/.cache/corelib/cuda."""
    import os
    from pathlib import Path
    root = os.environ.get("CORELIB_CUDA_CACHE") or Path.home() / ".cache" / "corelib" / "cuda"
    return Path(root)


def compile_cached(text, arch, name="kernel.cu"):
    """``compile_cubin`` with an on-disk cache keyed by the source, the options and NVRTC's
    version (as CuPy's kernel cache): CI recompiles only what changed."""
    import hashlib
    import os
    from cupy.cuda.compiler import _get_nvrtc_version
    key = hashlib.sha256(repr((text, options(arch), _get_nvrtc_version())).encode()).hexdigest()
    path = cache_dir() / "nvrtc" / f"{key}.cubin"
    if path.exists():
        return path.read_bytes()
    cubin = compile_cubin(text, arch, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(cubin)
    os.replace(tmp, path)
    return cubin
