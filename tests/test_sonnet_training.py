"""The hand-written Sonnet training loop: schedule, weight decay, loss scaling, the step,
summaries and resumable checkpoints. Synthetic data (labelled as such) keeps it fast."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import tensorflow as tf  # noqa: E402

from edgelab.xception import training as T  # noqa: E402
from edgelab import xception as X  # noqa: E402


def tiny_model(**kw):
    return X.Xception(num_classes=3, widths=X.Widths().scaled(0.125), middle_blocks=1,
                      head="lesson", dropout=0.0, **kw)


def synthetic_dataset(n=48, size=72, batch=16, seed=0):
    """Synthetic 3-class images: class c has a brighter colour channel c (easy to learn)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n).astype(np.int32)
    x = rng.uniform(0, 0.5, (n, size, size, 3)).astype(np.float32)
    x[np.arange(n), :, :, y] += 0.5
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch, drop_remainder=True)


# --------------------------------------------------------------------------- schedule

def test_staircase_halves_every_n_steps_like_keras_exponential_decay():
    import keras

    sched = T.StaircaseDecay(1e-3, 0.5, 100)
    ref = keras.optimizers.schedules.ExponentialDecay(1e-3, 100, 0.5, staircase=True)
    steps = [0, 1, 99, 100, 101, 250, 999, 1000]
    ours = [float(sched(s)) for s in steps]
    np.testing.assert_allclose(ours, [float(ref(s)) for s in steps], rtol=1e-6)
    np.testing.assert_allclose(sched.values(steps), ours, rtol=1e-6)
    assert ours[:4] == pytest.approx([1e-3, 1e-3, 1e-3, 5e-4])


@pytest.mark.parametrize("kwargs", [dict(initial=0), dict(decay_rate=1.5), dict(decay_steps=0)])
def test_staircase_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        T.StaircaseDecay(**kwargs)


# --------------------------------------------------------------------------- weight decay

def test_weight_decay_covers_kernels_only_and_is_half_the_squared_norm():
    model = tiny_model()
    model(tf.zeros([1, 72, 72, 3]), is_training=False)
    ks = T.kernels(model)
    assert ks and all(len(v.shape) >= 2 for v in ks)
    names = {v.name.split("/")[-1] for v in ks}
    assert names == {"w:0"}
    rank1 = [v for v in model.trainable_variables if len(v.shape) == 1]
    assert {v.name.split("/")[-1] for v in rank1} == {"scale:0", "offset:0", "b:0"}
    expected = 1e-3 * sum(0.5 * float(np.sum(v.numpy() ** 2)) for v in ks)
    assert float(T.l2_penalty(ks, 1e-3)) == pytest.approx(expected, rel=1e-5)
    assert float(T.l2_penalty(ks, 0.0)) == 0.0
    with pytest.raises(ValueError, match="weight_decay"):
        T.l2_penalty(ks, -1.0)


# --------------------------------------------------------------------------- train step

def test_train_step_learns_moves_the_schedule_and_adds_the_decay_to_the_loss():
    tf.random.set_seed(0)
    model = tiny_model()
    trainer = T.Trainer(model, schedule=T.StaircaseDecay(1e-2, 0.5, 10), weight_decay=1e-4)
    ds = synthetic_dataset()
    first = last = None
    for epoch in range(8):
        for images, labels in ds:
            out = trainer.train_step(images, labels)
            first = first or {k: float(v) for k, v in out.items()}
            last = {k: float(v) for k, v in out.items()}
    assert int(trainer.step.numpy()) == 8 * 3
    assert last["learning_rate"] == pytest.approx(1e-2 * 0.5 ** 2)   # step 23 -> 2 halvings
    assert last["total_loss"] == pytest.approx(last["cross_entropy"] + last["weight_decay"], rel=1e-5)
    assert last["weight_decay"] > 0
    assert last["cross_entropy"] < first["cross_entropy"] * 0.7
    assert trainer.evaluate(ds)["accuracy"] > 0.8


