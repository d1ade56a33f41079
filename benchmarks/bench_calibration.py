"""The speed probe ``edgelab run --plan`` compares machines with (:mod:`edgelab.run.calibrate`).

Recorded here, next to this machine's notebook run times, it lets a machine that has no
run times of its own scale these ones by its own probe's speed. Three samples, the median
kept: the probe is short, and a shared machine is noisy.
"""

from __future__ import annotations

import statistics

from benchmarks.common import report, sized


def main() -> None:
    from edgelab.run import calibrate, plan

    rates = [calibrate.measure_in_subprocess() for _ in range(sized(3, 1))]
    report(plan.CALIBRATION_KEY, statistics.median(rates), "img/s",
           note=f"probe CNN, batch {calibrate.BATCH}; samples "
                + ", ".join(f"{r:.0f}" for r in rates),
           source="bench_calibration")


if __name__ == "__main__":
    main()
