"""The LiteRT runner on the published quantized MobileNets: input quantization with the
model's own parameters, output dequantization, real predictions, the tf.lite fallback."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from edgelab.edge import evaluate, sources


@pytest.fixture
def coral(shared_home):
    return sources.coral_classifiers()


def test_coral_names(coral):
    assert list(coral) == ["mobilenet_v1_0.25_128", "mobilenet_v1_0.5_160",
                           "mobilenet_v1_0.75_192", "mobilenet_v2_1.0_224"]


def test_quantize_and_dequantize_with_the_models_parameters(coral):
    runner = evaluate.TFLiteRunner(coral["mobilenet_v1_0.25_128"], num_threads=1)
    assert runner.backend == "ai-edge-litert"
    assert runner.input_dtype == np.uint8 and runner.input_shape == (1, 128, 128, 3)
    # input: scale 1/128, zero point 128, so real -1..1 maps to 0..255 (clipped at the top)
    q = runner.quantize_input(np.array([-1.0, 0.0, 0.5, 1.0], np.float32))
    assert q.dtype == np.uint8 and q.tolist() == [0, 128, 192, 255]
    raw = np.arange(0, 256, 64, dtype=np.uint8)
    assert runner.quantize_input(raw) is raw                   # already in the input dtype
    np.testing.assert_allclose(runner.dequantize_output(np.array([0, 128, 255], np.uint8)),
                               [0.0, 0.5, 255 / 256])


def test_v2_recognises_grace_hopper(coral):
    from edgelab.datasets import samples

    labels = samples.imagenet_labels("short")
    runner = evaluate.TFLiteRunner(coral["mobilenet_v2_1.0_224"], num_threads=1)
    image = sources.resize_uint8(samples.load_image("grace_hopper.jpg"), 224)
    (label, score), *_ = evaluate.top_k(runner, image, labels, k=3)
    assert label == "military uniform" and score > 0.5
    probs = runner.predict(image[None])[0]
    assert probs.shape == (1001,) and abs(probs.sum() - 1) < 0.05    # a dequantized softmax


def test_batches_match_single_images(coral):
    runner = evaluate.TFLiteRunner(coral["mobilenet_v1_0.25_128"], num_threads=1, batch_size=3)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 128, 128, 3), dtype=np.uint8)
    batched = runner.predict(images)
    single = np.concatenate([runner.predict(images[i:i + 1]) for i in range(5)])
    np.testing.assert_array_equal(batched, single)


def test_latency_table_and_interleaving(coral):
    models = {"small": coral["mobilenet_v1_0.25_128"], "v2": coral["mobilenet_v2_1.0_224"]}
    stats = evaluate.latency_table(models, runs=5, num_threads=1)
    assert list(stats) == ["small", "v2"]
    for t in stats.values():
        assert t.runs == 5 and 0 < t.q1_ms <= t.median_ms <= t.q3_ms and t.spread_ms >= 0
    runner = evaluate.TFLiteRunner(models["small"], num_threads=1)
    with pytest.raises(ValueError, match="2 models but 1 images"):
        evaluate.interleaved_latency_ms([runner, runner], [np.zeros((128, 128, 3), np.uint8)], 3)
    with pytest.raises(ValueError, match="runs"):
        evaluate.interleaved_latency_ms([runner], [np.zeros((128, 128, 3), np.uint8)], 0)


def test_latency_statistics_are_the_median_and_the_quartiles():
    t = evaluate.Latency.of([0.004, 0.001, 0.002, 0.003, 0.100])   # seconds; one slow call
    assert (t.median_ms, t.q1_ms, t.q3_ms, t.runs) == pytest.approx((3.0, 2.0, 4.0, 5))
    assert t.spread_ms == pytest.approx(2.0)
    assert str(t) == "3.000 ms (IQR 2.000-4.000, 5 runs)"


@pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated:UserWarning")
def test_tf_lite_fallback_gives_the_same_numbers(coral, monkeypatch):
    path = coral["mobilenet_v1_0.25_128"]
    images = np.random.default_rng(1).integers(0, 256, (2, 128, 128, 3), dtype=np.uint8)
    litert = evaluate.TFLiteRunner(path, num_threads=1).predict(images)
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)   # import now fails
    assert evaluate.interpreter_class()[1] == "tf.lite"
    fallback = evaluate.TFLiteRunner(path, num_threads=1)
    assert fallback.backend == "tf.lite"
    np.testing.assert_array_equal(fallback.predict(images), litert)


def test_missing_model_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="gone.tflite"):
        evaluate.TFLiteRunner(tmp_path / "gone.tflite")


def test_resize_uint8_rejects_floats():
    with pytest.raises(ValueError, match="uint8"):
        sources.resize_uint8(np.zeros((10, 10, 3), np.float32), 8)
    assert sources.resize_uint8(np.zeros((10, 12, 3), np.uint8), 8).shape == (8, 8, 3)


def test_balanced_subset():
    labels = np.repeat(np.arange(17), 20)
    idx = sources.balanced_subset(labels, 170)
    assert len(idx) == 170 and np.bincount(labels[idx]).tolist() == [10] * 17
    assert len(sources.balanced_subset(labels, 1000)) == len(labels)
    with pytest.raises(ValueError, match="positive"):
        sources.balanced_subset(labels, 0)


def test_latency_rounds_table(coral):
    names = list(coral)[:2]
    models = {n: coral[n] for n in names}
    image = sources.resize_uint8(np.zeros((300, 300, 3), np.uint8), 128)
    table = evaluate.latency_rounds({names[0]: models[names[0]]}, image, runs=3, rounds=2)
    assert list(table.columns) == [names[0]] and list(table.index) == [1, 2]
    assert (table.to_numpy() > 0).all()
    with pytest.raises(ValueError, match="rounds"):
        evaluate.latency_rounds(models, image, runs=3, rounds=0)


def test_paired_comparison_counts_disagreements_and_tests_them():
    a = np.array([True] * 90 + [False] * 10)
    b = a.copy()
    b[:2] = False                                   # two images only a gets right
    b[-6:] = True                                   # six only b gets right
    p = evaluate.paired_comparison(a, b)
    assert (p.n, p.a_right, p.b_right, p.only_a, p.only_b, p.discordant) == (100, 90, 94, 2, 6, 8)
    assert p.difference == pytest.approx(0.04)
    d = b.astype(float) - a.astype(float)
    assert p.se == pytest.approx(d.std() / np.sqrt(len(d)))
    # McNemar exact: 2 * P(X <= 2), X ~ Binomial(8, 1/2) = 2 * 37 / 256
    assert p.p_value == pytest.approx(2 * 37 / 256)
    same = evaluate.paired_comparison(a, a)
    assert (same.difference, same.se, same.p_value) == (0.0, 0.0, 1.0)
    assert "they disagree on 8 (2 only f32 got right, 6 only i8)" in p.describe("f32", "i8")
    with pytest.raises(ValueError, match="same non-zero length"):
        evaluate.paired_comparison(a, b[:10])


def test_models_timed_alone_and_in_turns(coral):
    models = {"small": coral["mobilenet_v1_0.25_128"], "v1_160": coral["mobilenet_v1_0.5_160"]}
    image = sources.resize_uint8(np.zeros((300, 300, 3), np.uint8), 128)
    runners = [evaluate.TFLiteRunner(models["small"], 1)] * 2
    for found in (evaluate.latency_alone(runners, [image, image], 4),
                  evaluate.interleaved_latency(runners, [image, image], 4)):
        assert [t.runs for t in found] == [4, 4] and all(t.median_ms > 0 for t in found)
    with pytest.raises(ValueError, match="runs"):
        evaluate.latency_alone(runners[:1], [image], 0)
    table = evaluate.latency_rounds({"small": models["small"]}, image, runs=3, rounds=2,
                                    timing="turns")
    assert list(table.index) == [1, 2]
    with pytest.raises(ValueError, match="timing must be one of alone, turns"):
        evaluate.latency_rounds(models, image, runs=3, rounds=1, timing="interleaved")


def test_batch_latency_and_builtin_kernels(coral):
    path = coral["mobilenet_v1_0.25_128"]
    from edgelab.datasets import samples

    image = sources.resize_uint8(samples.load_image("grace_hopper.jpg"), 128)
    images = np.stack([image, image[:, ::-1]])
    builtin = evaluate.TFLiteRunner(path, 1, delegates=False).predict(images)
    xnnpack = evaluate.TFLiteRunner(path, 1).predict(images)
    # two kernel libraries, the same uint8 model: the same classes, close scores (their
    # integer rounding differs by a few steps along the way)
    assert (builtin.argmax(1) == xnnpack.argmax(1)).all()
    assert np.abs(builtin - xnnpack).max() <= 0.05
    with pytest.raises(ValueError, match="batch size cannot change"):   # a fixed [1, ...] input
        evaluate.TFLiteRunner(path, 1).latency(images, 2)


def test_latency_alone_times_batches_in_blocks(tmp_path):
    import keras

    from edgelab.edge import convert

    inputs = keras.Input((8,))
    model = keras.Model(inputs, keras.layers.Dense(4)(inputs))
    path = tmp_path / "dense.tflite"
    path.write_bytes(convert.Converter().convert(model, "float32"))
    runner = evaluate.TFLiteRunner(path, 1)
    x = np.ones((8, 8), np.float32)
    one, eight = evaluate.latency_alone([runner, runner], [x[0], x], runs=7, blocks=3)
    assert one.runs == 7 and eight.runs == 7
    assert runner.predict(x).shape == (8, 4)       # timing left prediction intact


def test_per_image_results_survive_pandas_operations():
    import pandas as pd

    table = pd.DataFrame({"accuracy": [0.5, 1.0]}, index=["a", "b"])
    table.attrs["correct"] = evaluate.PerImage(a=np.array([True, False]), b=np.array([True, True]))
    both = pd.concat([table.round(1), table])      # pandas compares the attrs of both
    assert both.attrs["correct"]["a"].tolist() == [True, False]
    assert evaluate.PerImage(a=np.array([1])) != evaluate.PerImage(a=np.array([2]))
