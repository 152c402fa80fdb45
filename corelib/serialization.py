"""corelib.save / corelib.load: checkpoints in the safetensors format, never pickle.

A saved object is a tensor, a NumPy array, a module, an optimizer (any object rebuilt from its
``__dict__``), or a nest of dicts (also OrderedDict and defaultdict), lists, tuples and sets of
these, numbers, strings, bytes, None, dtypes and devices. Tensors and arrays are safetensors
entries named by their path in the nest ("fc.weight", "optimizer.state.0.exp_avg"; a module's
entries are its state_dict keys), so a flat state dict gives exactly the file
``safetensors.torch.save_file`` would write and the two load each other's files. Everything
else is JSON in the file's metadata: the shape of the nest, dict keys, each tensor's device,
requires_grad and Parameter-ness, and each object's class by qualified name with its state
(its ``__getstate__()`` or ``__dict__``). One file holds everything.

Loading never runs code from the file: objects are made with ``cls.__new__(cls)`` and given
their state (``__setstate__`` when the class defines one, else ``__dict__``), no ``__init__``
runs. With ``weights_only=True`` (the default, as in PyTorch) only corelib's own classes
(``corelib.nn.*``, ``corelib.optim.*``) and those allowed with :func:`add_safe_globals` /
:func:`safe_globals` are rebuilt; every class and function the file names is checked before
anything is built, and any other raises ``pickle.UnpicklingError`` (PyTorch's class) naming
it. An object (tensor, module, list, ...) reached twice is saved once and comes back shared:
tied weights stay tied, an optimizer saved with its model updates the model's parameters.
Different tensors are saved as independent copies even if they are views of one storage.

Saving to a path is atomic (temporary file in the same directory, fsync, ``os.replace``): a
failure or a kill mid-save leaves the previous checkpoint intact, and the temporary files of
killed saves are removed by the next save to that path. Saving to / loading from a binary
file object writes or reads it in one piece.
"""
from __future__ import annotations

import base64
import json
import math
import os
import re
import struct
import sys
import types
from collections import OrderedDict, defaultdict
from pickle import UnpicklingError   # PyTorch's error class for refused loads; nothing unpickles

try:
    import fcntl
except ImportError:   # not POSIX: temporaries of killed saves are not cleaned up
    fcntl = None

import numpy as np

import corelib

__all__ = ["save", "load", "add_safe_globals", "clear_safe_globals", "get_safe_globals",
           "get_unsafe_globals_in_checkpoint", "safe_globals"]

_STRUCTURE_KEY = "corelib.structure"   # the metadata entry holding the JSON nest
_FORMAT_VERSION = 2   # 1: tensors in dicts/lists/tuples; 2: adds objects, shared refs, arrays
_CHUNK = 1 << 20
# what weights_only loads accept without an allowlist: classes and functions of these modules
# (and their submodules), and functions of the op modules (e.g. an activation attribute)
_OWN = ("corelib.nn", "corelib.optim")
_OWN_FUNCTIONS = ("corelib._ops",)
_FACTORIES = {f.__name__: f for f in (dict, list, set, int, float, str, tuple)}  # defaultdict


# ---------------------------------------------------------------------------------------------
# the allowlist (PyTorch's torch.serialization names)
_safe_globals: list = []


def _global_name(obj):
    return f"{getattr(obj, '__module__', None)}.{getattr(obj, '__qualname__', None)}"


def add_safe_globals(safe_globals):
    """Allow these classes/functions in ``weights_only`` loads (entries: ``obj`` or
    ``(obj, "module.QualName")``)."""
    for entry in safe_globals:
        obj = entry[0] if isinstance(entry, tuple) else entry
        if not callable(obj) or (isinstance(entry, tuple) and
                                 (len(entry) != 2 or not isinstance(entry[1], str))):
            raise TypeError(f"add_safe_globals(): expected classes, functions or (obj, name) "
                            f"tuples, got {entry!r}")
        _safe_globals.append(entry)


