"""Per-section timing: a notebook's ``##`` sections, their measured time in `edgelab run`
(status, report, results rows), the plan per section, and the cut lines' data flow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from edgelab.run import plan as planning
from edgelab.run import sections as S

ROOT = Path(__file__).resolve().parent.parent
CPU = "Some CPU x4, accelerator: none"
STAMP = "2026-12-01T10:00:00+00:00"


def _nb(cells: list[tuple[str, str]]):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(t) if k == "md" else nbformat.v4.new_code_cell(t)
                for k, t in cells]
    return nb


LESSON = [
    ("md", "# 99 · A demo\n\nSome words here."),
    ("code", "import math"),
    ("md", "## 1. Data\n\nWe make data."),
    ("code", "data = [1, 2, 3]\nscale = 2"),
    ("md", "Not a heading: ## in the middle.\n\n```\n## a comment in a fence\n```"),
    ("code", "data = [x * scale for x in data]   # reads data and scale, rebinds data"),
    ("md", "## 2. Model\n"),
    ("code", "def model(x):\n    return math.sqrt(x) * weight\nweight = 3"),
    ("md", "## 3. An aside\n"),
    ("code", "aside = sum(data)\nprint(aside)"),
    ("md", "## 4. Train\n"),
    ("code", "result = [model(x) for x in data]\nnet.fit(data)"),
    ("md", "## 5. Evaluate\n"),
    ("code", "import subprocess\nsubprocess.run(['true'])\nprint(net.evaluate(data))"),
    ("md", "## Where this departs\n\ntext\n\n## Exercises\n\n1. Try it."),
]


def test_sections_split_on_level_two_headings_only():
    sections = S.split(_nb(LESSON))
    assert [s.title for s in sections] == [S.PREFACE, "1. Data", "2. Model", "3. An aside",
                                           "4. Train", "5. Evaluate", "Where this departs",
                                           "Exercises"]
    assert [s.code_cells for s in sections] == [[1], [3, 5], [7], [9], [11], [13], [], []]
    assert sections[1].cells == [2, 3, 4, 5]          # a fenced "## ..." starts nothing
    assert sections[6].cells == [] and sections[7].cells == [14]   # two headings, one cell
    assert sections[0].words == 5 and sections[2].code_lines == 3
    # a cell with two headings: each heading's words to its own section
    assert sections[6].words == 4 and sections[7].words == 3   # "Where this departs text"...


def test_timed_sums_each_sections_cells_and_marks_sections_that_never_ran():
    sections = S.timed(_nb(LESSON), [[1, 0.5], [3, 1.0], [5, 2.25], [7, 0.1]])
    assert [s.seconds for s in sections] == [0.5, 3.25, 0.1, None, None, None, 0, 0]
    assert sections[1].as_dict() == {"number": 1, "title": "1. Data", "code_cells": 2,
                                     "first_cell": 3, "last_cell": 5, "seconds": 3.25}


def test_dataflow_names_what_a_cut_takes_from_later_sections():
    deps = {(d.earlier, d.later): d.names for d in S.dataflow(_nb(LESSON))}
    # section 1 rebinds `data` from its own earlier cell: its later cell is no dependency
    assert deps[(1, 3)] == ["data"] and deps[(1, 4)] == ["data"]
    assert deps[(2, 4)] == ["model"]            # `weight` is read inside model, bound in 2
    assert deps[(0, 2)] == ["math"]
    assert not [k for k in deps if k[0] == 3]   # the aside: a clean cut
    # training changes `net` in place: skipping 4 leaves 5 with an untrained one; calling a
    # module's function (subprocess.run) changes nothing a later section needs
    assert deps[(4, 5)] == ["net"] and not [k for k in deps if k[0] == 5]
    # x = f(x) reads the old x; a comprehension's own variable is not a dependency
    assert S._names("x = f(x)") == ({"x"}, {"f", "x"})
    assert S._names("x = 1\ny = f(x)") == ({"x", "y"}, {"f"})
    assert S._names("y = [i for i in range(n)]") == ({"y"}, {"n"})
    assert S._names("%matplotlib inline\nimport numpy as np") == ({"np"}, set())
    assert S._names("def broken(:") == (set(), set())   # a cell that does not parse


def test_recorded_rows_come_back_as_one_run(tmp_path):
    out = tmp_path / "r.jsonl"
    sections = [s.as_dict() for s in S.timed(_nb(LESSON), [[1, 6], [3, 30], [5, 30], [7, 6],
                                                               [9, 6], [11, 120], [13, 0]])]
    os.environ["EDGELAB_PROFILE"] = "quick"
    from edgelab.core import results

    results.record("run.99_demo.minutes", 3.5, "min", file=out, time=STAMP)
    results.record("run.99_demo.longest_cell_minutes", 2.0, "min", file=out, time=STAMP,
                   extra={"cell": 11})
    S.record("99_demo", sections, time=STAMP, file=out)
    # an older run with other sections must not mix in
    results.record("run.99_demo.minutes", 9.0, "min", file=out, time="2026-01-01T00:00:00+00:00")
    results.record(S.section_key("99_demo", 1), 9.0, "min", note="old title", file=out,
                   time="2026-01-01T00:00:00+00:00")
    run = S.recorded(results.load(out), "99_demo", "quick")
    assert run.minutes == 3.5 and run.time == STAMP and run.longest_cell == 11
    assert [(s.title, s.minutes) for s in run.sections] == [
        (S.PREFACE, 0.1), ("1. Data", 1.0), ("2. Model", 0.1), ("3. An aside", 0.1),
        ("4. Train", 2.0), ("5. Evaluate", 0.0), ("Where this departs", 0.0),
        ("Exercises", 0.0)]
    assert run.sections[4].holds(11) and not run.sections[3].holds(11)
    assert S.recorded(results.load(out), "99_demo", "full") is None
    with pytest.raises(ValueError, match="replace the row's own"):
        results.record("x.y", 1, file=out, extra={"key": "no"})


def _rows(profile="quick", hardware=CPU):
    rows = [{"key": "run.01_demo.minutes", "value": 4.0, "profile": profile,
             "hardware": hardware, "time": STAMP},
            {"key": "run.01_demo.longest_cell_minutes", "value": 2.0, "cell": 5,
             "profile": profile, "hardware": hardware, "time": STAMP}]
    for number, title, minutes, first, last in ((0, S.PREFACE, 0.5, 1, 1),
                                                (1, "1. Data", 0.5, 3, 3),
                                                (2, "2. Train", 2.5, 5, 6)):
        rows.append({"key": S.section_key("01_demo", number), "value": minutes, "note": title,
                     "first_cell": first, "last_cell": last, "profile": profile,
                     "hardware": hardware, "time": STAMP})
    return rows


@pytest.fixture
def demo(tmp_path):
    path = tmp_path / "01_demo.ipynb"
    path.write_text('{"cells": [{"source": ["S = edgelab.sizes(\\"mnist\\")"]}]}')
    return path


def test_plan_shares_a_measured_estimate_out_over_the_sections(demo):
    plan = planning.make_plan([demo], "quick", rows=_rows(), hardware=CPU,
                              accelerator=("none", "test"), calibrate=False)
    e = plan.estimates[0]
    assert e.minutes == 4.0
    assert [(t, round(m, 2)) for t, m in e.sections] == [(S.PREFACE, 0.5), ("1. Data", 0.5),
                                                          ("2. Train", 2.5)]
    assert "no run with per-section" not in plan.text()
    plan.show_sections = True
    text = plan.text()
    assert "    1. Data" in text and "2.5 min" in text


def test_plan_scales_the_main_loops_section_for_the_other_profile(demo):
    plan = planning.make_plan([demo], "full", rows=_rows(), hardware=CPU,
                              accelerator=("none", "test"), calibrate=False)
    e = plan.estimates[0]
    ratio = planning.work_ratio("mnist", "full", "quick")
    assert e.rough and e.minutes == pytest.approx(4.0 - 2.0 + 2.0 * ratio)
    shares = dict(e.sections)
    assert shares["1. Data"] == pytest.approx(0.5)          # not the main loop: as it was
    assert shares["2. Train"] == pytest.approx(0.5 + 2.0 * ratio)
    plan.show_sections = True
    assert "~" in plan.text().split("2. Train")[1].splitlines()[0]


def test_plan_without_sections_says_so(demo):
    rows = [r for r in _rows() if ".section." not in r["key"]]
    plan = planning.make_plan([demo], "quick", rows=rows, hardware=CPU,
                              accelerator=("none", "test"), calibrate=False)
    plan.show_sections = True
    assert plan.estimates[0].sections == []
    assert "no run with per-section times recorded" in plan.text()


def test_edgelab_run_times_each_section_and_reports_it(tmp_path):
    path = tmp_path / "98_timed.ipynb"
    nb = _nb([("md", "# 98 · timed"), ("code", "import time"),
              ("md", "## 1. Sleep a little"), ("code", "time.sleep(1.5)"),
              ("code", "open('written.bin', 'wb').write(b'x' * 300_000)"),
              ("md", "## 2. Then nothing"), ("code", "done = True")])
    nb.cells[4].source = ("import edgelab, pathlib\n"
                          "(edgelab.paths.outputs() / 'written.bin').write_bytes(b'x' * 300_000)")
    nbformat.write(nb, path)
    out = tmp_path / "run"
    env = {**os.environ, "EDGELAB_HISTORY": str(tmp_path / "h.jsonl")}
    env.pop("EDGELAB_OUT", None)
    proc = subprocess.run([sys.executable, "-m", "edgelab", "run", "--no-progress", str(path),
                           "--profile", "quick", "--out", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    status = json.loads((out / "status.json").read_text())["runs"][0]
    titles = [s["title"] for s in status["sections"]]
    assert titles == [S.PREFACE, "1. Sleep a little", "2. Then nothing"]
    assert status["sections"][1]["seconds"] >= 1.5 and status["sections"][1]["code_cells"] == 2
    assert status["outputs_mb"] == pytest.approx(0.3, abs=0.05)
    report = (out / "report.md").read_text()
    assert "## Time per section" in report and "| 1. Sleep a little | 2 |" in report
    assert "time per section" in (out / "report.html").read_text()
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    run = S.recorded(rows, "98_timed", "quick")
    assert [s.title for s in run.sections] == titles and run.sections[1].minutes >= 0.025
    keys = {r["key"] for r in rows}
    assert {"run.98_timed.outputs_mb", "run.98_timed.home_mb"} <= keys
    # the history the next plan reads has the sections too: --plan --sections shows them
    proc = subprocess.run([sys.executable, "-m", "edgelab", "run", "--plan", "--sections",
                           str(path), "--profile", "quick"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert "    1. Sleep a little" in proc.stdout, proc.stdout
