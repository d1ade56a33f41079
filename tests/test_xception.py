"""Xception in Sonnet 2: parameter count, shapes, blocks, heads, mixed precision, save/load."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import numpy as np
import pytest

import tensorflow as tf  # noqa: E402

from edgelab import xception as X  # noqa: E402

SMALL = X.Widths().scaled(0.125)


def small(head="lesson", **kw):
    return X.Xception(num_classes=5, widths=SMALL, middle_blocks=1, head=head, **kw)


def images(n=2, size=80, seed=0):
    return tf.random.stateless_uniform([n, size, size, 3], seed=[seed, 1])


def calibrated(model, x):
    """``model`` with batch statistics of ``x`` in its batch-norm moving averages.

    A fresh Sonnet BatchNorm's moving variance is 0, so in inference mode each one
    multiplies by 1/sqrt(eps) ~ 316 and the logits of a new model reach ~1e33. Sonnet's
    averages are debiased: after one training-mode pass they equal that batch's statistics.
    """
    model(x, is_training=True)
    return model


def colour_batch(n=16, size=80, seed=0):
    """Synthetic images, labelled as such (they test numerics, not learning): class c is
    the image whose colour channel c is brighter, so a few steps teach the network it."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = rng.uniform(0, 0.5, (n, size, size, 3)).astype(np.float32)
    x[np.arange(n), :, :, y] += 0.5
    return tf.constant(x), tf.constant(y, tf.int32)


def trained_small(seed=0, steps=5):
    """``small()`` after a few real Adam steps on ``colour_batch``: seeded weights,
    batch-norm averages from real batches, logits that separate the classes. Eager steps:
    five of them cost less than tracing the compiled step once."""
    from edgelab.xception import training as T

    tf.random.set_seed(seed)
    model = small()
    trainer = T.Trainer(model, schedule=T.StaircaseDecay(3e-3, 0.5, 1000),
                        use_tf_function=False)
    x, y = colour_batch(seed=seed)
    for _ in range(steps):
        trainer.train_step(x, y)
    return model


# --------------------------------------------------------------------------- the paper's count

def test_paper_configuration_has_the_papers_trainable_parameter_count():
    model = X.paper_model()
    assert X.trainable_parameters(model) == X.PAPER_TRAINABLE_PARAMS == 22_855_952
    # moving statistics exist but are not trainable
    non_trainable = sum(int(np.prod(v.shape)) for v in model.variables if not v.trainable
                        and v.dtype == tf.float32)
    assert non_trainable > 0
    rows = X.structure(model, 299)
    assert rows[-1] == ("classifier", (1, 1000), 2048 * 1000 + 1000)
    assert dict((r[0], r[1]) for r in rows)["exit_flow"] == (1, 10, 10, 2048)
    assert sum(r[2] for r in rows) == 22_855_952


def test_paper_count_equals_keras_applications_xception():
    import keras

    k = keras.applications.Xception(weights=None)
    assert sum(int(np.prod(w.shape)) for w in k.trainable_weights) == X.PAPER_TRAINABLE_PARAMS


def test_source_lesson_input_gives_the_5x5_map_the_lesson_pooled():
    model = X.Xception(17, head="lesson")
    f = model.features(tf.zeros([1, 149, 149, 3]), is_training=False)
    assert f.shape == (1, 5, 5, 2048)
    assert model.embed(tf.zeros([1, 149, 149, 3])).shape == (1, 256)


# --------------------------------------------------------------------------- building blocks

def test_separable_conv_is_depthwise_then_pointwise_without_bias():
    sep = X.SeparableConv2D(7)
    x = images(2, 12)
    y = sep(x)
    assert y.shape == (2, 12, 12, 7)
    shapes = sorted(tuple(v.shape) for v in sep.trainable_variables)
    assert shapes == [(1, 1, 3, 7), (3, 3, 3, 1)]   # no biases
    expected = tf.nn.separable_conv2d(x, sep.depthwise.w, sep.pointwise.w, [1, 1, 1, 1], "SAME")
    np.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)


def test_entry_block_halves_the_map_and_has_a_projection_shortcut():
    block = X.EntryBlock(16, bn_decay=0.99)
    y = block(images(2, 21), is_training=False)
    assert y.shape == (2, 11, 11, 16)
    assert block.residual.w.shape == (1, 1, 3, 16)
    block2 = X.EntryBlock((8, 12), bn_decay=0.99)
    assert block2(images(1, 20), is_training=False).shape == (1, 10, 10, 12)


