"""corelib.save / corelib.load: checkpoints in the safetensors format, never pickle.

A saved object is a tensor or a nest of dicts, lists and tuples whose leaves are tensors,
ints, floats, strings, bools or None (state dicts, optimizer state dicts, training loops'
bookkeeping). Tensors are stored as safetensors entries named by their path in the nest
("fc.weight", "optimizer.state.0.exp_avg"), so a flat state dict gives exactly the file
``safetensors.torch.save_file`` would write and the two load each other's files. Everything
else (the shape of the nest, dict key types, tuples vs lists, each tensor's device and
requires_grad) is JSON in the file's metadata: one file holds everything and loading can
never run code.

Every tensor is saved as an independent copy: views and tensors sharing storage come back as
separate tensors. Saving to a path is atomic (temporary file in the same directory, fsync,
``os.replace``): a failure mid-save leaves any previous checkpoint intact and no temp file.
Saving to / loading from a binary file object reads or writes it in one piece.
"""
from __future__ import annotations

import json
import os
import struct

import numpy as np

import corelib

__all__ = ["save", "load"]

_STRUCTURE_KEY = "corelib.structure"   # the metadata entry holding the JSON nest
_FORMAT_VERSION = 1
_CHUNK = 1 << 20


class _Flattener:
    """Turns a nest into JSON-able form, collecting tensors under unique path names."""

    def __init__(self):
        self.arrays = {}

    def encode(self, obj, path):
        if isinstance(obj, corelib.Tensor):
            return self._tensor(obj, path)
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        if isinstance(obj, dict):
            items = []
            for key, value in obj.items():
                if not (key is None or isinstance(key, (bool, int, float, str))):
                    raise TypeError(f"save(): dict keys must be str, int, float, bool or None, "
                                    f"got {type(key).__name__} at {_where(path)}")
                items.append([key, self.encode(value, path + (str(key),))])
            return {"dict": items}
        if isinstance(obj, (list, tuple)) and not hasattr(obj, "_fields"):
            values = [self.encode(v, path + (str(i),)) for i, v in enumerate(obj)]
            return {"tuple" if isinstance(obj, tuple) else "list": values}
        raise TypeError(f"save(): cannot save an object of type {type(obj).__name__} at "
                        f"{_where(path)}: only tensors and (nested) dicts, lists and tuples of "
                        f"tensors, ints, floats, strings, bools and None are supported "
                        f"(corelib never pickles)")

    def _tensor(self, t, path):
        name = ".".join(path) or "tensor"
        if name in self.arrays:   # path names can collide ({"a.b": x, "a": {"b": y}})
            n = 1
            while f"{name}#{n}" in self.arrays:
                n += 1
            name = f"{name}#{n}"
        host = t.detach()
        if host.device.type != "cpu":
            host = host.cpu()
        arr = host.numpy()   # (np.ascontiguousarray would turn 0-d into 1-d)
        self.arrays[name] = arr if arr.flags.c_contiguous else arr.copy(order="C")
        return {"tensor": name, "device": str(t.device), "requires_grad": t.requires_grad}


def _where(path):
    return "/".join(path) if path else "the top level"


def _serialize(obj):
    flat = _Flattener()
    structure = flat.encode(obj, ())
    header = json.dumps({"version": _FORMAT_VERSION, "object": structure}, allow_nan=True)
    from safetensors.numpy import save as save_bytes
    return save_bytes(flat.arrays, metadata={"format": "pt", _STRUCTURE_KEY: header})


def _write_all(fh, payload):
    """Write ``payload`` to ``fh`` in chunks (the step a crash may interrupt)."""
    view = memoryview(payload)
    for start in range(0, len(view), _CHUNK):
        fh.write(view[start:start + _CHUNK])


def _atomic_write(path, payload):
    path = os.fsdecode(os.fspath(path))
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save(): the directory of {path!r} does not exist")
    for attempt in range(100):
        tmp = os.path.join(directory, f".{base}.{os.getpid()}.{attempt}.tmp")
        try:   # mode 0o666 so the umask applies as for a normally created file
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    else:
        raise RuntimeError(f"save(): could not create a temporary file next to {path!r}")
    try:
        with os.fdopen(fd, "wb") as fh:
            _write_all(fh, payload)
            fh.flush()
            os.fsync(fh.fileno())
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
    end = max((info["data_offsets"][1] for key, info in header.items()
               if key != "__metadata__" and isinstance(info, dict)
               and isinstance(info.get("data_offsets"), list) and len(info["data_offsets"]) == 2),
              default=0)
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

    def __init__(self, arrays, map_location):
        self.arrays = arrays
        self.map_location = map_location

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

    def build(self, node):
        if not isinstance(node, dict):
            return node
        if "tensor" in node:
            name = node["tensor"]
            if name not in self.arrays:
                raise RuntimeError(f"load(): the checkpoint's structure names tensor {name!r} "
                                   f"which the file does not contain (corrupt file)")
            return self.tensor(self.arrays[name], node.get("device", "cpu"),
                               node.get("requires_grad", False))
        if "dict" in node:
            return {k: self.build(v) for k, v in node["dict"]}
        if "list" in node:
            return [self.build(v) for v in node["list"]]
        if "tuple" in node:
            return tuple(self.build(v) for v in node["tuple"])
        raise RuntimeError(f"load(): unknown entry in the checkpoint's structure: {node!r}")


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **kwargs):
    """Load what ``save`` wrote, or any safetensors file (then a flat dict name -> tensor).

    ``map_location``: None (each tensor back on the device it was saved from), a device
    (string or ``corelib.device``), a dict mapping saved device strings ("cuda:0") to devices,
    or a callable ``(cpu_tensor, saved_device_str) -> tensor`` (None: the saved device). Nothing in a file can run code, so
    ``weights_only`` is accepted for compatibility and has no effect.
    """
    if pickle_module is not None:
        raise ValueError("load(): corelib never unpickles; pickle_module is not supported")
    data, name = _read(f)
    header = _parse_header(data, name)
    from safetensors import SafetensorError
    from safetensors.numpy import load as load_bytes
    try:
        arrays = load_bytes(data)
    except SafetensorError as exc:
        raise RuntimeError(f"load(): {name!r} is not a valid safetensors checkpoint "
                           f"({exc})") from None
    builder = _Builder(arrays, map_location)
    metadata = header.get("__metadata__") or {}
    structure = metadata.get(_STRUCTURE_KEY)
    if structure is None:   # a plain safetensors file (e.g. from safetensors.torch.save_file)
        names = sorted((k for k in header if k != "__metadata__"),
                       key=lambda k: header[k]["data_offsets"][0])
        return {k: builder.tensor(arrays[k]) for k in names}
    try:
        structure = json.loads(structure)
        version, obj = structure["version"], structure["object"]
    except (ValueError, TypeError, KeyError):
        raise RuntimeError(f"load(): {name!r} has a damaged corelib structure entry") from None
    if version > _FORMAT_VERSION:
        raise RuntimeError(f"load(): {name!r} was written by a newer corelib (format "
                           f"{version}; this corelib reads up to {_FORMAT_VERSION})")
    return builder.build(obj)
