"""The ``edgelab`` command (also ``python -m edgelab``).

Each subcommand lives in the module that does the work and adds itself with a
``register(subparsers)`` function; this file only lists them. Modules are imported when
the command line is parsed, and none of them imports TensorFlow at import time, so
``edgelab --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# subcommand -> module with register(subparsers)
COMMANDS = {
    "data": "edgelab.datasets.cli",
    "lineart": "edgelab.lineart.batch",
    "results": "edgelab.core.results",
    "inspect": "edgelab.edge.inspect",
    "convert": "edgelab.edge.onnx_convert",
    "run": "edgelab.run.runner",
}


def build_parser() -> argparse.ArgumentParser:
    from edgelab.core.project import VERSION

    parser = argparse.ArgumentParser(prog="edgelab", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"edgelab {VERSION}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS.values():
        importlib.import_module(module).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
