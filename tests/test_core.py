"""Profiles, paths, seeds, devices, results and the command line."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import edgelab
from edgelab.core import machine, paths, profiles, results
from edgelab.run.cli import main as cli_main


# --------------------------------------------------------------------------- profiles

def test_profile_variable_wins_and_is_normalised(monkeypatch):
    monkeypatch.setenv("EDGELAB_PROFILE", " Quick ")
    assert profiles.current() == "quick" and profiles.is_quick()
    monkeypatch.setenv("EDGELAB_PROFILE", "full")
    assert profiles.current() == "full"


def test_without_the_variable_the_machine_decides():
    gpu = profiles.choice(environ={}, accelerator=("NVIDIA H200", "nvidia-smi"))
    assert gpu.profile == "full" and "NVIDIA H200" in gpu.reason and "nvidia-smi" in gpu.reason
    assert "--profile quick" in gpu.override
    tpu = profiles.choice(environ={}, accelerator=("TPU", "TPU_NAME"))
    assert tpu.profile == "full" and "TPU" in tpu.reason
    cpu = profiles.choice(environ={}, accelerator=("none", "no nvidia-smi GPU"))
    assert cpu.profile == "quick" and "no GPU or TPU" in cpu.reason
    assert "--profile full" in cpu.override and "EDGELAB_PROFILE=full" in cpu.override


def test_an_explicit_full_on_a_cpu_is_honoured():
    chosen = profiles.choice(environ={"EDGELAB_PROFILE": "full"}, accelerator=("none", "-"))
    assert chosen.profile == "full" and chosen.reason == "EDGELAB_PROFILE=full is set"
    # edgelab run tells its kernels why it chose the profile it exports
    told = profiles.choice(environ={"EDGELAB_PROFILE": "quick",
                                    "EDGELAB_PROFILE_REASON": "chosen by edgelab run: no GPU"},
                           accelerator=("NVIDIA A100", "nvidia-smi"))
    assert told == ("quick", "chosen by edgelab run: no GPU", told.override)


def test_current_asks_the_machine_probe_when_the_variable_is_unset(monkeypatch):
    monkeypatch.delenv("EDGELAB_PROFILE", raising=False)
    monkeypatch.setattr(machine, "accelerator", lambda: ("none", "no nvidia-smi GPU"))
    assert profiles.current() == "quick"
    monkeypatch.setattr(machine, "accelerator", lambda: ("NVIDIA T4", "nvidia-smi"))
    assert profiles.current() == "full"


def test_bad_profile_names_variable_and_choices(monkeypatch):
    monkeypatch.setenv("EDGELAB_PROFILE", "fast")
    with pytest.raises(profiles.ProfileError, match=r"EDGELAB_PROFILE='fast'.*quick, full"):
        profiles.current()


def test_every_lesson_has_the_same_sizes_in_both_profiles():
    for lesson, table in profiles.SIZES.items():
        assert set(table) == set(profiles.PROFILES), lesson
        assert set(table["quick"]) == set(table["full"]), lesson


def test_sizes_access_and_errors(monkeypatch):
    monkeypatch.setenv("EDGELAB_PROFILE", "quick")
    s = edgelab.sizes("mnist")
    assert s.profile == "quick" and s.epochs == s["epochs"]
    full = profiles.sizes("mnist", "full")
    assert full.train_examples + full.val_examples == 60000   # all of MNIST's training images
    with pytest.raises(AttributeError, match="no size 'epoch'.*known: "):
        s.epoch
    with pytest.raises(profiles.ProfileError, match="unknown lesson 'mnst'"):
        profiles.sizes("mnst")


# --------------------------------------------------------------------------- paths

def test_paths_follow_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGELAB_HOME", str(tmp_path / "h"))
    monkeypatch.delenv("EDGELAB_OUT", raising=False)
    monkeypatch.setenv("EDGELAB_PROFILE", "quick")
    assert paths.data_dir() == tmp_path / "h" / "data"
    assert paths.outputs() == tmp_path / "h" / "outputs" / "quick"
    monkeypatch.setenv("EDGELAB_PROFILE", "full")
    assert paths.lesson_dir("01_mnist") == tmp_path / "h" / "outputs" / "full" / "01_mnist"
    monkeypatch.setenv("EDGELAB_OUT", str(tmp_path / "run"))
    assert paths.model_path("m.keras") == tmp_path / "run" / "models" / "m.keras"
    assert (tmp_path / "run" / "models").is_dir()


# --------------------------------------------------------------------------- seeds

def test_seed_everything_repeats_numpy_and_tensorflow():
    import tensorflow as tf

    edgelab.seed_everything(7, tensorflow=True)
    a = np.random.rand(3), tf.random.uniform((3,)).numpy()
    edgelab.seed_everything(7, tensorflow=True)
    b = np.random.rand(3), tf.random.uniform((3,)).numpy()
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    with pytest.raises(ValueError):
        edgelab.seed_everything(-1)


# devices: see tests/test_devices.py (engine choice, simulated devices, loud failure)


# --------------------------------------------------------------------------- results

def test_record_load_and_table(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGELAB_PROFILE", "quick")
    f = tmp_path / "r.jsonl"
    assert results.record("mnist.test_accuracy", np.float32(0.981), file=f) == np.float32(0.981)
    results.record("mnist.test_accuracy", 0.985, file=f)
    results.record("edge.int8_size", 120, "KB", file=f)
    rows = results.load(f)
    assert [r["key"] for r in rows] == ["mnist.test_accuracy"] * 2 + ["edge.int8_size"]
    assert rows[0]["profile"] == "quick" and isinstance(rows[0]["value"], float)
    table = results.markdown_table(rows)
    assert "0.9850" in table and "0.9810" not in table  # newest per key wins
    with pytest.raises(ValueError, match="non-finite"):
        results.record("x.nan", float("nan"), file=f)
    with pytest.raises(ValueError, match="dotted names"):
        results.record("has space", 1, file=f)
    f.write_text(f.read_text() + "not json\n")
    with pytest.raises(ValueError, match="line 4"):
        results.load(f)


def test_newest_keeps_the_latest_row_of_each_matching_key():
    rows = [dict(key="x.full_a", value=1, time="2026-01-01"), dict(key="x.full_a", value=2, time="2026-01-03"),
            dict(key="x.full_a", value=3, time="2026-01-02"), dict(key="ref.b", value=4, time="2026-01-01"),
            dict(key="x.quick", value=5, time="2026-01-09")]
    got = results.newest(("x.full_", "ref."), rows)
    assert [(r["key"], r["value"]) for r in got] == [("ref.b", 4), ("x.full_a", 2)]
    assert results.newest("nothing.", rows) == []
    if paths.project_root() is not None:
        assert results.newest("mnist.test_accuracy")      # read from the committed file


def test_update_page_replaces_only_the_block(tmp_path):
    page = tmp_path / "results.md"
    page.write_text(f"intro\n{results.PAGE_BEGIN}\nold\n{results.PAGE_END}\nend\n")
    rows = [{"key": "a.b", "value": 1.5, "unit": "ms", "profile": "quick", "time": "2026-01-01"}]
    assert results.update_page(page, rows)
    text = page.read_text()
    assert text.startswith("intro\n") and text.endswith("end\n") and "| `a.b` | 1.50 | ms |" in text
    assert not results.update_page(page, rows)
    assert "<summary><b>a</b>: 1 figures</summary>" in text


def test_add_rows_appends_only_new_rows(tmp_path):
    run, store = tmp_path / "run.jsonl", tmp_path / "store.jsonl"
    results.record("x.one", 1, file=run)
    results.record("x.two", 2, file=run)
    assert results.add_rows(store, [run]) == 2
    assert results.add_rows(store, [run]) == 0
    assert [r["key"] for r in results.load(store)] == ["x.one", "x.two"]


def test_results_block_has_one_line_per_notebook_run_and_profile():
    row = dict(hardware="cpu x2", time="2026-01-02T00:00:00+00:00", source="edgelab run")
    rows = [dict(row, key="run.01_mnist.minutes", value=1.94, unit="min", profile="quick"),
            dict(row, key="run.01_mnist.peak_memory", value=1192.4, unit="MB", profile="quick"),
            dict(row, key="run.01_mnist.minutes", value=8.3, unit="min", profile="full"),
            dict(row, key="run.all_2_notebooks.minutes", value=3.5, unit="min", profile="quick")]
    text = results.grouped_markdown(rows)
    assert "| 01_mnist | quick | 1.9 min | 1,192 MB | cpu x2 | 2026-01-02 |" in text
    assert "| 01_mnist | full | 8.3 min |  | cpu x2 | 2026-01-02 |" in text
    assert "whole curriculum (2 notebooks), **quick** profile: **3.50 min** on cpu x2" in text
    assert "No **full**-profile run" not in text
    assert "<b>run</b>" not in text   # not repeated as a group of figures
    text = results.grouped_markdown(rows + [dict(rows[0], key="run.02_flowers.minutes")])
    assert "No **full**-profile run recorded yet for: 02_flowers." in text


def test_the_books_results_page_is_generated_from_benchmarks():
    """The book's results tables must equal what `edgelab results --page` would write."""
    root = paths.project_root()
    if root is None:
        pytest.skip("edgelab is not installed from a source checkout, so there is no book to check")
    text = (root / results.RESULTS_PAGE).read_text()
    block = text.split(results.PAGE_BEGIN, 1)[1].split(results.PAGE_END, 1)[0]
    rows = results.load(root / "benchmarks" / "results.jsonl")
    assert block.strip() == results.grouped_markdown(rows).strip(), \
        f"{results.RESULTS_PAGE} is stale: run `make docs`"


