"""Run hand-written CUDA C kernels on the CPU, unmodified.

``compile_module(source)`` compiles the CUDA source with g++ (C++20) against a shim header
(``cuda_sim.h``, force-included) into a shared library, cached on disk; ``get_function(name)``
returns a :class:`SimKernel` that is called like ``cupy.RawKernel``::

    mod = compile_module(src, "elementwise")
    k = mod.get_function("add_f32")
    k((blocks,), (256,), (x, y, out, np.int64(n)))          # numpy arrays stand in for device memory

Execution model: blocks run one after another on the calling OS thread; the threads of a block are
fibers (user-level contexts, hand-written x86-64 switch) that switch only at ``__syncthreads`` and
warp-level operations. ``set_schedule("forward" | "reverse" | "random", seed)`` chooses the order in
which the ready threads (and the blocks) run between synchronisation points, to expose races.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import re
import shutil
import struct
import subprocess
import tempfile
import threading
from contextlib import contextmanager

import numpy as np

__all__ = [
    "compile_module", "set_schedule", "get_schedule", "schedule", "SimModule", "SimKernel",
    "CompileError", "LaunchError", "DeadlockError", "KernelNotFoundError", "compile_stats",
    "MAX_DYNAMIC_SHARED", "DEFAULT_DYNAMIC_SHARED",
]

_HERE = os.path.dirname(os.path.abspath(__file__))
_INCLUDE = os.path.join(_HERE, "include")
_SHIM = os.path.join(_HERE, "cuda_sim.h")

#: default limit of dynamic shared memory per launch (CUDA's limit without opt-in)
DEFAULT_DYNAMIC_SHARED = 48 * 1024
#: hard cap: size of the per-name dynamic shared buffer (opt-in via SimKernel.max_dynamic_shared_size_bytes)
MAX_DYNAMIC_SHARED = 96 * 1024

_CXX = os.environ.get("CORELIB_CUDA_SIM_CXX", "g++")
_CXXFLAGS = ("-std=c++20", "-O2", "-fPIC", "-shared", "-fvisibility=hidden", "-fno-strict-aliasing",
             "-fno-math-errno", "-fno-plt", "-w")
_ASAN_FLAGS = ("-fsanitize=address", "--param=asan-stack=0", "-fno-omit-frame-pointer")
_CACHE_VERSION = "cuda-sim-1"


def _asan_requested() -> bool:
    return os.environ.get("CORELIB_CUDA_SIM_ASAN", "") not in ("", "0")


def _asan_loaded() -> bool:
    try:
        with open("/proc/self/maps") as fh:
            return "libasan" in fh.read()
    except OSError:
        return False


class CompileError(RuntimeError):
    """g++ rejected the CUDA source (message contains g++'s diagnostics)."""


class LaunchError(RuntimeError):
    """Invalid launch configuration, or the kernel trapped / failed an assert while running."""


class DeadlockError(LaunchError):
    """Divergent __syncthreads / warp synchronisation: the block can never make progress."""


class KernelNotFoundError(KeyError):
    def __str__(self):  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


# ----------------------------------------------------------------------------- schedules
_MODES = {"forward": 0, "reverse": 1, "random": 2}
_schedule = (0, 0)


def set_schedule(mode: str = "forward", seed: int = 0) -> None:
    """Order in which the threads of a block (and the blocks of a grid) run between
    synchronisation points: "forward" (thread 0 first), "reverse", or "random" (seeded)."""
    global _schedule
    if mode not in _MODES:
        raise ValueError(f"schedule mode must be one of {sorted(_MODES)}, got {mode!r}")
    _schedule = (_MODES[mode], int(seed) & 0xFFFFFFFFFFFFFFFF)


def get_schedule() -> tuple:
    inv = {v: k for k, v in _MODES.items()}
    return inv[_schedule[0]], _schedule[1]


@contextmanager
def schedule(mode: str = "forward", seed: int = 0):
    """``with schedule("random", 3): ...`` -- set the schedule temporarily."""
    old = _schedule
    set_schedule(mode, seed)
    try:
        yield
    finally:
        _set_raw_schedule(old)


def _set_raw_schedule(s):
    global _schedule
    _schedule = s


# ----------------------------------------------------------------------------- compilation
_stats = {"compiles": 0, "gcc_invocations": 0, "disk_hits": 0, "memory_hits": 0}
_modules: dict = {}
_lock = threading.RLock()
_fingerprint = None


def compile_stats() -> dict:
    """Counters for this process: compiles (g++ builds), gcc_invocations, disk_hits, memory_hits."""
    return dict(_stats)


def _cache_dir() -> str:
    d = os.environ.get("CORELIB_CUDA_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "corelib",
                                                             "cuda-sim")
    os.makedirs(d, exist_ok=True)
    return d


def _toolchain_fingerprint() -> bytes:
    """Hash of everything besides the source that affects the build (no subprocess)."""
    global _fingerprint
    if _fingerprint is None:
        h = hashlib.sha256(_CACHE_VERSION.encode())
        cxx = shutil.which(_CXX) or _CXX
        try:
            real = os.path.realpath(cxx)
            st = os.stat(real)
            h.update(f"{real}:{st.st_size}:{st.st_mtime_ns}".encode())
        except OSError:
            h.update(cxx.encode())
        h.update(repr(_CXXFLAGS).encode())
        files = [_SHIM, os.path.join(_HERE, "cuda_sim_math.h"), os.path.abspath(__file__)]
        files += sorted(os.path.join(_INCLUDE, f) for f in os.listdir(_INCLUDE))
        for f in files:
            with open(f, "rb") as fh:
                h.update(f.encode() + b"\0" + fh.read())
        _fingerprint = h.digest()
    return _fingerprint


def _atomic_write(path: str, data: bytes) -> None:
    d = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _run_gcc(args, name, what):
    _stats["gcc_invocations"] += 1
    try:
        p = subprocess.run(args, capture_output=True, text=True)
    except FileNotFoundError as e:
        raise CompileError(f"cannot run the C++ compiler {_CXX!r} to build CUDA module {name!r}: {e}") from None
    if p.returncode != 0:
        raise CompileError(f"g++ failed to {what} CUDA module {name!r}:\n{p.stderr.strip()}")
    return p.stdout


_TOKENS = re.compile(
    r'^[ \t]*#[^\n]*$'                     # line markers
    r'|\bextern\s+"C"\s*\{'               # extern "C" { block
    r'|"(?:\\.|[^"\\\n])*"'               # string literal
    r"|'(?:\\.|[^'\\\n])*'"               # char literal
    r'|[{};]'
    r'|\b__cudasim_global__\b', re.M)
_KERNEL_HEAD = re.compile(r'\s*void\s+(?:__cudasim_\w+\s+)*([A-Za-z_]\w*)\s*\(')
_DYN_SHARED = re.compile(
    r'(?:\bextern\s+__cudasim_shared__|\b__cudasim_shared__\s+extern)\s+([^;\[\]{}=]*?)\s*\b([A-Za-z_]\w*)\s*'
    r'\[\s*\]\s*;')


def _discover(pre: str):
    """Find extern "C" __global__ kernel definitions and extern __shared__ arrays in preprocessed text."""
    kernels = []
    stack = []
    stmt_start = 0
    for m in _TOKENS.finditer(pre):
        tok = m.group()
        c = tok[0]
        if c in "\"'" or tok.lstrip().startswith("#"):
            continue
        if tok.startswith("extern"):
            stack.append(True)
            stmt_start = m.end()
        elif tok == "{":
            stack.append(False)
            stmt_start = m.end()
        elif tok == "}":
            if stack:
                stack.pop()
            stmt_start = m.end()
        elif tok == ";":
            stmt_start = m.end()
        else:  # __cudasim_global__
            prefix = " ".join(pre[stmt_start:m.start()].split())
            if "template" in prefix:
                continue
            if 'extern "C"' not in prefix and not any(stack):
                continue
            h = _KERNEL_HEAD.match(pre, m.end())
            if not h:
                continue
            # definition (body follows the parameter list) or just a declaration?
            depth, i = 1, h.end()
            while i < len(pre) and depth:
                ch = pre[i]
                depth += ch == "("
                depth -= ch == ")"
                i += 1
            rest = pre[i:i + 200].lstrip()
            if rest.startswith("{") and h.group(1) not in kernels:
                kernels.append(h.group(1))
    shared = {}
    for m in _DYN_SHARED.finditer(pre):
        typ = re.sub(r"\balignas\s*\([^()]*\)|__attribute__\s*\(\(.*?\)\)", " ", m.group(1))
        typ = " ".join(typ.split()) or "unsigned char"
        shared.setdefault(m.group(2), typ)
    return kernels, shared


def _trailer(src_file: str, kernels, shared) -> str:
    out = [f'#include "{src_file}"', "", "// ---- generated by corelib_cuda.simulator"]
    for nm, typ in shared.items():
        out.append(f"thread_local {typ} {nm}[({MAX_DYNAMIC_SHARED} + sizeof({typ}) - 1) / sizeof({typ})] "
                   f"__attribute__((aligned(16)));")
    out.append("static void __cudasim_poison(size_t n) {")
    for nm in shared:
        out.append(f"  CUDASIM_ASAN_UNPOISON((void*){nm}, n);")
        out.append(f"  std::memset((void*){nm}, 0xFF, n);")
        out.append(f"  CUDASIM_ASAN_POISON((char*){nm} + n, sizeof({nm}) - n);")
    out.append("  (void)n;\n}")
    for k in kernels:
        out.append(f'CUDASIM_EXPORT int __cudasim_launch_{k}(const unsigned char* buf) '
                   f'{{ return cudasim::launch("{k}", &{k}, buf, &__cudasim_poison); }}')
        out.append(f"CUDASIM_EXPORT int __cudasim_params_{k}(int* out, int max) "
                   f"{{ return cudasim::param_info(&{k}, out, max); }}")
    return "\n".join(out) + "\n"


def compile_module(source: str, name: str = "module", options=()) -> "SimModule":
    """Compile CUDA C source for the simulator (cached on disk and memoized in-process).

    ``options``: extra g++ flags such as ``("-DBLOCK=256",)`` (part of the cache key)."""
    if not isinstance(source, str):
        raise TypeError("compile_module: source must be a str")
    options = tuple(options)
    if _asan_requested():
        if not _asan_loaded():
            raise CompileError(
                "CORELIB_CUDA_SIM_ASAN=1 needs the AddressSanitizer runtime preloaded: run with "
                "LD_PRELOAD=$(g++ -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0")
        options = _ASAN_FLAGS + options
    h = hashlib.sha256(_toolchain_fingerprint())
    h.update(repr(options).encode() + b"\0" + source.encode())
    key = h.hexdigest()
    with _lock:
        mod = _modules.get(key)
        if mod is not None:
            _stats["memory_hits"] += 1
            return mod
        cache = _cache_dir()
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:48] or "module"
        so_path = os.path.join(cache, f"{safe}-{key[:24]}.so")
        if os.path.exists(so_path):
            _stats["disk_hits"] += 1
        else:
            _build(source, name, key, options, so_path, cache)
        mod = SimModule(so_path, name, key)
        _modules[key] = mod
        return mod


