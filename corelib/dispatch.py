"""The op registry: the only module that talks to pluggy.

pluggy is used for discovery and registration. Entry points of the ``corelib`` group are
loaded one by one (rather than with ``PluginManager.load_setuptools_entrypoints``, which stops
at the first broken plugin) so that a plugin failing to import or register is reported with
its distribution name and the others still load.

Kernel lookup is a dict hit: ``kernel(op, device_type)`` resolves once through the backend's
table (plus any wrapper hooks) and caches; registering or unregistering a plugin clears the
cache.

Which plugin owns a device, when two installed plugins claim the same name:

1. ``CORELIB_DEVICE_<TYPE>=<distribution>`` (e.g. ``CORELIB_DEVICE_CUDA=corelib-cuda``) picks
   the owner; the others are not registered.
2. Otherwise the higher ``BackendSpec.priority`` wins.
3. Otherwise neither is chosen by accident of install order: the device is unusable and its
   error names both plugins and the variable that settles it.

``CORELIB_BLOCK_PLUGINS=name,name`` (entry-point or distribution names) skips plugins at load.

Checked registration: when a backend registers, its kernel table is compared with the kernel
contract (``corelib.contract``): unknown kernel names, missing core kernels and kernels whose
signature cannot take the contract's arguments are reported in one
``corelib.contract.KernelContractWarning`` (a RuntimeWarning) naming the distribution, each op
and its problem. This runs once per registration, never on the lookup path.

``CORELIB_CHECK_KERNELS=1`` (debug mode): every resolved kernel is wrapped so that each result
is checked against the contract -- the backend's array type (a 0-d array, not a NumPy scalar),
shape and dtype from the op's rule, ``out=`` returned, views sharing storage with their operand
(for NumPy arrays, or with ``runtime["shares_memory"](a, b)`` of the BackendSpec); the first bad
result raises RuntimeError naming op, device and plugin. The wrapper is installed when a kernel
is resolved, so with the variable unset nothing is added to any call (set it before the first
op runs, or call ``registry.invalidate_kernels()`` after changing it).
"""
from __future__ import annotations

import os
import warnings
from importlib import metadata

import pluggy

from . import contract, hookspecs
from .hookspecs import BackendSpec

__all__ = ["registry", "Registry", "BackendNotFoundError", "KernelNotImplementedError"]


# the project's own backends, named in "install ..." hints (no package names are invented)
KNOWN_DISTRIBUTIONS = {"cpu": "corelib-cpu", "cuda": "corelib-cuda", "meta": "corelib-meta"}


class BackendNotFoundError(RuntimeError):
    """No installed backend provides the requested device."""


class KernelNotImplementedError(NotImplementedError):
    """The device's backend has no kernel for an op (and no fallback supplied one)."""

    def __init__(self, message, op=None, device_type=None):
        super().__init__(message)
        self.op, self.device_type = op, device_type


