"""The package reads as the curriculum: one subpackage per lesson, shared machinery beside them,
dependencies pointing one way and no import cycle.

The import graph is read from the source (every ``import`` and ``from ... import`` statement,
also those inside functions), so a lazy import counts as much as a top-level one.
"""

from __future__ import annotations

import ast
import importlib
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "edgelab"

SHARED = {"core", "datasets", "devices", "plots"}
LESSONS = {"mnist", "xception", "gradcam", "chainer", "hub", "lineart", "edge", "pytorch"}
# What one lesson may take from another: the documented function that loads (or trains) that
# lesson's model, and nothing else of it.
LOADERS = {
    "edgelab.mnist": {"load_or_train"},
    "edgelab.xception": {"load_or_train"},
    "edgelab.hub.flowers_classifier": {"load_or_train"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports(path: Path) -> list[tuple[str, set[str]]]:
    """(imported edgelab module, names taken from it) for every import statement in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(a.name, set()) for a in node.names if a.name.split(".")[0] == "edgelab"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] == "edgelab":
            names = {a.name for a in node.names}
            submodules = {n for n in names if f"{node.module}.{n}" in MODULES}
            found += [(f"{node.module}.{n}", set()) for n in submodules]
            if names - submodules:
                found.append((node.module, names - submodules))
    return found


def graph() -> dict[str, set[str]]:
    return {name: {target for target, _ in imports(path) if target != name}
            for name, path in MODULES.items()}


def top(name: str) -> str:
    """The part of edgelab a module belongs to: ``edgelab.hub.handles`` -> ``hub``."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_at_most_eight_modules_stand_directly_in_the_package():
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert len(loose) <= 8, loose


def test_every_lesson_is_a_subpackage_with_a_docstring():
    for name in sorted(SHARED | LESSONS | {"run"}):
        folder = PACKAGE / name
        path = folder / "__init__.py" if folder.is_dir() else PACKAGE / f"{name}.py"
        assert path.exists(), name
        assert ast.get_docstring(ast.parse(path.read_text())), f"{path} has no docstring"


def test_there_is_no_import_cycle_among_edgelab_modules():
    edges = graph()
    state: dict[str, int] = {}   # 1 = on the current path, 2 = done

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])


def test_core_imports_nothing_else_of_edgelab_and_no_tensorflow_when_imported():
    for name, path in MODULES.items():
        if top(name) != "core":
            continue
        for target, _ in imports(path):
            assert top(target) == "core", f"{name} imports {target}"
        # at import time, that is; a function may import Keras to seed it (core.seeding)
        tree = ast.parse(path.read_text())
        heavy = [a.name for n in tree.body if isinstance(n, ast.Import) for a in n.names
                 if a.name.split(".")[0] in ("tensorflow", "keras", "sonnet", "chainer")]
        heavy += [n.module for n in tree.body if isinstance(n, ast.ImportFrom) and n.module
                  and n.module.split(".")[0] in ("tensorflow", "keras", "sonnet", "chainer")]
        assert not heavy, f"{name} imports {heavy} when it is imported"


def test_shared_machinery_imports_no_lesson():
    for name, path in MODULES.items():
        if top(name) not in SHARED | {"run", "notebook"}:
            continue
        for target, _ in imports(path):
            assert top(target) not in LESSONS, f"{name} imports the lesson module {target}"


def test_a_lesson_takes_from_another_lesson_only_its_documented_loader():
    for name, path in MODULES.items():
        lesson = top(name)
        if lesson not in LESSONS:
            continue
        for target, names in imports(path):
            other = top(target)
            if other in (lesson, "") or other in SHARED:
                continue
            assert other in LESSONS, f"{name} imports {target}"
            allowed = LOADERS.get(target, set())
            assert names and names <= allowed, (
                f"{name} imports {sorted(names) or 'the module'} from {target}; another "
                f"lesson may use only {sorted(allowed) or 'nothing'} of it")


# What the workshop kit (``edgelab prepare``) may take from a lesson: the calls a later
# lesson makes to get an earlier one's model, and the Hub resolver notebook 05 calls.
WORKSHOP_USES = {
    **LOADERS,
    "edgelab.hub.flowers_classifier": {"load_or_train"},
    "edgelab.hub": {"flowers_classifier"},
    "edgelab.hub.handles": {"is_saved_model"},   # and the module: resolve, the handles
    "edgelab.hub.offline": set(),       # the module: is_built (is a module ready?)
    "edgelab": {"sizes", "xception"},
}


def test_the_workshop_kit_sits_above_the_lessons_and_uses_only_their_loaders():
    for name, path in MODULES.items():
        if top(name) == "workshop":
            for target, names in imports(path):
                if top(target) in LESSONS or target == "edgelab":
                    allowed = WORKSHOP_USES.get(target)
                    assert allowed is not None and names <= allowed, (
                        f"{name} imports {sorted(names) or 'the module'} from {target}; the "
                        "workshop kit may use only a lesson's documented loaders")
        else:   # nothing a lesson or the shared machinery uses depends on the kit
            for target, _ in imports(path):
                assert top(target) != "workshop" or name == "edgelab.run.cli", \
                    f"{name} imports {target}"


def test_the_documented_loaders_exist():
    for module, names in LOADERS.items():
        loaded = importlib.import_module(module)
        for n in names:
            assert callable(getattr(loaded, n)), f"{module}.{n}"


def test_every_command_module_registers_itself():
    from edgelab.run import cli

    for command, module in cli.COMMANDS.items():
        assert callable(getattr(importlib.import_module(module), "register")), command


def test_the_version_is_the_one_in_pyproject():
    import edgelab

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert edgelab.__version__ == project["version"]


def test_no_name_a_package_exports_hides_one_of_its_modules():
    # ``from edgelab.hub import resolve`` must not give a function when a module of that
    # name exists (it once did: hub/resolve.py and hub.resolve()).
    for name, path in MODULES.items():
        if path.name != "__init__.py":
            continue
        package = importlib.import_module(name)
        for exported in getattr(package, "__all__", ()):
            if f"{name}.{exported}" in MODULES:
                assert getattr(package, exported) is importlib.import_module(f"{name}.{exported}"), \
                    f"{name}.{exported} is both a module and another object"
