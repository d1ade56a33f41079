#!/usr/bin/env python3
"""Scan the stored outputs of notebooks for what a learner must never see in them.

    python tools/scan_outputs.py [NOTEBOOK...]      (default: notebooks/*.ipynb)

Reports, one line each (``notebook: cell N: what: the text``), and exits 1 if it found any:

* **absolute path**: a path of the machine that executed the notebook (``/work/...``,
  ``/home/...``, ``/root/...``, ``/tmp/...``, ``C:\\...``); outputs show paths as
  ``$EDGELAB_OUT/...`` or relative to the repository (``edgelab.core.paths.shown``);
* **warning**: a Python warning (``SomethingWarning:``), an absl/TensorFlow ``WARNING:``
  line or a TensorFlow C++ log line;
* **empty stderr**: a stderr stream that is only whitespace (an erased progress bar),
  shown as an empty red box;
* **widget**: a stored widget view, or widget state in the metadata: a headless run
  stores text bars; a widget output reads "Loading widget..." anywhere but a live kernel;
* **no language_info**: metadata without the kernel's ``language_info`` (``edgelab run``
  stores it): JupyterLab adds it on opening, which marks the notebook modified.

Web addresses (``https://...``) are not paths. Only outputs are scanned, never sources.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# An absolute POSIX path of at least two components, not part of a URL or a longer word,
# under a folder that only a machine has (the repository shows relative paths), or a
# Windows drive path.
_POSIX = re.compile(
    r"(?<![\w.:/$~%-])/(?:work|home|root|tmp|usr|opt|var|mnt|srv|Users|private|content|"
    r"scratch|data|etc|lib|proc|run|snap|nix|gpfs|lustre)(?:/[\w.@+~-]+)+")
_WINDOWS = re.compile(r"\b[A-Za-z]:\\[\w.\\ -]+")
_WARNING = re.compile(r"\b\w*Warning: |^WARNING:|^W\d{4} \d\d:\d\d:\d\d", re.MULTILINE)
_TEXT_TYPES = ("text/plain", "text/html", "text/markdown", "text/latex", "application/json")


def _text(value) -> str:
    if isinstance(value, list):
        return "".join(value)
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _excerpt(text: str, start: int, end: int) -> str:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start:line_end if line_end != -1 else len(text)].strip()
    return line[:160]


def _scan_text(text: str, where: str) -> list[str]:
    found = []
    for pattern, what in ((_POSIX, "absolute path"), (_WINDOWS, "absolute path"),
                          (_WARNING, "warning")):
        seen = set()
        for m in pattern.finditer(text):
            line = _excerpt(text, m.start(), m.end())
            if line not in seen:
                seen.add(line)
                found.append(f"{where}: {what}: {line}")
    return found


def scan(path: str | Path) -> list[str]:
    """Every problem in the stored outputs of the notebook at ``path``."""
    path = Path(path)
    try:
        shown = path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        shown = path.name
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        return [f"{shown}: cannot read the notebook ({err})"]
    problems = []
    if "version" not in nb.get("metadata", {}).get("language_info", {}):
        problems.append(f"{shown}: metadata: no language_info: the kernel's language_info is "
                        "missing (JupyterLab adds it on opening): re-execute with edgelab run")
    if nb.get("metadata", {}).get("widgets"):
        problems.append(f"{shown}: metadata: widget: stored widget state (execute headless: "
                        "EDGELAB_HEADLESS=1, as edgelab run does)")
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        where = f"{shown}: cell {index}"
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "stream":
                text = _text(output.get("text", ""))
                if output.get("name") == "stderr" and not text.strip():
                    problems.append(f"{where}: empty stderr: {text!r}"[:200])
                problems += _scan_text(text, where)
            elif kind in ("display_data", "execute_result"):
                data = output.get("data", {})
                if "application/vnd.jupyter.widget-view+json" in data:
                    problems.append(f"{where}: widget: a stored widget view (execute headless)")
                for mime in _TEXT_TYPES:
                    if mime in data:
                        problems += _scan_text(_text(data[mime]), where)
            elif kind == "error":
                problems += _scan_text("\n".join(output.get("traceback", [])), where)
    return problems


def main(argv: list[str]) -> int:
    notebooks = argv or sorted(str(p) for p in (ROOT / "notebooks").glob("*.ipynb"))
    problems = [p for nb in notebooks for p in scan(nb)]
    for p in problems:
        print(p)
    print(f"{len(notebooks)} notebook(s) scanned: "
          f"{len(problems) or 'no'} problem(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
