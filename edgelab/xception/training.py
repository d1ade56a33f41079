"""Training a Sonnet 2 classifier by hand: the train step, weight decay, a staircase
learning-rate schedule, mixed precision, TensorBoard summaries and resumable checkpoints.

Sonnet has no ``fit``: you write the loop, and that is the point of notebook 02. The
pieces here are small and separate so the notebook can show each one:

* :class:`StaircaseDecay` - the source lesson's schedule: ``lr = 1e-3 * 0.5 ** floor(step / N)``
  (the same numbers as ``tf.keras.optimizers.schedules.ExponentialDecay(staircase=True)``).
* :func:`kernels` and :func:`l2_penalty` - weight decay as an L2 term *added to the loss*,
  on conv and dense kernels only (not on batch-norm scales/offsets or biases).
  With Adam this is not the same as AdamW's decoupled decay: the L2 gradient goes through
  Adam's per-weight scaling (divided by the root of the running squared gradient), so
  weights with large, noisy gradients are barely decayed. ``Trainer(...,
  decoupled_weight_decay=wd)`` is the AdamW variant: after each Adam update every kernel
  shrinks by ``learning_rate * wd`` (the convention of PyTorch's and Keras' AdamW).
* :func:`train_step` - one optimisation step: forward pass under a ``tf.GradientTape``,
  cross-entropy plus the L2 term, gradients, one Adam update (with loss scaling in
  float16). Notebook 02 writes the same function out and shows the two agree; a
  :class:`Trainer` runs whichever step function it is given.
* :func:`mixed_precision_dtype` - ``bfloat16`` on TPUs and recent GPUs, ``float16`` (with
  :class:`DynamicLossScale`) on older GPUs, ``float32`` on CPUs, where lower precision
  is slower, not faster.
* :class:`Trainer` - a ``tf.function`` train step (``tf.GradientTape`` and
  ``snt.optimizers.Adam``), evaluation, per-step TensorBoard scalars (loss, its two
  parts, accuracy, learning rate), training-image summaries, and a
  ``tf.train.Checkpoint`` of model + optimizer + step so an interrupted run resumes;
  :meth:`Trainer.checkpoint_manager` keeps one checkpoint folder per configuration, so a
  changed model or recipe never resumes from another one's checkpoints.
* :func:`train_flowers` - the whole Flower17 recipe in one call, for lessons that need a
  trained Xception but are not about training one (``xception.load_or_train``).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import sonnet as snt
import tensorflow as tf

from edgelab.core.atomic import atomic_write

HISTORY_FILE = "history.json"
RUN_CONFIG_FILE = "run_config.json"
INITIAL_LEARNING_RATE = 1e-3
DECAY_RATE = 0.5
IMAGES_IN_SUMMARY = 8


# --------------------------------------------------------------------------- precision

def accelerator() -> str:
    """``"TPU"``, ``"GPU"`` or ``"CPU"``: what TensorFlow sees on this machine."""
    if tf.config.list_logical_devices("TPU"):
        return "TPU"
    if tf.config.list_physical_devices("GPU"):
        return "GPU"
    return "CPU"


def mixed_precision_dtype() -> tuple[str, str]:
    """``(compute dtype, why)`` for this machine.

    TPUs and GPUs of compute capability 8.0+ (A100, H100, L4, RTX 30xx+) run bfloat16 at
    full speed with float32's range: no loss scaling needed. GPUs of capability 7.x (V100,
    T4 - Colab's free GPU) have float16 tensor cores: float16 with a dynamic loss scale.
    Older GPUs and CPUs: float32 (CPUs have no fast half-precision convolutions).
    """
    kind = accelerator()
    if kind == "TPU":
        return "bfloat16", "TPU: bfloat16 matrix units"
    if kind == "GPU":
        gpu = tf.config.list_physical_devices("GPU")[0]
        cc = tf.config.experimental.get_device_details(gpu).get("compute_capability") or (0, 0)
        if tuple(cc) >= (8, 0):
            return "bfloat16", f"GPU compute capability {cc[0]}.{cc[1]}: bfloat16 tensor cores"
        if tuple(cc) >= (7, 0):
            return "float16", (f"GPU compute capability {cc[0]}.{cc[1]}: float16 tensor cores "
                               "(with loss scaling)")
        return "float32", f"GPU compute capability {cc[0]}.{cc[1]}: no fast half precision"
    return "float32", "CPU: half precision would be slower, keep float32"


class DynamicLossScale(tf.Module):
    """Loss scaling for float16: multiply the loss before the backward pass so small
    gradients do not underflow, divide the gradients after. If any gradient is inf/NaN
    the step is skipped and the scale halved; after ``growth_interval`` good steps it
    doubles. (bfloat16 has float32's exponent range and needs none of this.)"""

    def __init__(self, initial: float = 2.0 ** 15, growth_interval: int = 2000):
        super().__init__(name="loss_scale")
        self.scale = tf.Variable(float(initial), trainable=False, name="scale")
        self.good_steps = tf.Variable(0, trainable=False, dtype=tf.int64, name="good_steps")
        self.growth_interval = int(growth_interval)

    def unscale(self, grads):
        """``(gradients / scale, all finite?)``."""
        grads = [g / self.scale for g in grads]
        finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in grads])
        return grads, finite

    def update(self, finite):
        def grow():
            self.good_steps.assign_add(1)
            full = self.good_steps >= self.growth_interval
            self.scale.assign(tf.where(full, self.scale * 2.0, self.scale))
            self.good_steps.assign(tf.where(full, tf.zeros_like(self.good_steps),
                                            self.good_steps))
            return tf.constant(True)

        def shrink():
            self.scale.assign(tf.maximum(self.scale / 2.0, 1.0))
            self.good_steps.assign(0)
            return tf.constant(False)

        return tf.cond(finite, grow, shrink)


