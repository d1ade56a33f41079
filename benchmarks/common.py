"""Small timing helpers shared by the benchmark scripts."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Callable

from edgelab.core import results

RESULTS_FILE = Path(__file__).resolve().parent / "results.jsonl"


def timeit(fn: Callable[[], object], *, warmup: int = 2, repeat: int = 7, number: int = 1) -> dict:
    """Time ``fn`` (called ``number`` times per sample); return median/min/max seconds per call."""
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
    results.record(key, value, unit, note=note, file=RESULTS_FILE, source=source or "benchmarks")
    return value


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