# --------------------------------------------------------------------------- command line

def test_cli_data_list_and_fetch(home, mirror, monkeypatch, capsys):
    assert cli_main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "mnist" in out and "flowers17" in out and "(not set)" in out
    monkeypatch.setenv("EDGELAB_MIRROR", str(mirror))
    assert cli_main(["data", "fetch", "sample_images", "--quiet"]) == 0
    assert "sample_images: 3/3 files verified" in capsys.readouterr().out
    assert cli_main(["data", "fetch", "nosuch"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "unknown dataset 'nosuch'" in captured.err
    monkeypatch.delenv("EDGELAB_MIRROR")
    assert cli_main(["data", "fetch", "mnist", "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "mnist FAILED" in captured.err and "EDGELAB_MIRROR" in captured.err


def test_python_dash_m_and_console_script():
    out = subprocess.run([sys.executable, "-m", "edgelab", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "data" in out.stdout and "results" in out.stdout


# --------------------------------------------------------------------------- atomic writes

def test_atomic_write_replaces_whole_file_with_normal_permissions(tmp_path):
    import os

    from edgelab.core.atomic import atomic_write

    dest = tmp_path / "sub" / "table.tsv"
    with atomic_write(dest) as handle:
        handle.write("a\t1\n")
    assert dest.read_text() == "a\t1\n"
    umask = os.umask(0)
    os.umask(umask)
    assert dest.stat().st_mode & 0o777 == 0o666 & ~umask   # not mkstemp's private 0o600
    assert [p.name for p in dest.parent.iterdir()] == ["table.tsv"]


def test_atomic_write_failure_keeps_the_old_file_and_no_temp(tmp_path):
    from edgelab.core.atomic import atomic_path, atomic_write

    dest = tmp_path / "model.keras"
    dest.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(dest) as handle:
            handle.write("half")
            raise RuntimeError("interrupted")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(dest) as tmp:
            assert tmp.name.endswith(".part.keras")   # libraries that check the suffix accept it
            tmp.write_text("half")
            raise KeyboardInterrupt
    assert dest.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]
    with pytest.raises(ValueError, match="write mode"):
        with atomic_write(dest, "r"):
            pass


def test_replace_dir_swaps_a_whole_folder_and_leaves_nothing_aside(tmp_path):
    from edgelab.core.atomic import replace_dir

    dest = tmp_path / "model"
    for version in ("one", "two"):          # first into an empty place, then over the old
        tmp = tmp_path / f".model.{version}.part"
        (tmp / "sub").mkdir(parents=True)
        (tmp / "sub" / "weights").write_text(version)
        replace_dir(tmp, dest)
        assert (dest / "sub" / "weights").read_text() == version
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]   # no temp, no old copy


# --------------------------------------------------------------------------- shown paths, bars

def test_shown_paths_never_show_the_machine(home, monkeypatch, tmp_path):
    out = tmp_path / "out"
    monkeypatch.setenv("EDGELAB_OUT", str(out))
    assert paths.shown(out / "models" / "m.keras") == "$EDGELAB_OUT/models/m.keras"
    assert paths.shown(out) == "$EDGELAB_OUT"
    assert paths.shown(paths.data_dir() / "mnist") == "$EDGELAB_HOME/data/mnist"
    root = paths.project_root()
    if root is not None:
        assert paths.shown(root / "notebooks" / "x.ipynb") == "notebooks/x.ipynb"
    assert paths.shown("/somewhere/else/file.txt") == "file.txt"


def test_progress_bar_outside_a_notebook_is_a_plain_tqdm(monkeypatch, capsys):
    from tqdm.std import tqdm as std_tqdm

    from edgelab.core import progress

    monkeypatch.setenv("EDGELAB_HEADLESS", "1")
    assert not progress.in_notebook()
    b = progress.bar(range(3), desc="x")
    assert isinstance(b, std_tqdm) and list(b) == [0, 1, 2]


def test_notebook_start_puts_the_kernels_scripts_folder_on_path(monkeypatch, tmp_path):
    """`!edgelab ...` in a cell must find the command installed beside the kernel's Python,
    also when the environment was never activated."""
    import sys as _sys

    from edgelab import notebook

    scripts = tmp_path / "bin"
    scripts.mkdir()
    (scripts / "edgelab").write_text("#!/bin/sh\n")
    monkeypatch.setattr(_sys, "executable", str(scripts / "python"))
    monkeypatch.setenv("PATH", "/usr/bin")
    notebook._scripts_on_path()
    assert os.environ["PATH"].split(os.pathsep) == [str(scripts), "/usr/bin"]
    notebook._scripts_on_path()   # already there: unchanged
    assert os.environ["PATH"].split(os.pathsep) == [str(scripts), "/usr/bin"]
    (scripts / "edgelab").unlink()
    monkeypatch.setenv("PATH", "/usr/bin")
    notebook._scripts_on_path()   # no edgelab command there: PATH left alone
    assert os.environ["PATH"] == "/usr/bin"