# --------------------------------------------------------------------------- schedule, decay

class StaircaseDecay:
    """``initial * rate ** floor(step / decay_steps)``: halve the rate every N steps."""

    def __init__(self, initial: float = INITIAL_LEARNING_RATE, decay_rate: float = DECAY_RATE,
                 decay_steps: int = 1000):
        if not initial > 0:
            raise ValueError(f"initial learning rate must be > 0, got {initial!r}")
        if not 0 < decay_rate <= 1:
            raise ValueError(f"decay_rate must be in (0, 1], got {decay_rate!r}")
        if int(decay_steps) < 1:
            raise ValueError(f"decay_steps must be >= 1, got {decay_steps!r}")
        self.initial, self.decay_rate, self.decay_steps = float(initial), float(decay_rate), \
            int(decay_steps)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        return self.initial * tf.pow(self.decay_rate, tf.floor(step / self.decay_steps))

    def values(self, steps: Iterable[int]) -> np.ndarray:
        """The rate at each step (NumPy), e.g. for a plot."""
        s = np.asarray(list(steps), np.float64)
        return self.initial * self.decay_rate ** np.floor(s / self.decay_steps)

    def __repr__(self) -> str:
        return (f"StaircaseDecay({self.initial:g} x {self.decay_rate:g} every "
                f"{self.decay_steps} steps)")


def kernels(module) -> list:
    """The trainable weight matrices/kernels of ``module`` (rank >= 2): what L2 decays.

    Batch-norm scales and offsets and biases (rank 1) are left out, as is common practice
    ("no bias decay", He et al. 2019, "Bag of Tricks for Image Classification"): they are few, and pulling
    batch norm's scale towards zero shrinks what a layer passes on. The kernels that feed
    batch norm are decayed although batch norm makes the layer's output insensitive to
    their scale: on such weights L2 does not limit what the layer can express, it keeps
    their norm small and so raises the effective learning rate (van Laarhoven 2017).
    """
    return [v for v in module.trainable_variables if len(v.shape) >= 2]


