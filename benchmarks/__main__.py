"""``python -m benchmarks [NAME ...]``: run benchmark scripts ``bench_<NAME>.py`` in fresh processes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    available = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    names = argv or available
    unknown = [n for n in names if n not in available]
    if unknown:
        print(f"benchmarks: unknown benchmark(s) {', '.join(unknown)}; choose from: "
              f"{', '.join(available)} (e.g. python -m benchmarks mnist_replicas)", file=sys.stderr)
        return 2
    failed = []
    for name in names:
        print(f"== {name}")
        t0 = time.perf_counter()
        # One process per benchmark: TensorFlow thread pools and memory peaks do not leak
        # from one measurement into the next.
        rc = subprocess.call([sys.executable, "-m", f"benchmarks.bench_{name}"], cwd=HERE.parent)
        print(f"   ({time.perf_counter() - t0:.0f} s{', FAILED' if rc else ''})")
        if rc:
            failed.append(name)
    print(f"results appended to {HERE / 'results.jsonl'}; `make readme` updates the README table")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
