"""Train :class:`~edgelab.pytorch.model.TinyU2Net` briefly, and the two scores it is judged by.

The loss is the sum of binary cross-entropy on the mask and cross-entropy on the class, with
Adam; a few epochs on Flower17's 680 training photos. After every epoch the model is scored
on the **validation** photos, and the weights of the epoch with the lowest validation loss
are the ones kept: the test photos are left for one final measurement. The scores work on
NumPy arrays, so the same functions judge the PyTorch model, onnxruntime and every
converted .tflite file:

* :func:`mask_iou`: intersection over union of the predicted mask (probability > 0.5) and
  the colour rule's mask, over all pixels of all images;
* :func:`accuracy`: top-1 accuracy of the class scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class History:
    """Per-epoch mean training loss and validation scores; ``best_epoch`` (1-based) is the
    epoch whose weights :func:`train` kept (the lowest validation loss)."""

    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_mask_iou: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    best_epoch: int = 0

    def curves(self) -> dict[str, list[float]]:
        """The curves as :func:`edgelab.plots.history` draws them (loss with val_loss)."""
        return {"loss": self.loss, "val_loss": self.val_loss,
                "val_mask_iou": self.val_mask_iou, "val_accuracy": self.val_accuracy}


def mask_iou(predicted: np.ndarray, target: np.ndarray, threshold: float = 0.5) -> float:
    """IoU of ``predicted > threshold`` and ``target > 0.5``, pooled over every pixel."""
    p = np.asarray(predicted) > threshold
    t = np.asarray(target) > 0.5
    if p.shape != t.shape:
        raise ValueError(f"predicted masks {p.shape} and targets {t.shape} differ in shape")
    union = np.logical_or(p, t).sum()
    return float(np.logical_and(p, t).sum() / union) if union else 1.0


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 accuracy of class scores ``[N, classes]`` against integer labels ``[N]``."""
    logits, labels = np.asarray(logits), np.asarray(labels)
    if len(logits) != len(labels):
        raise ValueError(f"{len(logits)} score rows but {len(labels)} labels")
    return float(np.mean(logits.argmax(axis=1) == labels))


def predict(model, images: np.ndarray, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """``(masks, logits)`` of a PyTorch model in eval mode for NCHW float32 images."""
    import torch

    model.eval()
    masks, logits = [], []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            m, c = model(torch.from_numpy(np.ascontiguousarray(images[start:start + batch_size])))
            masks.append(m.numpy())
            logits.append(c.numpy())
    return np.concatenate(masks), np.concatenate(logits)


def loss_of(model, dataset, batch_size: int = 64) -> float:
    """The training objective (mask BCE + class cross-entropy) on a whole split, eval mode."""
    import torch
    from torch.nn import functional as F

    model.eval()
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(dataset), batch_size):
            x = torch.from_numpy(np.ascontiguousarray(dataset.images[start:start + batch_size]))
            m, c = model(x)
            y = torch.from_numpy(dataset.masks[start:start + batch_size])
            labels = torch.from_numpy(dataset.labels[start:start + batch_size])
            total += (F.binary_cross_entropy(m, y) + F.cross_entropy(c, labels)).item() * len(x)
    return total / len(dataset)


def train(model, train_set, val_set, *, epochs: int, batch_size: int, learning_rate: float,
          seed: int = 0, progress: bool = True) -> History:
    """Adam on mask BCE + class cross-entropy; scores on ``val_set`` after every epoch, and
    the weights of the epoch with the lowest validation loss restored at the end."""
    import copy

    import torch
    from torch.nn import functional as F

    from edgelab.core.progress import bar

    generator = torch.Generator().manual_seed(seed)
    images = torch.from_numpy(train_set.images)
    masks = torch.from_numpy(train_set.masks)
    labels = torch.from_numpy(train_set.labels)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    history = History()
    best_state, best_loss = None, float("inf")
    steps = -(-len(labels) // batch_size)
    with bar(total=epochs * steps, desc="training", unit="step", disable=not progress) as pbar:
        for epoch in range(1, epochs + 1):
            model.train()
            order = torch.randperm(len(labels), generator=generator)
            total = 0.0
            for start in range(0, len(labels), batch_size):
                idx = order[start:start + batch_size]
                x = images[idx]
                flip = torch.rand(len(idx), generator=generator) < 0.5   # left-right flips
                x = torch.where(flip[:, None, None, None], x.flip(-1), x)
                y = torch.where(flip[:, None, None, None], masks[idx].flip(-1), masks[idx])
                pred_mask, logits = model(x)
                loss = F.binary_cross_entropy(pred_mask, y) + F.cross_entropy(logits, labels[idx])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item() * len(idx)
                pbar.update()
            history.loss.append(total / len(labels))
            history.val_loss.append(loss_of(model, val_set))
            pm, pl = predict(model, val_set.images)
            history.val_mask_iou.append(mask_iou(pm, val_set.masks))
            history.val_accuracy.append(accuracy(pl, val_set.labels))
            if history.val_loss[-1] < best_loss:
                best_loss, history.best_epoch = history.val_loss[-1], epoch
                best_state = copy.deepcopy(model.state_dict())
            pbar.set_postfix(loss=f"{history.loss[-1]:.3f}", val_loss=f"{history.val_loss[-1]:.3f}",
                             val_acc=f"{history.val_accuracy[-1]:.3f}")
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history