def test_compiled_and_eager_steps_compute_the_same_update():
    results = []
    for compiled in (True, False):
        tf.random.set_seed(1)
        model = tiny_model()
        model(tf.zeros([1, 72, 72, 3]), is_training=False)
        trainer = T.Trainer(model, weight_decay=1e-4, use_tf_function=compiled)
        images, labels = next(iter(synthetic_dataset()))
        out = trainer.train_step(images, labels)
        results.append((float(out["total_loss"]), [v.numpy() for v in model.trainable_variables]))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-4)
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


def test_fit_writes_summaries_and_checkpoints_and_resumes(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    # Eager steps: what is checked here (summaries, checkpoints, resuming) does not depend
    # on tracing, which test_compiled_and_eager_steps_compute_the_same_update covers; each
    # trace of the step costs ~10 s on two cores, more than the 6 eager steps together.
    ds = synthetic_dataset()
    model = tiny_model()
    trainer = T.Trainer(model, weight_decay=1e-4, log_dir=tmp_path / "logs",
                        use_tf_function=False)
    manager = tf.train.CheckpointManager(trainer.checkpoint, tmp_path / "ckpt", max_to_keep=2)
    history = trainer.fit(ds, 2, val_ds=ds, manager=manager, progress=False)
    assert list(history) == ["loss", "accuracy", "learning_rate", "val_loss", "val_accuracy"]
    assert len(history["loss"]) == 2
    assert manager.latest_checkpoint.endswith("ckpt-6")

    acc = EventAccumulator(str(tmp_path / "logs" / "train"),
                           size_guidance={"tensors": 0, "images": 0}).Reload()
    tags = set(acc.Tags()["tensors"])
    assert {"total_loss", "cross_entropy", "weight_decay", "accuracy", "learning_rate"} <= tags
    assert "training_images" in tags   # image summaries are tensors in TF2 event files
    assert len(acc.Tensors("learning_rate")) == 6
    val = EventAccumulator(str(tmp_path / "logs" / "val")).Reload()
    assert {"cross_entropy", "accuracy"} <= set(val.Tags()["tensors"])

    assert trainer.history == history and "history.json" in {p.name for p in
                                                               (tmp_path / "ckpt").iterdir()}
    empty = T.Trainer(tiny_model())
    assert empty.restore(tf.train.CheckpointManager(empty.checkpoint, tmp_path / "none",
                                                    max_to_keep=1)) is None
    # a fresh model and trainer (as after a kernel restart) pick up where it stopped
    model2 = tiny_model()
    trainer2 = T.Trainer(model2, weight_decay=1e-4, use_tf_function=False)
    manager2 = tf.train.CheckpointManager(trainer2.checkpoint, tmp_path / "ckpt", max_to_keep=2)
    assert trainer2.restore(manager2) == "ckpt-6"
    assert int(trainer2.step.numpy()) == 6
    assert trainer2.history == trainer.history and len(trainer2.history["loss"]) == 2
    assert trainer2.fit(ds, 2, progress=False) == {}        # nothing left to do
    images, _ = next(iter(ds))
    np.testing.assert_allclose(model2(images, is_training=False).numpy(),
                               model(images, is_training=False).numpy(), rtol=1e-5, atol=1e-5)
    # the optimizer's moments were restored too: the next step is the same on both
    a = trainer.train_step(*next(iter(ds)))
    b = trainer2.train_step(*next(iter(ds)))
    assert float(a["cross_entropy"]) == pytest.approx(float(b["cross_entropy"]), rel=1e-4)
    for v1, v2 in zip(model.trainable_variables, model2.trainable_variables):
        np.testing.assert_allclose(v1.numpy(), v2.numpy(), rtol=1e-4, atol=1e-6)


def test_one_checkpoint_folder_per_configuration(tmp_path):
    def manager_for(model=None, **trainer_kw):
        data = trainer_kw.pop("data", dict(batch_size=16, seed=0))
        trainer = T.Trainer(model or tiny_model(), **{"weight_decay": 1e-4, **trainer_kw})
        return trainer, trainer.checkpoint_manager(tmp_path, **data)

    trainer, manager = manager_for()
    folder = manager.directory
    assert manager_for()[1].directory == folder           # same configuration, same folder
    assert (T.Path(folder) / T.RUN_CONFIG_FILE).exists()
    assert T.Path(folder).name.startswith("xception-")
    assert trainer.checkpoint_folder(tmp_path, batch_size=16, seed=0) == T.Path(folder)
    assert not trainer.checkpoint_folder(tmp_path, batch_size=99, seed=0).exists()
    others = {
        "head": manager_for(X.Xception(num_classes=3, widths=X.Widths().scaled(0.125),
                                       middle_blocks=1, head="paper"))[1],
        "weight decay": manager_for(weight_decay=0.0)[1],
        "XLA": manager_for(jit_compile=True)[1],
        "schedule": manager_for(schedule=T.StaircaseDecay(1e-3, 0.5, 7))[1],
        "AdamW": manager_for(weight_decay=0.0, decoupled_weight_decay=0.05)[1],
        "batch size": manager_for(data=dict(batch_size=8, seed=0))[1],
    }
    folders = {name: m.directory for name, m in others.items()}
    assert folder not in folders.values() and len(set(folders.values())) == len(folders), folders
    # train one epoch in the first folder; the same configuration resumes, another starts anew
    ds = synthetic_dataset()
    trainer.fit(ds, 1, manager=manager, progress=False)
    again, again_manager = manager_for()
    assert again.restore(again_manager) == "ckpt-3"
    paper, paper_manager = manager_for(X.Xception(num_classes=3, widths=X.Widths().scaled(0.125),
                                                  middle_blocks=1, head="paper"))
    assert paper_manager.directory == others["head"].directory
    assert paper.restore(paper_manager) is None   # its own, empty folder: a fresh start
    # a trainer of another configuration pointed at this folder by hand is refused
    wrong = T.Trainer(tiny_model(), weight_decay=0.0)
    with pytest.raises(ValueError, match="another configuration"):
        wrong.restore(tf.train.CheckpointManager(wrong.checkpoint, folder, max_to_keep=1))


def test_the_full_recipes_folder_is_the_one_its_training_run_writes():
    """The default full-profile recipe's checkpoint folder is named after a hash of its
    configuration; a full training run of it is found again only while that hash holds
    (new trainer options enter the configuration only when they are used)."""
    from edgelab.core import profiles

    S = profiles.sizes("xception", "full")
    trainer = T.make_trainer(T.build_flowers_model(S, "float32"), S)
    assert trainer.checkpoint_folder("/runs", batch_size=S.batch_size, seed=42).name == \
        "xception-1d584837"
    q = profiles.sizes("xception", "quick")
    quick = T.make_trainer(T.build_flowers_model(q, "float32"), q)
    assert quick.checkpoint_folder("/runs", batch_size=q.batch_size, seed=42).name == \
        "xception-ac35d417"


def test_decoupled_weight_decay_shrinks_kernels_by_lr_times_wd_after_the_update():
    """AdamW's step: Adam from the loss alone, then every kernel times (1 - lr * wd);
    nothing else (batch norm, biases) is decayed."""
    images, labels = next(iter(synthetic_dataset()))
    tf.random.set_seed(3)
    a = tiny_model()
    a(images, is_training=False)
    b = tiny_model()
    b(images, is_training=False)
    for va, vb in zip(a.variables, b.variables):
        vb.assign(va)
    plain = T.Trainer(a, weight_decay=0.0, use_tf_function=False)
    adamw = T.Trainer(b, weight_decay=0.0, decoupled_weight_decay=0.5, use_tf_function=False)
    plain.train_step(images, labels)
    adamw.train_step(images, labels)
    ks = {id(v) for v in T.kernels(b)}
    for va, vb in zip(a.trainable_variables, b.trainable_variables):
        factor = 1 - 1e-3 * 0.5 if id(vb) in ks else 1.0
        np.testing.assert_allclose(vb.numpy(), va.numpy() * factor, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="decoupled_weight_decay"):
        T.Trainer(tiny_model(), decoupled_weight_decay=-1.0)


def test_the_trainer_runs_the_step_function_it_is_given():
    calls = []

    def step(model, optimizer, images, labels, weight_decay, loss_scale=None):
        calls.append(weight_decay)
        return T.train_step(model, optimizer, images, labels, weight_decay, loss_scale)

    trainer = T.Trainer(tiny_model(), weight_decay=1e-4, step_fn=step, use_tf_function=False)
    out = trainer.train_step(*next(iter(synthetic_dataset())))
    assert calls == [1e-4] and int(trainer.step) == 1
    assert set(out) == {"total_loss", "cross_entropy", "weight_decay", "accuracy", "learning_rate"}


def test_fit_refuses_an_endless_dataset():
    trainer = T.Trainer(tiny_model())
    with pytest.raises(ValueError, match="finite"):
        trainer.fit(synthetic_dataset().repeat(), 1, progress=False)


# --------------------------------------------------------------------------- precision

@pytest.mark.parametrize("kind, capability, expected", [
    ("CPU", None, "float32"),
    ("TPU", None, "bfloat16"),
    ("GPU", (8, 0), "bfloat16"),    # A100, L4: bfloat16 tensor cores
    ("GPU", (7, 5), "float16"),     # T4 (Colab's free GPU): float16 with loss scaling
    ("GPU", (6, 1), "float32"),     # no fast half precision
])
def test_compute_dtype_follows_the_hardware(monkeypatch, kind, capability, expected):
    """The rule, on any machine: the device kind and GPU capability are faked."""
    monkeypatch.setattr(T, "accelerator", lambda: kind)
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda *_: ["GPU:0"])
    monkeypatch.setattr(tf.config.experimental, "get_device_details",
                        lambda _gpu: {"compute_capability": capability})
    dtype, why = T.mixed_precision_dtype()
    assert dtype == expected
    assert kind in why