def get_safe_globals():
    """The user-added allowlist for ``weights_only`` loads."""
    return list(_safe_globals)


def clear_safe_globals():
    """Empty the user-added allowlist."""
    _safe_globals.clear()


class safe_globals:
    """Context manager: ``add_safe_globals(safe_globals)`` inside the block only."""

    def __init__(self, safe_globals):
        self.safe_globals = safe_globals

    def __enter__(self):
        self._saved = list(_safe_globals)
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc):
        _safe_globals[:] = self._saved


def _allowed():
    return {(e[1] if isinstance(e, tuple) else _global_name(e)):
            (e[0] if isinstance(e, tuple) else e) for e in _safe_globals}


def _lookup(name, importing):
    """The object ``module.qual.name`` names, found without importing unless ``importing``."""
    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        module_name, qual = ".".join(parts[:i]), parts[i:]
        module = sys.modules.get(module_name)
        if module is None and importing:
            try:
                module = __import__(module_name, fromlist=["_"])
            except ImportError:
                continue
        if module is None:
            continue
        obj = module
        for attr in qual:
            obj = getattr(obj, attr, None)
        # only what is defined there under that name (not something it imported)
        if obj is not None and getattr(obj, "__module__", None) == module_name and \
                getattr(obj, "__qualname__", None) == ".".join(qual):
            return obj
    return None


def _refused(name, why=None):
    short = name.rsplit(".", 1)[-1]
    return UnpicklingError(
        f"Weights only load failed. Unsupported global: GLOBAL {name} was not an allowed "
        f"global by default{why or ''}. Please use "
        f"`corelib.serialization.add_safe_globals([{short}])` or the "
        f"`corelib.serialization.safe_globals([{short}])` context manager to allowlist this "
        f"global if you trust this class/function, or load with weights_only=False if you "
        f"trust the file's source (its classes are then imported by name).")


def _within(module, packages):
    return any(module == p or module.startswith(p + ".") for p in packages)


def _resolve(name, weights_only, allowed):
    """The class or function ``name``: allowlisted, corelib's own, or (not weights_only) any."""
    obj = allowed.get(name)
    if obj is not None:
        return obj
    if not weights_only:
        obj = _lookup(name, importing=True)
        if obj is None:
            raise AttributeError(f"load(): the checkpoint names {name!r}, which cannot be "
                                 f"found (is the module defining it importable?)")
        return obj
    if name.startswith(tuple(p + "." for p in _OWN + _OWN_FUNCTIONS)):
        obj = _lookup(name, importing=False)
        if obj is not None and (_within(obj.__module__, _OWN) or (
                _within(obj.__module__, _OWN_FUNCTIONS) and isinstance(obj, types.FunctionType))):
            return obj
    raise _refused(name)


