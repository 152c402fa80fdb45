"""``python -m corelib_cuda dump-sources DIR``: write every kernel source, exactly as NVRTC
receives it, to DIR/<name>.cu (with the NVRTC options in DIR/OPTIONS.txt)."""
from __future__ import annotations

import argparse
from pathlib import Path

from . import sources, nvrtc
import corelib_cuda  # noqa: F401  (registers every family's sources)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m corelib_cuda")
    sub = parser.add_subparsers(dest="command", required=True)
    dump = sub.add_parser("dump-sources", help="write every kernel source as a .cu file")
    dump.add_argument("dir", type=Path)
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    for name in sources.names():
        (args.dir / f"{name}.cu").write_text(sources.text(name))
    (args.dir / "OPTIONS.txt").write_text(
        "\n".join(f"sm_{arch}: {' '.join(nvrtc.options(arch))}" for arch in nvrtc.ARCHS) + "\n")
    print(f"wrote {len(sources.names())} sources to {args.dir}")


if __name__ == "__main__":
    main()
