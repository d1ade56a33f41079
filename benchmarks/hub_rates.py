"""Notebook 05: which fine-tuning learning rate? Chosen on the validation split, never the test.

Not a speed benchmark (``python -m benchmarks`` does not run it); the experiment behind the
fine-tuning recipe in ``edgelab/core/profiles.py``'s ``hub`` sizes. It runs notebook 05's
recipe at the quick profile's sizes (224 px, a dense head trained 10 epochs on the frozen
backbone, then the top 9 blocks fine-tuned for 8 epochs, batch norm in inference mode) with
several optimizer settings and seeds, and records for each setting the mean over seeds of

* the validation accuracy after fine-tuning (what the choice rests on),
* the training accuracy of the first fine-tuning epoch (a collapse shows here first),

with every seed's figures in the note. Run it (about 20 minutes on 2 CPU cores)::

    EDGELAB_PROFILE=quick python -m benchmarks.hub_rates
"""

from __future__ import annotations

import os
import time

SEEDS = (42, 0, 1)
# name -> (peak learning rate, warm-up epochs, schedule after the warm-up)
SETTINGS = {
    "adam_5e-4_cosine": (5e-4, 0, "cosine"),         # the recipe before 2026-12 (no warm-up)
    "adam_5e-4_warmup1_cosine": (5e-4, 1, "cosine"),
    "adam_1e-4_cosine": (1e-4, 0, "cosine"),
    "adam_1e-5_constant": (1e-5, 0, "constant"),     # the TF and keras-io guides' rate
}


def main() -> None:
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf
    import tensorflow_hub as hub
    import tf_keras

    from benchmarks.common import SMOKE, report, sized
    from edgelab import hub as edgehub
    from edgelab.core import profiles
    from edgelab.datasets import flowers17

    S = profiles.sizes("hub", "quick")
    head_epochs, finetune_epochs = sized(S.head_epochs, 1), sized(S.finetune_epochs, 2)
    seeds = SEEDS[:sized(len(SEEDS), 1)]
    # Smoke mode (tests/test_benchmarks.py): the same code on a few images, one seed, two
    # fine-tuning epochs (the warm-up setting needs one left after its warm-up epoch).
    splits = {n: tuple(part[:64] if SMOKE else part for part in flowers17.load(n))
              for n in ("train", "val")}
    found = {name: [] for name in SETTINGS}
    heads = []
    for seed in seeds:
        tf_keras.utils.set_random_seed(seed)

        def data(split, train=False):
            files, y = splits[split]
            return flowers17.dataset(files, y, image_size=S.image_size, batch_size=S.batch_size,
                                     shuffle=train, augment_images=train, seed=seed)

        train_ds, val_ds = data("train", True), data("val")
        features = hub.KerasLayer(edgehub.resolve_handle(edgehub.feature_vector_handle(S.image_size)),
                                  trainable=False)
        inputs = tf_keras.Input((S.image_size, S.image_size, 3))
        x = tf_keras.layers.Dropout(0.2)(features(inputs, training=False))
        model = tf_keras.Model(inputs, tf_keras.layers.Dense(flowers17.NUM_CLASSES, name="head")(x))
        loss = tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        model.compile(tf_keras.optimizers.Adam(S.head_learning_rate), loss, metrics=["accuracy"])
        history = model.fit(train_ds, validation_data=val_ds, epochs=head_epochs, verbose=0)
        heads.append(history.history["val_accuracy"][-1])
        after_head = model.get_weights()
        features.trainable = True
        chosen = (edgehub.select_variables(features.trainable_variables,
                                           edgehub.top_blocks(S.finetune_blocks))
                  + model.get_layer("head").trainable_weights)
        steps = finetune_epochs * len(train_ds)
        for name, (rate, warm_epochs, schedule) in SETTINGS.items():
            model.set_weights(after_head)
            warm = warm_epochs * len(train_ds)
            if schedule == "cosine":
                lr = tf_keras.optimizers.schedules.CosineDecay(
                    0.0 if warm else rate, steps - warm,
                    warmup_target=rate if warm else None, warmup_steps=warm)
            else:
                lr = rate
            tuner = edgehub.top_fine_tuner(model, chosen)
            tuner.compile(tf_keras.optimizers.Adam(lr), loss, metrics=["accuracy"])
            t0 = time.perf_counter()
            h = tuner.fit(train_ds, validation_data=val_ds, epochs=finetune_epochs, verbose=0).history
            found[name].append((h["val_accuracy"][-1], h["accuracy"][0]))
            print(f"seed {seed} {name}: val {h['val_accuracy'][-1]:.3f}, first-epoch train "
                  f"{h['accuracy'][0]:.3f} ({time.perf_counter() - t0:.0f} s)", flush=True)
        tf.keras.backend.clear_session()

    heads_text = ", ".join(f"{v:.3f}" for v in heads)
    for name, rows in found.items():
        val = [v for v, _ in rows]
        first = [t for _, t in rows]
        seed_list = ", ".join(map(str, seeds))
        report(f"hub.rate_selection.{name}.val_accuracy", float(np.mean(val)), "",
               note=f"mean over seeds {seed_list}: {', '.join(f'{v:.3f}' for v in val)}; frozen "
                    f"head before fine-tuning: {heads_text}", source="hub_rates")
        report(f"hub.rate_selection.{name}.first_epoch_train_accuracy", float(np.mean(first)), "",
               note=f"seeds {seed_list}: {', '.join(f'{v:.3f}' for v in first)}", source="hub_rates")


if __name__ == "__main__":
    main()
