"""Notebook 06's exercise checkers can fail: solution passes, starter is not done, each
realistic mistake gets its own message (tests/_exercises.py)."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import pandas as pd
import pytest

from _exercises import prove
from edgelab import lineart
from edgelab.lineart import synthetic


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """The notebook's namespace at the exercise cells: its imports, `lab.out`, and section
    9's folder of source images (`src_dir`), here two small drawn pictures."""
    out = tmp_path_factory.mktemp("06_lineart")
    src_dir = out / "pair_sources"
    src_dir.mkdir()
    ill = synthetic.draw_illustration(size=128, stroke=3)
    cv2.imwrite(str(src_dir / "a.png"), cv2.cvtColor(ill.image, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(src_dir / "b.png"), cv2.cvtColor(ill.image[::-1].copy(), cv2.COLOR_RGB2BGR))
    return dict(np=np, pd=pd, cv2=cv2, lineart=lineart, synthetic=synthetic,
                lab=SimpleNamespace(out=out), src_dir=src_dir)


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_exercise(number, context):
    prove("06", number, context)
