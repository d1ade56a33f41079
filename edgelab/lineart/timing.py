"""Timing an extractor as the curriculum times everything: warm up, then many single calls.

Notebooks 07 and 08 time models the same way (a warm-up, then the median and the
interquartile range of single calls, one model at a time); notebook 06 uses this for the
OpenCV and NumPy versions of the method. The median is robust to the odd slow call (a
context switch on a busy machine); the interquartile range (half of the calls took between
``q1_ms`` and ``q3_ms``) says how much to trust it. A difference between two medians that
is smaller than their spreads is not a difference.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Timing:
    """Milliseconds per call: the median and the interquartile range of ``runs`` calls."""

    median_ms: float
    q1_ms: float
    q3_ms: float
    runs: int

    def __str__(self) -> str:
        return f"{self.median_ms:.2f} ms (IQR {self.q1_ms:.2f}-{self.q3_ms:.2f}, {self.runs} calls)"


def time_calls(fn: Callable[[np.ndarray], object], image: np.ndarray, *, runs: int = 20,
               warmup: int = 3) -> Timing:
    """Call ``fn(image)`` ``warmup`` times untimed, then ``runs`` times timed, one at a time."""
    if runs < 4:
        raise ValueError(f"runs must be at least 4 for quartiles to mean anything, got {runs}")
    if warmup < 0:
        raise ValueError(f"warmup must be >= 0, got {warmup}")
    for _ in range(warmup):
        fn(image)
    ms = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn(image)
        ms.append((time.perf_counter() - t0) * 1e3)
    q1, median, q3 = np.percentile(ms, [25, 50, 75])
    return Timing(float(median), float(q1), float(q3), runs)
