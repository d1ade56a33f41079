"""The lab path in a real browser: JupyterLab on 127.0.0.1, notebook 06 opened in headless
Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright), every cell run.

It checks what a learner sees: opening the notebook does not mark it modified, running it
gives no error and no stderr box, progress bars are widgets, and the figures are there.
A screenshot is kept in ``build/test-artifacts/``. ``make test`` installs Chromium first
(``make browser``); Playwright comes with the ``dev`` extra and drives that binary, it
downloads no browser of its own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from _chromium import CHROMIUM, CHROMIUM_ARGS
from _lab_server import free_port, stop, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "06_lineart_extraction.ipynb"
ARTIFACTS = ROOT / "build" / "test-artifacts"
RUN_LIMIT_S = 300


@pytest.fixture
def lab(tmp_path, mirror):
    """A JupyterLab server on 127.0.0.1 over a copy of notebook 06; yields (url, folder)."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} not found: run `make browser` (installs Debian's chromium)")
    root = tmp_path / "lab"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    settings = tmp_path / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # render every cell, not only those in view, so the test can count outputs
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    port, token = free_port(), "edgelab-browser-test"
    env = {**os.environ,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "EDGELAB_PROFILE": "quick", "EDGELAB_OUT": str(tmp_path / "out"),
           "EDGELAB_RESULTS": str(tmp_path / "out" / "results.jsonl"),
           "EDGELAB_MIRROR": str(mirror),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    env.pop("EDGELAB_HEADLESS", None)          # a person is watching: widget bars
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}",
           "--LabApp.news_url=", "--ServerApp.disable_check_xsrf=False"]
    if hasattr(os, "getuid") and os.getuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp_path / "lab.log", "w")
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(server, url, token, tmp_path / "lab.log", timeout_s=90, what="JupyterLab")
        yield url, token, root
    finally:
        stop(server)
        log.close()


_PROMPTS = """() => Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt'))
                 .map(e => e.textContent.trim())"""


def test_notebook_06_in_jupyterlab_in_chromium(lab):
    from playwright.sync_api import sync_playwright

    url, token, root = lab
    stored = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in stored.cells if c.cell_type == "code" and c.source.strip()]
    stored_images = sum(any(k.startswith("image/") for k in o.get("data", {}))
                        for c in code for o in c.outputs)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/lab/tree/{NOTEBOOK.name}?token={token}", timeout=120_000)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
            # the kernel is connected when the status bar says so (not "Initializing")
            page.wait_for_function("""() => /\\| Idle/.test(
                document.querySelector('.jp-StatusBar-Widget')?.parentElement?.innerText || '')""",
                                   timeout=120_000)
            page.wait_for_timeout(3000)            # let Lab apply whatever it changes on opening
            dirty = page.locator(".lm-TabBar-tab.jp-mod-dirty").count()
            assert dirty == 0, "opening the notebook marked it modified (kernelspec or metadata)"

            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            deadline = time.monotonic() + RUN_LIMIT_S
            while True:
                prompts = page.evaluate(_PROMPTS)
                finished = prompts and all(p.startswith("[") and p[1:-2].isdigit()
                                           for p in prompts if p)
                errors = page.locator(".jp-OutputArea-output[data-mime-type="
                                      "'application/vnd.jupyter.stderr']").count()
                if finished or errors or time.monotonic() > deadline:
                    break
                page.wait_for_timeout(1000)
            page.wait_for_timeout(1500)            # the last outputs and widgets render
            page.screenshot(path=str(ARTIFACTS / "lab-06-notebook.png"), full_page=False)

            stderr = page.locator(".jp-OutputArea-output[data-mime-type="
                                  "'application/vnd.jupyter.stderr']")
            texts = [stderr.nth(i).inner_text()[:300] for i in range(stderr.count())]
            assert texts == [], f"error or stderr outputs in the browser: {texts}"
            assert finished, f"not every cell ran within {RUN_LIMIT_S} s: prompts {prompts}"
            assert len([p for p in prompts if p]) >= len(code)

            widgets = page.locator(".jp-OutputArea-output .widget-hprogress")
            assert widgets.count() >= 1, "no progress widget rendered"
            bar_text = widgets.first.locator("xpath=..").inner_text()
            assert "100%" in bar_text, bar_text
            widgets.first.scroll_into_view_if_needed()
            widgets.first.locator("xpath=../..").screenshot(
                path=str(ARTIFACTS / "lab-06-progress-widget.png"))
            assert page.get_by_text("Error displaying widget").count() == 0

            images = page.locator(".jp-OutputArea-output img")
            assert images.count() >= stored_images > 0, (images.count(), stored_images)
            loaded = page.evaluate("""() => Array.from(document.querySelectorAll(
                '.jp-OutputArea-output img')).every(i => i.complete && i.naturalWidth > 0)""")
            assert loaded, "a figure did not load"
        finally:
            browser.close()