def l2_penalty(variables, weight_decay: float):
    """``weight_decay * sum(||w||^2) / 2`` over ``variables`` (TF1's l2_regularizer)."""
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
    variables = list(variables)
    if not variables or weight_decay == 0:
        return tf.constant(0.0)
    return weight_decay * tf.add_n([tf.nn.l2_loss(tf.cast(v, tf.float32)) for v in variables])


# --------------------------------------------------------------------------- the step

def train_step(model, optimizer, images, labels, weight_decay: float, loss_scale=None):
    """One optimisation step of the lesson's recipe (notebook 02 writes it out).

    Forward pass under a ``tf.GradientTape``; the loss is the mean cross-entropy plus
    ``weight_decay`` times the L2 norm of the kernels; one ``optimizer.apply`` of its
    gradients. With a :class:`DynamicLossScale` (float16) the loss is scaled before the
    backward pass and a step whose gradients are not finite is skipped. Returns the loss
    (``total_loss``), its two parts and the logits.
    """
    with tf.GradientTape() as tape:
        logits = model(images, is_training=True)
        cross_entropy = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
        decay = l2_penalty(kernels(model), weight_decay)
        total_loss = cross_entropy + decay
        scaled = total_loss * loss_scale.scale if loss_scale is not None else total_loss
    variables = model.trainable_variables
    grads = tape.gradient(scaled, variables)
    if loss_scale is not None:
        grads, finite = loss_scale.unscale(grads)
        tf.cond(finite, lambda: _apply(optimizer, grads, variables), tf.no_op)
        loss_scale.update(finite)
    else:
        optimizer.apply(grads, variables)
    return {"total_loss": total_loss, "cross_entropy": cross_entropy, "weight_decay": decay,
            "logits": logits}


def _apply(optimizer, grads, variables):
    optimizer.apply(grads, variables)
    return tf.no_op()


# --------------------------------------------------------------------------- trainer

