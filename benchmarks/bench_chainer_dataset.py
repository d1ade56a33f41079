"""Notebook 04: how fast does the lazy TSV image dataset deliver examples?

On Flower17 JPEGs (about 500x600, resized to 128x128 RGB) and MNIST PNGs (28x28 gray):

* lazy ``get_example`` (decode on every access) vs eager (decode everything once with
  ``preload()``, then index the arrays): examples/s for each, and what preloading costs;
* steady-state examples/s of ``SerialIterator`` (decoding in the main process) and
  ``MultiprocessIterator`` (decoding in worker processes; their start-up, paid once per
  training run, is not timed).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.common import peak_rss_mb, report, sized, timeit

FLOWER_IMAGES = sized(340, 64)      # decoded per timing sample (a quarter of Flower17)
MNIST_IMAGES = sized(2000, 200)
IMAGE_SIZE = 128
BATCH = 32
WORKERS = 2


def _steady_rate(make_iterator, batches: int) -> float:
    """Examples/s of an iterator once it runs: the first batch (worker start-up) is not timed."""
    best = float("inf")
    for _ in range(3):
        it = make_iterator()
        try:
            it.next()
            t0 = time.perf_counter()
            seen = sum(len(it.next()) for _ in range(batches))
            best = min(best, (time.perf_counter() - t0) / seen)
        finally:
            it.finalize()
    return 1.0 / best


def main() -> None:
    from edgelab.chainer.compat import chainer
    from edgelab.chainer import datasets as cd

    src = "bench_chainer_dataset"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tsv = cd.write_flowers17_tsv(tmp / "flowers.tsv", "all")
        full = cd.TsvImageDataset(tsv, size=IMAGE_SIZE)
        rows = full.rows[:FLOWER_IMAGES]
        sub_tsv = cd.write_tsv(tmp / "sub.tsv", [r.path for r in rows], [r.label for r in rows])
        flowers = cd.TsvImageDataset(sub_tsv, size=IMAGE_SIZE)
        n = len(flowers)

        t_lazy = timeit(lambda: [flowers.get_example(i) for i in range(n)], warmup=1, repeat=3)
        report("chainer.flowers_lazy_examples_per_s", n / t_lazy["min"], "examples/s",
               note=f"decode JPEG + resize to {IMAGE_SIZE} on every access", source=src)
        t0 = time.perf_counter()
        eager = flowers.preload()
        t_preload = time.perf_counter() - t0
        t_eager = timeit(lambda: [eager[i] for i in range(n)], repeat=5)
        report("chainer.flowers_eager_examples_per_s", n / t_eager["min"], "examples/s",
               note=f"after preload() ({t_preload:.1f} s for {n} images)", source=src)
        report("chainer.flowers_eager_bytes_per_image", eager._datasets[0].nbytes / n, "B",
               note=f"3x{IMAGE_SIZE}x{IMAGE_SIZE} float32", source=src)

        batches = n // BATCH
        serial = _steady_rate(lambda: chainer.iterators.SerialIterator(flowers, BATCH), batches)
        report("chainer.flowers_serial_iterator_examples_per_s", serial, "examples/s",
               note=f"batch {BATCH}, lazy", source=src)
        parallel = _steady_rate(lambda: chainer.iterators.MultiprocessIterator(
            flowers, BATCH, n_processes=WORKERS), batches)
        report("chainer.flowers_multiprocess_iterator_examples_per_s", parallel, "examples/s",
               note=f"{WORKERS} worker processes, batch {BATCH}", source=src)
        report("chainer.flowers_multiprocess_speedup", parallel / serial, "x", source=src)

        mnist_tsv = cd.export_mnist_images(tmp / "mnist", "test", MNIST_IMAGES, progress=False)
        digits = cd.TsvImageDataset(mnist_tsv, channels=1)
        t_png = timeit(lambda: [digits.get_example(i) for i in range(len(digits))], warmup=1,
                       repeat=3)
        report("chainer.mnist_png_lazy_examples_per_s", len(digits) / t_png["min"], "examples/s",
               note="28x28 gray PNG", source=src)
        batches = len(digits) // 100
        serial = _steady_rate(lambda: chainer.iterators.SerialIterator(digits, 100), batches)
        parallel = _steady_rate(lambda: chainer.iterators.MultiprocessIterator(
            digits, 100, n_processes=WORKERS), batches)
        report("chainer.mnist_png_serial_iterator_examples_per_s", serial, "examples/s",
               note="batch 100", source=src)
        report("chainer.mnist_png_multiprocess_iterator_examples_per_s", parallel, "examples/s",
               note=f"{WORKERS} worker processes, batch 100", source=src)
    report("chainer.dataset_bench_peak_rss", peak_rss_mb(), "MB", source=src)


if __name__ == "__main__":
    main()
