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