class Trainer(tf.Module):
    """Adam + L2 weight decay + staircase schedule for a Sonnet classifier.

    ``model(images, is_training)`` must return logits. ``train_step(images, labels)`` sets
    the learning rate from the schedule, runs ``step_fn`` (default :func:`train_step`;
    notebook 02 passes its own, written out in the lesson, with the same signature),
    applies the decoupled weight decay if asked, counts the step and returns
    ``total_loss``, ``cross_entropy``, ``weight_decay``, ``accuracy`` and
    ``learning_rate``. It is compiled with ``tf.function`` (``jit_compile=True`` adds
    XLA); ``fit`` runs epochs,
    writes TensorBoard summaries into ``log_dir`` (``train/`` and ``val/`` runs) and
    saves a checkpoint after each epoch when given a ``tf.train.CheckpointManager``.
    ``checkpoint`` holds model, optimizer, step (and the loss scale) for resuming;
    ``history`` holds the per-epoch curves of all epochs so far, and is saved next to the
    checkpoints (``history.json``) so :meth:`restore` brings it back with them.
    """

    def __init__(self, model, *, schedule: StaircaseDecay | None = None,
                 weight_decay: float = 0.0, decoupled_weight_decay: float = 0.0,
                 step_fn=None, log_dir: str | Path | None = None,
                 jit_compile: bool = False, use_tf_function: bool = True):
        super().__init__(name="trainer")
        self.model = model
        self.schedule = schedule or StaircaseDecay()
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
        if decoupled_weight_decay < 0:
            raise ValueError(f"decoupled_weight_decay must be >= 0, got {decoupled_weight_decay!r}")
        self.weight_decay = float(weight_decay)
        # AdamW (Loshchilov & Hutter): after each Adam update, every kernel shrinks by
        # learning_rate * decoupled_weight_decay, outside Adam's per-weight scaling.
        self.decoupled_weight_decay = float(decoupled_weight_decay)
        self.step_fn = step_fn or train_step
        self.jit_compile = bool(jit_compile)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.learning_rate = tf.Variable(self.schedule(0), trainable=False, name="learning_rate")
        self.optimizer = snt.optimizers.Adam(learning_rate=self.learning_rate)
        dtype = getattr(model, "compute_dtype", tf.float32)
        self.loss_scale = DynamicLossScale() if dtype == tf.float16 else None
        objects = dict(model=model, optimizer=self.optimizer, step=self.step)
        if self.loss_scale is not None:
            objects["loss_scale"] = self.loss_scale
        self.checkpoint = tf.train.Checkpoint(**objects)
        self.log_dir = Path(log_dir) if log_dir is not None else None
        self._writers: dict[str, object] = {}
        self.history: dict[str, list[float]] = {}
        if use_tf_function:
            # autograph=False: the step has no data-dependent Python control flow (the one
            # branch, loss scaling, uses tf.cond), so plain tracing is all it needs.
            self.train_step = tf.function(self._train_step, jit_compile=jit_compile,
                                          autograph=False)
            self._eval_step = tf.function(self._eval_logits, autograph=False)
        else:
            self.train_step = self._train_step
            self._eval_step = self._eval_logits

    # ---------------------------------------------------------------- steps
    def _train_step(self, images, labels):
        self.learning_rate.assign(self.schedule(self.step))
        labels = tf.cast(labels, tf.int32)
        out = self.step_fn(self.model, self.optimizer, images, labels, self.weight_decay,
                           self.loss_scale)
        if self.decoupled_weight_decay:
            shrink = self.learning_rate * self.decoupled_weight_decay
            for v in kernels(self.model):
                v.assign_sub(shrink * v)
        self.step.assign_add(1)
        accuracy = tf.reduce_mean(tf.cast(
            tf.equal(tf.argmax(out["logits"], axis=1, output_type=tf.int32), labels),
            tf.float32))
        return {"total_loss": out["total_loss"], "cross_entropy": out["cross_entropy"],
                "weight_decay": out["weight_decay"], "accuracy": accuracy,
                "learning_rate": self.learning_rate.read_value()}

    def _eval_logits(self, images):
        return self.model(images, is_training=False)

    # ---------------------------------------------------------------- evaluation
    def predict(self, dataset) -> tuple[np.ndarray, np.ndarray]:
        """``(logits, labels)`` over a dataset of ``(images, labels)`` batches."""
        logits, labels = [], []
        for images, y in dataset:
            logits.append(self._eval_step(images).numpy())
            labels.append(np.asarray(y))
        return np.concatenate(logits), np.concatenate(labels)

    def evaluate(self, dataset) -> dict[str, float]:
        """Mean cross-entropy and accuracy over ``dataset`` (inference-mode batch norm)."""
        logits, labels = self.predict(dataset)
        return evaluate_logits(logits, labels)

    # ---------------------------------------------------------------- summaries
    def writer(self, run: str):
        if self.log_dir is None:
            return None
        if run not in self._writers:
            self._writers[run] = tf.summary.create_file_writer(str(self.log_dir / run))
        return self._writers[run]

    def _log(self, run: str, values: Mapping[str, float], step: int, images=None):
        w = self.writer(run)
        if w is None:
            return
        with w.as_default(step=step):
            for k, v in values.items():
                tf.summary.scalar(k, float(v))
            if images is not None:
                tf.summary.image("training_images", images, max_outputs=IMAGES_IN_SUMMARY)

    # ---------------------------------------------------------------- checkpoints
    def run_config(self) -> dict:
        """What makes this run's checkpoints this run's: the model's class, constructor
        arguments and compute dtype, the optimizer, the schedule, the weight decay, XLA.

        The decoupled weight decay enters only when it is used, so that the configurations
        (and checkpoint folders) of runs without it stay what they were before it existed.
        The step function does not enter: the lesson's written-out step and
        :func:`train_step` are the same computation (notebook 02 checks it); a changed
        step needs its folder deleted by hand.
        """
        dtype = getattr(self.model, "compute_dtype", tf.float32)
        extra = ({"decoupled_weight_decay": self.decoupled_weight_decay}
                 if self.decoupled_weight_decay else {})
        return json.loads(json.dumps({
            "model": {"class": type(self.model).__name__,
                      "config": getattr(self.model, "config", {}),
                      "compute_dtype": getattr(dtype, "name", str(dtype))},
            "optimizer": type(self.optimizer).__name__,
            "schedule": {"initial": self.schedule.initial, "decay_rate": self.schedule.decay_rate,
                         "decay_steps": self.schedule.decay_steps},
            "weight_decay": self.weight_decay, "jit_compile": self.jit_compile, **extra,
        }, sort_keys=True, default=str))

    def checkpoint_manager(self, root, *, max_to_keep: int = 3, **data) -> "tf.train.CheckpointManager":
        """A ``tf.train.CheckpointManager`` in ``root/<model name>-<hash>/``, one folder per
        configuration.

        The hash (8 hex digits) covers :meth:`run_config` plus ``data``: what the trainer
        cannot see but changes the run (batch size, seed, ...). The same configuration
        finds its own folder again and resumes there; a changed one (another head, no
        weight decay, XLA) starts in a new folder instead of restoring checkpoints that
        do not fit it. The configuration is written next to the checkpoints
        (``run_config.json``) so a person can tell the folders apart.
        """
        folder, config = self._folder_and_config(root, data)
        saved = folder / RUN_CONFIG_FILE
        if saved.exists():
            self._check_run_config(folder, config)
        else:
            folder.mkdir(parents=True, exist_ok=True)
            with atomic_write(saved, encoding="utf-8") as handle:
                handle.write(json.dumps(config, indent=2, sort_keys=True) + "\n")
        return tf.train.CheckpointManager(self.checkpoint, str(folder), max_to_keep=max_to_keep)

    def checkpoint_folder(self, root, **data) -> Path:
        """The folder :meth:`checkpoint_manager` would use (nothing is created)."""
        return self._folder_and_config(root, data)[0]

    def _folder_and_config(self, root, data) -> tuple[Path, dict]:
        config = {"trainer": self.run_config(), "data": json.loads(json.dumps(data, default=str))}
        text = json.dumps(config, sort_keys=True)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
        return Path(root) / f"{self.model.name}-{digest}", config

    def _check_run_config(self, folder: Path, expected: dict | None = None) -> None:
        saved = folder / RUN_CONFIG_FILE
        if not saved.exists():
            return
        try:
            found = json.loads(saved.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ValueError(f"{saved}: not a run configuration ({err}); delete the folder "
                             "to train from the start.") from None
        if (expected is not None and found != expected) or found.get("trainer") != self.run_config():
            raise ValueError(f"{folder}: these checkpoints belong to another configuration "
                             f"(see {RUN_CONFIG_FILE}); use trainer.checkpoint_manager(root) "
                             "to get this configuration's own folder, or delete this one.")

    def restore(self, manager) -> str | None:
        """Restore the latest checkpoint of ``manager`` (if any) and its history.

        Returns the checkpoint's name, or None for a fresh start. Variables that do not
        exist yet (a model not called yet, Adam's moments) are restored when created. A
        folder made by :meth:`checkpoint_manager` for another configuration is refused.
        """
        self._check_run_config(Path(manager.directory))
        path = manager.restore_or_initialize()
        self.history = {}
        if path:
            saved = Path(manager.directory) / HISTORY_FILE
            if saved.exists():
                self.history = json.loads(saved.read_text(encoding="utf-8"))
        return Path(path).name if path else None

    def _save(self, manager) -> None:
        manager.save(checkpoint_number=int(self.step.numpy()))
        with atomic_write(Path(manager.directory) / HISTORY_FILE, encoding="utf-8") as h:
            json.dump(self.history, h)

    # ---------------------------------------------------------------- loop
    def fit(self, train_ds, epochs: int, *, val_ds=None, manager=None,
            progress: bool = True, desc: str = "training") -> dict[str, list[float]]:
        """Train until ``epochs`` epochs are done in total (a restored run continues
        where it stopped). Returns this call's per-epoch history (``self.history`` has all
        epochs): train ``loss`` (cross-entropy without the L2 term, to compare with
        ``val_loss``) and ``accuracy``, means over the epoch's steps,
        ``learning_rate`` at the epoch's end, ``val_loss`` / ``val_accuracy`` if
        ``val_ds`` is given."""
        from edgelab.core.progress import bar as progress_bar

        steps_per_epoch = int(train_ds.cardinality())
        if steps_per_epoch <= 0:
            raise ValueError("fit needs a finite training dataset with a known number of "
                             "batches (no .repeat() without .take(), no .filter())")
        start_epoch = int(self.step.numpy()) // steps_per_epoch
        history: dict[str, list[float]] = {}
        # One bar update per epoch: a notebook stores every update, so per-step updates
        # would fill it with hundreds of lines.
        bar = progress_bar(total=max(0, epochs - start_epoch), desc=desc, unit="epoch",
                           disable=not progress, leave=False)
        for epoch in range(start_epoch, epochs):
            sums: dict[str, float] = {}
            n = 0
            for i, (images, labels) in enumerate(train_ds):
                out = self.train_step(images, labels)
                out = {k: float(v) for k, v in out.items()}
                step = int(self.step.numpy())
                self._log("train", out, step, images if i == 0 else None)
                # the epoch's "loss" is the cross-entropy alone, comparable with val_loss
                # (TensorBoard gets the total and both parts at every step)
                for k, src in (("loss", "cross_entropy"), ("accuracy", "accuracy")):
                    sums[k] = sums.get(k, 0.0) + out[src]
                n += 1
            row = {k: v / n for k, v in sums.items()}
            row["learning_rate"] = float(self.learning_rate.numpy())
            if val_ds is not None:
                val = self.evaluate(val_ds)
                row["val_loss"], row["val_accuracy"] = val["loss"], val["accuracy"]
                # same tag names as the train run, so TensorBoard overlays the two curves
                self._log("val", {"cross_entropy": val["loss"], "accuracy": val["accuracy"]},
                          int(self.step.numpy()))
            bar.set_postfix({k: f"{v:.3f}" for k, v in row.items() if k != "learning_rate"},
                            refresh=False)
            bar.update(1)
            for k, v in row.items():
                history.setdefault(k, []).append(v)
                self.history.setdefault(k, []).append(v)
            if manager is not None:
                self._save(manager)
        bar.close()
        for w in self._writers.values():
            w.flush()
        return history


def evaluate_logits(logits, labels) -> dict[str, float]:
    """Mean softmax cross-entropy and accuracy of ``logits`` against integer ``labels``."""
    logits = np.asarray(logits, np.float64)
    labels = np.asarray(labels)
    if logits.ndim != 2 or len(logits) != len(labels):
        raise ValueError(f"need logits [N, classes] and N labels, got {logits.shape} and "
                         f"{labels.shape}")
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(len(labels)), labels].mean()
    return {"loss": float(loss), "accuracy": float((logits.argmax(1) == labels).mean())}


