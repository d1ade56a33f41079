"""Stored notebook outputs hold no machine path, no warning, no empty stderr box, no widget
(``tools/scan_outputs.py``, run on every notebook); and the scanner finds each of these."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "scan_outputs.py"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _scanner():
    spec = importlib.util.spec_from_file_location("scan_outputs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_outputs_are_clean(path):
    proc = subprocess.run([sys.executable, str(SCRIPT), str(path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, (
        f"{path.name}: re-execute it headless (edgelab run --inplace) after fixing:\n"
        + proc.stdout)


def _notebook(tmp_path, outputs, metadata=None) -> Path:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.outputs = outputs
    nb.cells = [cell]
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    nb.metadata.update(metadata or {})
    path = tmp_path / "t.ipynb"
    nbformat.write(nb, path)
    return path


def stream(text, name="stdout"):
    return nbformat.v4.new_output("stream", name=name, text=text)


def test_the_scanner_finds_what_it_must():
    scan = _scanner().scan
    import tempfile

    cases = {
        "absolute path": [stream("outputs: /work/main/runs/quick/outputs/01_mnist\n")],
        "warning": [stream("/x.py:21: TqdmWarning: IProgress not found\n", "stderr")],
        "empty stderr": [stream("        \r", "stderr")],
        "widget": [nbformat.v4.new_output("display_data", data={
            "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2}})],
    }
    for what, outputs in cases.items():
        with tempfile.TemporaryDirectory() as tmp:
            problems = scan(_notebook(Path(tmp), outputs))
        assert any(f": {what}:" in p for p in problems), (what, problems)
    for text in ("W0000 12:00:00.1 123 file.cc:12] slow\n", "WARNING:tensorflow:retracing\n",
                 'C:\\Users\\me\\edgelab\\model.keras\n'):
        with tempfile.TemporaryDirectory() as tmp:
            assert scan(_notebook(Path(tmp), [stream(text)])), text
    with tempfile.TemporaryDirectory() as tmp:
        path = _notebook(Path(tmp), [], metadata={"widgets": {"state": {}}})
        assert any("widget" in p for p in scan(path))
    with tempfile.TemporaryDirectory() as tmp:
        path = _notebook(Path(tmp), [], metadata={"language_info": {"name": "python"}})
        assert any("no language_info" in p for p in scan(path))


def test_the_scanner_lets_shown_paths_urls_and_ratios_pass(tmp_path):
    scan = _scanner().scan
    fine = ("outputs: $EDGELAB_OUT/01_mnist/logs\nsee https://tfhub.dev/google/imagenet/x/5 and "
            "notebooks/01_mnist_distribute.ipynb\n3.2 img/s, 1/2 of the data, loss/accuracy\n"
            "validation/main/loss 0.12\n")
    path = _notebook(tmp_path, [stream(fine), stream("fine-tuning: 100%|##########| 4/4\n", "stderr"),
                                nbformat.v4.new_output("execute_result", data={"text/plain": "'/'"})])
    assert scan(path) == []


def test_the_script_exits_non_zero_and_names_the_cell(tmp_path):
    path = _notebook(tmp_path, [stream("saved to /home/ann/model.keras\n")])
    proc = subprocess.run([sys.executable, str(SCRIPT), str(path)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "t.ipynb: cell 0: absolute path: saved to /home/ann/model.keras" in proc.stdout
    assert json.loads(path.read_text())["cells"][0]["outputs"]   # nothing was changed
