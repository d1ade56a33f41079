"""A small, pretrained Flower17 classifier in Keras 3, for lessons that need one ready.

Grad-CAM (notebook 03) and quantization (notebook 07) need a trained flower model but are
not about training one. This module builds MobileNet v1 (alpha 0.25) with the ImageNet
weights from the data layer, adds a new 17-class head, and trains only the head for a
few epochs (seconds on a CPU); the backbone stays frozen. Notebook 05 teaches the same
idea properly with TF Hub and fine-tuning.

The model takes float32 images in [0, 1] (what ``flowers17.dataset`` yields) and returns
17 logits; the rescaling to MobileNet's [-1, 1] is its first layer.
"""

from __future__ import annotations

from edgelab.core import paths

MODEL_FILE = "flowers_mobilenet.keras"
ALPHA = 0.25


def build(image_size: int = 128, num_classes: int = 17, dropout: float = 0.2):
    """MobileNet v1 alpha-0.25 (ImageNet weights, frozen) + a new dense head; uncompiled."""
    import keras
    from keras import layers

    from edgelab.datasets import samples

    backbone = keras.applications.MobileNet(input_shape=(image_size, image_size, 3), alpha=ALPHA,
                                            include_top=False, weights=None)
    backbone.load_weights(samples.mobilenet_weights(include_top=False))
    backbone.trainable = False
    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = layers.Rescaling(2.0, offset=-1.0, name="to_minus1_1")(inputs)
    x = backbone(x, training=False)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name="flowers_mobilenet")


def train(model, train_ds, val_ds=None, epochs: int = 10, learning_rate: float = 1e-2, verbose=0,
          callbacks=None):
    """Train the (head of the) model with Adam on sparse labels; returns the Keras History.

    A frozen backbone leaves a linear problem on 256 features, which takes a large step
    size well: 1e-2 for 10 epochs reaches about 0.78 test accuracy at 128 px (2 CPU cores, 20 s).
    """
    import keras

    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model.fit(train_ds, validation_data=val_ds, epochs=epochs, verbose=verbose,
                     callbacks=callbacks)


def load_or_train(image_size: int = 128, epochs: int = 10, batch_size: int = 32):
    """The saved flower model if one exists (same image size), else train and save one.

    Returns ``(model, source)``; ``source`` says which it was.
    """
    import keras

    from edgelab.core.atomic import atomic_path
    from edgelab.datasets import flowers17

    path = paths.model_path(MODEL_FILE)
    if path.exists():
        model = keras.models.load_model(path)
        if model.input_shape[1] == image_size:
            return model, f"loaded {path.name}"
    files, labels = flowers17.load("train")
    train_ds = flowers17.dataset(files, labels, image_size=image_size, batch_size=batch_size,
                                 shuffle=True, augment_images=True)
    model = build(image_size)
    from edgelab.core.progress import keras_callback

    train(model, train_ds, epochs=epochs, callbacks=[keras_callback("training the flower head")])
    with atomic_path(path) as tmp:
        model.save(tmp)
    return model, f"trained here: frozen MobileNet features + new head, {epochs} epochs on the train split"
