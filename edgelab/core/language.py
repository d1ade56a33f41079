"""The language a notebook is read in, so that what edgelab prints for a learner (exercise
hints, verdicts and solutions) matches the notebook's prose.

The translated notebooks (``notebooks/ja/``) have exactly the English code cells, so the
language cannot be an argument in a cell: it is found out instead, in this order.

1. ``$EDGELAB_LANG`` (``en`` or ``ja``), if set: ``edgelab run`` sets it from the notebook's
   metadata for the kernel it starts; set it yourself to override.
2. The notebook the kernel runs for, where the front end says which: JupyterLab and Jupyter
   Server put its path in ``$JPY_SESSION_NAME``; a notebook under ``notebooks/<lang>/``, or
   whose metadata says ``"edgelab": {"language": ...}``, is in that language.
3. On Colab, the open notebook's metadata, asked of the Colab front end
   (``google.colab._message.blocking_request("get_ipynb")``, the call Colab's own
   helpers use to read the open notebook). Untested here: no Colab runtime is reachable
   from the machines that test edgelab.
4. English.

Command-line messages stay English whatever the notebook's language.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Mapping

LANGUAGES = ("en", "ja")
DEFAULT = "en"
ENV_VAR = "EDGELAB_LANG"
_current: str | None = None


def _from_metadata(nb: Mapping) -> str | None:
    lang = (nb.get("metadata", {}).get("edgelab") or {}).get("language")
    return lang if lang in LANGUAGES else None


def from_path(path: str | os.PathLike) -> str | None:
    """The language of the notebook at ``path``: its folder (``notebooks/ja/``), else its
    metadata; ``None`` when neither says."""
    p = Path(path)
    if p.parent.name in LANGUAGES:
        return p.parent.name
    try:
        return _from_metadata(json.loads(p.read_text(encoding="utf-8")))
    except (OSError, ValueError, AttributeError):
        return None


def _from_colab() -> str | None:
    import sys

    if "google.colab" not in sys.modules:
        return None
    try:
        from google.colab import _message  # type: ignore[import-not-found]

        reply = _message.blocking_request("get_ipynb", request="", timeout_sec=5)
        return _from_metadata((reply or {}).get("ipynb") or {})
    except Exception:  # noqa: BLE001 - the front end may not answer; English then
        return None


def detect(environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """``(language, how it was found)``."""
    env = os.environ if environ is None else environ
    value = env.get(ENV_VAR, "").strip().lower()
    if value:
        if value in LANGUAGES:
            return value, f"{ENV_VAR}={value}"
        return DEFAULT, f"{ENV_VAR}={value!r} is not one of {', '.join(LANGUAGES)}; using {DEFAULT}"
    session = env.get("JPY_SESSION_NAME", "")
    if session:
        lang = from_path(session)
        if lang:
            return lang, f"the notebook {Path(session).name}"
    lang = _from_colab() if environ is None else None
    if lang:
        return lang, "the Colab notebook's metadata"
    return DEFAULT, "default"


def current() -> str:
    """The language in use: set by :func:`use`, else detected once."""
    global _current
    if _current is None:
        _current = detect()[0]
    return _current


def use(lang: str) -> None:
    """Use ``lang`` from now on in this process."""
    global _current
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    _current = lang