# --------------------------------------------------------------------------- the recipe

def flowers_datasets(sizes, seed: int = 0) -> dict:
    """Flower17 train/val/test ``tf.data`` pipelines at ``sizes.image_size``.

    Train: shuffled and augmented (flip, brightness, contrast), last partial batch dropped
    (static shapes for XLA/TPUs). Val/test: in file order, no augmentation.
    """
    from edgelab.datasets import flowers17

    out = {}
    for split in ("train", "val", "test"):
        files, labels = flowers17.load(split)
        train = split == "train"
        out[split] = flowers17.dataset(files, labels, image_size=sizes.image_size,
                                       batch_size=sizes.batch_size, shuffle=train,
                                       augment_images=train, seed=seed, drop_remainder=train)
        out[f"{split}_files"], out[f"{split}_labels"] = files, labels
    return out


def build_flowers_model(sizes, compute_dtype: str = "float32"):
    """The lesson's Xception for Flower17 at the profile's sizes (lesson head)."""
    from edgelab.xception import model as xception
    from edgelab.datasets import flowers17

    return xception.Xception(
        num_classes=flowers17.NUM_CLASSES,
        widths=xception.Widths().scaled(sizes.width_multiplier),
        middle_blocks=sizes.middle_blocks, head="lesson", dense_units=256,
        dropout=sizes.dropout, compute_dtype=compute_dtype, image_size=sizes.image_size)


