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


# --------------------------------------------------------------------------- the Colab setup cell
# The cell runs in a fresh IPython shell that believes it is on Colab (a `google.colab` module
# in sys.modules), with /content/edgelab and the GitHub URL swapped for a folder and a local
# repository of the test's, whose tools/install.sh counts its runs and can be made to fail.

_SHELL = """
import sys, types
sys.modules["google.colab"] = types.ModuleType("google.colab")
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
source = open(sys.argv[1], encoding="utf-8").read()
for attempt in range(int(sys.argv[2])):
    result = shell.run_cell(source)
    print("CELL", attempt, "ok" if result.success else "failed")
print("ON PATH", sys.path.count(sys.argv[3]))
"""


def _fake_repo(tmp_path, install_exit: int) -> Path:
    import subprocess

    origin = tmp_path / "origin"
    (origin / "tools").mkdir(parents=True)
    (origin / "tools" / "install.sh").write_text(
        f'echo "install.sh $@"; echo run >> "{tmp_path}/installs"; exit {install_exit}\n')
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(origin)]
    subprocess.run(["git", "init", "-q", str(origin)], check=True)
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-qm", "fake"], check=True)
    return origin


def _run_setup_cell(tmp_path, url: str, attempts: int = 1):
    import subprocess
    import sys

    from edgelab.core.project import REPO_URL

    repo = tmp_path / "content" / "edgelab"
    source = convention.setup_cell_source()
    assert source.count('"/content/edgelab"') == 1 and source.count(f'"{REPO_URL}"') == 1
    cell = tmp_path / "cell.py"
    cell.write_text(source.replace('"/content/edgelab"', f'"{repo}"')
                    .replace(f'"{REPO_URL}"', f'"{url}"'), encoding="utf-8")
    out = subprocess.run([sys.executable, "-c", _SHELL, str(cell), str(attempts), str(repo)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    installs = tmp_path / "installs"
    return out.stdout + out.stderr, (installs.read_text().count("run") if installs.exists() else 0)


def test_setup_cell_clones_installs_and_is_quick_to_rerun(tmp_path):
    origin = _fake_repo(tmp_path, install_exit=0)
    out, installs = _run_setup_cell(tmp_path, str(origin), attempts=2)
    assert "CELL 0 ok" in out and "CELL 1 ok" in out, out
    assert "install.sh --colab" in out  # the script's own output reaches the cell
    assert installs == 2 and out.count("Cloning") == 0  # cloned once (quietly), run twice
    assert "ON PATH 1" in out, out  # importable, and only once on sys.path


def test_setup_cell_stops_with_one_line_when_the_clone_fails(tmp_path):
    out, installs = _run_setup_cell(tmp_path, str(tmp_path / "no-such-repo"))
    assert "CELL 0 failed" in out and installs == 0
    failures = [line for line in out.splitlines() if "edgelab setup failed" in line]
    assert failures == ["edgelab setup failed: git clone exited with 128 (its output is "
                        "above). Run this cell again; if it fails again, use Runtime > "
                        "Disconnect and delete runtime, then Run all."], out
    assert "Traceback" not in out and "SetupFailed" not in out, out


def test_setup_cell_stops_when_the_install_fails_and_recovers_a_broken_clone(tmp_path):
    origin = _fake_repo(tmp_path, install_exit=3)
    broken = tmp_path / "content" / "edgelab"
    broken.mkdir(parents=True)
    (broken / "README.md").write_text("a clone that broke off")
    out, installs = _run_setup_cell(tmp_path, str(origin))
    assert "CELL 0 failed" in out and installs == 1, out
    assert "edgelab setup failed: tools/install.sh --colab exited with 3" in out, out
    assert "Traceback" not in out, out


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
