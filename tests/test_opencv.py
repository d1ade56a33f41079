"""OpenCV 4.x (the pins) and 5.x (Colab's) both have everything edgelab calls.

OpenCV 5 dropped parts of the 4.x API (``CascadeClassifier``, for one). This test reads every
``cv2.<name>`` that edgelab's code and notebooks use and checks that the installed OpenCV has
it; ``make test`` runs it at both ends (4.14 and 5.0). What those calls compute is checked
by the line-art, dataset and Grad-CAM tests and by notebooks 03 and 06, also at both ends.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parent.parent
USE = re.compile(r"\bcv2\.([A-Za-z_][A-Za-z0-9_]*)")


def used_names() -> dict[str, str]:
    """``{name: first file that uses cv2.<name>}`` over edgelab/ and notebooks/."""
    names = {}
    sources = [(p, p.read_text(encoding="utf-8")) for p in sorted((ROOT / "edgelab").rglob("*.py"))]
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        sources.append((nb, "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")))
    for path, text in sources:
        for name in USE.findall(text):
            names.setdefault(name, str(path.relative_to(ROOT)))
    return names


def test_edgelab_uses_opencv():
    names = used_names()
    assert {"imread", "cvtColor", "resize", "dilate", "threshold"} <= set(names), sorted(names)


def test_installed_opencv_has_every_name_edgelab_uses():
    missing = {name: where for name, where in used_names().items() if not hasattr(cv2, name)}
    assert not missing, f"OpenCV {cv2.__version__} lacks {missing}"


def test_a_name_opencv_5_dropped_would_be_caught():
    """The check above can fail: a name that only OpenCV 4 has is absent from 5."""
    major = int(cv2.__version__.split(".")[0])
    assert hasattr(cv2, "CascadeClassifier") == (major < 5)