def make_trainer(model, sizes, log_dir=None, *, weight_decay: float | None = None,
                 **kwargs) -> Trainer:
    """A :class:`Trainer` with the profile's staircase schedule and L2 weight decay
    (``weight_decay`` overrides the profile's, e.g. ``0.0`` with
    ``decoupled_weight_decay=...`` for AdamW). Other keywords go to :class:`Trainer`
    (``step_fn``, ``decoupled_weight_decay``, ``jit_compile``)."""
    schedule = StaircaseDecay(INITIAL_LEARNING_RATE, DECAY_RATE, sizes.lr_decay_steps)
    wd = sizes.weight_decay if weight_decay is None else weight_decay
    return Trainer(model, schedule=schedule, weight_decay=wd, log_dir=log_dir, **kwargs)


def train_flowers(sizes, *, epochs: int | None = None, seed: int = 0, progress: bool = False,
                  log_dir=None):
    """Train the lesson's Xception on Flower17's train split; evaluate on its test split.

    Returns ``(model, info)`` with ``info`` = test accuracy, class names and a short
    description. Same code as notebook 02, without the lesson around it.
    """
    from edgelab.datasets import flowers17
    from edgelab.core.seeding import seed_everything

    seed_everything(seed)
    epochs = int(epochs if epochs is not None else sizes.epochs)
    data = flowers_datasets(sizes, seed=seed)
    dtype, _ = mixed_precision_dtype()
    model = build_flowers_model(sizes, dtype)
    trainer = make_trainer(model, sizes, log_dir=log_dir)
    trainer.fit(data["train"], epochs, progress=progress, desc="Xception on Flower17")
    test = trainer.evaluate(data["test"])
    info = {"test_accuracy": test["accuracy"], "class_names": list(flowers17.CLASS_NAMES),
            "trained_by": (f"edgelab.xception.training.train_flowers, {epochs} epochs at "
                           f"{sizes.image_size}px, width x{sizes.width_multiplier:g}, "
                           f"{sizes.middle_blocks} middle blocks")}
    return model, info


