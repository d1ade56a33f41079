"""Notebook 06: how fast is line-art extraction?

In one process, on the same 2048x2048 colour image (coffee.png, CC0, enlarged):

* the OpenCV implementation on one thread (goal: >= 200 MPixel/s per core) and with
  OpenCV's default thread pool;
* the plain-NumPy implementation of the same method (bit-identical output, checked here);
  the ratio is the speed-up OpenCV buys (goal: >= 10x, both on one core);
* the batch tool (`edgelab lineart`: read JPEG, extract, write PNG atomically) on 100
  Flower17 photos, in images/s, and the pair builder (also writes the colour PNG).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.common import peak_rss_mb, report, sized, timeit

SIDE = sized(2048, 256)
BATCH_IMAGES = sized(100, 4)


def main() -> None:
    import time

    import cv2
    import numpy as np

    from edgelab import lineart
    from edgelab.datasets import flowers17, samples

    image = cv2.resize(samples.load_image("coffee.png"), (SIDE, SIDE), interpolation=cv2.INTER_CUBIC)
    mpix = SIDE * SIDE / 1e6
    fast = lineart.LineArtExtractor()
    slow = lineart.LineArtExtractor(backend="numpy")
    if not np.array_equal(fast(image), slow(image)):
        raise SystemExit("OpenCV and NumPy line art differ: the comparison would be meaningless")

    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    t_one = timeit(lambda: fast(image), repeat=15)["min"]
    cv2.setNumThreads(threads)
    t_pool = timeit(lambda: fast(image), repeat=15)["min"]
    t_numpy = timeit(lambda: slow(image), warmup=1, repeat=5)["min"]
    src = "bench_lineart"
    report("lineart.opencv_mpix_per_s_1_thread", mpix / t_one, "MPixel/s", note="goal >= 200",
           source=src)
    report("lineart.opencv_mpix_per_s", mpix / t_pool, "MPixel/s", note=f"{threads} OpenCV threads",
           source=src)
    report("lineart.numpy_mpix_per_s", mpix / t_numpy, "MPixel/s", source=src)
    report("lineart.opencv_speedup_vs_numpy", t_numpy / t_one, "x", note="one core each; goal >= 10",
           source=src)

    files, _ = flowers17.load("all")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "photos"
        folder.mkdir()
        for f in files[:BATCH_IMAGES]:
            (folder / Path(f).name).symlink_to(Path(f).resolve())
        for name, run in (("convert", lineart.convert), ("pairs", lineart.build_pairs)):
            best = float("inf")
            for _ in range(sized(3, 1)):
                t0 = time.perf_counter()
                result = run(folder, Path(tmp) / name, force=True, progress=False)
                best = min(best, time.perf_counter() - t0)
            if result.skipped or (name == "pairs" and len(result.pairs) != BATCH_IMAGES):
                raise SystemExit(f"batch {name} skipped files: {result.skipped}")
            report(f"lineart.batch_{name}_images_per_s", BATCH_IMAGES / best, "img/s",
                   note="Flower17 JPEGs (about 500x600) -> PNG", source=src)
    report("lineart.bench_peak_rss", peak_rss_mb(), "MB", source=src)


if __name__ == "__main__":
    main()
