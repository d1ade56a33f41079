"""The install paths and the two commands stay consistent with each other."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not an exact pin"
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_every_dependency_is_pinned_within_its_range():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    pins = _pins()
    for text in reqs:
        req = Requirement(text)
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{req.name} has no pin in constraints.txt"
        assert Version(pins[name]) in req.specifier, f"{name}=={pins[name]} is outside {req.specifier}"


def test_chainer_build_steps_on_every_path():
    install = (ROOT / "tools" / "install.sh").read_text()
    assert re.search(r'"setuptools>=65,<70" wheel', install)
    assert "--no-build-isolation" in install and "chainer==7.8.1" in install
    assert "constraints.txt" in install
    assert int(_pins()["setuptools"].split(".")[0]) < 70
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "python=3.11" in deps and "chainer=7.8.1" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict))
    assert "-c constraints.txt" in pip_section
    from edgelab.run.convention import setup_cell_source

    assert "tools/install.sh --colab" in setup_cell_source()
    assert "bash tools/install.sh" in (ROOT / "Makefile").read_text()


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"^make test\s+# set up, then run every test", readme, re.M)
    assert re.search(r"^make curriculum\s+# set up, then run every notebook", readme, re.M)
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if line.strip() and not line.startswith("#")]
    assert ci[-1] == "make test"
    assert any(line.startswith("export EDGELAB_MIRROR=") for line in ci)
