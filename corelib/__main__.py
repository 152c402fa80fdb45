"""``python -m corelib info``: installed backends and their op coverage."""
from __future__ import annotations

import argparse
import sys

from . import __version__
from ._ops.core import Op
from .dispatch import registry


def coverage(device_type):
    """(implemented, fallback, missing) op names for one device."""
    spec = registry.backend(device_type)
    implemented, fallback, missing = [], [], []
    hooks = registry.pm.hook.corelib_missing_kernel.get_hookimpls()
    for name in sorted(n for n, op in Op.all.items() if op.has_kernel):
        if name in spec.kernels:
            implemented.append(name)
        elif any(h.function(op=name, device_type=device_type) is not None for h in hooks):
            fallback.append(name)
        else:
            missing.append(name)
    return implemented, fallback, missing


def info(out=sys.stdout, verbose=False):
    registry.load()
    n_ops = sum(op.has_kernel for op in Op.all.values())
    print(f"corelib {__version__}: {n_ops} primitive ops with kernels", file=out)
    if not registry.backends:
        print("no backend installed: pip install corelib-cpu", file=out)
    for dist, err in registry.failures.items():
        print(f"plugin {dist!r} failed to load: {err}", file=out)
    for device_type, spec in sorted(registry.backends.items()):
        implemented, fallback, missing = coverage(device_type)
        print(f"\n[{device_type}] from {spec.distribution}: {spec.device_count()} device(s); "
              f"{len(implemented)} implemented, {len(fallback)} fallback, "
              f"{len(missing)} missing", file=out)
        if verbose:
            print("  implemented: " + " ".join(implemented), file=out)
        if fallback:
            print("  fallback: " + " ".join(fallback), file=out)
        if missing:
            print("  missing: " + " ".join(missing), file=out)
    others = [n for n in registry.pm.list_name_plugin() if n[0] not in registry.device_of_plugin]
    if others:
        print("\nother plugins: " + ", ".join(name for name, _ in others), file=out)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m corelib")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("info", help="installed backends and which ops each implements")
    p.add_argument("-v", "--verbose", action="store_true", help="list implemented ops too")
    args = parser.parse_args(argv)
    if args.command == "info":
        info(verbose=args.verbose)


if __name__ == "__main__":
    main()
