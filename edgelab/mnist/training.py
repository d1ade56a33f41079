"""A live progress bar for ``model.fit``, in JupyterLab, Colab and headless runs alike.

Keras' own bar (``verbose=1``) rewrites one line per step, which floods a stored notebook
and nbval; ``verbose=2`` prints one line per epoch, so a first epoch of 40 s on a laptop
looks like a hang. :func:`progress_bar` gives one bar per epoch through
:func:`edgelab.core.progress.bar` (a widget in Lab and Colab; a text bar, refreshed every
few seconds, when headless) and leaves the epoch's metrics on it when the epoch ends.
Use it with ``verbose=0``.
"""

from __future__ import annotations

from edgelab.core.progress import bar

SHOWN = ("loss", "accuracy", "val_loss", "val_accuracy")


def _fmt(logs: dict | None) -> dict[str, str]:
    return {k: f"{float(logs[k]):.4f}" for k in SHOWN if logs and k in logs}


def progress_bar(every: int = 20):
    """A Keras callback: one bar per epoch, loss and accuracy updated every ``every`` steps."""
    import keras

    class EpochProgress(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self._bar = None

        def on_epoch_begin(self, epoch, logs=None):
            total = self.params.get("steps")
            self._bar = bar(total=total, desc=f"epoch {epoch + 1}/{self.params.get('epochs', '?')}",
                            unit="step")

        def on_train_batch_end(self, batch, logs=None):
            if self._bar is None:
                return
            self._bar.update(1)
            if every and (batch + 1) % every == 0:
                self._bar.set_postfix(_fmt(logs), refresh=False)

        def on_epoch_end(self, epoch, logs=None):
            if self._bar is not None:
                self._bar.set_postfix(_fmt(logs), refresh=False)
                self._bar.close()
                self._bar = None

        def on_train_end(self, logs=None):
            if self._bar is not None:  # training stopped inside an epoch
                self._bar.close()
                self._bar = None

    return EpochProgress()


def logged_scalars(log_dir) -> dict[str, list[str]]:
    """The scalar tags TensorBoard will show for a Keras log folder: ``{run: [tag, ...]}``.

    Read with TensorBoard's own event reader, so it is what the Scalars tab lists.
    """
    from pathlib import Path

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    found = {}
    for run in sorted(p for p in Path(log_dir).iterdir() if p.is_dir()):
        acc = EventAccumulator(str(run), size_guidance={"tensors": 0, "scalars": 0})
        acc.Reload()
        tags = acc.Tags()
        names = sorted(set(tags.get("scalars", [])) | set(tags.get("tensors", [])))
        if names:
            found[run.name] = names
    return found
