"""The notebook convention, written down as code so a test can hold every notebook to it.

Every notebook in ``notebooks/`` has, in order:

1. a **header** (Markdown): ``# <title>``, the Open-in-Colab badge for *that* notebook
   (built from :data:`edgelab.core.project.REPO_URL`), a one-paragraph description and a
   "What you'll learn" list;
2. the **setup cell** (code), identical everywhere: on Colab it clones the repository and
   runs ``tools/install.sh --colab`` (see :func:`setup_cell_source`); elsewhere it does nothing;
3. a code cell calling ``edgelab.notebook.start(...)`` (profile banner, seeds, quiet logs);
4. then one idea per cell. Cells whose output is a fact independent of profile and
   hardware start with ``# NBVAL_CHECK_OUTPUT`` (at least three per notebook).

Its metadata names the kernel ``make setup`` installs (:data:`KERNELSPEC`, the display name
included): JupyterLab rewrites a differing kernelspec on opening, which marks the notebook
modified and lets autosave change it. (It also adds a missing ``language_info``, which
``edgelab run`` stores and ``tools/scan_outputs.py`` checks.)

``python -m edgelab.run.convention stamp notebooks/*.ipynb`` rewrites badges, setup cells
and the kernelspec from the single source here; ``check`` lists what a notebook gets wrong.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from edgelab.core.project import REPO_URL, colab_url

SETUP_MARKER = "# edgelab setup"
# What `python -m ipykernel install --name python3` (make setup) writes into kernel.json,
# and what JupyterLab and Colab show; a notebook stored with the same opens unchanged.
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
CHECK_MARKER = "# NBVAL_CHECK_OUTPUT"
BADGE_RE = re.compile(r"\[!\[Open In Colab\]\(https://colab\.research\.google\.com/assets/"
                      r"colab-badge\.svg\)\]\((?P<url>[^)]+)\)")


def badge(notebook: str) -> str:
    """The Markdown badge for the notebook at repository path ``notebook``."""
    return ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({colab_url(notebook)})")


def setup_cell_source() -> str:
    """The setup cell: on Colab, clones edgelab and runs ``tools/install.sh --colab``, which
    adds what Colab lacks to Colab's own stack (no restart); does nothing elsewhere.

    It is plain Python (no ``!`` lines, which never fail): a failed clone or install stops
    the notebook with one line that says which step failed and what to do. Re-run, it skips
    the clone and the install script returns at once; every notebook has the same cell, so
    whichever one a learner opens first sets the runtime up.
    """
    return f"""{SETUP_MARKER}: on Colab, get edgelab and add what Colab lacks to Colab's own