# ---------------------------------------------------------------------------------------------
# saving
class _Encoder:
    """Turns an object into JSON-able nodes, collecting arrays under unique path names.

    An object with identity (tensor, array, container, instance) met again becomes
    ``{"ref": n}`` and its first node gets ``"id": n``.
    """

    def __init__(self):
        self.arrays = {}
        self.memo = {}   # id(obj) -> (node, obj): obj kept alive so ids stay unique
        self.refs = 0
        self.version = 1

    def encode(self, obj, path):
        if obj is None or isinstance(obj, (bool, int, float, str)) and \
                not isinstance(obj, np.generic):   # np.float64 is a float: kept as NumPy's
            return obj
        seen = self.memo.get(id(obj))
        if seen is not None:
            node = seen[0]
            if "id" not in node:
                node["id"] = self.refs
                self.refs += 1
            self.version = 2
            return {"ref": node["id"]}
        if isinstance(obj, corelib.Tensor):
            return self._remember(obj, self._tensor(obj, path))
        if type(obj) in (list, tuple):
            node = self._remember(obj, {type(obj).__name__: []})
            node[type(obj).__name__] = [self.encode(v, path + (str(i),))
                                        for i, v in enumerate(obj)]
            return node
        if type(obj) in (dict, OrderedDict, defaultdict):
            return self._dict(obj, path)
        self.version = 2
        if isinstance(obj, (np.ndarray, np.generic)):
            if obj.dtype.hasobject:
                raise TypeError(f"save(): cannot save a NumPy array of dtype object at "
                                f"{_where(path)}")
            node = {"ndarray": self._array(np.asarray(obj), path)}
            if isinstance(obj, np.generic):
                node["scalar"] = True
            return self._remember(obj, node)
        if isinstance(obj, corelib.dtype):
            return {"dtype": obj.name}
        if isinstance(obj, corelib.device):
            return {"device": str(obj)}
        if isinstance(obj, (bytes, bytearray)):
            return {type(obj).__name__: base64.b64encode(obj).decode("ascii")}
        if isinstance(obj, complex):
            return {"complex": [obj.real, obj.imag]}
        if type(obj) in (set, frozenset):
            node = self._remember(obj, {type(obj).__name__: []})
            node[type(obj).__name__] = [self.encode(v, path + (str(i),))
                                        for i, v in enumerate(obj)]
            return node
        if type(obj) is slice:
            return {"slice": [self.encode(v, path) for v in (obj.start, obj.stop, obj.step)]}
        if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
            return {"global": self._name(obj, path)}
        return self._object(obj, path)

    def _remember(self, obj, node):
        self.memo[id(obj)] = (node, obj)
        return node

    def _name(self, obj, path):
        name = _global_name(obj)
        if "<" in name or _lookup(name, importing=False) is not obj:
            raise TypeError(f"save(): cannot save {obj!r} at {_where(path)}: only classes and "
                            f"functions reachable by their qualified name can be saved "
                            f"(not lambdas, local or nested definitions)")
        return name

    def _dict(self, obj, path):
        kind = {dict: "dict", OrderedDict: "odict", defaultdict: "defaultdict"}[type(obj)]
        node = self._remember(obj, {kind: []})
        if kind != "dict":
            self.version = 2
        if kind == "defaultdict":
            factory = obj.default_factory
            if factory is not None and _FACTORIES.get(getattr(factory, "__name__", None)) \
                    is not factory:
                raise TypeError(f"save(): cannot save a defaultdict whose default_factory is "
                                f"{factory!r} at {_where(path)}")
            node["factory"] = None if factory is None else factory.__name__
        items = node[kind]
        for i, (key, value) in enumerate(obj.items()):
            scalar = key is None or isinstance(key, (bool, int, float, str))
            if not scalar:
                self.version = 2
            items.append([self.encode(key, path + ("keys", str(i))),
                          self.encode(value, path + (str(key) if scalar else str(i),))])
        return node

    def _object(self, obj, path):
        cls = type(obj)
        getstate = getattr(cls, "__getstate__", None)
        if getstate is not None and getstate is not getattr(object, "__getstate__", None):
            state = obj.__getstate__()
        else:
            state = getattr(obj, "__dict__", None)
        if not isinstance(state, dict) or any(not isinstance(k, str) for k in state):
            raise TypeError(f"save(): cannot save an object of type {cls.__qualname__} at "
                            f"{_where(path)}: only tensors, arrays, containers, numbers, "
                            f"strings and objects whose state is a __dict__ are supported "
                            f"(corelib never pickles)")
        node = self._remember(obj, {"object": self._name(cls, path), "state": None})
        # a module's tensors are named by their state_dict keys: its tables add no path part
        tables = ("_parameters", "_buffers", "_modules") \
            if isinstance(obj, corelib.nn.Module) else ()
        order = [k for k in tables if k in state] + [k for k in state if k not in tables]
        node["state"] = {"dict": [[k, self.encode(state[k], path if k in tables else
                                                  path + (k,))] for k in order]}
        return node

    def _array(self, arr, path):
        name = ".".join(path) or "tensor"
        if name in self.arrays:   # path names can collide ({"a.b": x, "a": {"b": y}})
            n = 1
            while f"{name}#{n}" in self.arrays:
                n += 1
            name = f"{name}#{n}"
        self.arrays[name] = arr if arr.flags.c_contiguous else arr.copy(order="C")
        return name

    def _tensor(self, t, path):
        if type(t) not in (corelib.Tensor, corelib.nn.Parameter):
            raise TypeError(f"save(): cannot save a tensor of subclass {type(t).__qualname__} "
                            f"at {_where(path)}")
        host = t.detach()
        if host.device.type != "cpu":
            host = host.cpu()
        node = {"tensor": self._array(host.numpy(), path), "device": str(t.device),
                "requires_grad": t.requires_grad}
        if type(t) is not corelib.Tensor:
            self.version = 2
            node["parameter"] = True
        return node


