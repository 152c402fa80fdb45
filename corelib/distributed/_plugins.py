"""Discovery of communication backends: the ``corelib_comm_backend`` hook (corelib.hookspecs).

Communication plugins are found exactly like device backends: entry points of the ``corelib``
group, loaded once by ``corelib.dispatch.registry``; this module only asks the registry's
PluginManager for their ``CommBackendSpec``s (at ``init_process_group``, never per op).
"""
from __future__ import annotations

from ..dispatch import registry

__all__ = ["comm_backends", "comm_backend"]

# the project's own communication plugins, named in "install ..." hints
KNOWN = {"mpi": ("corelib-mpi", "pip install -e plugins/mpi mpich  (pulls mpi4py)"),
         "nccl": ("corelib-nccl", "pip install -e plugins/nccl  (needs CuPy with NCCL and a GPU)")}


def comm_backends():
    """name -> CommBackendSpec of every installed communication plugin."""
    registry.load()
    specs = {}
    for impl in registry.pm.hook.corelib_comm_backend.get_hookimpls():
        spec = impl.function()
        if spec is None:
            continue
        if spec.name in specs:
            raise RuntimeError(f"communication backend {spec.name!r} is provided by both "
                               f"{specs[spec.name].distribution!r} and "
                               f"{spec.distribution or impl.plugin_name!r}; uninstall one or "
                               f"block it with CORELIB_BLOCK_PLUGINS")
        spec.distribution = spec.distribution or impl.plugin_name
        specs[spec.name] = spec
    return specs


def comm_backend(name):
    """The installed, available spec for backend ``name``; a RuntimeError says what to install."""
    specs = comm_backends()
    spec = specs.get(name)
    if spec is None:
        hint = f"; install it: {KNOWN[name][1]}" if name in KNOWN else ""
        raise RuntimeError(f"Distributed backend {name!r} is not installed{hint} "
                           f"(installed communication backends: {sorted(specs) or 'none'})")
    if not spec.is_available():
        raise RuntimeError(f"Distributed backend {name!r} ({spec.distribution}) is not "
                           f"available: {spec.unavailable_reason()}")
    return spec