def test_middle_block_is_identity_plus_residual():
    block = X.MiddleBlock(8, bn_decay=0.99)
    x = images(2, 10)[..., :1] * tf.ones([1, 1, 1, 8])
    block(x, is_training=False)
    for sep in block.seps:
        sep.pointwise.w.assign(tf.zeros_like(sep.pointwise.w))
    # zero kernels -> every separable conv outputs 0 -> batch norm (offset 0) keeps 0
    np.testing.assert_allclose(block(x, is_training=False).numpy(), x.numpy(), atol=1e-6)


def test_features_head_embed_and_call_agree():
    model = calibrated(small(), images(3, 80, seed=1))
    x = images(3, 80)
    feats = model.features(x, is_training=False)
    assert len(feats.shape) == 4 and feats.shape[-1] == SMALL.top[1]
    logits = model(x, is_training=False)
    assert logits.shape == (3, 5) and logits.dtype == tf.float32
    np.testing.assert_allclose(model.head(feats, is_training=False).numpy(), logits.numpy(),
                               rtol=1e-5, atol=1e-5)
    emb = model.embed(x)
    assert emb.shape == (3, 256)
    np.testing.assert_allclose(model.classifier(emb).numpy(), logits.numpy(), rtol=1e-5,
                               atol=1e-5)
    assert small("paper").embed(x).shape == (3, SMALL.top[1])


@pytest.mark.parametrize("size, side", [(7, 1), (8, 1), (71, 3), (96, 3), (149, 5), (200, 7)])
def test_any_input_size_from_7_works(size, side):
    """The stem's two unpadded convolutions need 7 px; every later stage is SAME-padded."""
    model = small()
    assert model(images(1, size), is_training=False).shape == (1, 5)
    assert model.features(images(1, size), is_training=False).shape[1:3] == (side, side)


def test_structure_rejects_too_small_inputs_and_lists_every_stage():
    model = small()
    with pytest.raises(ValueError, match="at least 7"):
        X.structure(model, 6)
    rows = X.structure(model, 96)
    names = [r[0] for r in rows]
    assert names == ["input", "stem", "entry_block1", "entry_block2", "entry_block3",
                     "middle_block1", "exit_flow", "global_avg_pool", "dense+relu", "dropout",
                     "classifier"]
    assert sum(r[2] for r in rows) == X.trainable_parameters(model)
    assert "total" in X.format_structure(rows)


def test_dropout_only_in_training_and_batch_norm_stats_only_update_in_training():
    model = calibrated(small(dropout=0.5), images(4, 80, seed=1))   # activations in range
    x = images(4, 80)
    moving = model.stem.bn1.moving_mean.value.numpy().copy()
    a, b = model(x, is_training=False), model(x, is_training=False)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(model.stem.bn1.moving_mean.value.numpy(), moving)
    feats = model.features(x, is_training=False)
    h1, h2 = model.head(feats, is_training=True), model.head(feats, is_training=True)
    assert not np.allclose(h1.numpy(), h2.numpy())
    model(x, is_training=True)
    assert not np.allclose(model.stem.bn1.moving_mean.value.numpy(), moving)


def test_width_multiplier_scales_every_width():
    w = X.Widths().scaled(0.25)
    assert w == X.Widths(stem=(8, 16), entry=(32, 64, 182), exit=(182, 256), top=(384, 512))
    assert w.middle == 182
    assert X.Widths.from_any(w.as_dict()) == w
    with pytest.raises(ValueError, match="multiplier"):
        X.Widths().scaled(0)
    with pytest.raises(ValueError, match="unknown width groups"):
        X.Widths.from_any({"stems": [1, 2]})


@pytest.mark.parametrize("kwargs, match", [
    (dict(head="keras"), "head must be"),
    (dict(dropout=1.0), "dropout"),
    (dict(middle_blocks=-1), "middle_blocks"),
    (dict(num_classes=0), "num_classes"),
    (dict(image_size=6), "at least 7"),
    (dict(compute_dtype="int8"), "compute_dtype"),
])
def test_bad_hyper_parameters_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        X.Xception(**kwargs)


# --------------------------------------------------------------------------- mixed precision