def _where(path):
    return "/".join(path) if path else "the top level"


def _serialize(obj):
    flat = _Encoder()
    structure = flat.encode(obj, ())
    header = json.dumps({"version": flat.version, "object": structure}, allow_nan=True)
    from safetensors.numpy import save as save_bytes
    return save_bytes(flat.arrays, metadata={"format": "pt", _STRUCTURE_KEY: header})


def _write_all(fh, payload):
    """Write ``payload`` to ``fh`` in chunks (the step a crash may interrupt)."""
    view = memoryview(payload)
    for start in range(0, len(view), _CHUNK):
        fh.write(view[start:start + _CHUNK])


def _lock(fd):
    """Hold an exclusive lock on the temporary file while writing it (released by the kernel
    when the process dies, which is how the next save tells a stale temporary from a live one)."""
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX)


def _remove_stale(directory, base):
    """Remove temporaries of earlier saves to ``base`` whose writer is gone (killed)."""
    if fcntl is None:
        return
    prefix, suffix = f".{base}.", ".tmp"
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for entry in names:
        middle = entry[len(prefix):-len(suffix)]
        if not (entry.startswith(prefix) and entry.endswith(suffix)
                and re.fullmatch(r"[0-9]+\.[0-9]+", middle)):
            continue
        tmp = os.path.join(directory, entry)
        try:
            fd = os.open(tmp, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)   # fails while a writer lives
            if os.path.samestat(os.fstat(fd), os.stat(tmp)):
                os.unlink(tmp)
        except OSError:
            pass
        finally:
            os.close(fd)


def _atomic_write(path, payload):
    path = os.fsdecode(os.fspath(path))
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save(): the directory of {path!r} does not exist")
    _remove_stale(directory, base)
    for attempt in range(100):
        tmp = os.path.join(directory, f".{base}.{os.getpid()}.{attempt}.tmp")
        try:   # mode 0o666 so the umask applies as for a normally created file
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        try:
            _lock(fd)
            # a concurrent _remove_stale may have taken it between open and lock: start over
            if os.path.samestat(os.fstat(fd), os.stat(tmp)):
                break
        except OSError:
            pass
        os.close(fd)
    else:
        raise RuntimeError(f"save(): could not create a temporary file next to {path!r}")
    try:
        with os.fdopen(fd, "wb") as fh:
            _write_all(fh, payload)
            fh.flush()
            os.fsync(fh.fileno())
            if fcntl is not None:   # while locked, so no other save takes it for stale
                os.replace(tmp, path)
        if fcntl is None:
            os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:   # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True):
    """Save ``obj`` (a tensor or a nest of dicts/lists/tuples) to a path or binary file.

    The remaining arguments exist for signature compatibility with ``torch.save`` and must be
    left at their defaults.
    """
    if pickle_module is not None:
        raise ValueError("save(): corelib never pickles; pickle_module is not supported")
    payload = _serialize(obj)
    if isinstance(f, (str, bytes, os.PathLike)):
        _atomic_write(f, payload)
    elif hasattr(f, "write"):
        _write_all(f, payload)
        if hasattr(f, "flush"):
            f.flush()
    else:
        raise TypeError(f"save(): f must be a path or a binary file object, got "
                        f"{type(f).__name__}")


