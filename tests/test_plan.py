"""The plan ``edgelab run`` prints first: the profile and why, each notebook's estimated time
from measured rates (injected here), the advice for long CPU runs, the cell time limits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from edgelab.core import profiles
from edgelab.run import plan as planning

ROOT = Path(__file__).resolve().parent.parent
CPU = "Some CPU x4, accelerator: none"
GPU = "Some CPU x8, accelerator: NVIDIA T4"
NONE = ("none", "no nvidia-smi GPU")


def row(key, value, profile="quick", hardware=CPU, time="2026-11-24T10:00:00+00:00"):
    return {"key": key, "value": value, "unit": "min", "profile": profile,
            "hardware": hardware, "time": time, "source": "edgelab run"}


@pytest.fixture
def notebooks(tmp_path):
    """Two notebooks that ask for the sizes of two real lessons."""
    out = []
    for stem, lesson in (("01_demo", "mnist"), ("02_demo", "xception")):
        path = tmp_path / f"{stem}.ipynb"
        path.write_text('{"cells": [{"source": ["S = edgelab.sizes(\\"%s\\")"]}]}' % lesson)
        out.append(path)
    return out


def test_a_measured_time_here_is_the_median_of_the_newest_runs(notebooks):
    rows = [row("run.01_demo.minutes", 50.0, time="2026-10-01T00:00:00+00:00"),  # too old
            row("run.01_demo.minutes", 2.0, time="2026-11-01T00:00:00+00:00"),
            row("run.01_demo.minutes", 6.0, time="2026-11-20T00:00:00+00:00"),  # a busy day
            row("run.01_demo.minutes", 1.5),
            row("run.01_demo.minutes", 9.0, hardware="another machine"),
            row("run.02_demo.minutes", 3.0)]
    plan = planning.make_plan(notebooks, "quick", rows=rows, hardware=CPU, accelerator=NONE)
    assert [(e.notebook, e.minutes, e.rough) for e in plan.estimates] == \
        [("01_demo", 2.0, False), ("02_demo", 3.0, False)]   # median of 2.0, 6.0, 1.5
    assert plan.total_minutes == 5.0 and plan.advice() == []
    text = plan.text()
    assert "profile quick (--profile quick was given)" in text
    assert "measured here (median of 3 runs, newest 2026-11-24)" in text
    assert "measured here (one run, newest 2026-11-24)" in text


def test_the_other_profile_is_scaled_by_the_lessons_work_ratio(notebooks):
    rows = [row("run.01_demo.minutes", 2.0), row("run.02_demo.minutes", 2.0)]
    plan = planning.make_plan(notebooks, "full", rows=rows, hardware=CPU, accelerator=NONE)
    q, f = profiles.SIZES["mnist"]["quick"], profiles.SIZES["mnist"]["full"]
    mnist_ratio = f["train_examples"] * f["epochs"] / (q["train_examples"] * q["epochs"])
    assert planning.work_ratio("mnist", "full", "quick") == pytest.approx(mnist_ratio)
    xq, xf = profiles.SIZES["xception"]["quick"], profiles.SIZES["xception"]["full"]
    x_ratio = (xf["epochs"] / xq["epochs"]) * (xf["image_size"] / xq["image_size"]) ** 2 \
        * (xf["width_multiplier"] / xq["width_multiplier"]) ** planning.WORK["xception"]["width_multiplier"]
    one, two = plan.estimates
    assert one.minutes == pytest.approx(2.0 * mnist_ratio) and one.rough
    assert two.minutes == pytest.approx(2.0 * x_ratio) and two.rough
    assert "scaled: the whole quick run here" in two.basis and "upper bound" in two.basis
    # with the longest cell known, only that cell (the main loop) is scaled
    rows.append(row("run.02_demo.longest_cell_minutes", 1.5))
    plan = planning.make_plan(notebooks, "full", rows=rows, hardware=CPU, accelerator=NONE)
    assert plan.estimates[1].minutes == pytest.approx(0.5 + 1.5 * x_ratio)
    assert "with its longest cell (1.5 min)" in plan.estimates[1].basis


def test_over_an_hour_on_a_cpu_comes_with_advice_not_on_a_gpu(notebooks):
    rows = [row("run.02_demo.minutes", 95.0, profile="full"),
            row("run.02_demo.minutes", 95.0, profile="full", hardware=GPU)]
    cpu = planning.make_plan(notebooks[1:], "full", rows=rows, hardware=CPU, accelerator=NONE)
    advice = "\n".join(cpu.advice())
    assert "02_demo (1.6 h)" in advice and "GPU runtime" in advice and "--profile quick" in advice
    assert "1.6 h" in cpu.text()
    gpu = planning.make_plan(notebooks[1:], "full", rows=rows, hardware=GPU,
                             accelerator=("NVIDIA T4", "nvidia-smi"))
    assert gpu.advice() == []


def test_without_a_profile_the_machine_decides_and_says_why(notebooks):
    old = os.environ.pop("EDGELAB_PROFILE", None)
    try:
        plan = planning.make_plan(notebooks, None, rows=[], hardware=CPU, accelerator=NONE,
                                  calibrate=False)
        assert plan.profile == "quick" and "no GPU or TPU found" in plan.reason
        gpu = planning.make_plan(notebooks, None, rows=[], hardware=GPU, calibrate=False,
                                 accelerator=("NVIDIA T4", "nvidia-smi"))
        assert gpu.profile == "full" and "NVIDIA T4" in gpu.reason
    finally:
        if old is not None:
            os.environ["EDGELAB_PROFILE"] = old
    assert all(e.minutes is None for e in plan.estimates)
    assert "unknown" in plan.text()


def test_another_machines_times_scaled_by_the_calibrated_speed(notebooks):
    rows = [row("run.01_demo.minutes", 6.0, hardware=CPU),
            row(planning.CALIBRATION_KEY, 200.0, hardware=CPU)]
    calls = []

    def calibrate():
        calls.append(1)
        return 600.0                      # three times the reference machine's speed

    history = os.environ.get(planning.HISTORY_VAR)
    os.environ[planning.HISTORY_VAR] = os.devnull
    try:
        plan = planning.make_plan(notebooks[:1], "quick", rows=rows, hardware=GPU,
                                  accelerator=("NVIDIA T4", "nvidia-smi"), calibrate=calibrate)
    finally:
        if history is None:
            os.environ.pop(planning.HISTORY_VAR)
        else:
            os.environ[planning.HISTORY_VAR] = history
    assert calls == [1]
    e = plan.estimates[0]
    assert e.minutes == pytest.approx(2.0) and e.rough and CPU in e.basis
    assert any("calibrated this machine: 600 img/s" in n for n in plan.notes)
    # once calibrated (the row is in the history), no new probe runs
    again = planning.make_plan(notebooks[:1], "quick", rows=rows + [row(
        planning.CALIBRATION_KEY, 600.0, hardware=GPU)], hardware=GPU,
        accelerator=("NVIDIA T4", "nvidia-smi"), calibrate=lambda: pytest.fail("probed again"))
    assert again.estimates[0].minutes == pytest.approx(2.0)


def test_cell_timeout_is_a_multiple_of_the_estimate_with_a_floor():
    est = planning.Estimate
    assert planning.cell_timeout(est("a", 1.0, "")) == planning.TIMEOUT_FLOOR_S
    assert planning.cell_timeout(est("a", 20.0, "")) == planning.TIMEOUT_MULTIPLE * 20 * 60
    long = est("02", 19 * 60.0, "")       # a 19-hour training notebook is not killed early
    assert planning.cell_timeout(long) == planning.TIMEOUT_MULTIPLE * 19 * 3600
    assert planning.cell_timeout(None) == planning.TIMEOUT_UNKNOWN_S
    assert planning.cell_timeout(est("a", None, "")) == planning.TIMEOUT_UNKNOWN_S
    assert planning.timeout_rule(est("a", 20.0, "")) == "1.0 h = max(3 x the 20.0 min estimate, 10.0 min)"


def test_eta_follows_the_plan_corrected_by_the_pace_so_far(notebooks):
    rows = [row("run.01_demo.minutes", 2.0), row("run.02_demo.minutes", 4.0)]
    plan = planning.make_plan(notebooks, "quick", rows=rows, hardware=CPU, accelerator=NONE)
    eta = planning.Eta(plan, [str(n) for n in notebooks])
    assert eta.seconds_left() == pytest.approx(360)
    eta.finished("01_demo.ipynb", 240)    # twice as slow as planned
    assert eta.seconds_left() == pytest.approx(480)
    assert "ETA: 8.0 min left for 1 notebook(s)" in eta.line()


def _plan_here(*args):
    env = {**os.environ}
    env.pop("EDGELAB_PROFILE", None)
    return subprocess.run([sys.executable, "-m", "edgelab", "run", "--plan", "--no-calibrate",
                           *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_plan_on_this_machine_picks_its_profile_and_estimates_every_notebook():
    from edgelab.core import machine

    if machine.accelerator()[0] == "none":   # CPU only, as CI and most laptops
        assert_first = "edgelab run: profile quick (no GPU or TPU found"
        other = "--profile full"
    else:
        assert_first = "edgelab run: profile full (accelerator found"
        other = "--profile quick"
    proc = _plan_here()
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(assert_first), lines[0]
    assert other in lines[1]
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        line = next(line for line in lines if line.strip().startswith(nb.stem))
        assert "unknown" not in line, line
    assert not any(line.startswith("[1/") for line in lines)     # --plan runs nothing


def test_full_plan_here_gives_notebook_02_in_hours_with_advice():
    from edgelab.core import machine

    if machine.accelerator()[0] != "none":
        # hours and the advice are what a CPU-only machine must show; the same rule with an
        # accelerator (no advice) is test_over_an_hour_on_a_cpu_comes_with_advice_not_on_a_gpu
        pytest.skip("a GPU/TPU machine plans notebook 02 in minutes; this checks a CPU-only one")
    proc = _plan_here("--profile", "full", "notebooks/02_xception_sonnet_flowers.ipynb")
    assert proc.returncode == 0, proc.stderr
    line = next(line for line in proc.stdout.splitlines()
                if line.strip().startswith("02_xception_sonnet_flowers"))
    assert line.split()[1].startswith("~") and line.split()[2] == "h", line
    assert "advice: 02_xception_sonnet_flowers" in proc.stdout
    assert "GPU runtime" in proc.stdout and "--profile quick" in proc.stdout


def test_a_resumed_run_is_no_estimate(notebooks):
    """A full run that resumed from its checkpoints timed only its last stretch."""
    rows = [row("run.02_demo.minutes", 2.0),
            {**row("run.02_demo.minutes", 55.0), "profile": "full", "resumed_from_epoch": 68}]
    plan = planning.make_plan(notebooks, "full", rows=rows, hardware=CPU, accelerator=NONE)
    two = plan.estimates[1]
    assert two.rough and "scaled" in two.basis and two.minutes != 55.0


def test_a_run_recorded_in_both_files_counts_once(tmp_path, monkeypatch):
    import json

    one = row("run.01_demo.minutes", 3.0, profile="full")
    history = tmp_path / "history.jsonl"
    history.write_text(json.dumps(one) + "\n" + json.dumps(dict(one, value=5.0)) + "\n")
    monkeypatch.setenv(planning.HISTORY_VAR, str(history))
    committed = [r for r in planning.recorded_rows() if r.get("hardware") == CPU]
    # the committed file holds no row of this made-up machine: both history rows stay
    assert len(committed) == 2
    monkeypatch.setattr(planning.results, "load",
                        lambda f: [one] if Path(f).name == "results.jsonl" else [one, one])
    assert planning.recorded_rows() == [one]
