"""`edgelab run`: real notebooks in fresh kernels, the report, the results file, failures, resume."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
# The two quickest real notebooks: a TensorFlow one and one without TensorFlow.
REAL = ["notebooks/01_mnist_distribute.ipynb", "notebooks/06_lineart_extraction.ipynb"]


def _edgelab_run(args, env_extra, cwd=ROOT, history=None):
    env = {**os.environ, **env_extra}
    env.pop("EDGELAB_OUT", None)
    env.pop("EDGELAB_RESULTS", None)
    # what these test runs measure must not become this machine's history of run times
    env["EDGELAB_HISTORY"] = str(history or "/dev/null")
    return subprocess.run([sys.executable, "-m", "edgelab", "run", "--no-progress", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)


def test_run_two_real_notebooks(tmp_path, mirror):
    out = tmp_path / "run"
    history = tmp_path / "history.jsonl"
    proc = _edgelab_run([*REAL, "--profile", "quick", "--out", str(out)],
                        {"EDGELAB_MIRROR": str(mirror)}, history=history)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # the plan comes first: the profile and why, then an estimate per notebook
    first = proc.stdout.splitlines()
    assert first[0] == "edgelab run: profile quick (--profile quick was given)"
    assert any(line.strip().startswith("01_mnist_distribute") for line in first[:10])
    assert "ETA:" in proc.stdout
    report = (out / "report.md").read_text()
    assert "2/2 notebooks ok" in report and "profile: **quick**" in report
    for nb in REAL:
        name = Path(nb).name
        assert f"| {name} | ok |" in report
        executed = nbformat.read(out / "notebooks" / name, as_version=4)
        code = [c for c in executed.cells if c.cell_type == "code"]
        assert all(c.execution_count is not None for c in code if c.source.strip())
        assert not any(o.get("output_type") == "error" for c in code for o in c.outputs)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    acc = [r for r in rows if r["key"] == "mnist.test_accuracy"]
    assert acc and acc[0]["source"] == "01_mnist_distribute" and acc[0]["profile"] == "quick"
    assert acc[0]["value"] >= 0.97
    assert "`mnist.test_accuracy` = 0.9" in report
    status = json.loads((out / "status.json").read_text())
    assert [r["status"] for r in status["runs"]] == ["ok", "ok"]
    assert all(r["peak_rss_mb"] > 50 for r in status["runs"])
    # Outputs the notebooks wrote live inside the run folder.
    assert (out / "outputs" / "models" / "mnist_cnn.keras").is_file()
    # What the runner answers for: headless text bars (no widget, no empty stderr), no
    # warning, the kernel's language_info, and a banner without this machine's path. (Paths
    # a notebook prints itself are its own business: tests/test_outputs_clean.py.)
    scan = _scanner().scan
    for nb in REAL:
        problems = scan(out / "notebooks" / Path(nb).name)
        assert [p for p in problems if ": absolute path:" not in p] == [], problems
        assert not [p for p in problems if ": cell 2: " in p], problems
    # The HTML report: every plot as a file, linked to the rendered notebook at its cell.
    page = (out / "report.html").read_text()
    assert "2/2 notebooks ok" in page and "mnist.test_accuracy" in page
    plots = sorted((out / "figures" / "01_mnist_distribute").glob("cell*.png"))
    assert plots and all(p.stat().st_size > 1000 for p in plots)
    assert f"src='figures/01_mnist_distribute/{plots[0].name}'" in page
    assert "href='notebooks/01_mnist_distribute.html#cell-id=" in page
    assert (out / "notebooks" / "01_mnist_distribute.html").stat().st_size > 10_000
    # The times measured went into the history the next plan reads.
    keys = {json.loads(line)["key"] for line in history.read_text().splitlines()}
    assert {"run.01_mnist_distribute.minutes", "run.06_lineart_extraction.minutes"} <= keys


def _scanner():
    import importlib.util

    spec = importlib.util.spec_from_file_location("scan_outputs", ROOT / "tools" / "scan_outputs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _notebook(path: Path, sources: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)
    return path


def test_failure_is_reported_and_run_continues_then_resume(tmp_path):
    bad = _notebook(tmp_path / "10_bad.ipynb", ["x = 1", "raise ValueError('broken on purpose')", "y = 2"])
    good = _notebook(tmp_path / "11_good.ipynb", [
        "import edgelab\nedgelab.record('demo.answer', 42)", "print('fine')"])
    out = tmp_path / "run"
    proc = _edgelab_run([str(bad), str(good), "--profile", "quick", "--out", str(out)], {},
                        history=tmp_path / "h.jsonl")
    assert proc.returncode == 1
    report = (out / "report.md").read_text()
    assert "1/2 notebooks ok" in report
    assert "**FAILED** at cell 1: ValueError: broken on purpose" in report
    assert "| 11_good.ipynb | ok |" in report and "`demo.answer` = 42" in report
    executed = nbformat.read(out / "notebooks" / "10_bad.ipynb", as_version=4)
    assert executed.cells[2].execution_count is None  # nothing ran after the failure

    # --resume: the good notebook is skipped, the bad one runs again (and still fails).
    good.write_text("not a notebook any more")  # would fail if it were executed again
    proc = _edgelab_run([str(bad), str(good), "--profile", "quick", "--out", str(out), "--resume"],
                        {}, history=tmp_path / "h.jsonl")
    assert proc.returncode == 1
    assert "11_good.ipynb: already finished" in proc.stdout
    assert "| 11_good.ipynb | ok |" in (out / "report.md").read_text()


def test_a_cell_over_its_time_limit_is_stopped_and_reported(tmp_path):
    slow = _notebook(tmp_path / "12_slow.ipynb", ["import time", "time.sleep(60)", "z = 3"])
    out = tmp_path / "run"
    proc = _edgelab_run([str(slow), "--profile", "quick", "--out", str(out),
                         "--cell-timeout", "3"], {}, history=tmp_path / "h.jsonl")
    assert proc.returncode == 1
    assert "cell time limit 3 s (--cell-timeout)" in proc.stdout
    report = (out / "report.md").read_text()
    assert "**TIMED OUT** at cell 1: ran past its limit of 3 s (--cell-timeout)" in report
    status = json.loads((out / "status.json").read_text())["runs"][0]
    assert status["status"] == "timeout" and status["timeout_s"] == 3
    assert "TIMED OUT at cell 1" in (out / "report.html").read_text()
    # what the kernel process prints goes to its log, not between the progress bars
    assert (out / "logs" / "12_slow.kernel.log").is_file()
    assert "IPKernelApp" not in proc.stderr


def test_bad_arguments(tmp_path):
    proc = _edgelab_run([str(tmp_path / "nope.ipynb"), "--out", str(tmp_path / "o")], {})
    assert proc.returncode != 0 and "no such notebook" in (proc.stdout + proc.stderr)
    proc = _edgelab_run(["--profile", "fast"], {})
    assert proc.returncode == 2 and "invalid choice: 'fast'" in proc.stderr
    proc = _edgelab_run([str(tmp_path / "nope.ipynb")], {})
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip().count("\n") == 0 and "no such notebook" in proc.stderr
    proc = _edgelab_run(["notebooks/06_lineart_extraction.ipynb", "--cell-timeout", "0"], {})
    assert proc.returncode == 2 and "--cell-timeout 0: give a positive number" in proc.stderr
