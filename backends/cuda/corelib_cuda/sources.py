"""Every kernel source of the backend, by name, exactly as NVRTC (and the simulator) receive it.

A source is a ``.cu`` file of ``kernels/`` with its ``#include "*.cuh"`` lines inlined, plus
generated instantiation lines where a family instantiates one template per op and dtype (for
example the elementwise table). ``python -m corelib_cuda dump-sources DIR`` writes them all.
Only ``#include <cuda_fp16.h>`` stays an include (NVRTC gets ``-I`` to the CUDA headers; the
simulator resolves it to its own ``__half``).
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from .launch import Module

KERNEL_DIR = Path(__file__).parent / "kernels"
_LOCAL_INCLUDE = re.compile(r'^#include "([\w.]+)"\s*$', re.M)

_BUILDERS = {}   # source name -> () -> generated text appended to the .cu file


def read(filename, _seen=None):
    """A kernels/ file with its local includes inlined (each header once)."""
    seen = set() if _seen is None else _seen

    def inline(match):
        header = match.group(1)
        if header in seen:
            return ""
        seen.add(header)
        return read(header, seen)
    return _LOCAL_INCLUDE.sub(inline, (KERNEL_DIR / filename).read_text())


def register(name, cu_file, generate=lambda: ""):
    """Declare source ``name``: ``kernels/<cu_file>`` followed by ``generate()``'s text."""
    _BUILDERS[name] = (cu_file, generate)


@lru_cache(maxsize=None)
def text(name):
    """The complete source text of ``name``."""
    cu_file, generate = _BUILDERS[name]
    extra = generate()
    return read(cu_file) + ("\n// ---- generated instantiations ----\n" + extra if extra else "")


def names():
    return sorted(_BUILDERS)


@lru_cache(maxsize=None)
def module(name):
    """The compiled module of source ``name`` (built on first kernel use)."""
    return Module(name, text(name))


def kernel(source_name, kernel_name):
    """Shorthand: the kernel object ``kernel_name`` of source ``source_name``."""
    return module(source_name).function(kernel_name)