# ---------------------------------------------------------------------------------------------
# loading
def _read(f):
    if isinstance(f, (str, bytes, os.PathLike)):
        try:
            with open(f, "rb") as fh:
                return fh.read(), os.fsdecode(f)
        except FileNotFoundError:
            raise FileNotFoundError(f"load(): no such file: {os.fsdecode(f)!r}") from None
        except IsADirectoryError:
            raise IsADirectoryError(f"load(): {os.fsdecode(f)!r} is a directory, not a "
                                    f"checkpoint file") from None
    if hasattr(f, "read"):
        data = f.read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("load(): the file object must be opened in binary mode")
        return bytes(data), getattr(f, "name", "<file object>")
    raise TypeError(f"load(): f must be a path or a binary file object, got {type(f).__name__}")


# Bytes per element of the safetensors dtypes (the format's names), for header validation.
_ST_ITEMSIZE = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2,
                "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8,
                "F64": 8, "C64": 8}


def _parse_header(data, name):
    """The safetensors JSON header, with clear errors for other or damaged files."""
    def bad(why):
        return RuntimeError(f"load(): {name!r} is not a valid safetensors checkpoint ({why})")

    if len(data) < 8:
        raise bad("file too short: empty or truncated")
    (size,) = struct.unpack("<Q", data[:8])
    if size > len(data) - 8:
        raise bad("header runs past the end of the file: truncated, or not a safetensors file")
    try:
        header = json.loads(data[8:8 + size].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise bad("header is not JSON") from None
    if not isinstance(header, dict):
        raise bad("header is not a JSON object")
    end = 0
    for key, info in header.items():
        if key == "__metadata__":
            if not isinstance(info, dict) or not all(isinstance(v, str) for v in info.values()):
                raise bad("its __metadata__ is not a map of strings")
            continue
        offsets = info.get("data_offsets") if isinstance(info, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2 and
                all(type(o) is int and o >= 0 for o in offsets) and offsets[0] <= offsets[1]):
            raise bad(f"entry {key!r} has no valid data_offsets")
        itemsize = _ST_ITEMSIZE.get(info.get("dtype"))
        if itemsize is None:
            raise bad(f"entry {key!r} has unknown dtype {info.get('dtype')!r}")
        shape = info.get("shape")
        if not (isinstance(shape, list) and all(type(n) is int and n >= 0 for n in shape)):
            raise bad(f"entry {key!r} has no valid shape (a list of non-negative integers): "
                      f"{shape!r}")
        if math.prod(shape) * itemsize != offsets[1] - offsets[0]:
            raise bad(f"entry {key!r}: shape {shape} of {info['dtype']} needs "
                      f"{math.prod(shape) * itemsize} bytes but its data_offsets span "
                      f"{offsets[1] - offsets[0]}")
        end = max(end, offsets[1])
    if end > len(data) - 8 - size:
        raise bad(f"tensor data needs {end} bytes but the file holds "
                  f"{len(data) - 8 - size}: truncated")
    return header


def _resolve_device(saved, map_location):
    if map_location is None:
        return saved
    if callable(map_location):
        return map_location
    if isinstance(map_location, dict):
        return map_location.get(saved, saved)
    return str(corelib.device(map_location))


def _check_device(device):
    kind = corelib.device(device).type
    module = corelib.get_device_module(kind)
    if kind != "cpu" and not module.is_available():
        raise RuntimeError(f"load(): attempting to load a tensor on a {kind!r} device, which "
                           f"is not available: {module.unavailable_reason()}. Pass "
                           f"map_location='cpu' (or any installed device) to load it there.")


class _Builder:
    """Rebuilds a nest from its JSON form and the loaded arrays."""

    def __init__(self, arrays, map_location, globals_=None):
        self.arrays = arrays
        self.map_location = map_location
        self.globals = globals_ or {}   # name -> class/function, resolved and allowed
        self.memo = {}   # node id -> built object (shared references)

    def tensor(self, arr, saved_device="cpu", requires_grad=False):
        target = _resolve_device(saved_device, self.map_location)
        t = None
        if callable(target):   # gets the tensor on the cpu, as PyTorch's gets cpu storage
            t = target(corelib.tensor(arr, device="cpu"), saved_device)
            target = saved_device   # None: load as if map_location were not given
        if t is None:
            if target != "cpu":
                _check_device(target)
            t = corelib.tensor(arr, device=target)   # a copy: the loaded buffer is read-only
        if requires_grad:
            t.requires_grad_(True)
        return t

    def corrupt(self, node):
        text = repr(node)
        return RuntimeError(f"load(): damaged entry in the checkpoint's structure: "
                            f"{text[:200]}{'...' if len(text) > 200 else ''}")

    def keep(self, node, obj):
        if "id" in node:
            self.memo[node["id"]] = obj
        return obj

    def array(self, node, key):
        name = node[key]
        if not isinstance(name, str) or name not in self.arrays:
            raise RuntimeError(f"load(): the checkpoint's structure names tensor {name!r} "
                               f"which the file does not contain (corrupt file)")
        return self.arrays[name]

    def build(self, node):
        if not isinstance(node, dict):
            if isinstance(node, list):
                raise self.corrupt(node)
            return node
        if "ref" in node:
            if node["ref"] not in self.memo:
                raise self.corrupt(node)
            return self.memo[node["ref"]]
        if "tensor" in node:
            t = self.tensor(self.array(node, "tensor"), node.get("device", "cpu"),
                            node.get("requires_grad", False))
            if node.get("parameter"):
                t = corelib.nn.Parameter(t, requires_grad=t.requires_grad)
            return self.keep(node, t)
        for kind, make in (("dict", dict), ("odict", OrderedDict), ("defaultdict", None)):
            if kind in node:
                if make is None:
                    factory = node.get("factory")
                    if factory is not None and factory not in _FACTORIES:
                        raise self.corrupt(node)
                    out = defaultdict(factory and _FACTORIES[factory])
                else:
                    out = make()
                self.keep(node, out)
                for key, value in node[kind]:
                    out[self.build(key)] = self.build(value)
                return out
        for kind, fill in (("list", list.extend), ("set", set.update)):
            if kind in node:
                out = self.keep(node, list() if kind == "list" else set())
                fill(out, [self.build(v) for v in node[kind]])
                return out
        for kind, make in (("tuple", tuple), ("frozenset", frozenset)):
            if kind in node:
                return self.keep(node, make(self.build(v) for v in node[kind]))
        if "object" in node:
            cls = self.globals[node["object"]]
            obj = self.keep(node, cls.__new__(cls))
            state = self.build(node["state"])
            if not isinstance(state, dict):
                raise self.corrupt(node)
            setstate = getattr(obj, "__setstate__", None)
            if setstate is not None:
                setstate(state)
            else:
                obj.__dict__.update(state)
            return obj
        if "global" in node:
            return self.globals[node["global"]]
        if "ndarray" in node:
            arr = np.array(self.array(node, "ndarray"))   # a writable copy
            return self.keep(node, arr[()] if node.get("scalar") else arr)
        if "dtype" in node:
            return _dtype_of(node["dtype"])
        if "device" in node:
            return corelib.device(node["device"])
        if "bytes" in node or "bytearray" in node:
            kind = "bytes" if "bytes" in node else "bytearray"
            return self.keep(node, (bytes if kind == "bytes" else bytearray)(
                base64.b64decode(node[kind], validate=True)))
        if "complex" in node:
            return complex(*node["complex"])
        if "slice" in node:
            return slice(*(self.build(v) for v in node["slice"]))
        raise self.corrupt(node)


def _dtype_of(name):
    from ._dtype import BY_NAME
    if name not in BY_NAME:
        raise RuntimeError(f"load(): the checkpoint names an unknown dtype {name!r}")
    return BY_NAME[name]


def _globals_in(node):
    """(kind, name) of every class and function the structure names, in file order."""
    found, stack = [], [node]
    while stack:
        n = stack.pop()
        if isinstance(n, list):
            stack.extend(reversed(n))
        elif isinstance(n, dict):
            for kind in ("object", "global"):
                if kind in n:
                    if not isinstance(n[kind], str):
                        raise RuntimeError(f"load(): damaged entry in the checkpoint's "
                                           f"structure: {kind} {n[kind]!r}")
                    found.append((kind, n[kind]))
            stack.extend(reversed(n.values()))
    return found


def _check_globals(structure, weights_only):
    """Resolve every class/function the file names, refusing before anything is built."""
    allowed = _allowed()
    resolved = {}
    for kind, name in _globals_in(structure):
        obj = resolved.get(name) or _resolve(name, weights_only, allowed)
        if kind == "object" and not isinstance(obj, type):
            raise UnpicklingError(f"load(): the checkpoint names {name!r} as a class, but it "
                                  f"is not one")
        resolved[name] = obj
    return resolved


def _structure(f):
    """(arrays, header, name, structure JSON or None) of a checkpoint."""
    data, name = _read(f)
    header = _parse_header(data, name)
    from safetensors import SafetensorError
    from safetensors.numpy import load as load_bytes
    try:
        arrays = load_bytes(data)
    except SafetensorError as exc:
        raise RuntimeError(f"load(): {name!r} is not a valid safetensors checkpoint "
                           f"({exc})") from None
    structure = (header.get("__metadata__") or {}).get(_STRUCTURE_KEY)
    if structure is None:
        return arrays, header, name, None
    try:
        structure = json.loads(structure)
        version, obj = structure["version"], structure["object"]
    except (ValueError, TypeError, KeyError):
        raise RuntimeError(f"load(): {name!r} has a damaged corelib structure entry") from None
    if not isinstance(version, int):
        raise RuntimeError(f"load(): {name!r} has a damaged corelib structure entry")
    if version > _FORMAT_VERSION:
        raise RuntimeError(f"load(): {name!r} was written by a newer corelib (format "
                           f"{version}; this corelib reads up to {_FORMAT_VERSION})")
    return arrays, header, name, obj


def get_unsafe_globals_in_checkpoint(f):
    """The classes and functions a checkpoint names that a ``weights_only`` load would refuse
    (neither corelib's own nor allowlisted), as "module.QualName" strings."""
    obj = _structure(f)[3]
    allowed, unsafe = _allowed(), []
    for _, name in ([] if obj is None else _globals_in(obj)):
        try:
            _resolve(name, True, allowed)
        except UnpicklingError:
            if name not in unsafe:
                unsafe.append(name)
    return unsafe


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **kwargs):
    """Load what ``save`` wrote, or any safetensors file (then a flat dict name -> tensor).

    ``map_location``: None (each tensor back on the device it was saved from), a device
    (string or ``corelib.device``), a dict mapping saved device strings ("cuda:0") to devices,
    or a callable ``(cpu_tensor, saved_device_str) -> tensor`` (None: the saved device).
    ``weights_only`` (default True): rebuild only corelib's classes and those allowed with
    ``add_safe_globals``; False also imports and rebuilds any class the file names (no code
    from the file runs either way, but importing a module runs that module's code).
    """
    if pickle_module is not None:
        raise ValueError("load(): corelib never unpickles; pickle_module is not supported")
    arrays, header, name, obj = _structure(f)
    if obj is None:   # a plain safetensors file (e.g. from safetensors.torch.save_file)
        names = sorted((k for k in header if k != "__metadata__"),
                       key=lambda k: header[k]["data_offsets"][0])
        builder = _Builder(arrays, map_location)
        return {k: builder.tensor(arrays[k]) for k in names}
    builder = _Builder(arrays, map_location,
                       _check_globals(obj, weights_only is None or bool(weights_only)))
    try:
        return builder.build(obj)
    except (AttributeError, KeyError, TypeError, ValueError, RecursionError) as exc:
        raise RuntimeError(f"load(): {name!r} has a damaged corelib structure entry "
                           f"({type(exc).__name__}: {exc})") from None
