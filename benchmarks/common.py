"""Small timing helpers shared by the benchmark scripts, and their smoke mode.

**Smoke mode** (``EDGELAB_BENCH_SMOKE=1``): every benchmark runs its whole code path once,
at tiny sizes (:func:`sized`), with one timing sample (:func:`timeit`), and writes its rows
to ``$EDGELAB_BENCH_RESULTS`` instead of ``benchmarks/results.jsonl`` (nowhere when that is
not set). Its figures mean nothing; it exists so that ``tests/test_benchmarks.py`` notices
when a change in ``edgelab`` breaks a benchmark, which otherwise nobody runs until the day
its figure is wanted.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Callable

from edgelab.core import results

SMOKE = os.environ.get("EDGELAB_BENCH_SMOKE") == "1"
_SMOKE_RESULTS = os.environ.get("EDGELAB_BENCH_RESULTS")
# Smoke rows never reach the committed file, whatever the environment says.
RESULTS_FILE: Path | None = ((Path(_SMOKE_RESULTS) if _SMOKE_RESULTS else None) if SMOKE
                             else Path(__file__).resolve().parent / "results.jsonl")


def sized(real: int, smoke: int) -> int:
    """A benchmark's size (images, steps, runs): ``real``, or ``smoke`` in smoke mode."""
    return smoke if SMOKE else real


def timeit(fn: Callable[[], object], *, warmup: int = 2, repeat: int = 7, number: int = 1) -> dict:
    """Time ``fn`` (called ``number`` times per sample); return median/min/max seconds per call.
    In smoke mode: no warm-up, one sample of one call."""
    if SMOKE:
        warmup, repeat, number = 0, 1, 1
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t0) / number)
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples),
            "repeat": repeat, "number": number}


def report(key: str, value: float, unit: str = "", note: str = "", source: str = "") -> float:
    """Print one figure and append it to benchmarks/results.jsonl."""
    shown = f"{value:,.4g}" if isinstance(value, float) else f"{value:,}"
    print(f"  {key:<45} {shown:>12} {unit}{('   # ' + note) if note else ''}")
    if RESULTS_FILE is not None:
        results.record(key, value, unit, note=note, file=RESULTS_FILE,
                       source=source or "benchmarks")
    return value


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
