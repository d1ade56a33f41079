"""Notebook 05's exercise checkers can fail: solution passes, starter is not done, each
realistic mistake gets its own message (tests/_exercises.py).

Hub layers are tf_keras layers, and notebook 05 runs with ``TF_USE_LEGACY_KERAS=1`` set before
TensorFlow is imported; the checks run the same way, in one subprocess for all four exercises
(edgelab's offline build of the 224-px feature vector stands in for the module, no network).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import mirror_dir, no_mirror_message

HERE = Path(__file__).resolve().parent

SCRIPT = r'''
import json, os, sys
from types import SimpleNamespace
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import numpy as np
import tensorflow as tf
import tensorflow_hub as hub
import tf_keras
from edgelab import hub as edgehub
from edgelab.core import profiles
from edgelab.datasets import flowers17
from _exercises import prove

FEATURE_HANDLE = edgehub.feature_vector_handle(224)
feature_handle = edgehub.resolve_handle(FEATURE_HANDLE)
features = hub.KerasLayer(feature_handle, trainable=False, name="mobilenet_features")
context = dict(np=np, tf=tf, hub=hub, tf_keras=tf_keras, edgehub=edgehub, flowers17=flowers17,
               S=profiles.sizes("hub", "quick"), lab=SimpleNamespace(out=Path(sys.argv[2])),
               FEATURE_HANDLE=FEATURE_HANDLE, feature_handle=feature_handle,
               features=features, module=features.resolved_object)
found = {}
for number in (1, 2, 3, 4):
    try:
        outcome = prove("05", number, context)
        found[number] = {k: [r.status, r.key] for k, r in outcome.items()}
    except Exception as err:
        found[number] = f"{type(err).__name__}: {err}"
print("RESULT " + json.dumps(found))
'''


@pytest.fixture(scope="module")
def proven(tmp_path_factory):
    mirror = mirror_dir()
    if mirror is None:
        pytest.fail(no_mirror_message())
    tmp = tmp_path_factory.mktemp("05_exercises")
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2",
               EDGELAB_HOME=str(tmp / "home"), EDGELAB_MIRROR=str(mirror), EDGELAB_OFFLINE="1",
               TFHUB_CACHE_DIR=str(tmp / "tfhub"), EDGELAB_OUT=str(tmp / "out"))
    (tmp / "out").mkdir()
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(HERE), str(tmp / "out")],
                          capture_output=True, text=True, env=env, timeout=600)
    lines = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, f"the exercise checks did not run:\n{proc.stderr[-3000:]}"
    return {int(k): v for k, v in json.loads(lines[-1][len("RESULT "):]).items()}


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_exercise(number, proven):
    outcome = proven[number]
    assert isinstance(outcome, dict), outcome
    assert outcome["solution"] == ["passed", "passed"]
