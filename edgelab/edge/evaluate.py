"""Accuracy, file size and per-image latency of .tflite models, on this CPU.

What a deployment decision needs, measured the same way for every variant:

* **accuracy** on held-out images, with the model's own input quantization: a float image
  becomes ``round(x / scale + zero_point)`` for an int8/uint8 input, and an integer output
  is turned back into real values with its scale and zero point;
* **size** of the file in KB (what ships in the app);
* **latency**: the median of N single-image ``invoke()`` calls after a warm-up, with its
  spread (the interquartile range, the middle half of the calls), on **one thread** unless
  asked otherwise: one thread is what a phone's background task or a micro-controller
  gets, and it keeps the other processes of a shared machine from setting the pace. Each
  model is timed **alone** (:func:`latency_alone`): its own warm-up, then all its calls in
  a row, as LiteRT's ``benchmark_model`` does and as an app runs one model. Timing models
  in turns, call by call (:func:`interleaved_latency`), exposes them to the same machine
  load, but each call then starts with caches that the other models just filled: a model
  whose weights fit in the cache when it runs alone (the 12.8 MB float32 MNIST CNN here)
  pays for reloading them on every call. Notebook 07 shows both. What such a number can
  tell: how variants of one model compare *on this CPU*. What it cannot: the latency on a
  phone, whose CPU, cache and delegate (GPU, NPU) differ.
* **paired comparisons**: two models scored on the *same* images differ only on the
  images where one is right and the other wrong; :func:`paired_comparison` counts those
  and gives the difference with its standard error and McNemar's exact test.

The interpreter is LiteRT's (``ai_edge_litert``, the successor of ``tf.lite``); if that
package is missing, ``tf.lite.Interpreter`` is used (it prints a deprecation warning on
every construction, which is why it is only the fallback). Both give identical results.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from edgelab.edge.convert import native_output_silenced

PREDICT_BATCH = 64
WARMUP_RUNS = 5
TIMING_THREADS = 1   # latency comparisons run on one thread unless asked otherwise


@dataclass(frozen=True)
class Latency:
    """Milliseconds of one ``invoke()``: the median and the interquartile range of ``runs`` calls."""

    median_ms: float
    q1_ms: float
    q3_ms: float
    runs: int

    @property
    def spread_ms(self) -> float:
        """The interquartile range: half of the calls took between ``q1_ms`` and ``q3_ms``."""
        return self.q3_ms - self.q1_ms

    def __str__(self) -> str:
        return f"{self.median_ms:.3f} ms (IQR {self.q1_ms:.3f}-{self.q3_ms:.3f}, {self.runs} runs)"

    @classmethod
    def of(cls, seconds: Sequence[float]) -> "Latency":
        ms = np.asarray(seconds, dtype=np.float64) * 1000.0
        q1, median, q3 = np.percentile(ms, [25, 50, 75])
        return cls(float(median), float(q1), float(q3), len(ms))


def default_threads() -> int:
    """Interpreter threads when none are given: the CPU count, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))


def interpreter_class():
    """``(Interpreter class, backend name)``: LiteRT if importable, else ``tf.lite``."""
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter, "ai-edge-litert"
    except ImportError:
        import tensorflow as tf

        return tf.lite.Interpreter, "tf.lite"


def load_interpreter(model: str | os.PathLike | bytes, num_threads: int | None = None,
                     delegates: bool = True):
    """An interpreter for a .tflite path or bytes (tensors not yet allocated).

    ``delegates=False`` runs LiteRT's built-in kernels only, without the XNNPACK delegate
    it applies by default on a CPU (``OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES``):
    slower, but it accepts files XNNPACK refuses (the sparse encoding of notebook 07)."""
    cls, _ = interpreter_class()
    threads = num_threads or default_threads()
    extra = {}
    if not delegates:
        module = __import__(cls.__module__, fromlist=["OpResolverType"])
        extra["experimental_op_resolver_type"] = \
            module.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    # The C++ runtime announces its XNNPACK delegate on stderr; keep that out of cells.
    with native_output_silenced():
        if isinstance(model, (bytes, bytearray)):
            return cls(model_content=bytes(model), num_threads=threads, **extra)
        path = Path(model)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such .tflite file.")
        return cls(model_path=str(path), num_threads=threads, **extra)


