"""Start-and-stop plumbing for the tests that drive a real JupyterLab server.

Shared by ``test_lab_browser.py`` and ``test_make_lab.py``. (The leading underscore keeps
pytest from collecting it, and keeps its name clear of the ``jupyter_server`` package.)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(server: subprocess.Popen, url: str, token: str, log: Path,
                  *, timeout_s: float, what: str) -> None:
    """Poll the server's status API; fail with the tail of its log if it exits or times out."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{what} did not start a server:\n" + log.read_text()[-3000:])
            time.sleep(0.5)


def stop(server: subprocess.Popen) -> None:
    """End the server's whole process group (it was started with ``start_new_session``)."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
