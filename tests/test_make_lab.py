"""``make lab`` as the README promises: the venv's ``bin`` first on PATH (``%tensorboard``,
Lab's terminals), ``PROFILE=`` reaching the kernels, ``--allow-root`` only as root; and the
Makefile's headless targets set ``EDGELAB_HEADLESS=1``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from _lab_server import free_port, stop, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def _dry_run(*args) -> str:
    return subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout


def test_makefile_targets_pass_profile_and_headless():
    assert "--profile" not in _dry_run("curriculum").splitlines()[-1]   # the machine decides
    assert "edgelab run --profile full --out runs/x" in _dry_run("curriculum", "PROFILE=full",
                                                                 "OUT=runs/x")
    for target in ("test", "notebooks-test", "unit"):
        assert "EDGELAB_HEADLESS=1" in _dry_run(target), target
    lab = _dry_run("lab", "PROFILE=quick")
    assert "EDGELAB_PROFILE=quick" in lab and "/.venv/bin:$PATH" in lab


def test_make_lab_kernels_get_the_profile_and_the_venv_on_path(tmp_path):
    from jupyter_client import BlockingKernelClient

    if not (ROOT / ".venv" / "bin" / "jupyter").exists():
        pytest.fail("no .venv: run make setup")
    port, token = free_port(), "make-lab-test"
    env = {k: v for k, v in os.environ.items() if k not in ("EDGELAB_PROFILE", "VIRTUAL_ENV")}
    env["PATH"] = "/usr/bin:/bin"                      # a shell without the venv activated
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")
    args = f"--no-browser --ip=127.0.0.1 --port={port} --ServerApp.token={token}"
    server = subprocess.Popen(["make", "lab", "PROFILE=quick", f"LAB_ARGS={args}"], cwd=ROOT,
                              env=env, stdout=open(tmp_path / "lab.log", "w"),
                              stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(server, base, token, tmp_path / "lab.log", timeout_s=120, what="make lab")
        request = urllib.request.Request(f"{base}/api/kernels?token={token}", method="POST",
                                         data=b"{}", headers={"Content-Type": "application/json"})
        kernel_id = json.load(urllib.request.urlopen(request, timeout=60))["id"]
        connection = tmp_path / "runtime" / f"kernel-{kernel_id}.json"
        for _ in range(120):
            if connection.exists():
                break
            time.sleep(0.5)
        client = BlockingKernelClient(connection_file=str(connection))
        client.load_connection_file()
        # A client without a kernel manager judges "alive" by the heartbeat, and a kernel
        # still importing its modules can miss the first beats: wait_for_ready then raises
        # "Kernel died before replying". Retry that until the deadline; a kernel that really
        # died keeps failing and the last error is raised.
        deadline = time.monotonic() + 120
        while True:
            client.start_channels()
            try:
                client.wait_for_ready(timeout=60)
                break
            except RuntimeError:
                client.stop_channels()
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        reply = []
        client.execute_interactive(
            "import os, shutil; print(os.environ.get('EDGELAB_PROFILE'), shutil.which('tensorboard'),"
            " shutil.which('edgelab'))",
            output_hook=lambda m: reply.append(m["content"].get("text", "")), timeout=60)
        client.stop_channels()
        profile, tensorboard, edgelab = "".join(reply).split()
        assert profile == "quick"
        assert Path(tensorboard).parent == Path(edgelab).parent
        assert Path(tensorboard).parent.resolve() == (ROOT / ".venv" / "bin").resolve()
        import psutil

        lab = [p for p in psutil.Process(server.pid).children(recursive=True)
               if any(part.endswith(("/jupyter", "/jupyter-lab")) for part in p.cmdline()[:2])]
        assert lab, "no jupyter process under make lab"
        as_root = hasattr(os, "getuid") and os.getuid() == 0
        assert ("--allow-root" in lab[0].cmdline()) == as_root, lab[0].cmdline()
    finally:
        stop(server)