class TFLiteRunner:
    """Runs one .tflite model on float (or already-quantized) inputs.

    ``num_threads``: interpreter threads (default :func:`default_threads`);
    ``batch_size``: images per ``invoke()`` in :meth:`predict` (the batch dimension is
    resized when the model allows it, else images go one at a time); ``delegates``: see
    :func:`load_interpreter`.
    """

    def __init__(self, model: str | os.PathLike | bytes, num_threads: int | None = None,
                 batch_size: int = PREDICT_BATCH, delegates: bool = True):
        self.model = model
        self.num_threads = num_threads or default_threads()
        self.batch_size = batch_size
        self.delegates = delegates
        self.backend = interpreter_class()[1]
        self._single = load_interpreter(model, self.num_threads, delegates)
        with native_output_silenced():   # the XNNPACK "INFO: Created ..." line comes here
            self._single.allocate_tensors()
        inputs = self._single.get_input_details()
        outputs = self._single.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ValueError(f"{self.name}: TFLiteRunner handles single-input, single-output "
                             f"models; this one has {len(inputs)} inputs, {len(outputs)} outputs.")
        self.input, self.output = inputs[0], outputs[0]
        self._batched = None
        self._batched_size = 0
        self._timed = self._single

    @property
    def name(self) -> str:
        if isinstance(self.model, (bytes, bytearray)):
            return "<bytes>"
        return Path(self.model).name

    @property
    def input_dtype(self):
        return np.dtype(self.input["dtype"])

    @property
    def output_dtype(self):
        return np.dtype(self.output["dtype"])

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.input["shape"])

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        """Float images -> the model's input dtype with its own scale and zero point.
        Images already in the input dtype (e.g. uint8 for the Coral models) pass unchanged."""
        x = np.asarray(x)
        want = self.input_dtype
        if x.dtype == want:
            return x
        if want.kind in "iu":
            if not np.issubdtype(x.dtype, np.floating):
                raise ValueError(f"{self.name}: input is {want}; give float images to quantize "
                                 f"or {want} images, not {x.dtype}.")
            scale, zero = self.input["quantization"]
            if scale == 0:
                raise ValueError(f"{self.name}: integer input without quantization parameters.")
            info = np.iinfo(want)
            return np.clip(np.round(x / scale + zero), info.min, info.max).astype(want)
        return x.astype(want)

    def dequantize_output(self, y: np.ndarray) -> np.ndarray:
        """Integer outputs -> real values ``scale * (q - zero_point)``; floats unchanged."""
        scale, zero = self.output["quantization"]
        if self.output_dtype.kind in "iu" and scale:
            return (y.astype(np.float32) - zero) * scale
        return y.astype(np.float32)

    def _batched_interpreter(self, n: int):
        if self._batched is None or self._batched_size != n:
            it = load_interpreter(self.model, self.num_threads, self.delegates)
            it.resize_tensor_input(self.input["index"], [n, *self.input_shape[1:]], strict=False)
            with native_output_silenced():
                it.allocate_tensors()
            self._batched, self._batched_size = it, n
        return self._batched

    def _invoke(self, interpreter, x: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(self.input["index"], x)
        interpreter.invoke()
        return interpreter.get_tensor(self.output["index"])

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Real-valued outputs for a batch of images (quantized as the model expects)."""
        x = self.quantize_input(x)
        if x.shape[1:] != self.input_shape[1:]:
            raise ValueError(f"{self.name}: images of shape {x.shape[1:]}, the model takes "
                             f"{self.input_shape[1:]}.")
        outs = []
        step = self.batch_size
        for start in range(0, len(x), step):
            chunk = x[start:start + step]
            try:
                it = self._batched_interpreter(len(chunk))
                outs.append(self._invoke(it, chunk))
            except (RuntimeError, ValueError):   # a model whose batch size cannot change
                outs.extend(self._invoke(self._single, chunk[i:i + 1]) for i in range(len(chunk)))
        return self.dequantize_output(np.concatenate(outs))

    def prepare_timing(self, image: np.ndarray, warmup: int = WARMUP_RUNS) -> None:
        """Load one image (or a batch: ``[n, ...]`` with n > 1, for a model whose batch
        dimension can change) into an interpreter and run ``warmup`` calls; the following
        :meth:`time_invoke` calls time that interpreter."""
        x = np.asarray(image)
        if x.ndim == len(self.input_shape) - 1:   # one image without the batch axis
            x = x[None]
        x = self.quantize_input(x)
        if len(x) > 1:
            try:
                self._timed = self._batched_interpreter(len(x))
                self._timed.set_tensor(self.input["index"], x)
            except (RuntimeError, ValueError) as err:
                raise ValueError(f"{self.name}: the batch size cannot change ({err})") from None
        else:
            self._timed = self._single
            self._timed.set_tensor(self.input["index"], x[:1])
        for _ in range(warmup):
            self._timed.invoke()

    def time_invoke(self) -> float:
        """Seconds of one ``invoke()`` on the input set by :meth:`prepare_timing`."""
        t0 = time.perf_counter()
        self._timed.invoke()
        return time.perf_counter() - t0

    def latency_ms(self, image: np.ndarray, runs: int, warmup: int = WARMUP_RUNS) -> float:
        """Median milliseconds of one ``invoke()`` on one image, over ``runs`` timed calls."""
        return self.latency(image, runs, warmup).median_ms

    def latency(self, image: np.ndarray, runs: int, warmup: int = WARMUP_RUNS) -> Latency:
        """Median and interquartile range of one ``invoke()`` on one image (or on a batch
        ``[n, ...]``: divide by n for the time per image)."""
        return latency_alone([self], [image], runs, warmup)[0]


def interleaved_latency_ms(runners: Sequence[TFLiteRunner], images: Sequence[np.ndarray],
                           runs: int, warmup: int = WARMUP_RUNS) -> list[float]:
    """The medians of :func:`interleaved_latency`, in milliseconds."""
    return [t.median_ms for t in interleaved_latency(runners, images, runs, warmup)]


TIMING_BLOCKS = 4     # latency_alone splits each model's calls into this many blocks


def latency_alone(runners: Sequence[TFLiteRunner], images: Sequence[np.ndarray],
                  runs: int, warmup: int = WARMUP_RUNS, blocks: int = TIMING_BLOCKS
                  ) -> list[Latency]:
    """Latency of several models, each timed **alone**: its warm-up calls, then its timed
    calls one after the other, so the caches hold that model's weights and nothing else.
    This is how an app runs one model and how LiteRT's ``benchmark_model`` times it.

    On a shared machine the load changes over seconds. So the ``runs`` calls of each model
    are split into ``blocks`` blocks, and the models take turns block by block (model A's
    warm-up and calls, then model B's, ..., then A's second block, in a rotated order): a
    busy moment then lands on part of every model's calls rather than on all of one
    model's, and the median and quartiles come from all its calls. ``images[k]`` is one
    image for model k, or a batch ``[n, ...]`` (time per call; divide by n)."""
    if runs < 1:
        raise ValueError(f"runs must be >= 1, got {runs}")
    if len(runners) != len(images):
        raise ValueError(f"{len(runners)} models but {len(images)} images")
    blocks = max(1, min(blocks, runs))
    sizes = [runs // blocks + (1 if b < runs % blocks else 0) for b in range(blocks)]
    seconds: list[list[float]] = [[] for _ in runners]
    order = list(range(len(runners)))
    for b, size in enumerate(sizes):
        for k in order[b % len(order):] + order[:b % len(order)]:
            runners[k].prepare_timing(images[k], warmup)
            seconds[k].extend(runners[k].time_invoke() for _ in range(size))
    return [Latency.of(t) for t in seconds]


def interleaved_latency(runners: Sequence[TFLiteRunner], images: Sequence[np.ndarray],
                        runs: int, warmup: int = WARMUP_RUNS) -> list[Latency]:
    """Single-image latency of several models, timed in turns: call 1 of every model, then
    call 2 of every model, and so on. On a shared machine the load changes over seconds;
    taking turns exposes all models to the same load. But every call then starts with the
    caches the other models filled: a model whose weights would stay in the cache alone
    reloads them on each call, so turn-taking penalises the large models. Use it as the
    contrast to :func:`latency_alone`, not instead of it."""
    if runs < 1:
        raise ValueError(f"runs must be >= 1, got {runs}")
    if len(runners) != len(images):
        raise ValueError(f"{len(runners)} models but {len(images)} images")
    for runner, image in zip(runners, images):
        runner.prepare_timing(image, warmup)
    times: list[list[float]] = [[] for _ in runners]
    for _ in range(runs):
        for k, runner in enumerate(runners):
            times[k].append(runner.time_invoke())
    return [Latency.of(t) for t in times]


def accuracy(runner: TFLiteRunner, images: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 accuracy of a model on labelled images."""
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    return float(np.mean(runner.predict(images).argmax(axis=-1) == np.asarray(labels)))


@dataclass(frozen=True)
class Paired:
    """Two models scored on the same ``n`` images (see :func:`paired_comparison`)."""

    n: int
    a_right: int
    b_right: int
    only_a: int            # images model a got right and model b got wrong
    only_b: int            # ... and the other way round
    difference: float      # accuracy(b) - accuracy(a)
    se: float              # standard error of that difference, from the paired images
    p_value: float         # McNemar's exact test: how often chance alone splits the
                           # only_a + only_b disagreements at least this unevenly

    @property
    def discordant(self) -> int:
        return self.only_a + self.only_b

    def describe(self, a: str = "a", b: str = "b") -> str:
        return (f"{b} - {a}: {100 * self.difference:+.2f} points (SE {100 * self.se:.2f}) on "
                f"{self.n} images; they disagree on {self.discordant} "
                f"({self.only_a} only {a} got right, {self.only_b} only {b}); "
                f"McNemar p = {self.p_value:.2f}")


def paired_comparison(a_correct: np.ndarray, b_correct: np.ndarray) -> Paired:
    """Compare two models on the **same** images from their per-image results (bool
    arrays, e.g. :func:`correct`).

    Images both models get right, or both get wrong, say nothing about which is better;
    only the disagreements do. The difference of the accuracies is ``(only_b - only_a) / n``
    and its standard error comes from the per-image differences (each -1, 0 or +1), which
    is much smaller than the standard error of either accuracy alone when the two models
    agree on most images. McNemar's exact test asks how likely a split of the
    disagreements at least this uneven is if neither model were better (a fair coin per
    disagreement). A difference within about two standard errors, or a large p, is not
    told apart from chance on these images."""
    from math import comb, sqrt

    a = np.asarray(a_correct, bool).ravel()
    b = np.asarray(b_correct, bool).ravel()
    if a.shape != b.shape or not len(a):
        raise ValueError(f"need two per-image results of the same non-zero length, got "
                         f"{a.shape} and {b.shape}")
    n = len(a)
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(b & ~a))
    diff = (only_b - only_a) / n
    var = max((only_a + only_b) / n - diff ** 2, 0.0)
    se = sqrt(var / n)
    k, m = min(only_a, only_b), only_a + only_b
    p = 1.0 if m == 0 else min(1.0, 2 * sum(comb(m, i) for i in range(k + 1)) / 2 ** m)
    return Paired(n, int(a.sum()), int(b.sum()), only_a, only_b, float(diff), float(se),
                  float(p))