def test_bfloat16_keeps_float32_variables_and_computes_the_float32_function():
    ref = trained_small()
    mixed = small(compute_dtype="bfloat16")
    x, _ = colour_batch(seed=1)   # images the training did not see
    mixed(x, is_training=False)
    assert all(v.dtype == tf.float32 for v in mixed.trainable_variables)
    for a, b in zip(ref.variables, mixed.variables):
        b.assign(a)
    out = mixed(x, is_training=False)
    assert out.dtype == tf.float32
    got, want = out.numpy(), ref(x, is_training=False).numpy()
    # bfloat16 keeps 8 significant bits: each rounding of a weight or an activation errs by
    # up to 2**-9 (0.2 %). About 20 convolutions and linears round in sequence and their
    # errors add like a random walk, ~1 % on the logits (measured 0.8-1.3 % for seeds 0-11,
    # cosine above 0.99996). 4 % and 0.999 leave a margin of 3; a wrong cast or a weight left
    # behind is off by tens of percent. The top-2 logit gap of this trained model is over
    # 30 times the largest bfloat16 error, so the predicted classes must be identical.
    rel = np.linalg.norm(got - want, axis=1) / np.linalg.norm(want, axis=1)
    cosine = (got * want).sum(1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1))
    assert rel.max() < 0.04, rel
    assert cosine.min() > 0.999, cosine
    np.testing.assert_array_equal(got.argmax(1), want.argmax(1))
    assert rel.min() > 1e-4, "no rounding error at all: the model did not compute in bfloat16"
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(mixed(x, is_training=True))
    grads = tape.gradient(loss, mixed.trainable_variables)
    assert all(g is not None and g.dtype == tf.float32 for g in grads)


# --------------------------------------------------------------------------- save / load

def test_save_then_load_restores_every_variable_and_the_saved_model_agrees(tmp_path):
    model = small()
    x = images(2, 80)
    model(x, is_training=True)   # move the batch-norm statistics away from their init
    folder = X.save(model, tmp_path / "xf", image_size=80, class_names=list("abcde"),
                    extra={"trained_by": "test"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["xf"]   # no temporary left over
    config = json.loads((folder / "config.json").read_text())
    assert config["kwargs"]["image_size"] == 80 and config["class_names"] == list("abcde")
    loaded, cfg = X.load(folder)
    np.testing.assert_allclose(loaded(x, is_training=False).numpy(),
                               model(x, is_training=False).numpy(), rtol=1e-5, atol=1e-5)
    sm = tf.saved_model.load(str(folder / "saved_model"))
    out = sm.signatures["serving_default"](images=x)
    np.testing.assert_allclose(out["logits"].numpy(), model(x, is_training=False).numpy(),
                               rtol=1e-4, atol=1e-4)
    assert sm.signatures["embed"](images=x)["embedding"].shape == (2, 256)
    # saving again replaces the folder in one move
    X.save(loaded, folder, image_size=80, saved_model=False)
    assert not (folder / "saved_model").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["xf"]


def test_load_names_the_missing_or_broken_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        X.load(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="config.json"):
        X.load(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"kwargs": {"num_classes": 3,
                                                                 "image_size": 80}}))
    with pytest.raises(FileNotFoundError, match="checkpoint"):
        X.load(tmp_path)


def test_load_refuses_a_checkpoint_of_a_different_architecture(tmp_path):
    X.save(small(), tmp_path / "m", image_size=80, saved_model=False)
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["kwargs"]["middle_blocks"] = 2   # one more block than was saved
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(AssertionError):
        X.load(tmp_path / "m")


def test_load_or_train_trains_saves_then_loads(tmp_path, shared_home, monkeypatch):
    monkeypatch.setenv("EDGELAB_OUT", str(tmp_path / "out"))
    sizes = SimpleNamespace(image_size=72, batch_size=64, epochs=1, width_multiplier=0.125,
                            middle_blocks=1, lr_decay_steps=100, weight_decay=1e-4,
                            dropout=0.5)
    folder = tmp_path / "model"
    model, source = X.load_or_train(directory=folder, sizes=sizes)
    assert source.startswith("trained here")
    assert (folder / "config.json").exists() and (folder / "saved_model").is_dir()
    again, source2 = X.load_or_train(directory=folder)
    assert source2.startswith("loaded")
    x = images(2, 72)
    np.testing.assert_allclose(again(x, is_training=False).numpy(),
                               model(x, is_training=False).numpy(), rtol=1e-5, atol=1e-5)
    # everything went into the folder asked for, through a temporary that is gone now
    assert sorted(os.listdir(tmp_path)) == ["model"]
