"""The op registry: the only module that talks to pluggy.

pluggy is used for discovery and registration. Entry points of the ``corelib`` group are
loaded one by one (rather than with ``PluginManager.load_setuptools_entrypoints``, which stops
at the first broken plugin) so that a plugin failing to import or register is reported with
its distribution name and the others still load.

Kernel lookup is a dict hit: ``kernel(op, device_type)`` resolves once through the backend's
table (plus any wrapper hooks) and caches; registering or unregistering a plugin clears the
cache.
"""
from __future__ import annotations

import warnings
from importlib import metadata

import pluggy

from . import hookspecs
from .hookspecs import BackendSpec

__all__ = ["registry", "Registry", "BackendNotFoundError"]


class BackendNotFoundError(RuntimeError):
    """No installed backend provides the requested device."""


class Registry:
    def __init__(self):
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.backends: dict[str, BackendSpec] = {}
        self.failures: dict[str, str] = {}   # distribution -> error text
        self.cache: dict[tuple[str, str], object] = {}
        self._loaded = False
        self.device_of_plugin: dict[str, str] = {}
        self.listeners: list = []   # called when plugins change (caches elsewhere)

    # -- discovery ---------------------------------------------------------------------
    def load(self):
        """Load entry-point plugins once (idempotent)."""
        if self._loaded:
            return
        self._loaded = True
        for ep in metadata.entry_points(group=hookspecs.PROJECT):
            dist = ep.dist.name if ep.dist is not None else ep.value
            if self.pm.get_plugin(ep.name) is not None or self.pm.is_blocked(ep.name):
                continue
            try:
                self.register(ep.load(), name=ep.name, distribution=dist)
            except Exception as exc:  # report, keep loading the others
                self.failures[dist] = f"{type(exc).__name__}: {exc}"
                warnings.warn(f"corelib: plugin {ep.name!r} from distribution {dist!r} failed "
                              f"to load: {type(exc).__name__}: {exc}", RuntimeWarning,
                              stacklevel=2)

    def register(self, plugin, name=None, distribution=""):
        """Register a plugin object; its backend (if any) claims its device name."""
        name = self.pm.register(plugin, name=name)
        try:
            impls = [i for i in self.pm.hook.corelib_backend.get_hookimpls()
                     if i.plugin is plugin]
            spec = impls[0].function() if impls else None
            if spec is not None:
                spec.distribution = spec.distribution or distribution or name
                owner = self.backends.get(spec.device_type)
                if owner is not None:
                    raise RuntimeError(
                        f"device {spec.device_type!r} is already provided by "
                        f"{owner.distribution!r}; {spec.distribution!r} cannot claim it too")
                self.backends[spec.device_type] = spec
                self.device_of_plugin[name] = spec.device_type
        except Exception:
            self.pm.unregister(plugin)
            raise
        self.changed()
        return name

    def unregister(self, plugin=None, name=None):
        name = name or self.pm.get_name(plugin)
        plugin = self.pm.unregister(plugin, name=name)
        device = self.device_of_plugin.pop(name, None)
        if device is not None:
            del self.backends[device]
        self.changed()
        return plugin

    def changed(self):
        """Forget every resolved kernel and per-device state (a plugin came or went)."""
        self.cache.clear()
        for listener in self.listeners:
            listener()

    # -- lookup ------------------------------------------------------------------------
    def backend(self, device_type: str) -> BackendSpec:
        spec = self.backends.get(device_type)
        if spec is None:
            self.load()
            spec = self.backends.get(device_type)
            if spec is None:
                hint = "corelib-cpu" if device_type == "cpu" else f"corelib-{device_type}"
                raise BackendNotFoundError(
                    f"no backend provides device {device_type!r}; install one, e.g. "
                    f"`pip install {hint}` (installed backends: "
                    f"{sorted(self.backends) or 'none'})")
        return spec

    def kernel(self, op: str, device_type: str):
        """The kernel for (op, device), resolved once and cached."""
        k = self.cache.get((op, device_type))
        if k is None:
            k = self.cache[(op, device_type)] = self._resolve(op, device_type)
        return k

    def _resolve(self, op, device_type):
        spec = self.backend(device_type)
        k = spec.kernels.get(op)
        if k is None:
            for impl in reversed(self.pm.hook.corelib_missing_kernel.get_hookimpls()):
                k = impl.function(op=op, device_type=device_type)
                if k is not None:
                    break
        if k is None:
            raise NotImplementedError(
                f"op '{op}' has no kernel for device '{device_type}' "
                f"(backend plugin {spec.distribution!r})")
        for impl in reversed(self.pm.hook.corelib_wrap_kernel.get_hookimpls()):
            k = impl.function(op=op, device_type=device_type, kernel=k) or k
        return k

    def has_kernel(self, op, device_type):
        return op in self.backend(device_type).kernels


registry = Registry()