def test_loss_scale_skips_non_finite_steps_and_grows_after_good_ones():
    ls = T.DynamicLossScale(initial=8.0, growth_interval=2)
    grads, finite = ls.unscale([tf.constant([8.0, float("inf")])])
    assert not bool(finite)
    ls.update(finite)
    assert float(ls.scale) == 4.0
    grads, finite = ls.unscale([tf.constant([8.0, 4.0])])
    np.testing.assert_allclose(grads[0].numpy(), [2.0, 1.0])
    ls.update(finite)
    ls.update(finite)
    assert float(ls.scale) == 8.0 and int(ls.good_steps) == 0


def test_float16_training_step_runs_with_loss_scaling():
    tf.random.set_seed(2)   # seeded weights: whether a step overflows depends on them
    model = tiny_model(compute_dtype="float16")
    trainer = T.Trainer(model, weight_decay=1e-4)
    assert trainer.loss_scale is not None
    images, labels = next(iter(synthetic_dataset()))
    model(images, is_training=False)   # create the (float32) variables
    before = [v.numpy().copy() for v in model.trainable_variables]
    scale = float(trainer.loss_scale.scale)
    out = trainer.train_step(images, labels)
    assert np.isfinite(float(out["total_loss"]))
    # finite scaled gradients at this scale, so the step was applied (an overflow would
    # have skipped it and halved the scale, which the test above checks)
    assert float(trainer.loss_scale.scale) == scale and int(trainer.loss_scale.good_steps) == 1
    assert all(v.dtype == tf.float32 for v in model.trainable_variables)
    assert any(not np.array_equal(b, v.numpy()) for b, v in zip(before,
                                                                  model.trainable_variables))


def test_evaluate_logits_matches_tensorflow():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(10, 4)) * 3
    labels = rng.integers(0, 4, 10)
    ref = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
    out = T.evaluate_logits(logits, labels)
    assert out["loss"] == pytest.approx(float(ref), rel=1e-6)
    assert out["accuracy"] == pytest.approx(float(np.mean(logits.argmax(1) == labels)))
    with pytest.raises(ValueError, match="logits"):
        T.evaluate_logits(logits[:, 0], labels)


def test_flowers_model_follows_the_profile_sizes():
    sizes = SimpleNamespace(image_size=96, width_multiplier=0.25, middle_blocks=2, dropout=0.5)
    model = T.build_flowers_model(sizes)
    assert model.config["middle_blocks"] == 2 and model.config["image_size"] == 96
    assert model.config["widths"]["top"] == [384, 512]
    assert model(tf.zeros([1, 96, 96, 3]), is_training=False).shape == (1, 17)
