"""The classroom mirror end to end on 127.0.0.1: the teacher's `edgelab data serve`, a
learner's fetch through it (checksums verified), and damaged files refused on both sides."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from edgelab.datasets import cache, registry, serve

ROOT = Path(__file__).resolve().parent.parent
SMALL = ("imagenet_labels", "sample_images")     # 0.8 MB in all: quick to copy and serve


@pytest.fixture
def teacher(tmp_path, mirror, monkeypatch):
    """A teacher's data cache holding the small datasets, verified (copied from the mirror)."""
    home = tmp_path / "teacher"
    monkeypatch.setenv("EDGELAB_HOME", str(home))
    monkeypatch.setenv("EDGELAB_MIRROR", str(mirror))
    for name in SMALL:
        cache.fetch(name, progress=False)
    return home / "data"


@pytest.fixture
def running(teacher):
    """`edgelab data serve`'s server over the teacher's cache, on a free port of 127.0.0.1."""
    refused = []
    server, _ = serve.make_server("127.0.0.1", 0, teacher, log=refused.append)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", refused
    server.shutdown()
    server.server_close()


def _learner(tmp_path, monkeypatch, url: str) -> Path:
    """A learner's machine: an empty cache, the teacher's address as mirror, no internet."""
    home = tmp_path / "learner"
    monkeypatch.setenv("EDGELAB_HOME", str(home))
    monkeypatch.setenv("EDGELAB_MIRROR", url)
    monkeypatch.setenv("EDGELAB_OFFLINE", "1")
    cache._verified.clear()
    return home / "data"


def test_a_learner_fetches_through_the_served_mirror_verified(running, teacher, tmp_path,
                                                              monkeypatch, mirror):
    url, refused = running
    data = _learner(tmp_path, monkeypatch, url)
    for name in SMALL:
        got = cache.fetch(name, progress=False)
        assert all(p.read_bytes() == (mirror / p.relative_to(data)).read_bytes() for p in got)
        assert cache.status(name)["verified"] == len(registry.get(name).files)
    assert refused == []
    # what the teacher has not cached is refused by name, and the learner is told where it looked
    with pytest.raises(cache.DataUnavailableError) as err:
        cache.fetch("mobilenet_tflite", progress=False)
    assert url in str(err.value) and "404" in str(err.value)
    assert any("not in this cache" in line for line in refused)


def test_the_server_refuses_a_file_damaged_in_its_cache(running, teacher, tmp_path, monkeypatch):
    url, refused = running
    labels = registry.get("imagenet_labels").files[0]
    damaged = teacher / labels.path
    damaged.write_text("background\nnot the real labels\n")
    data = _learner(tmp_path, monkeypatch, url)
    with pytest.raises(cache.DataError):
        cache.fetch_file(labels, progress=False)
    assert not (data / labels.path).exists()
    assert [line for line in refused if labels.path in line and "checksum" in line]
    # only registry files, never anything else of the teacher's disk
    for path in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/imagenet_labels/"):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(url + path, timeout=10)
        assert err.value.code == 404
    page = urllib.request.urlopen(url + "/", timeout=10).read().decode()
    assert f"export EDGELAB_MIRROR={url}" in page and "sample_images" in page


def test_a_damaged_file_from_any_mirror_is_refused_with_one_clear_line(tmp_path, http_server,
                                                                       monkeypatch, mirror):
    """A mirror that does not check (a plain file server): the learner's side refuses."""
    folder = tmp_path / "plain"
    shutil.copytree(mirror / "imagenet_labels", folder / "imagenet_labels")
    labels = registry.get("imagenet_labels").files[0]
    with open(folder / labels.path, "r+b") as handle:      # one byte flipped
        first = handle.read(1)
        handle.seek(0)
        handle.write(bytes([first[0] ^ 1]))
    url = http_server(folder)
    data = _learner(tmp_path, monkeypatch, url)
    with pytest.raises(cache.ChecksumError) as err:
        cache.fetch_file(labels, progress=False)
    first_line = str(err.value).splitlines()[0]
    assert first_line.startswith(f"edgelab refused {labels.path}")
    assert f"from {url}/{labels.path}" in first_line and "checksum" in first_line
    assert not (data / labels.path).exists()
    assert not [p for p in data.rglob("*") if p.is_file()]     # no partial file left


def test_edgelab_data_serve_on_the_command_line(teacher, tmp_path, monkeypatch):
    env = {**os.environ, "EDGELAB_HOME": str(teacher.parent), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "edgelab", "data", "serve", "--host",
                             "127.0.0.1", "--port", "0"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines, url = [], None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "export EDGELAB_MIRROR=" in line:
                url = line.split("=", 1)[1].strip()
        assert url and url.startswith("http://127.0.0.1:"), "".join(lines) + proc.stderr.read()
        text = "".join(lines)
        assert "imagenet_labels" in text and "complete" in text and "not cached" in text
        _learner(tmp_path, monkeypatch, url)
        assert cache.fetch("imagenet_labels", progress=False)
        # the same port again: one line that says what to do, exit 1
        port = url.rsplit(":", 1)[1]
        second = subprocess.run([sys.executable, "-m", "edgelab", "data", "serve", "--host",
                                 "127.0.0.1", "--port", port], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 1 and second.stdout == ""
        assert second.stderr.count("\n") == 1 and "choose another --port" in second.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "stopped" in out and "Traceback" not in err


def test_a_bad_port_is_one_line():
    proc = subprocess.run([sys.executable, "-m", "edgelab", "data", "serve", "--port", "99999"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "is not a port number" in proc.stderr
    assert "Traceback" not in proc.stderr
