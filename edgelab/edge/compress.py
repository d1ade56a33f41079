"""Two ways to make a model smaller beyond quantization: magnitude pruning and distillation.

**Magnitude pruning.** Most weights of a trained network are small; setting the smallest
x% of each kernel to zero changes the outputs little, and a short fine-tune with the
zeros held in place recovers most of the rest. A .tflite file stores the zeros like any
other number, so the file does not shrink, but it compresses: an app download or an
over-the-air update is gzip'ed, and runtimes with sparse kernels can skip the zeros.
(``tensorflow-model-optimization`` does this for tf_keras models only; Keras 3 needs the
few lines below.)

**Knowledge distillation** (Hinton et al., 2015). A small *student* is trained to match
the *teacher*'s softened output distribution, ``softmax(logits / T)``, as well as the
labels. The soft targets carry what the teacher learned about which wrong classes are
close ("this 7 looks a bit like a 1"), which a one-hot label cannot. That extra
information matters most when labelled examples are few: :func:`compare_students` trains
the same student with and without it, paired seed by seed, so the effect can be measured
against the spread between seeds rather than read off one noisy run.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

PRUNABLE_LAYERS = ("Conv2D", "Dense", "DepthwiseConv2D")
DEFAULT_SPARSITY = 0.8      # 80% zeros: accuracy recovers with a short fine-tune on MNIST


def gzip_bytes(data: bytes | str | os.PathLike, level: int = 9) -> int:
    """Size in bytes of ``data`` (bytes, or a file's contents) after gzip."""
    if not isinstance(data, (bytes, bytearray)):
        data = Path(data).read_bytes()
    return len(gzip.compress(bytes(data), compresslevel=level, mtime=0))


def _kernel(layer):
    if type(layer).__name__ == "DepthwiseConv2D":
        return layer.depthwise_kernel
    return layer.kernel


class MagnitudePruner:
    """Zero the ``sparsity`` fraction of smallest-magnitude weights in every kernel of the
    prunable layers (Conv2D, Dense, DepthwiseConv2D), and keep them zero while fine-tuning.

    ``learning_rate``: Adam's step size for :meth:`fine_tune` (small: the network is
    already trained). ``batch_size``: fine-tuning batch size.
    """

    def __init__(self, sparsity: float = DEFAULT_SPARSITY, learning_rate: float = 1e-4,
                 batch_size: int = 128):
        if not 0.0 <= sparsity < 1.0:
            raise ValueError(f"sparsity is the fraction of weights to zero, in [0, 1); "
                             f"got {sparsity}")
        self.sparsity = sparsity
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.masks: dict[str, np.ndarray] = {}

    def layers(self, model) -> list:
        found = [layer for layer in model.layers if type(layer).__name__ in PRUNABLE_LAYERS]
        if not found:
            raise ValueError(f"model {model.name!r} has no Conv2D/Dense/DepthwiseConv2D layer "
                             "to prune")
        return found

    def compute_masks(self, model) -> dict[str, np.ndarray]:
        """Per layer: a 0/1 mask keeping all but the ``sparsity`` smallest |w| (exact count)."""
        masks = {}
        for layer in self.layers(model):
            w = np.asarray(_kernel(layer).numpy())
            n_zero = int(round(self.sparsity * w.size))
            mask = np.ones(w.size, np.float32)
            if n_zero:
                mask[np.argpartition(np.abs(w).ravel(), n_zero - 1)[:n_zero]] = 0.0
            masks[layer.name] = mask.reshape(w.shape)
        return masks

    def apply(self, model) -> None:
        """Multiply every prunable kernel by its mask (after :meth:`prune` set the masks)."""
        if not self.masks:
            raise RuntimeError("no masks yet: call prune(model) first")
        for layer in self.layers(model):
            if layer.name in self.masks:
                kernel = _kernel(layer)
                kernel.assign(kernel.value * self.masks[layer.name])

    def prune(self, model):
        """A pruned copy of ``model`` (the original is left untouched)."""
        import keras

        copy = keras.models.clone_model(model)
        copy.set_weights(model.get_weights())
        self.masks = self.compute_masks(copy)
        self.apply(copy)
        return copy

    def callback(self):
        """A Keras callback that re-applies the masks after every training step, so the
        optimizer (whose momentum would revive them) cannot move pruned weights off zero."""
        import keras

        pruner = self

        class KeepPruned(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                pruner.apply(self.model)

        return KeepPruned()

    def fine_tune(self, model, images: np.ndarray, labels: np.ndarray, epochs: int,
                  seed: int = 0, verbose: int = 0):
        """Train the pruned model briefly (sparse cross-entropy on logits) with the masks
        held; returns the Keras History."""
        import keras

        model.compile(optimizer=keras.optimizers.Adam(self.learning_rate),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
        keras.utils.set_random_seed(seed)
        return model.fit(images, labels, batch_size=self.batch_size, epochs=epochs,
                         shuffle=True, callbacks=[self.callback()], verbose=verbose)


def sparsity(model) -> dict[str, float]:
    """Fraction of exactly-zero weights per prunable kernel, plus ``"all kernels"``."""
    out, zeros, total = {}, 0, 0
    for layer in model.layers:
        if type(layer).__name__ in PRUNABLE_LAYERS:
            w = np.asarray(_kernel(layer).numpy())
            out[layer.name] = float(np.mean(w == 0))
            zeros += int(np.sum(w == 0))
            total += w.size
    out["all kernels"] = zeros / total if total else 0.0
    return out


# --------------------------------------------------------------------------- distillation

def build_student(filters: tuple[int, int] = (8, 16), name: str = "mnist_student"):
    """A small MNIST CNN: two 3x3 convolutions with pooling and a 10-way linear layer
    (about 9,000 parameters against the teacher's 3.3 million). Float32 (28,28,1) in
    [0,1] -> 10 logits, like the teacher."""
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1), name="image")
    x = layers.Conv2D(filters[0], 3, padding="same", activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(filters[1], 3, padding="same", activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    logits = layers.Dense(10, name="logits")(x)
    return keras.Model(inputs, logits, name=name)


def distillation_targets(labels: np.ndarray, teacher_logits: np.ndarray) -> np.ndarray:
    """Pack labels and teacher logits into one float32 array ``[label, logit_0..logit_C-1]``
    so that a plain ``model.fit(x, y)`` can carry both to the loss."""
    labels = np.asarray(labels)
    teacher_logits = np.asarray(teacher_logits, np.float32)
    if labels.ndim != 1 or teacher_logits.ndim != 2 or len(labels) != len(teacher_logits):
        raise ValueError(f"need labels (N,) and teacher logits (N, classes); got {labels.shape} "
                         f"and {teacher_logits.shape}")
    return np.concatenate([labels[:, None].astype(np.float32), teacher_logits], axis=1)


def _distillation_loss_class():
    import keras
    from keras import ops

    class DistillationLoss(keras.losses.Loss):
        """``alpha * T^2 * KL(softmax(t/T) || softmax(s/T)) + (1 - alpha) * CE(label, s)``.

        ``y_true`` is :func:`distillation_targets`'s packing. The T^2 factor keeps the soft
        term's gradients on the same scale as the hard term's when T changes.
        """

        def __init__(self, temperature: float = 4.0, alpha: float = 0.7, name="distillation"):
            super().__init__(name=name)
            self.temperature = float(temperature)
            self.alpha = float(alpha)

        def call(self, y_true, y_pred):
            labels = ops.cast(y_true[:, 0], "int32")
            teacher = y_true[:, 1:]
            t = self.temperature
            p_teacher = ops.softmax(teacher / t, axis=-1)
            log_p_teacher = ops.log_softmax(teacher / t, axis=-1)
            log_p_student = ops.log_softmax(y_pred / t, axis=-1)
            kl = ops.sum(p_teacher * (log_p_teacher - log_p_student), axis=-1)
            ce = keras.losses.sparse_categorical_crossentropy(labels, y_pred, from_logits=True)
            return self.alpha * (t * t) * kl + (1.0 - self.alpha) * ce

        def get_config(self):
            return {"temperature": self.temperature, "alpha": self.alpha, "name": self.name}

    return DistillationLoss


def distillation_loss(temperature: float = 4.0, alpha: float = 0.7):
    """The Keras loss of :class:`Distiller` (built lazily: Keras is imported on use)."""
    return _distillation_loss_class()(temperature, alpha)


class Distiller:
    """Trains a student on labels alone, or on labels plus a teacher's soft targets.

    ``temperature``: softening of both distributions (higher = softer, more "dark
    knowledge"); ``alpha``: weight of the soft term; the rest of the optimization
    (``learning_rate``, ``batch_size``) is the same for both runs so they compare fairly.
    """

    def __init__(self, temperature: float = 4.0, alpha: float = 0.7, learning_rate: float = 3e-3,
                 batch_size: int = 128):
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha weighs the soft term, in [0, 1]; got {alpha}")
        self.temperature, self.alpha = temperature, alpha
        self.learning_rate, self.batch_size = learning_rate, batch_size

    def fit(self, student, images: np.ndarray, labels: np.ndarray, epochs: int,
            teacher_logits: np.ndarray | None = None, seed: int = 0, verbose: int = 0):
        """Train ``student`` in place; with ``teacher_logits`` it is distillation, without
        them plain cross-entropy on the labels. Returns the Keras History."""
        import keras

        keras.utils.set_random_seed(seed)
        if teacher_logits is None:
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            targets = np.asarray(labels)
        else:
            loss = distillation_loss(self.temperature, self.alpha)
            targets = distillation_targets(labels, teacher_logits)
        student.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss=loss)
        return student.fit(images, targets, batch_size=self.batch_size, epochs=epochs,
                           shuffle=True, verbose=verbose)


def compare_students(images: np.ndarray, labels: np.ndarray, teacher_logits: np.ndarray,
                     test_images: np.ndarray, test_labels: np.ndarray, *, seeds, epochs: int,
                     distiller: "Distiller | None" = None, build=build_student,
                     progress: bool = True):
    """Test accuracy of a student trained on ``labels`` alone and of one distilled from
    ``teacher_logits`` as well, for each seed; a pandas DataFrame indexed by seed with
    columns ``labels only``, ``distilled`` and ``gain`` (distilled minus labels only).

    The two runs of a seed start from the same initial weights and see the batches in the
    same order (the seed is set before the student is built and again before it is
    trained), so each row is a paired comparison and the rows show the spread.
    """
    import keras
    import pandas as pd

    from edgelab.core.progress import bar

    distiller = distiller or Distiller(batch_size=32)
    seeds = list(seeds)
    if not seeds:
        raise ValueError("compare_students needs at least one seed")
    rows = []
    with bar(total=2 * len(seeds), desc="students", unit="run", disable=not progress) as b:
        for seed in seeds:
            row = {"seed": seed}
            for mode, soft in (("labels only", None), ("distilled", teacher_logits)):
                keras.utils.set_random_seed(seed)
                student = build()
                distiller.fit(student, images, labels, epochs=epochs, teacher_logits=soft,
                              seed=seed)
                row[mode] = keras_accuracy(student, test_images, test_labels)
                b.update(1)
            row["gain"] = row["distilled"] - row["labels only"]
            rows.append(row)
    return pd.DataFrame(rows).set_index("seed")


def keras_accuracy(model, images: np.ndarray, labels: np.ndarray, batch_size: int = 512) -> float:
    """Top-1 accuracy of a Keras model that outputs logits."""
    logits = model.predict(images, batch_size=batch_size, verbose=0)
    return float(np.mean(logits.argmax(axis=-1) == np.asarray(labels)))
