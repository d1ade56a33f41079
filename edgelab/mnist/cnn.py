"""The classic MNIST CNN of the TensorFlow tutorials: trained in notebook 01, converted and
quantized in notebook 07 (which gets it through :func:`load_or_train`).

conv 5x5x32 + ReLU -> max-pool 2 -> conv 5x5x64 + ReLU -> max-pool 2 -> dense 1024 + ReLU
-> dropout 0.4 -> dense 10 (logits). 3,274,634 parameters, almost all in the first dense
layer (7*7*64*1024): a good model to show what quantization saves.

The code is backend-neutral Keras 3: the same functions build and train it on TensorFlow
and on JAX (see :mod:`edgelab.devices`).
"""

from __future__ import annotations

import math
from pathlib import Path

from edgelab.core import paths

MODEL_FILE = "mnist_cnn.keras"


def build_model(dropout: float = 0.4, name: str = "mnist_cnn", *, layer_names: bool = True):
    """The CNN as a Keras 3 functional model taking float32 (28, 28, 1) in [0, 1].

    ``layer_names=False`` leaves the layers unnamed, so Keras numbers them (``conv2d``,
    ``conv2d_1``, ... counting every layer made in this process): how most tutorial code
    reads, and what breaks checkpoints that match variables by name (notebook 01, section 7).
    """
    import keras
    from keras import layers

    def named(n):
        return {"name": n} if layer_names else {}

    inputs = keras.Input((28, 28, 1), **named("image"))
    x = layers.Conv2D(32, 5, padding="same", activation="relu", **named("conv1"))(inputs)
    x = layers.MaxPooling2D(2, **named("pool1"))(x)
    x = layers.Conv2D(64, 5, padding="same", activation="relu", **named("conv2"))(x)
    x = layers.MaxPooling2D(2, **named("pool2"))(x)
    x = layers.Flatten(**named("flatten"))(x)
    x = layers.Dense(1024, activation="relu", **named("dense"))(x)
    x = layers.Dropout(dropout, **named("dropout"))(x)
    logits = layers.Dense(10, **named("logits"))(x)
    return keras.Model(inputs, logits, name=name)


def scaled_learning_rate(base: float, replicas: int) -> float:
    """Adam's learning rate for ``replicas`` data-parallel replicas.

    Each replica keeps its own batch size, so the global batch grows with the replicas:
    there are N times fewer steps per epoch, and each step averages N times more examples,
    so its gradient is less noisy and a larger step is safe. With SGD the usual rule is
    linear (x N, Goyal et al. 2017, with a warm-up); for Adam, whose update is already
    normalised per parameter, the gentler square-root rule (x sqrt(N)) is the safer default.
    """
    if replicas < 1:
        raise ValueError(f"replicas must be >= 1, got {replicas}")
    return base * math.sqrt(replicas)


def compile_model(model, learning_rate: float, steps: int | None = None, jit_compile="auto"):
    """Adam with an optional cosine decay over ``steps``; sparse cross-entropy on logits."""
    import keras

    lr = keras.optimizers.schedules.CosineDecay(learning_rate, steps) if steps else learning_rate
    model.compile(optimizer=keras.optimizers.Adam(lr),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], jit_compile=jit_compile)
    return model


FALLBACK_FILE = "mnist_cnn_quick.keras"


def load_or_train(epochs: int = 1, examples: int = 20_000, batch_size: int = 128):
    """The model notebook 01 saved, or (if that notebook has not run) a quickly trained one.

    Later lessons (Grad-CAM, quantization) need *a* trained MNIST CNN; they must not
    depend on the order in which a learner opens notebooks. The quick model is saved
    under its own name, so it is never mistaken for notebook 01's.
    Returns ``(model, source)`` where source says which of the two it is.
    """
    import keras

    from edgelab.core.atomic import atomic_path
    from edgelab.datasets import mnist

    path: Path = paths.model_path(MODEL_FILE)
    if path.exists():
        return keras.models.load_model(path), f"loaded {path.name}, saved by notebook 01"
    fallback = paths.model_path(FALLBACK_FILE)
    note = f"{epochs} epoch(s) on {examples} images, because notebook 01 has not been run"
    if fallback.exists():
        return keras.models.load_model(fallback), f"loaded {fallback.name}: trained earlier for {note}"
    from edgelab.mnist import inputs, training

    (x, y), _ = mnist.load()
    model = compile_model(build_model(), 1e-3, steps=epochs * math.ceil(examples / batch_size))
    model.fit(inputs.pipeline(x[:examples], y[:examples], batch_size, shuffle=True),
              epochs=epochs, verbose=0, callbacks=[training.progress_bar()])
    with atomic_path(fallback) as tmp:
        model.save(tmp)
    return model, f"trained here for {note}"
