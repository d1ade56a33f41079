"""Notebook 02's exercise checkers can fail: the reference solution passes, the untouched
starter is "not done yet", and each realistic mistake gets its own message.

The namespace stands in for the notebook at its exercise cells, at sizes far below the
quick profile's (32-px images, a thin Xception without middle blocks, one short epoch) so
the file stays short: real Flower17 images, section 7's train step, a trained lesson model,
its test embeddings and logits. Two stand-ins save most of the time:

* trainers run their steps eagerly (``use_tf_function=False``): the same computation,
  without seconds of tracing per trainer;
* a trainer asked for ``jit_compile=True`` is traced by ``tf.function`` but not compiled by
  XLA (and reports ``jit_compile=True``): XLA's compilation of even this model takes most
  of a minute on two cores, and exercise 3's checker looks only at the flag, the step count
  and the timings, whose first call is as much slower than the rest with tracing alone.
  The real XLA path is the notebook's: its reference solution, run in the quick profile,
  passed (see the closing report of the exercises issue).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from _exercises import prove
from conftest import mirror_dir


class _EagerTraining:
    """``edgelab.xception.training`` with eager steps, and traced ones without XLA where XLA
    is asked for (see the module docstring)."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        return getattr(self._module, name)

    def make_trainer(self, model, sizes, log_dir=None, **kwargs):
        if kwargs.pop("jit_compile", False):
            trainer = self._module.make_trainer(model, sizes, log_dir, **kwargs)   # traced
            trainer.jit_compile = True
            return trainer
        kwargs.setdefault("use_tf_function", False)
        return self._module.make_trainer(model, sizes, log_dir, **kwargs)


def make_context(out) -> dict:
    """The notebook's names at its exercise cells, at tiny sizes (the data home and mirror
    already set)."""
    import tensorflow as tf

    from edgelab import xception
    from edgelab.core.profiles import Sizes
    from edgelab.datasets import flowers17
    from edgelab.xception import projector, training

    S = Sizes("xception", "quick", dict(image_size=32, batch_size=8, epochs=1,
                                        width_multiplier=0.125, middle_blocks=0,
                                        lr_decay_steps=100, weight_decay=1e-4, dropout=0.5,
                                        test_accuracy_goal=0.0))
    data = {}
    for split, per_class, train in (("train", 3, True), ("val", 2, False), ("test", 2, False)):
        files, labels = flowers17.load(split)
        pick = np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(17)])
        data[split] = flowers17.dataset([files[i] for i in pick], labels[pick], image_size=32,
                                        batch_size=8, shuffle=train, augment_images=train,
                                        seed=0, drop_remainder=train)
    tf.random.set_seed(0)
    eager = _EagerTraining(training)
    model = training.build_flowers_model(S, "float32")
    trainer = eager.make_trainer(model, S, step_fn=training.train_step)
    trainer.fit(data["train"], S.epochs, val_ds=data["val"], progress=False)
    logits, y_test = trainer.predict(data["test"])
    embeddings = np.concatenate([model.embed(x, is_training=False).numpy()
                                 for x, _ in data["test"]])
    return dict(np=np, math=math, time=time, tf=tf, xception=xception, training=eager,
                projector=projector, S=S, data=data, compute_dtype="float32",
                class_names=list(flowers17.CLASS_NAMES), train_step=training.train_step,
                checkpoint_root=out / "checkpoints", lab=type("Lab", (), {"seed": 42})(),
                trainer=trainer, model=model, logits=logits, y_test=y_test,
                embeddings=embeddings)


@pytest.fixture(scope="module")
def context(session_home, tmp_path_factory):
    if mirror_dir() is None:
        pytest.skip("no data mirror (see tests/conftest.py)")
    out = tmp_path_factory.mktemp("nb02")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDGELAB_HOME", str(session_home))
        mp.setenv("EDGELAB_MIRROR", str(mirror_dir()))
        mp.setenv("EDGELAB_OUT", str(out))
        return make_context(out)


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_exercise(number, context):
    prove("02", number, context)


def test_the_decay_a_solution_uses_is_the_one_its_message_reports(context):
    """AdamW's pass message reports the shrink of the decoupled decay over the run."""
    from edgelab.exercises import nb02

    trainer = context["trainer"]
    steps = int(trainer.step.numpy())
    rates = trainer.schedule.values(range(steps))
    assert nb02._shrink(trainer, 0.05, steps) == pytest.approx(1 - np.prod(1 - 0.05 * rates))
