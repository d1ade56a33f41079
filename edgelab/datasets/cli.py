"""``edgelab data list``, ``edgelab data fetch NAME|all`` and ``edgelab data serve``."""

from __future__ import annotations

import argparse
import sys

from edgelab.datasets import cache
from edgelab.datasets import registry
from edgelab.datasets import serve

EXAMPLES = """examples:
  edgelab data list                      what is cached, where, and whether it verifies
  edgelab data fetch mnist flowers17     fetch two datasets into the verified cache
  edgelab data fetch all                 everything the lessons use
  EDGELAB_MIRROR=/path/to/mirror edgelab data fetch all     offline, from a mirror
  edgelab data serve --port 8765         serve this cache to a classroom (learners set
                                         EDGELAB_MIRROR=http://THIS-MACHINE:8765)"""


def _dataset_names() -> str:
    lines = []
    for name, ds in registry.datasets().items():
        lines.append(f"  {name:<18} {ds.title[:70]}{' (optional)' if ds.optional else ''}")
    return "\n".join(lines)


def register(subparsers) -> None:
    raw = argparse.RawDescriptionHelpFormatter
    p = subparsers.add_parser("data", help="list or fetch datasets and weights",
                              description="The verified data cache: list it, or fetch into it.",
                              epilog=EXAMPLES, formatter_class=raw)
    sub = p.add_subparsers(dest="data_command", required=True, metavar="SUBCOMMAND")
    f = sub.add_parser("fetch", help="fetch datasets (or 'all') into the verified cache",
                       description="Fetch datasets into the verified cache (from "
                                   "$EDGELAB_MIRROR if set, else their canonical URLs).",
                       epilog=f"datasets:\n{_dataset_names()}\n  all                "
                              f"every dataset above that is not optional\n\n{EXAMPLES}",
                       formatter_class=raw)
    f.add_argument("names", nargs="+", metavar="NAME", help="a dataset name (listed below), or 'all'")
    f.add_argument("--quiet", action="store_true", help="no progress bars")
    f.set_defaults(func=_cmd_fetch)
    ls = sub.add_parser("list", help="what is cached, where, and whether it verifies",
                        description="What is cached, where, and whether it verifies.",
                        epilog=EXAMPLES, formatter_class=raw)
    ls.set_defaults(func=_cmd_list)
    sv = sub.add_parser("serve", help="serve the verified cache to a classroom over HTTP",
                        description="Serve the verified data cache over HTTP, so learners "
                                    "without internet set EDGELAB_MIRROR to this machine's "
                                    "address. Only registry files whose checksum matches are "
                                    "served; learners' machines check them again.",
                        epilog=EXAMPLES, formatter_class=raw)
    sv.add_argument("--host", default="0.0.0.0",
                    help="the address to listen on (default 0.0.0.0: every network of this "
                         "machine; 127.0.0.1: this machine only)")
    sv.add_argument("--port", type=serve.port_number, default=serve.DEFAULT_PORT,
                    help=f"the port (default {serve.DEFAULT_PORT}; 0 picks a free one)")
    sv.set_defaults(func=_cmd_serve)


def _cmd_fetch(args) -> int:
    known = registry.datasets()
    names = []
    for n in args.names:
        if n == "all":
            names += [k for k, d in known.items() if not d.optional]
        elif n not in known:
            print(f"edgelab data fetch: unknown dataset {n!r}; choose from {', '.join(known)} "
                  "or 'all' (edgelab data fetch --help describes them)", file=sys.stderr)
            return 2
        else:
            names.append(n)
    failed = 0
    for name in dict.fromkeys(names):
        try:
            cache.fetch(name, progress=not args.quiet)
            s = cache.status(name)
            print(f"{name}: {s['verified']}/{s['files']} files verified in "
                  f"{cache.paths.shown(s['location'])}")
        except cache.DataError as err:
            failed += 1
            print(f"edgelab data fetch: {name} FAILED: {err}", file=sys.stderr)
    return 1 if failed else 0


def _cmd_serve(args) -> int:
    return serve.serve(args.host, args.port)


def _cmd_list(args) -> int:
    try:
        mirror = cache.mirror() or "(not set)"
    except cache.DataError as err:
        mirror = f"(invalid: {err})"
    home = cache.paths.home()
    print(f"cache:  {cache.paths.shown(cache.paths.data_dir())}   ($EDGELAB_HOME = {home})")
    print(f"mirror: {mirror}{'   offline: canonical URLs skipped' if cache.offline() else ''}")
    print(f"{'dataset':<18} {'files':>5} {'cached':>6} {'verified':>8} {'MB':>7}  title")
    for name, ds in registry.datasets().items():
        s = cache.status(name)
        state = f"{s['verified']:>8}"
        print(f"{name:<18} {s['files']:>5} {s['cached']:>6} {state} {s['bytes'] / 1e6:>7.1f}  "
              f"{ds.title[:60]}{' (optional)' if ds.optional else ''}")
    return 0