class Registry:
    def __init__(self):
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.backends: dict[str, BackendSpec] = {}
        self.failures: dict[str, str] = {}   # distribution -> error text
        self.clashes: dict[str, str] = {}    # device type -> why no plugin owns it
        self.cache: dict[tuple[str, str], object] = {}
        self._loaded = False
        self.device_of_plugin: dict[str, str] = {}
        self.listeners: list = []   # called when plugins change (caches elsewhere)
        self.kernel_listeners: list = []   # called when resolved kernels are forgotten
        self.array_types: dict[str, type] = {}   # device type -> its arrays' type (checks)

    # -- discovery ---------------------------------------------------------------------
    def load(self):
        """Load entry-point plugins once (idempotent)."""
        if self._loaded:
            return
        self._loaded = True
        blocked = {n.strip() for n in os.environ.get("CORELIB_BLOCK_PLUGINS", "").split(",")}
        for ep in metadata.entry_points(group=hookspecs.PROJECT):
            dist = ep.dist.name if ep.dist is not None else ep.value
            if self.pm.get_plugin(ep.name) is not None or self.pm.is_blocked(ep.name) or \
                    ep.name in blocked or dist in blocked:
                continue
            try:
                self.register(ep.load(), name=ep.name, distribution=dist, from_entry_point=True)
            except Exception as exc:  # report, keep loading the others
                self.failures[dist] = f"{type(exc).__name__}: {exc}"
                warnings.warn(f"corelib: plugin {ep.name!r} from distribution {dist!r} failed "
                              f"to load: {type(exc).__name__}: {exc}", RuntimeWarning,
                              stacklevel=2)

    def register(self, plugin, name=None, distribution="", from_entry_point=False):
        """Register a plugin object; its backend (if any) claims its device name.

        A plugin with no corelib hooks is refused. A second claim on a device is an error for
        an explicit registration; between entry points the rule in this module's doc decides.
        """
        name = self.pm.register(plugin, name=name)
        try:
            if not any(impl.plugin is plugin for caller in self.pm.get_hookcallers(plugin) or ()
                       for impl in caller.get_hookimpls()):
                raise RuntimeError(f"plugin {name!r} ({distribution or 'registered in-process'}) "
                                   f"implements no corelib hook (see corelib.hookspecs)")
            impls = [i for i in self.pm.hook.corelib_backend.get_hookimpls()
                     if i.plugin is plugin]
            spec = impls[0].function() if impls else None
            if spec is not None:
                spec.distribution = spec.distribution or distribution or name
                if self._claim(spec, from_entry_point):
                    self.backends[spec.device_type] = spec
                    self.device_of_plugin[name] = spec.device_type
                    self._check_table(spec)
                else:
                    self.pm.unregister(plugin)
                    return None
        except Exception:
            if self.pm.get_plugin(name) is not None:
                self.pm.unregister(plugin)
            raise
        self.changed(self.device_of_plugin.get(name, False))
        return name

    @staticmethod
    def _check_table(spec):
        """Warn (KernelContractWarning) where ``spec``'s kernels break the contract."""
        problems = contract.table_problems(spec.kernels)
        if problems:
            warnings.warn(contract.KernelContractWarning(
                f"corelib: backend {spec.distribution!r} (device {spec.device_type!r}) does not "
                f"match the kernel contract:\n  " + "\n  ".join(problems)), stacklevel=3)

    def _claim(self, spec, from_entry_point):
        """Whether ``spec`` may own its device; displaces a weaker entry-point owner."""
        device = spec.device_type
        owner = self.backends.get(device)
        if owner is None:
            return device not in self.clashes
        if not from_entry_point:
            raise RuntimeError(f"device {device!r} is already provided by "
                               f"{owner.distribution!r}; {spec.distribution!r} cannot claim "
                               f"it too")
        variable = f"CORELIB_DEVICE_{device.upper()}"
        chosen = os.environ.get(variable)
        if chosen in (owner.distribution, spec.distribution):
            winner = spec if chosen == spec.distribution else owner
        elif spec.priority != owner.priority:
            winner = spec if spec.priority > owner.priority else owner
        else:
            self.clashes[device] = (f"both {owner.distribution!r} and {spec.distribution!r} "
                                    f"provide device {device!r} with equal priority; set "
                                    f"{variable}=<distribution> to choose one, or block one "
                                    f"with CORELIB_BLOCK_PLUGINS")
            self.unregister(name=next(n for n, d in self.device_of_plugin.items()
                                      if d == device))
            return False
        if winner is spec:
            self.unregister(name=next(n for n, d in self.device_of_plugin.items()
                                      if d == device))
        return winner is spec

    def unregister(self, plugin=None, name=None):
        name = name or self.pm.get_name(plugin)
        plugin = self.pm.unregister(plugin, name=name)
        device = self.device_of_plugin.pop(name, None)
        if device is not None:
            del self.backends[device]
        self.changed(device or False)
        return plugin

    def changed(self, device_type=None):
        """Forget every resolved kernel (a plugin came or went) and the per-device state
        (random states) of ``device_type`` (None: every device; False: none, the plugin added
        no device, so a seeded random stream goes on undisturbed)."""
        self.invalidate_kernels()
        if device_type is not False:
            for listener in self.listeners:
                listener(device_type)

    def invalidate_kernels(self):
        """Forget every resolved kernel, and nothing else (random states, devices stay).

        For plugins whose ``corelib_wrap_kernel`` / ``corelib_missing_kernel`` answers change
        at run time (a profiler switched on or off): the next call of each op resolves again.
        """
        self.cache.clear()
        for listener in self.kernel_listeners:
            listener()

    # -- lookup ------------------------------------------------------------------------
    def backend(self, device_type: str) -> BackendSpec:
        spec = self.backends.get(device_type)
        if spec is None:
            self.load()
            spec = self.backends.get(device_type)
            if spec is None:
                raise BackendNotFoundError(self._missing_device_message(device_type))
        return spec

    def _missing_device_message(self, device_type):
        if device_type in self.clashes:
            return f"no backend owns device {device_type!r}: {self.clashes[device_type]}"
        text = f"no backend provides device {device_type!r}"
        if self.failures:
            failed = "; ".join(f"{dist}: {err}" for dist, err in self.failures.items())
            text += f" (plugins that failed to load: {failed})"
        elif device_type in KNOWN_DISTRIBUTIONS:
            text += f"; install one, e.g. `pip install {KNOWN_DISTRIBUTIONS[device_type]}`"
        return f"{text} (installed backends: {sorted(self.backends) or 'none'})"

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
            raise KernelNotImplementedError(
                f"op '{op}' has no kernel for device '{device_type}' "
                f"(backend plugin {spec.distribution!r})", op=op, device_type=device_type)
        if os.environ.get("CORELIB_CHECK_KERNELS", "0") not in ("", "0"):
            k = self._checked(op, device_type, spec, k)
        for impl in reversed(self.pm.hook.corelib_wrap_kernel.get_hookimpls()):
            k = impl.function(op=op, device_type=device_type, kernel=k) or k
        return k

    def _checked(self, op, device_type, spec, k):
        """``k`` wrapped to check its results against the contract (CORELIB_CHECK_KERNELS)."""
        import numpy as np
        array_type = self.array_types.get(device_type)
        if array_type is None and spec.device_count():
            try:
                array_type = type(spec.from_numpy(np.zeros((), np.float32), 0))
            except Exception:   # the check of the type is skipped, the others still run
                array_type = None
            self.array_types[device_type] = array_type
        shares = spec.runtime.get("shares_memory") or (
            np.may_share_memory if array_type is not None and issubclass(array_type, np.ndarray)
            else None)
        return contract.checked_kernel(op, k, device_type, spec.distribution, array_type,
                                       shares)

    def has_kernel(self, op, device_type):
        return op in self.backend(device_type).kernels


registry = Registry()
