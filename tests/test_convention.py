"""Every notebook follows the convention written down in edgelab.run.convention."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from edgelab.run import convention
from edgelab.core.project import colab_url

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_follows_convention(path):
    assert convention.check(path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_imports_edgelab_and_names_its_outputs(path):
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "import edgelab" in code or "from edgelab" in code
    assert path.name[:3].rstrip("_").isdigit(), "notebooks are numbered: NN_name.ipynb"


def test_check_catches_a_wrong_badge_and_missing_setup(tmp_path):
    src = NOTEBOOKS[0]
    copy = tmp_path / src.name
    shutil.copy(src, copy)
    nb = nbformat.read(copy, as_version=4)
    nb.cells[0].source = nb.cells[0].source.replace(colab_url(f"notebooks/{src.name}"),
                                                    colab_url("notebooks/other.ipynb"))
    del nb.cells[1]
    nbformat.write(nb, copy)
    problems = " ".join(convention.check(copy))
    assert "badge points at" in problems and "setup cell" in problems
    assert convention.stamp(copy)
    assert convention.check(copy) == [] or all("start(" in p for p in convention.check(copy))


def test_kernelspec_is_the_installed_one_and_stamp_fixes_it(tmp_path):
    import json

    copy = tmp_path / NOTEBOOKS[0].name
    shutil.copy(NOTEBOOKS[0], copy)
    nb = nbformat.read(copy, as_version=4)
    nb.metadata["kernelspec"]["display_name"] = "Python 3"    # what Lab would rewrite on opening
    nbformat.write(nb, copy)
    assert any("kernelspec" in p for p in convention.check(copy))
    assert convention.stamp(copy)
    assert convention.check(copy) == []
    assert json.loads(copy.read_text())["metadata"]["kernelspec"] == convention.KERNELSPEC


def test_kernelspec_matches_what_make_setup_installs():
    import json
    import sys

    installed = Path(sys.prefix) / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    assert installed.is_file(), f"{installed}: run make setup (it installs the python3 kernel)"
    spec = json.loads(installed.read_text())
    assert spec["display_name"] == convention.KERNELSPEC["display_name"]
    assert spec["language"] == convention.KERNELSPEC["language"]
