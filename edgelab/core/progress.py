"""Progress bars that look right wherever a lesson runs.

Anything longer than a few seconds shows a live bar. Where it runs decides how:

* **JupyterLab, Colab** (a notebook kernel with ``ipywidgets``; Colab ships ipywidgets 7,
  ``make setup`` installs 8): a widget bar, left in place when it ends, so the learner
  sees how long the step took;
* **headless** (``edgelab run``, nbval under ``make test``; they set ``EDGELAB_HEADLESS=1``):
  a text bar on stdout that updates at most every ``EDGELAB_PROGRESS_INTERVAL`` seconds
  (default 10), so a stored notebook keeps one short, final line and no red stderr box;
* **a notebook without ipywidgets**: the same text bar on stdout, updated every second;
* **a terminal** (the ``edgelab`` command): tqdm's usual text bar on stderr.

Inside a notebook a bar is always left in place (``leave=True``): a text bar that erases
itself leaves a whitespace-only stderr output behind, shown as an empty red box, and a
widget that closes itself leaves nothing to show that the step ran.

:func:`keras_callback` puts the same bar on a Keras ``fit`` (Keras 3 or tf_keras): one bar
over all the batches of all epochs, with the latest metrics beside it, instead of Keras's
own per-batch log lines (use it with ``verbose=0``).
"""

from __future__ import annotations

import os
import sys

HEADLESS_VAR = "EDGELAB_HEADLESS"
INTERVAL_VAR = "EDGELAB_PROGRESS_INTERVAL"
LIVE_TEXT_INTERVAL = 1.0   # seconds between text-bar updates when a person is watching


def headless() -> bool:
    """True when notebooks are executed without a front end (``edgelab run``, nbval)."""
    return os.environ.get(HEADLESS_VAR) == "1"


def in_notebook() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Colab, nbclient)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and type(shell).__name__ in ("ZMQInteractiveShell", "Shell")


def _widgets_available() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def kind() -> str:
    """Which bar :func:`bar` gives here: ``"widget"``, ``"notebook-text"`` or ``"terminal"``."""
    if not in_notebook():
        return "terminal"
    if not headless() and _widgets_available():
        return "widget"
    return "notebook-text"


def _interval() -> float:
    try:
        return float(os.environ.get(INTERVAL_VAR, "10"))
    except ValueError:
        return 10.0


def bar(iterable=None, *, total=None, desc: str | None = None, unit: str = "it",
        leave: bool = True, disable: bool = False, **kwargs):
    """A tqdm progress bar of the right kind for where this runs (see the module docstring).

    Used like ``tqdm``: ``for x in bar(items, desc="decoding", unit="img"): ...`` or
    ``with bar(total=n) as b: b.update()``. Any other tqdm keyword is passed on.
    """
    where = kind()
    if where == "widget":
        from tqdm.notebook import tqdm

        for terminal_only in ("file", "ascii", "dynamic_ncols", "ncols"):
            kwargs.pop(terminal_only, None)
        return tqdm(iterable, total=total, desc=desc, unit=unit, leave=True, disable=disable,
                    **kwargs)
    from tqdm.std import tqdm

    if where == "notebook-text":
        kwargs["file"] = sys.stdout
        every = _interval() if headless() else LIVE_TEXT_INTERVAL
        kwargs["mininterval"] = max(float(kwargs.get("mininterval") or 0.0), every)
        kwargs.pop("dynamic_ncols", None)
        kwargs.setdefault("ascii", False)
        leave = True
    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=leave, disable=disable,
                **kwargs)


def _metrics_text(logs: dict | None, keys=None) -> dict[str, str]:
    out = {}
    for key, value in (logs or {}).items():
        if keys is not None and key not in keys:
            continue
        try:
            out[key] = f"{float(value):.4g}"
        except (TypeError, ValueError):
            continue
    return out


def keras_callback(desc: str = "training", *, per: str = "batch", metrics=None,
                   legacy: bool | None = None):
    """A Keras callback that shows :func:`bar` during ``fit``: ``fit(..., verbose=0,
    callbacks=[keras_callback("training")])``.

    ``per="batch"`` (default) moves the bar after every batch of every epoch, so a long
    epoch is never silent; ``per="epoch"`` moves it once an epoch. The bar shows the epoch
    and the latest metrics (``metrics``: the names to show; default all). ``legacy``: build
    a ``tf_keras`` (Keras 2) callback instead of a Keras 3 one; by default it follows
    ``TF_USE_LEGACY_KERAS``, as ``tf.keras`` does.
    """
    if per not in ("batch", "epoch"):
        raise ValueError(f"per must be 'batch' or 'epoch', got {per!r}")
    if legacy is None:
        legacy = os.environ.get("TF_USE_LEGACY_KERAS", "").strip().lower() in ("1", "true", "yes")
    if legacy:
        import tf_keras as keras_module
    else:
        import keras as keras_module

    class ProgressBar(keras_module.callbacks.Callback):
        """One progress bar over a whole ``fit`` (see :func:`edgelab.core.progress.keras_callback`)."""

        def __init__(self):
            super().__init__()
            self._bar = None
            self._epochs = 0
            self._epoch = 0
            self._postfix: dict[str, str] = {}

        def on_train_begin(self, logs=None):
            params = getattr(self, "params", None) or {}
            self._epochs = int(params.get("epochs") or 0)
            steps = params.get("steps")
            self._per_batch = per == "batch"
            total = (self._epochs * steps if steps else None) if self._per_batch \
                else (self._epochs or None)
            self._bar = bar(total=total, desc=desc, unit="batch" if self._per_batch else "epoch")

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch = epoch + 1

        def _show(self, logs):
            self._postfix.update(_metrics_text(logs, metrics))
            if self._epochs:
                self._postfix["epoch"] = f"{self._epoch}/{self._epochs}"
            self._bar.set_postfix(self._postfix, refresh=False)

        def on_train_batch_end(self, batch, logs=None):
            if self._bar is not None and self._per_batch:
                self._show(logs)
                self._bar.update(1)

        def on_epoch_end(self, epoch, logs=None):
            if self._bar is None:
                return
            self._show(logs)
            if not self._per_batch:
                self._bar.update(1)
            else:
                self._bar.refresh()

        def on_train_end(self, logs=None):
            if self._bar is not None:
                if self._bar.total and self._bar.n < self._bar.total:
                    self._bar.total = self._bar.n   # stopped early (EarlyStopping): not an error
                self._bar.close()      # kept: n, total and the postfix still tell the story

    return ProgressBar()
