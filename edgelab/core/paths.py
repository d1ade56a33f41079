"""Where edgelab keeps downloads and what the lessons produce.

Two places, both overridable:

* the **home** (``$EDGELAB_HOME``, default ``~/.cache/edgelab``) holds the verified data
  cache under ``data/``, laid out exactly like the data mirror;
* the **outputs folder** (``$EDGELAB_OUT``, default ``<home>/outputs/<profile>``) holds
  everything notebooks write: one sub-folder per lesson (TensorBoard logs, checkpoints,
  figures), ``models/`` for models one notebook hands to another, and the results file.

``edgelab run --out DIR`` points ``EDGELAB_OUT`` at ``DIR`` so one run is self-contained.
Quick and full outputs are kept apart by default, so a model trained for two minutes in
CI is never mistaken for the real one.
"""

from __future__ import annotations

import os
from pathlib import Path

from edgelab.core import profiles

HOME_VAR = "EDGELAB_HOME"
OUT_VAR = "EDGELAB_OUT"


def _user_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "edgelab"


def home() -> Path:
    """edgelab's home folder (created if needed)."""
    path = Path(os.environ.get(HOME_VAR) or _user_cache()).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """The verified download cache; same layout as the data mirror."""
    path = home() / "data"
    path.mkdir(parents=True, exist_ok=True)
    return path


def outputs() -> Path:
    """The folder notebooks write into (created if needed)."""
    value = os.environ.get(OUT_VAR)
    path = Path(value).expanduser() if value else home() / "outputs" / profiles.current()
    path.mkdir(parents=True, exist_ok=True)
    return path


def lesson_dir(lesson: str) -> Path:
    """A lesson's own output folder, e.g. ``lesson_dir("01_mnist")``."""
    path = outputs() / lesson
    path.mkdir(parents=True, exist_ok=True)
    return path


def model_path(name: str) -> Path:
    """Where a model handed from one notebook to another lives, e.g. ``mnist_cnn.keras``."""
    path = outputs() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path / name


def project_root() -> Path | None:
    """The source checkout edgelab was installed from, if it is one (editable install)."""
    root = Path(__file__).resolve().parents[2]   # edgelab/core/paths.py -> the checkout
    return root if (root / "pyproject.toml").exists() and (root / "notebooks").is_dir() else None


def shown(path: str | os.PathLike) -> str:
    """``path`` as a notebook should print it: never the absolute path of this machine.

    Inside the outputs folder it becomes ``$EDGELAB_OUT/...``, inside the home
    ``$EDGELAB_HOME/...``, inside the source checkout a path relative to it; anything else
    is shown by its name only. So a stored notebook output reads the same on every machine.
    """
    path = Path(path).expanduser().resolve()
    places = [(outputs().resolve(), f"${OUT_VAR}"), (home().resolve(), f"${HOME_VAR}")]
    root = project_root()
    if root is not None:
        places.append((root.resolve(), ""))
    for base, label in places:
        try:
            rel = path.relative_to(base)
        except ValueError:
            continue
        if not label:
            return rel.as_posix() or "."
        return label if rel == Path(".") else f"{label}/{rel.as_posix()}"
    return path.name