def steps_per_epoch(num_examples: int, batch_size: int, drop_remainder: bool = True) -> int:
    return num_examples // batch_size if drop_remainder else math.ceil(num_examples / batch_size)


# --------------------------------------------------------------------------- for other lessons

def load_or_train(*, directory: str | os.PathLike | None = None, sizes=None,
                  epochs: int | None = None, progress: bool = False):
    """The Xception notebook 02 saved, or (if it has not run) a small one trained here.

    Returns ``(module, source)``; ``source`` says which it was. The fallback uses the
    *quick* profile's sizes (a few minutes on two CPU cores), trains on the train split
    with :class:`Trainer` and saves the result where notebook 02
    would have, so the next call loads it. ``sizes`` (an object with the attributes of
    ``edgelab.sizes("xception")``) and ``epochs`` override the quick sizes.
    """
    from edgelab.core import profiles
    from edgelab.xception.model import CONFIG_FILE, load, model_dir, save

    folder = Path(directory) if directory is not None else model_dir()
    if (folder / CONFIG_FILE).exists():
        module, config = load(folder)
        acc = config.get("test_accuracy")
        note = f", test accuracy {acc:.3f}" if isinstance(acc, (int, float)) else ""
        return module, f"loaded {folder.name}/ ({config.get('trained_by', 'saved model')}{note})"
    S = sizes if sizes is not None else profiles.sizes("xception", "quick")
    module, info = train_flowers(S, epochs=epochs, progress=progress)
    save(module, folder, image_size=S.image_size, class_names=info["class_names"],
         extra={"trained_by": info["trained_by"], "test_accuracy": info["test_accuracy"]})
    return module, (f"trained here ({info['trained_by']}, test accuracy "
                    f"{info['test_accuracy']:.3f}); notebook 02 has not saved one yet")
