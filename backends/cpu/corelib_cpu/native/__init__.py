"""Compiled kernels of the CPU backend (direct 2-D convolution; see conv.cpp for why).

The C++ source is compiled on first use with the machine's C++ compiler (``g++`` or
``$CORELIB_CPU_CXX``; ``-O3 -march=native``) into ``~/.cache/corelib/cpu`` (or
``$CORELIB_CPU_CACHE``), keyed by a hash of the source, the flags and the compiler, and
loaded with ctypes (calls release the GIL). Where no compiler works, or with
``CORELIB_CPU_NATIVE=0``, :func:`library` returns None and the backend's NumPy kernels run
instead; :func:`status` says which and why.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

_SOURCE = Path(__file__).with_name("conv.cpp")
_FLAGS = ("-O3", "-march=native", "-std=gnu++17", "-ffp-contract=fast", "-fPIC", "-shared",
          "-pthread", "-fno-exceptions", "-fno-rtti")
_LOCK = threading.Lock()
_state = {"lib": None, "status": None, "built": None}
_enabled = [os.environ.get("CORELIB_CPU_NATIVE", "1") != "0"]
_SUFFIX = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}


def _cache_dir() -> Path:
    root = os.environ.get("CORELIB_CPU_CACHE") or Path.home() / ".cache" / "corelib" / "cpu"
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _compiler_identity(cxx: str) -> str:
    real = os.path.realpath(shutil.which(cxx) or cxx)
    try:
        st = os.stat(real)
        return f"{real}:{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        return real


def _cpu_identity() -> str:
    """The CPU's model and flags: -march=native code must not run on another CPU."""
    try:
        with open("/proc/cpuinfo") as fh:
            return "".join(line for line in fh.read().splitlines(True)[:40]
                           if line.startswith(("model name", "flags")))
    except OSError:
        return ""


def _build() -> ctypes.CDLL:
    cxx = os.environ.get("CORELIB_CPU_CXX", "g++")
    source = _SOURCE.read_bytes()
    key = hashlib.sha256(b"\0".join([source, " ".join(_FLAGS).encode(),
                                     _compiler_identity(cxx).encode(),
                                     _cpu_identity().encode()])).hexdigest()[:24]
    cache = _cache_dir()
    so = cache / f"conv-{key}.so"
    if not so.exists():
        fd, tmp = tempfile.mkstemp(dir=cache, prefix=".tmp-", suffix=".so")
        os.close(fd)
        try:
            done = subprocess.run([cxx, *_FLAGS, "-o", tmp, str(_SOURCE)], capture_output=True,
                                  text=True)
            if done.returncode:
                raise OSError(f"{cxx} failed: {done.stderr.strip()[:2000]}")
            os.replace(tmp, so)   # atomic: a concurrent build replaces it with the same file
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    lib = ctypes.CDLL(str(so))
    for suffix in _SUFFIX.values():
        for name, arrays, ints in (("forward", 4, 14), ("weight", 3, 14)):
            fn = getattr(lib, f"conv2d_{name}_{suffix}")   # CDLL keeps it, with these types
            fn.argtypes = [ctypes.c_void_p] * arrays + [ctypes.c_long] * ints
            fn.restype = ctypes.c_int
    return lib


def library():
    """The loaded kernel library, or None when compiled kernels are off or unavailable."""
    if _state["built"] is None and _enabled[0]:
        with _LOCK:
            if _state["built"] is None:
                try:
                    _state["lib"] = _build()
                    _state["status"] = "compiled kernels loaded"
                except (OSError, subprocess.SubprocessError) as exc:
                    _state["status"] = f"unavailable: {exc}"
                _state["built"] = True
    return _state["lib"] if _enabled[0] else None


def status() -> str:
    """Whether compiled kernels are in use, and if not, why."""
    if not _enabled[0]:
        return ("off (CORELIB_CPU_NATIVE=0)" if os.environ.get("CORELIB_CPU_NATIVE") == "0"
                else "off (set_enabled(False))")
    library()
    return _state["status"]


def set_enabled(flag: bool) -> bool:
    """Turn the compiled kernels on or off in this process (tests run both paths); returns
    the previous setting."""
    was, _enabled[0] = _enabled[0], bool(flag)
    return was


def kernel(name, dtype):
    """conv2d_<name>_<f32|f64> for ``dtype``, or None (no library, or another dtype)."""
    lib = library()
    suffix = _SUFFIX.get(dtype)
    if lib is None or suffix is None:
        return None
    return getattr(lib, f"conv2d_{name}_{suffix}")
