"""Notebook 04's multi-task MNIST network in Chainer: one CNN trunk, three classifier heads.

Why this module exists
----------------------
A multi-output task makes a custom updater necessary, and MNIST has three for free: from
one image, predict the **digit** (10 classes), its **parity** (even/odd) and whether it is
**over 4** (5-9 vs 0-4). The two binary tasks are functions of the digit, so a shared
trunk that learns digits serves all three, which is exactly what multi-task training
with :class:`edgelab.chainer.updaters.MultiHeadUpdater` is good at.

* :data:`TASKS`: head name -> number of classes, in head order.
* :class:`DigitTasks`: turns a ``(image, digit)`` example into ``(image, digit, parity,
  over4)``; use it with ``chainer.datasets.TransformDataset``.
* :class:`ConvTrunk`: two strided 3x3 convolutions and a dense feature layer.
* :func:`build_model` and :func:`make_optimizers`: the model and one Adam optimizer per
  part (``"trunk"`` and each head).
* :func:`make_trainer`: the whole training loop of the notebook, built from scratch (as a
  new process would build it), so that a snapshot of one run can be loaded into another.
"""

from __future__ import annotations

import numpy as np

from edgelab.chainer.compat import chainer

import chainer.functions as F  # noqa: E402
import chainer.links as L  # noqa: E402

from chainer.training import extensions  # noqa: E402

from edgelab.chainer.updaters import (BarSafeStream, MultiHeadClassifier,  # noqa: E402
                                      MultiHeadUpdater, ResumablePlotReport, TqdmProgress)

TASKS = {"digit": 10, "parity": 2, "over4": 2}


def task_labels(digits) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(digit, parity, over4)`` int32 labels for digits 0-9 (scalars or arrays)."""
    d = np.asarray(digits)
    if d.size and (not np.issubdtype(d.dtype, np.integer) or d.min() < 0 or d.max() > 9):
        raise ValueError(f"digits must be integers 0-9, got {d!r:.80}")
    d = d.astype(np.int32)
    return d, d % 2, (d > 4).astype(np.int32)


class DigitTasks:
    """``(x, digit) -> (x, digit, parity, over4)``: the transform for ``TransformDataset``."""

    def __call__(self, example):
        x, digit = example
        return (x, *task_labels(digit))


class ConvTrunk(chainer.Chain):
    """Two 3x3 convolutions with stride 2 (28 -> 14 -> 7 pixels), then a dense layer.

    Strided convolutions instead of convolution + max-pooling: Chainer's CPU convolution
    is a plain im2col + matrix product, so its cost grows with the output size; halving it
    in the convolution itself makes a training step several times cheaper on a CPU, and
    MNIST does not need the extra resolution.
    """

    def __init__(self, *, in_channels: int = 1, image_size: int = 28,
                 channels: tuple[int, int] = (16, 32), features: int = 128):
        super().__init__()
        if image_size % 4:
            raise ValueError(f"image_size must be a multiple of 4 (two stride-2 layers), got "
                             f"{image_size}")
        c1, c2 = channels
        with self.init_scope():
            self.conv1 = L.Convolution2D(in_channels, c1, ksize=3, stride=2, pad=1)
            self.conv2 = L.Convolution2D(c1, c2, ksize=3, stride=2, pad=1)
            self.fc = L.Linear(c2 * (image_size // 4) ** 2, features)

    def forward(self, x):
        h = F.relu(self.conv1(x))
        h = F.relu(self.conv2(h))
        return F.relu(self.fc(h))


def build_model(*, features: int = 128, channels: tuple[int, int] = (16, 32),
                tasks: dict[str, int] | None = None) -> MultiHeadClassifier:
    """The trunk and one linear head per task (default :data:`TASKS`)."""
    tasks = dict(tasks or TASKS)
    trunk = ConvTrunk(channels=channels, features=features)
    heads = {name: L.Linear(features, n) for name, n in tasks.items()}
    return MultiHeadClassifier(trunk, heads)


def make_optimizers(model: MultiHeadClassifier, *, lr: float = 1e-3) -> dict[str, chainer.Optimizer]:
    """One Adam per part: ``{"trunk": ..., "<head>": ...}``, each set up on its link."""
    parts = {"trunk": model.trunk, **model.heads}
    optimizers = {}
    for name, link in parts.items():
        opt = chainer.optimizers.Adam(alpha=lr)
        opt.setup(link)
        optimizers[name] = opt
    return optimizers


def count_params(link: chainer.Link) -> int:
    return int(sum(p.size for p in link.params()))


def make_trainer(train, val, out, stop_epoch: int, *, batch_size: int = 100, device=None,
                 val_batch_size: int = 500, progress: bool = True):
    """A fresh model, its optimizers and a ``Trainer`` with the lesson's extensions.

    ``train``/``val``: datasets of ``(x, digit, parity, over4)`` examples (e.g.
    ``TransformDataset(images, DigitTasks())``); ``val`` is a validation split (keep the
    test set for one final evaluation); ``out``: the trainer's folder (reports,
    figures, snapshots). Extensions: ``Evaluator`` on ``val`` after every epoch,
    ``LogReport``, ``PrintReport`` (total losses and each head's test accuracy), two
    :class:`ResumablePlotReport` figures (``loss.png``, ``accuracy.png``), a complete
    ``snapshot`` every epoch (``snapshot_epoch_<n>``, which ``load_npz(path, trainer)``
    restores into a trainer built by this same function), and a progress bar.
    Returns ``(trainer, model)``.
    """
    model = build_model()
    optimizers = make_optimizers(model)
    heads = list(model.head_names)
    train_iter = chainer.iterators.SerialIterator(train, batch_size)
    val_iter = chainer.iterators.SerialIterator(val, val_batch_size, repeat=False,
                                                shuffle=False)
    updater = MultiHeadUpdater(train_iter, model, optimizers, device=device)
    trainer = chainer.training.Trainer(updater, (stop_epoch, "epoch"), out=str(out))
    trainer.extend(extensions.Evaluator(val_iter, model, device=device))
    trainer.extend(extensions.LogReport())
    bar = TqdmProgress() if progress else None
    trainer.extend(extensions.PrintReport(
        ["epoch", "main/loss", "validation/main/loss"]
        + [f"validation/main/{h}/accuracy" for h in heads], out=BarSafeStream(bar)))
    trainer.extend(ResumablePlotReport(
        [f"{p}main/{h}/loss" for h in heads for p in ("", "validation/")], "epoch",
        filename="loss.png"))
    trainer.extend(ResumablePlotReport(
        [f"{p}main/{h}/accuracy" for h in heads for p in ("", "validation/")], "epoch",
        filename="accuracy.png"))
    trainer.extend(extensions.snapshot(filename="snapshot_epoch_{.updater.epoch}"),
                   trigger=(1, "epoch"))
    if bar is not None:
        trainer.extend(bar)
    return trainer, model