# TensorFlow, Keras and NumPy (about a minute; seconds when run again; no restart needed).
# Anywhere else (JupyterLab after `make setup`, CI) this cell does nothing.
import sys
if "google.colab" in sys.modules:
    import os, shutil, subprocess
    REPO = "/content/edgelab"

    class SetupFailed(Exception):
        def _render_traceback_(self):  # IPython shows this one line instead of a traceback
            return [f"edgelab setup failed: {{self}}"]

    def run(step, *cmd):  # show the output as it comes; stop the notebook if the step fails
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in proc.stdout:
            print(line, end="")
        if proc.wait():
            raise SetupFailed(f"{{step}} exited with {{proc.returncode}} (its output is above). "
                              "Run this cell again; if it fails again, use Runtime > "
                              "Disconnect and delete runtime, then Run all.")

    if not os.path.isfile(f"{{REPO}}/tools/install.sh"):
        shutil.rmtree(REPO, ignore_errors=True)  # a clone that broke off half-way
        run("git clone", "git", "clone", "-q", "--depth", "1", "{REPO_URL}", REPO)
    run("tools/install.sh --colab", "bash", f"{{REPO}}/tools/install.sh", "--colab")
    if REPO not in sys.path:
        sys.path.insert(0, REPO)"""


def _src(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def check(path: str | Path, repo_relative: str | None = None) -> list[str]:
    """Problems of one notebook against the convention (empty list: it follows it)."""
    import nbformat

    path = Path(path)
    rel = repo_relative or f"notebooks/{path.name}"
    nb = nbformat.read(path, as_version=4)
    cells = nb.cells
    problems = []
    if len(cells) < 4:
        return [f"{rel}: too few cells ({len(cells)})"]
    head = _src(cells[0])
    if cells[0].cell_type != "markdown" or not head.startswith("# "):
        problems.append("first cell must be a Markdown header starting with '# <title>'")
    m = BADGE_RE.search(head)
    if not m:
        problems.append("header has no Open-in-Colab badge")
    elif m.group("url") != colab_url(rel):
        problems.append(f"badge points at {m.group('url')}, not at {colab_url(rel)}")
    if "what you'll learn" not in head.lower():
        problems.append("header has no \"What you'll learn\" section")
    if cells[1].cell_type != "code" or _src(cells[1]).strip() != setup_cell_source():
        problems.append("second cell is not the standard setup cell (run: "
                        "python -m edgelab.run.convention stamp)")
    kernelspec = dict(nb.metadata.get("kernelspec", {}))
    if kernelspec != KERNELSPEC:
        problems.append(f"kernelspec is {kernelspec}, not the installed kernel's {KERNELSPEC} "
                        "(run: python -m edgelab.run.convention stamp)")
    code = [c for c in cells if c.cell_type == "code"]
    if not any("edgelab.notebook.start(" in _src(c) for c in code[1:3]):
        problems.append("no edgelab.notebook.start(...) call right after the setup cell")
    checked = sum(_src(c).lstrip().startswith(CHECK_MARKER) for c in code)
    if checked < 3:
        problems.append(f"only {checked} cells marked {CHECK_MARKER} (want at least 3)")
    unexecuted = [i for i, c in enumerate(cells) if c.cell_type == "code"
                  and _src(c).strip() and c.get("execution_count") is None]
    if unexecuted:
        problems.append(f"cells without stored outputs (not executed): {unexecuted[:5]}")
    errors = [i for i, c in enumerate(cells) if c.cell_type == "code"
              and any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    if errors:
        problems.append(f"cells with stored errors: {errors[:5]}")
    return [f"{rel}: {p}" for p in problems]


def stamp(path: str | Path, repo_relative: str | None = None) -> bool:
    """Rewrite the badge, the setup cell and the kernelspec of one notebook; True if it changed."""
    import nbformat

    path = Path(path)
    rel = repo_relative or f"notebooks/{path.name}"
    nb = nbformat.read(path, as_version=4)
    changed = False
    head = _src(nb.cells[0])
    new_head = BADGE_RE.sub(lambda _: badge(rel), head) if BADGE_RE.search(head) else \
        head.replace("\n", f"\n\n{badge(rel)}\n", 1)
    if new_head != head:
        nb.cells[0].source, changed = new_head, True
    if dict(nb.metadata.get("kernelspec", {})) != KERNELSPEC:
        nb.metadata["kernelspec"], changed = dict(KERNELSPEC), True
    setup = nb.cells[1]
    if setup.cell_type == "code" and _src(setup).startswith(SETUP_MARKER):
        if _src(setup) != setup_cell_source():
            setup.source, changed = setup_cell_source(), True
    else:
        cell = nbformat.v4.new_code_cell(setup_cell_source())
        cell.execution_count = 1
        nb.cells.insert(1, cell)
        changed = True
    if changed:
        from edgelab.core.atomic import atomic_write

        with atomic_write(path, encoding="utf-8") as handle:
            nbformat.write(nb, handle)
    return changed


def header(notebook: str, title: str, description: str, learn: list[str]) -> str:
    """The header cell's Markdown for the notebook at repository path ``notebook``."""
    bullets = "\n".join(f"- {item}" for item in learn)
    return (f"# {title}\n\n{badge(notebook)}\n\n{description.strip()}\n\n"
            f"**What you'll learn**\n\n{bullets}")


def write_notebook(path: str | Path, title: str, description: str, learn: list[str],
                   cells: list[tuple[str, str]]) -> Path:
    """Create a notebook that follows the convention: header, setup cell, then ``cells``.

    ``cells`` is a list of ``("md", text)`` and ``("code", source)`` pairs; the first code
    cell should call ``edgelab.notebook.start(...)``. Outputs are added by executing it
    (``make notebooks NB=...``). Authors keep the script that calls this out of the repo:
    the notebook is the source of truth once written.
    """
    import nbformat

    path = Path(path)
    rel = f"notebooks/{path.name}"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells.append(nbformat.v4.new_markdown_cell(header(rel, title, description, learn)))
    nb.cells.append(nbformat.v4.new_code_cell(setup_cell_source()))
    for kind, text in cells:
        text = text.strip("\n")
        if kind == "md":
            nb.cells.append(nbformat.v4.new_markdown_cell(text))
        elif kind == "code":
            nb.cells.append(nbformat.v4.new_code_cell(text))
        else:
            raise ValueError(f"cell kind must be 'md' or 'code', got {kind!r}")
    from edgelab.core.atomic import atomic_write

    with atomic_write(path, encoding="utf-8") as handle:
        nbformat.write(nb, handle)
    return path


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in ("check", "stamp"):
        print("usage: python -m edgelab.run.convention check|stamp NOTEBOOK...")
        return 2
    status = 0
    for name in argv[1:]:
        if argv[0] == "stamp":
            print(f"{name}: {'stamped' if stamp(name) else 'unchanged'}")
        else:
            for problem in check(name):
                print(problem)
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
