"""corelib.device: a device type plus an optional index, as in PyTorch."""
from __future__ import annotations

__all__ = ["device"]


class device:
    __slots__ = ("type", "index")
    _interned: dict = {}

    def __new__(cls, type_or_str, index=None):
        if isinstance(type_or_str, device):
            return type_or_str
        key = (type_or_str, index)
        hit = cls._interned.get(key)
        if hit is not None:
            return hit
        if not isinstance(type_or_str, str):
            raise TypeError(f"device(): expected a string or device, got {type_or_str!r}")
        kind, _, idx = type_or_str.partition(":")
        if idx:
            if index is not None:
                raise ValueError(f"device(): index given twice in {type_or_str!r}")
            if not idx.isdigit():
                raise ValueError(f"device(): invalid device string {type_or_str!r}")
            index = int(idx)
        if not kind or not kind.isidentifier():
            raise ValueError(f"device(): invalid device string {type_or_str!r}")
        if index is not None and (not isinstance(index, int) or index < 0):
            raise ValueError(f"device(): index must be a non-negative int, got {index!r}")
        # one object per (type, index), however it was spelled ("cuda:0", ("cuda", 0)): the
        # frontend compares tensors' devices by identity
        self = cls._interned.get((kind, index))
        if self is None:
            self = object.__new__(cls)
            object.__setattr__(self, "type", kind)
            object.__setattr__(self, "index", index)
            cls._interned[(kind, index)] = self
        cls._interned[key] = self
        return self

    def __setattr__(self, key, value):
        raise AttributeError("device is immutable")

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else \
            f"device(type='{self.type}', index={self.index})"

    def __reduce__(self):
        return (device, (str(self),))

    def __enter__(self):
        """``with corelib.device("meta"):``: factories in the block default to this device
        (``set_default_device`` for the block, as ``torch.device`` as a context manager)."""
        from ._ops.creation import get_default_device, set_default_device
        outer = get_default_device()
        set_default_device(self)   # raises for a device no backend provides: nothing changed
        _OUTER_DEFAULTS.append(outer)
        return self

    def __exit__(self, *exc_info):
        from ._ops.creation import set_default_device
        set_default_device(_OUTER_DEFAULTS.pop())


_OUTER_DEFAULTS: list = []   # the default devices that enclosing ``with device`` blocks replaced


CURRENT_INDEX: dict = {}   # device type -> index chosen by corelib.<type>.set_device (else 0)


def canonical(dev) -> device:
    """The device a tensor lives on: 'cpu' and 'meta' have no index (as in PyTorch); other
    types without an index mean the current device of that type (``corelib.cuda.set_device``),
    as in PyTorch."""
    d = device(dev) if not isinstance(dev, device) else dev
    if d.type == "cpu":
        return CPU if d.index in (None, 0) else d
    if d.type == "meta":
        return device("meta")
    return d if d.index is not None else device(d.type, CURRENT_INDEX.get(d.type, 0))


CPU = device("cpu")