def file_kb(path: str | os.PathLike) -> float:
    return Path(path).stat().st_size / 1024


TIMINGS = {"alone": latency_alone, "turns": interleaved_latency}


class PerImage(dict):
    """name -> per-image bool array, kept in a table's ``attrs``; pandas compares attrs with
    ``==`` when it carries them through an operation, which arrays cannot answer."""

    def __eq__(self, other) -> bool:
        return isinstance(other, dict) and self.keys() == other.keys() and all(
            np.array_equal(self[k], other[k]) for k in self)

    def __ne__(self, other) -> bool:
        return not self == other

    __hash__ = None


def _timing(timing: str):
    if timing not in TIMINGS:
        raise ValueError(f"timing must be one of {', '.join(TIMINGS)}, got {timing!r}")
    return TIMINGS[timing]


def correct(runner: TFLiteRunner, images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per image: whether the model's top-1 class is the label (a bool array), the input
    of :func:`paired_comparison`."""
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    return runner.predict(images).argmax(axis=-1) == np.asarray(labels)


def compare(models: Mapping[str, str | os.PathLike], images: np.ndarray, labels: np.ndarray,
            *, runs: int, num_threads: int = TIMING_THREADS, progress: bool = True,
            timing: str = "alone"):
    """Accuracy, size and latency of several .tflite files (``name -> path``) on the same
    images, in one pandas DataFrame indexed by name. Columns: ``size_kb``, ``accuracy``,
    ``latency_ms`` (median) with ``latency_q1_ms``/``latency_q3_ms`` (its interquartile
    range), ``input``, ``output`` (dtypes), plus ratios to the first row. ``timing``:
    ``"alone"`` (each model timed on its own, the default) or ``"turns"`` (call by call in
    turns). The per-image results are kept in ``table.attrs["correct"]`` (name -> bool
    array) for :func:`paired_comparison`."""
    import pandas as pd

    from edgelab.core.progress import bar

    rows, runners, per_image = [], [], PerImage()
    for name, path in bar(list(models.items()), desc="evaluating", disable=not progress,
                          leave=False):
        runner = TFLiteRunner(path, num_threads)
        runners.append(runner)
        right = correct(runner, images, labels)
        per_image[name] = right
        rows.append({"variant": name, "size_kb": file_kb(path),
                     "accuracy": float(np.mean(right)),
                     "input": str(runner.input_dtype), "output": str(runner.output_dtype)})
    latencies = _timing(timing)(runners, [images[0]] * len(runners), runs)
    for row, t in zip(rows, latencies):
        row.update(latency_ms=t.median_ms, latency_q1_ms=t.q1_ms, latency_q3_ms=t.q3_ms)
    table = pd.DataFrame(rows).set_index("variant")
    table = table[["size_kb", "accuracy", "latency_ms", "latency_q1_ms", "latency_q3_ms",
                   "input", "output"]]
    base = table.iloc[0]
    table["size_ratio"] = table["size_kb"] / base["size_kb"]
    table["latency_ratio"] = table["latency_ms"] / base["latency_ms"]
    table.attrs["correct"] = per_image
    table.attrs["timing"] = timing
    return table


def plot_comparison(table, title: str = ""):
    """Three bar panels (size, accuracy, latency) for a :func:`compare` table; the figure."""
    import matplotlib.pyplot as plt

    names = list(table.index)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    panels = (("size_kb", "file size (KB)", "{:,.0f}"), ("accuracy", "test accuracy", "{:.3f}"),
              ("latency_ms", "latency per image (ms, median and IQR)", "{:.2f}"))
    for ax, (col, label, fmt) in zip(axes, panels):
        values = table[col].to_numpy(dtype=float)
        spread = None
        if col == "latency_ms" and "latency_q1_ms" in table:   # the interquartile range
            spread = [values - table["latency_q1_ms"].to_numpy(dtype=float),
                      table["latency_q3_ms"].to_numpy(dtype=float) - values]
        bars = ax.bar(names, values, color=colours[:len(names)], yerr=spread, capsize=4)
        ax.set_title(label, fontsize=10)
        ax.tick_params(axis="x", labelrotation=20, labelsize=8)
        for bar, v in zip(bars, values):
            ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), fmt.format(v),
                    ha="center", va="bottom", fontsize=8)
        if col == "accuracy":
            # From zero, like the other panels: a bar's height is its value, so a two-image
            # difference looks as small as it is (the paired comparison says if it is real).
            ax.set_ylim(0, 1.08)
        else:
            top = values.max() if spread is None else (values + spread[1]).max()
            ax.set_ylim(0, top * 1.15)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def latency_table(models: Mapping[str, str | os.PathLike], images: Mapping[str, np.ndarray] |
                  None = None, *, runs: int, num_threads: int = TIMING_THREADS
                  ) -> dict[str, Latency]:
    """:class:`Latency` of models without labelled data (e.g. third-party classifiers),
    each timed alone;
    ``images``: name -> one input image (zeros of the input shape if absent)."""
    runners, inputs = [], []
    for name, path in models.items():
        runner = TFLiteRunner(path, num_threads)
        image = (images or {}).get(name)
        if image is None:
            image = np.zeros(runner.input_shape[1:], runner.input_dtype)
        runners.append(runner)
        inputs.append(image)
    return dict(zip(models, latency_alone(runners, inputs, runs)))


def latency_rounds(models: Mapping[str, str | os.PathLike], image: np.ndarray, *, runs: int,
                   rounds: int, num_threads: int = TIMING_THREADS, timing: str = "alone"):
    """The median latency of each model in ``rounds`` separate measurements of ``runs``
    calls each (same interpreters, same ``image``; ``timing`` as in :func:`compare`; timed
    alone, the models go in a rotated order each round, so none is always first): a pandas
    DataFrame, one row per round, one column per model, in milliseconds. How much a ratio
    between two columns moves from row to row is how far a single measurement can be
    trusted."""
    import pandas as pd

    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    measure = _timing(timing)
    names = list(models)
    runners = [TFLiteRunner(models[n], num_threads) for n in names]
    rows = []
    for r in range(rounds):
        order = list(range(len(names)))
        if timing == "alone":
            order = order[r % len(order):] + order[:r % len(order)]
        found = measure([runners[k] for k in order], [image] * len(order), runs)
        by_name = {names[k]: t.median_ms for k, t in zip(order, found)}
        rows.append({n: by_name[n] for n in names})
    table = pd.DataFrame(rows, index=pd.RangeIndex(1, rounds + 1, name="round"))
    return table


def top_k(runner: TFLiteRunner, image: np.ndarray, labels: Sequence[str], k: int = 3):
    """``[(label, probability-like score), ...]`` for one image, best first."""
    scores = runner.predict(np.asarray(image)[None])[0]
    best = np.argsort(scores)[::-1][:k]
    return [(labels[i], float(scores[i])) for i in best]


def int8_vs_float32(table) -> dict[str, float]:
    """The three numbers a deployment decision starts from, full-int8 against float32 on
    the same run: size ratio, latency ratio and accuracy drop (in fraction, 0.01 = 1 point)."""
    for needed in ("float32", "int8"):
        if needed not in table.index:
            raise KeyError(f"the table has no {needed!r} row; it has {', '.join(table.index)}")
    f32, i8 = table.loc["float32"], table.loc["int8"]
    return {"size_ratio": float(i8["size_kb"] / f32["size_kb"]),
            "latency_ratio": float(i8["latency_ms"] / f32["latency_ms"]),
            "accuracy_drop": float(f32["accuracy"] - i8["accuracy"])}


def record_table(model: str, table) -> None:
    """Hand every figure of a :func:`compare` table to the run report as
    ``edge.<model>.<variant>.<size_kb|accuracy|latency_ms>`` plus the int8/float32 ratios."""
    from edgelab.core.results import record

    for variant, row in table.iterrows():
        record(f"edge.{model}.{variant}.size_kb", float(row["size_kb"]), "KB")
        record(f"edge.{model}.{variant}.accuracy", float(row["accuracy"]))
        record(f"edge.{model}.{variant}.latency_ms", float(row["latency_ms"]), "ms")
    if "float32" in table.index and "int8" in table.index:
        ratios = int8_vs_float32(table)
        record(f"edge.{model}.int8_vs_float32.size_ratio", ratios["size_ratio"], "x")
        record(f"edge.{model}.int8_vs_float32.latency_ratio", ratios["latency_ratio"], "x")
        record(f"edge.{model}.int8_vs_float32.accuracy_drop", ratios["accuracy_drop"])