def _ensure_pch(cache: str) -> str:
    """A precompiled copy of the shim header (saves ~60% of each compile); falls back to the plain header."""
    if os.environ.get("CORELIB_CUDA_SIM_NO_PCH"):
        return _SHIM
    d = os.path.join(cache, "pch-" + _toolchain_fingerprint().hex()[:16])
    hdr = os.path.join(d, "cuda_sim.h")
    if os.path.exists(hdr + ".gch"):
        return hdr
    tmp = tempfile.mkdtemp(dir=cache, prefix=".tmp-pch-")
    try:
        for f in ("cuda_sim.h", "cuda_sim_math.h"):
            shutil.copyfile(os.path.join(_HERE, f), os.path.join(tmp, f))
        flags = [f for f in _CXXFLAGS if f != "-shared"]
        _stats["gcc_invocations"] += 1
        p = subprocess.run([_CXX, *flags, "-x", "c++-header", "-I", _INCLUDE, os.path.join(tmp, "cuda_sim.h"),
                            "-o", os.path.join(tmp, "cuda_sim.h.gch")], capture_output=True, text=True)
        if p.returncode != 0:
            return _SHIM
        try:
            os.rename(tmp, d)
        except OSError:  # another process won the race
            pass
        return hdr if os.path.exists(hdr + ".gch") else _SHIM
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _build(source, name, key, options, so_path, cache):
    srcdir = os.path.join(cache, "src")
    os.makedirs(srcdir, exist_ok=True)
    cu = os.path.join(srcdir, f"{key[:24]}.cu")
    _atomic_write(cu, source.encode())
    common = [_CXX, "-std=c++20", "-include", _SHIM, "-I", _INCLUDE, *options]
    pre = _run_gcc(common + ["-E", "-P", "-DCUDASIM_DISCOVER", "-x", "c++", cu], name, "preprocess")
    kernels, shared = _discover(pre)
    wrapper = os.path.join(srcdir, f"{key[:24]}.sim.cpp")
    _atomic_write(wrapper, _trailer(os.path.basename(cu), kernels, shared).encode())
    shim = _ensure_pch(cache)
    fd, tmp = tempfile.mkstemp(dir=cache, prefix=".tmp-", suffix=".so")
    os.close(fd)
    try:
        _stats["compiles"] += 1
        _run_gcc([_CXX, *_CXXFLAGS, "-include", shim, "-I", _INCLUDE, *options, "-o", tmp, wrapper], name,
                 "compile")
        os.replace(tmp, so_path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# ----------------------------------------------------------------------------- modules & kernels
class SimModule:
    """A compiled CUDA module (like cupy.RawModule)."""

    def __init__(self, so_path: str, name: str, key: str):
        self.name = name
        self.path = so_path
        self.key = key
        # PyDLL: calls keep the GIL, which serialises launches (the C runtime state is process-global)
        try:
            self._lib = ctypes.PyDLL(so_path)
        except OSError as e:
            raise CompileError(f"cannot load the simulator build of CUDA module {name!r}: {e}") from None
        _share_stacks(self._lib)
        self._last_error = getattr(self._lib, "__cudasim_last_error")
        self._last_error.restype = ctypes.c_char_p
        self._last_error.argtypes = []
        self._kernels: dict = {}
        # kernel names: exported launch entries
        self.kernel_names = tuple(_exported_kernels(so_path))

    def get_function(self, kernel_name: str) -> "SimKernel":
        k = self._kernels.get(kernel_name)
        if k is None:
            try:
                fn = getattr(self._lib, f"__cudasim_launch_{kernel_name}")
                info = getattr(self._lib, f"__cudasim_params_{kernel_name}")
            except AttributeError:
                raise KernelNotFoundError(
                    f"CUDA module {self.name!r} has no extern \"C\" __global__ kernel named {kernel_name!r}; "
                    f"kernels: {', '.join(self.kernel_names) or '(none)'}") from None
            k = SimKernel(self, kernel_name, fn, info)
            self._kernels[kernel_name] = k
        return k

    def __repr__(self):
        return f"<SimModule {self.name!r} kernels={list(self.kernel_names)}>"


_stacks = None


def _share_stacks(lib):
    """One fiber-stack region for the whole process (1026 stacks with guard pages = ~2000 mappings)."""
    global _stacks
    if _stacks is None:
        alloc = getattr(lib, "__cudasim_alloc_stacks")
        alloc.restype = ctypes.c_void_p
        alloc.argtypes = []
        p = alloc()
        if not p:
            raise LaunchError("cannot allocate the simulator's fiber stacks")
        _stacks = p
    setter = getattr(lib, "__cudasim_set_stacks")
    setter.restype = None
    setter.argtypes = [ctypes.c_void_p]
    setter(_stacks)


def _exported_kernels(so_path):
    # Read the dynamic symbol table through ctypes-free parsing: cheap and dependency-free via `nm`
    # would spawn a process, so parse ELF .dynsym directly.
    names = []
    try:
        with open(so_path, "rb") as fh:
            data = fh.read()
        names = [n[len("__cudasim_launch_"):] for n in _elf_dynsyms(data) if n.startswith("__cudasim_launch_")]
    except Exception:  # pragma: no cover - informational only
        pass
    return sorted(names)


def _elf_dynsyms(data: bytes):
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return []
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, _ = struct.unpack_from("<HHH", data, 0x3A)
    secs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    out = []
    for s in secs:
        if s[1] == 11:  # SHT_DYNSYM
            strtab = secs[s[6]]
            for off in range(s[4], s[4] + s[5], s[9] or 24):
                st_name = struct.unpack_from("<I", data, off)[0]
                start = strtab[4] + st_name
                end = data.index(b"\0", start)
                out.append(data[start:end].decode())
    return out


_KIND_NAMES = {"p": "pointer", "b": "bool", "f": "floating-point", "i": "signed integer",
               "u": "unsigned integer", "o": "struct/class"}
# numpy scalar kinds accepted per C parameter kind (widths must always match exactly)
_ACCEPT = {"b": "biu", "f": "f", "i": "iub", "u": "iub", "o": "biufcV"}
_HDR = "@8I3Q"  # grid[3], block[3], smem, mode, seed, objmask, data_off  (LaunchHeader in cuda_sim.h)


def _scalar_table():
    table = {}
    for t in set(np.sctypeDict.values()):
        if not (isinstance(t, type) and issubclass(t, np.generic)):
            continue
        try:
            dt = np.dtype(t)
        except TypeError:
            continue
        if dt.kind not in "biufc" or dt.itemsize == 0:
            continue
        code = dt.char if dt.char in "bBhHiIlLqQefd?" else None
        table[t] = (dt.itemsize, dt.kind, code, dt.name)
    return table


_SCALARS = _scalar_table()


def _find_data_offset() -> int:
    """Offset of the data pointer inside a numpy array object (PyArrayObject.data)."""
    found = set()
    for n in (3, 17):
        a = np.empty(n)
        ptr = a.ctypes.data
        found.add(next((off for off in range(8, 80, 8)
                        if ctypes.c_void_p.from_address(id(a) + off).value == ptr), None))
    if len(found) != 1 or None in found:
        return -1
    return found.pop()


_DATA_OFF = _find_data_offset()


def _dim3(v, what, kname):
    t = type(v)
    if t is int:
        return v, 1, 1
    if t is tuple and v and all(type(x) is int for x in v):
        n = len(v)
        if n == 3:
            return v
        if n == 1:
            return v[0], 1, 1
        if n == 2:
            return v[0], v[1], 1
    try:
        if t is tuple or t is list:
            if not 1 <= len(v) <= 3:
                raise ValueError
            return tuple(int(x.__index__()) for x in v) + (1,) * (3 - len(v))
        return int(v.__index__()), 1, 1
    except (ValueError, TypeError, AttributeError):
        raise LaunchError(f"kernel {kname!r}: {what} must be an int or a tuple of 1-3 ints, got {v!r}") from None


class _Plan:
    """How to pack one combination of argument types (cached per kernel)."""
    __slots__ = ("struct", "objmask", "arr", "none", "raw", "tobytes")


class SimKernel:
    """One kernel of a SimModule; call it like cupy.RawKernel: ``k(grid, block, args, shared_mem=0)``.

    ``params``: per parameter ``(size_in_bytes, is_pointer)``; ``param_kinds``: per parameter one of
    'p' pointer, 'b' bool, 'f' float/double, 'i' signed int, 'u' unsigned int, 'o' struct/class (e.g. __half).
    """

    def __init__(self, module: SimModule, name: str, fn, info):
        self.module = module
        self.name = name
        info.restype = ctypes.c_int
        info.argtypes = [ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        buf = (ctypes.c_int * 1024)()
        n = info(buf, 1024)
        if n > 500:
            raise LaunchError(f"kernel {name!r}: too many parameters ({n})")
        self.params = tuple((buf[2 * i], buf[2 * i + 1] == ord("p")) for i in range(n))
        self.param_kinds = tuple(chr(buf[2 * i + 1]) for i in range(n))
        self._nparams = n
        self._spec = tuple(zip(range(n), self.param_kinds, (p[0] for p in self.params)))
        # struct code (+ padding to the 8-byte slot) per numpy scalar char, per parameter
        self._pads = tuple("x" * ((-size) % 8) for size, _ in self.params)
        fn.restype = ctypes.c_int
        fn.argtypes = [ctypes.c_char_p]
        self._fn = fn
        self._plans = {}
        self.max_dynamic_shared_size_bytes = DEFAULT_DYNAMIC_SHARED

    def __repr__(self):
        return f"<SimKernel {self.name!r} params={self.params}>"

    def _bad(self, i, msg):
        return TypeError(f"kernel {self.name!r}: argument {i}: {msg}")

    def _make_plan(self, args):
        """Check every argument against its parameter and build the packing plan (raises TypeError)."""
        fmt = [_HDR]
        plan = _Plan()
        plan.arr, plan.none, plan.raw, plan.tobytes = [], [], [], []
        objmask = 0
        cacheable = True
        pads = self._pads
        for (i, kind, size), a in zip(self._spec, args):
            t = type(a)
            if kind == "p":
                if isinstance(a, np.ndarray):
                    if i < 64 and _DATA_OFF > 0:
                        objmask |= 1 << i
                        plan.arr.append(i)
                    else:
                        plan.raw.append(i)
                elif a is None:
                    plan.none.append(i)
                elif isinstance(a, ctypes.c_void_p):
                    plan.raw.append(i)
                elif isinstance(a, np.generic):
                    raise self._bad(i, f"pointer parameter ({size} bytes) got a numpy scalar "
                                       f"{a.dtype} ({a.dtype.itemsize} bytes); pass an array")
                else:
                    raise self._bad(i, f"pointer parameter ({size} bytes) got {t.__name__}; pass a numpy array "
                                       f"or None")
                fmt.append("Q")
                continue
            info = _SCALARS.get(t)
            if info is None:
                if isinstance(a, np.generic) and not isinstance(a, (np.str_, np.bytes_, np.object_)):
                    dt = a.dtype
                    info = (dt.itemsize, dt.kind, None, str(dt))
                    cacheable = False  # e.g. np.void: the width is not a property of the type
                elif isinstance(a, np.ndarray):
                    raise self._bad(i, f"{_KIND_NAMES[kind]} parameter ({size} bytes) got an array "
                                       f"(a pointer, 8 bytes); pass a numpy scalar such as np.int32(x)")
                else:
                    raise self._bad(i, f"{_KIND_NAMES[kind]} parameter ({size} bytes) got Python "
                                       f"{t.__name__} (width ambiguous); pass a numpy scalar of {size} bytes, "
                                       f"e.g. np.{'float' if kind == 'f' else 'int'}{size * 8}(x)")
            isz, k, code, dname = info
            if isz != size:
                raise self._bad(i, f"{_KIND_NAMES[kind]} parameter is {size} bytes but got numpy {dname} "
                                   f"({isz} bytes)")
            if k not in _ACCEPT[kind]:
                raise self._bad(i, f"{_KIND_NAMES[kind]} parameter ({size} bytes) got numpy {dname} "
                                   f"({isz} bytes): kind mismatch")
            if code is None:
                fmt.append(f"{size}s" + pads[i])
                plan.tobytes.append(i)
            else:
                fmt.append(code + pads[i])
        plan.struct = struct.Struct("".join(fmt))
        plan.objmask = objmask
        return plan, cacheable

    def _pack(self, head, args):
        if type(args) is not tuple:
            if isinstance(args, list):
                args = tuple(args)
            else:
                raise TypeError(f"kernel {self.name!r}: args must be a tuple, got {type(args).__name__}")
        key = tuple(map(type, args))
        plan = self._plans.get(key)
        if plan is None:
            if len(args) != self._nparams:
                raise TypeError(f"kernel {self.name!r} takes {self._nparams} argument(s) "
                                f"(byte widths {[p[0] for p in self.params]}), got {len(args)}")
            plan, cacheable = self._make_plan(args)
            if cacheable and len(self._plans) < 64:
                self._plans[key] = plan
        vals = list(args)
        for i in plan.arr:
            vals[i] = id(vals[i])
        for i in plan.none:
            vals[i] = 0
        if plan.raw:
            for i in plan.raw:
                a = vals[i]
                vals[i] = (a.value or 0) if isinstance(a, ctypes.c_void_p) else a.ctypes.data
        for i in plan.tobytes:
            vals[i] = vals[i].tobytes()
        return plan.struct.pack(*head, plan.objmask, _DATA_OFF, *vals)

    def __call__(self, grid, block, args, shared_mem=0, **kwargs):
        if kwargs and set(kwargs) - {"stream", "enable_cooperative_groups"}:
            raise TypeError(f"kernel {self.name!r}: unexpected keyword arguments {sorted(kwargs)}")
        gx, gy, gz = _dim3(grid, "grid", self.name)
        bx, by, bz = _dim3(block, "block", self.name)
        if not (0 < gx <= 0x7FFFFFFF and 0 < gy <= 65535 and 0 < gz <= 65535):
            raise LaunchError(f"kernel {self.name!r}: invalid grid ({gx}, {gy}, {gz})")
        if not (0 < bx <= 1024 and 0 < by <= 1024 and 0 < bz <= 64 and bx * by * bz <= 1024):
            raise LaunchError(f"kernel {self.name!r}: invalid block ({bx}, {by}, {bz}) "
                              f"(at most 1024 threads, z <= 64)")
        if shared_mem:
            if type(shared_mem) is not int:
                shared_mem = int(shared_mem.__index__())
            if shared_mem < 0 or shared_mem > self._max_dyn:
                raise LaunchError(f"kernel {self.name!r}: {shared_mem} bytes of dynamic shared memory requested, "
                                  f"limit {self._max_dyn} (raise max_dynamic_shared_size_bytes, up to "
                                  f"{MAX_DYNAMIC_SHARED})")
        mode, seed = _schedule
        if self._fn(self._pack((gx, gy, gz, bx, by, bz, shared_mem, mode, seed), args)):
            msg = self.module._last_error().decode(errors="replace")
            if "deadlock" in msg or "divergent" in msg:
                raise DeadlockError(msg)
            raise LaunchError(msg)

    @property
    def max_dynamic_shared_size_bytes(self):
        return self._max_dyn

    @max_dynamic_shared_size_bytes.setter
    def max_dynamic_shared_size_bytes(self, v):
        v = int(v)
        if not 0 <= v <= MAX_DYNAMIC_SHARED:
            raise ValueError(f"max_dynamic_shared_size_bytes must be in [0, {MAX_DYNAMIC_SHARED}]")
        self._max_dyn = v
