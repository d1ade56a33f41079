"""Shared fixtures: an isolated edgelab home, the data mirror, a local HTTP mirror."""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def mirror_dir() -> Path | None:
    """The offline data mirror: $EDGELAB_MIRROR if it is a folder, else ../shared/data."""
    value = os.environ.get("EDGELAB_MIRROR", "")
    for candidate in (value, ROOT.parent / "shared" / "data"):
        if candidate and "://" not in str(candidate) and Path(candidate).is_dir():
            return Path(candidate).resolve()
    return None


@pytest.fixture
def mirror() -> Path:
    path = mirror_dir()
    if path is None:
        pytest.fail("no data mirror: set EDGELAB_MIRROR to a folder laid out like ../shared/data "
                    "(the tests need the real files; CI provides ../shared/data)")
    return path


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
def shared_home(monkeypatch, mirror) -> Path:
    """The default (persistent) edgelab home with the mirror set: real data, fetched once."""
    monkeypatch.setenv("EDGELAB_MIRROR", str(mirror))
    from edgelab.core import paths

    return paths.home()


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
