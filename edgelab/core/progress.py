"""Progress bars that look right wherever a lesson runs.

Anything longer than a few seconds shows a live bar. Where it runs decides how:

* **JupyterLab, Colab** (a notebook kernel with ``ipywidgets``): a widget bar;
* **headless** (``edgelab run``, nbval; they set ``EDGELAB_HEADLESS=1``): a text bar on
  stdout that updates at most every ``EDGELAB_PROGRESS_INTERVAL`` seconds (default 10),
  so a stored notebook keeps a short, final line and no red stderr box;
* **a terminal**: tqdm's usual text bar on stderr.

A text bar inside a notebook is always left in place (``leave=True``): a bar that erases
itself leaves a whitespace-only stderr output behind, shown as an empty red box.
"""

from __future__ import annotations

import os
import sys

HEADLESS_VAR = "EDGELAB_HEADLESS"
INTERVAL_VAR = "EDGELAB_PROGRESS_INTERVAL"


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


def bar(iterable=None, *, total=None, desc: str | None = None, unit: str = "it",
        leave: bool = True, disable: bool = False, **kwargs):
    """A tqdm progress bar of the right kind for where this runs (see the module docstring).

    Used like ``tqdm``: ``for x in bar(items, desc="decoding", unit="img"): ...`` or
    ``with bar(total=n) as b: b.update()``.
    """
    if in_notebook() and not headless() and _widgets_available():
        from tqdm.notebook import tqdm

        return tqdm(iterable, total=total, desc=desc, unit=unit, leave=leave, disable=disable,
                    **kwargs)
    from tqdm.std import tqdm

    if in_notebook():
        kwargs.setdefault("file", sys.stdout)
        kwargs.setdefault("mininterval", float(os.environ.get(INTERVAL_VAR, "10")))
        kwargs.setdefault("ascii", False)
        leave = True
    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=leave, disable=disable,
                **kwargs)
