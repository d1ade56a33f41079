"""``edgelab data list`` and ``edgelab data fetch NAME|all``."""

from __future__ import annotations

from edgelab.datasets import cache
from edgelab.datasets import registry


def register(subparsers) -> None:
    p = subparsers.add_parser("data", help="list or fetch datasets and weights")
    sub = p.add_subparsers(dest="data_command", required=True)
    f = sub.add_parser("fetch", help="fetch a dataset (or 'all') into the verified cache")
    f.add_argument("names", nargs="+", metavar="NAME", help="dataset name, or 'all'")
    f.add_argument("--quiet", action="store_true", help="no progress bars")
    f.set_defaults(func=_cmd_fetch)
    ls = sub.add_parser("list", help="what is cached, where, and whether it verifies")
    ls.set_defaults(func=_cmd_list)


def _cmd_fetch(args) -> int:
    known = registry.datasets()
    names = []
    for n in args.names:
        if n == "all":
            names += [k for k, d in known.items() if not d.optional]
        elif n not in known:
            print(f"edgelab data fetch: unknown dataset {n!r}; known: {', '.join(known)}")
            return 2
        else:
            names.append(n)
    failed = 0
    for name in dict.fromkeys(names):
        try:
            cache.fetch(name, progress=not args.quiet)
            s = cache.status(name)
            print(f"{name}: {s['verified']}/{s['files']} files verified in {s['location']}")
        except cache.DataError as err:
            failed += 1
            print(f"{name}: FAILED\n{err}")
    return 1 if failed else 0


def _cmd_list(args) -> int:
    try:
        mirror = cache.mirror() or "(not set)"
    except cache.DataError as err:
        mirror = f"(invalid: {err})"
    print(f"cache:  {cache.paths.data_dir()}")
    print(f"mirror: {mirror}{'   offline: canonical URLs skipped' if cache.offline() else ''}")
    print(f"{'dataset':<18} {'files':>5} {'cached':>6} {'verified':>8} {'MB':>7}  title")
    for name, ds in registry.datasets().items():
        s = cache.status(name)
        state = f"{s['verified']:>8}"
        print(f"{name:<18} {s['files']:>5} {s['cached']:>6} {state} {s['bytes'] / 1e6:>7.1f}  "
              f"{ds.title[:60]}{' (optional)' if ds.optional else ''}")
    return 0
