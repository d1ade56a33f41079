"""Notebook 07: what quantization buys on this CPU, measured on a quiet machine.

Converts the MNIST CNN (notebook 01's model, or one trained quickly) to the four TFLite
variants and measures, per variant: file size, accuracy on the 10,000 test images, and
the median latency of one image with 1 thread and with the default thread count. Goals
for full int8 against float32 (from the lesson's issue): size <= 0.27x, accuracy drop
<= 1 point, latency <= 0.6x. Also times the four published quantized MobileNets and
parsing a .tflite file with ``edgelab.edge.inspect``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.common import peak_rss_mb, report, sized

LATENCY_RUNS = sized(500, 5)
SOURCE = "bench_edge"


def main() -> None:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from edgelab.mnist import cnn as mnist_cnn
    from edgelab.edge import convert, evaluate, sources
    from edgelab.edge import inspect as inspect_tflite

    model, how = mnist_cnn.load_or_train()
    print(f"  MNIST CNN: {how}")
    calibration, _ = sources.mnist_images("train", 500)
    x_test, y_test = sources.mnist_images("test", sized(10_000, 200))
    threads = evaluate.default_threads()
    with tempfile.TemporaryDirectory() as tmp:
        files = convert.Converter().convert_all(model, Path(tmp), "mnist_cnn", calibration,
                                                progress=False)
        rows = {}
        for variant, path in files.items():
            runner = evaluate.TFLiteRunner(path, num_threads=threads)
            single = evaluate.TFLiteRunner(path, num_threads=1)
            rows[variant] = {
                "size_kb": evaluate.file_kb(path),
                "accuracy": evaluate.accuracy(runner, x_test, y_test),
                "latency_ms": runner.latency_ms(x_test[0], LATENCY_RUNS),
                "latency_1t_ms": single.latency_ms(x_test[0], LATENCY_RUNS),
            }
            for key, unit in (("size_kb", "KB"), ("accuracy", ""), ("latency_ms", "ms"),
                              ("latency_1t_ms", "ms")):
                report(f"edge.mnist.{variant}.{key}", rows[variant][key], unit, source=SOURCE,
                       note=f"{threads} threads" if key == "latency_ms" else "")
    f32, i8 = rows["float32"], rows["int8"]
    report("edge.mnist.int8_vs_float32.size_ratio", i8["size_kb"] / f32["size_kb"], "x",
           note="goal <= 0.27", source=SOURCE)
    report("edge.mnist.int8_vs_float32.accuracy_drop", f32["accuracy"] - i8["accuracy"], "",
           note="goal <= 0.01", source=SOURCE)
    report("edge.mnist.int8_vs_float32.latency_ratio", i8["latency_ms"] / f32["latency_ms"], "x",
           note=f"goal <= 0.6, {threads} threads", source=SOURCE)
    report("edge.mnist.int8_vs_float32.latency_ratio_1t",
           i8["latency_1t_ms"] / f32["latency_1t_ms"], "x", note="1 thread", source=SOURCE)

    coral = sources.coral_classifiers()
    for name, t in evaluate.latency_table(coral, runs=sized(200, 5), num_threads=threads).items():
        report(f"edge.coral.{name}.latency_ms", t.median_ms, "ms",
               note=f"{threads} threads, IQR {t.q1_ms:.3f}-{t.q3_ms:.3f} ms", source=SOURCE)
    v2 = coral["mobilenet_v2_1.0_224"]
    t0 = time.perf_counter()
    for _ in range(10):
        inspect_tflite.read(v2)
    report("edge.inspect.parse_mobilenet_v2_ms", 1000 * (time.perf_counter() - t0) / 10, "ms",
           source=SOURCE)
    report("edge.bench_peak_rss", peak_rss_mb(), "MB", source=SOURCE)


if __name__ == "__main__":
    main()
