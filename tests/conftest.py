"""Shared fixtures: an isolated edgelab home, the data mirror, a local HTTP mirror, and the
guard that keeps every test independent of the others.

Every test runs with (see ``_isolated_test``):

* the **session's edgelab home**, a folder under pytest's temporary directory (never the
  user's ``~/.cache/edgelab``): real data is copied into it from the mirror once per run;
* its **own outputs folder** (``EDGELAB_OUT``) and results file, so nothing a test writes
  is seen by another test or by the notebooks that ``make test`` runs after the unit tests;
* ``EDGELAB_OFFLINE=1`` and an empty TF Hub cache: no test reaches the network or finds
  what an earlier notebook run left on this machine;
* Python's ``random``, NumPy's global generator and TensorFlow/Keras **seeded from the
  test's own id** (plus pytest-randomly's seed when ``make test-repeat`` shuffles), so no
  test's random draws depend on which tests ran before it;
* the environment restored afterwards, whatever the code under test set in ``os.environ``.
"""

from __future__ import annotations

import functools
import http.server
import os
import random
import sys
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent

# Read once, when pytest loads this file, before any fixture changes the environment: the
# ``home`` fixture unsets EDGELAB_MIRROR for the tests that need "no mirror", and which
# mirror the other tests get must not depend on whether ``home`` ran first.
_MIRROR_SETTING = os.environ.get("EDGELAB_MIRROR", "").strip()
_DEFAULT_MIRROR = ROOT.parent / "shared" / "data"   # where CI puts it, beside the checkout


def mirror_dir() -> Path | None:
    """The offline data mirror: $EDGELAB_MIRROR as the test run found it; ../shared/data
    only when that variable is not set. None when the chosen one is not a folder."""
    candidate = Path(_MIRROR_SETTING).expanduser() if _MIRROR_SETTING else _DEFAULT_MIRROR
    return candidate.resolve() if candidate.is_dir() else None


def no_mirror_message() -> str:
    if _MIRROR_SETTING:
        return (f"EDGELAB_MIRROR={_MIRROR_SETTING!r} is not a folder: the tests read the "
                "mirror's files directly, so point it at a folder laid out like ../shared/data")
    return (f"no data mirror: EDGELAB_MIRROR is not set and {_DEFAULT_MIRROR} does not exist; "
            "set EDGELAB_MIRROR to a folder laid out like ../shared/data (the tests need the "
            "real files; CI provides ../shared/data)")


@pytest.fixture
def mirror() -> Path:
    path = mirror_dir()
    if path is None:
        pytest.fail(no_mirror_message())
    return path


@pytest.fixture(scope="session")
def session_home(tmp_path_factory) -> Path:
    """The edgelab home of this test run: verified copies of the mirror's files (and the
    builds made from them) are made once and shared; they are the same whichever test
    makes them first. Tests of the cache itself use ``home`` instead."""
    return tmp_path_factory.mktemp("edgelab-home")


def _test_seed(request) -> int:
    """A seed for this test from its id: the same in any order and in any subset of tests.
    pytest-randomly (``make test-repeat``) adds its per-round seed, so rounds differ."""
    base = request.config.getoption("randomly_seed", None)
    if not isinstance(base, int):   # plugin off (-p no:randomly, the default): fixed
        base = 0
    return (base + zlib.crc32(request.node.nodeid.encode())) % 2**32


@pytest.fixture(autouse=True)
def _isolated_test(request, monkeypatch, session_home, tmp_path_factory):
    monkeypatch.setenv("EDGELAB_HOME", str(session_home))
    monkeypatch.setenv("EDGELAB_OUT", str(tmp_path_factory.mktemp("outputs")))
    monkeypatch.delenv("EDGELAB_RESULTS", raising=False)
    monkeypatch.setenv("EDGELAB_OFFLINE", "1")
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(session_home.parent / "tfhub-empty"))

    seed = _test_seed(request)
    random.seed(seed)
    np.random.seed(seed)
    if "keras" in sys.modules:   # Keras draws layer seeds from `random`, shuffles with TF
        sys.modules["keras"].utils.set_random_seed(seed)
    elif "tensorflow" in sys.modules:
        sys.modules["tensorflow"].random.set_seed(seed)

    before = dict(os.environ)
    yield
    # Code under test may set variables itself (seed_everything sets PYTHONHASHSEED, the
    # notebook helpers set defaults): take them back before the next test.
    for name in set(os.environ) - set(before):
        del os.environ[name]
    for name, value in before.items():
        if os.environ.get(name) != value:
            os.environ[name] = value


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh, empty EDGELAB_HOME and outputs folder; no mirror; canonical URLs skipped."""
    h = tmp_path / "home"
    monkeypatch.setenv("EDGELAB_HOME", str(h))
    monkeypatch.delenv("EDGELAB_OUT", raising=False)
    monkeypatch.delenv("EDGELAB_RESULTS", raising=False)
    monkeypatch.delenv("EDGELAB_MIRROR", raising=False)
    monkeypatch.setenv("EDGELAB_OFFLINE", "1")
    from edgelab.datasets import cache as fetch

    fetch._verified.clear()
    return h


@pytest.fixture
def shared_home(session_home, mirror, monkeypatch) -> Path:
    """The session's edgelab home with the mirror set: real data, copied from it once."""
    monkeypatch.setenv("EDGELAB_HOME", str(session_home))
    monkeypatch.setenv("EDGELAB_MIRROR", str(mirror))
    return session_home


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def http_server():
    """Serve a folder over HTTP on 127.0.0.1; yields a function folder -> base URL."""
    servers = []

    def serve(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield serve
    for s in servers:
        s.shutdown()
        s.server_close()
