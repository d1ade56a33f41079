"""The ``edgelab`` command with bad input: one line on stderr that names the argument and the
fix, a non-zero exit, nothing written; every ``--help`` has examples; the README's command
table is the one the parsers give."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from edgelab.run import cli

ROOT = Path(__file__).resolve().parent.parent


def edgelab(*args, cwd=None, env_extra=None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "edgelab", *map(str, args)], cwd=cwd or ROOT,
                          env=env, capture_output=True, text=True, timeout=300)


def one_line_error(proc, *words, code=None):
    """The process failed with exactly one stderr line containing ``words`` and no traceback."""
    assert proc.returncode != 0, proc.stdout + proc.stderr
    if code is not None:
        assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """A real .tflite file from the data mirror."""
    from conftest import mirror_dir

    mirror = mirror_dir()
    if mirror is None:
        pytest.fail("no data mirror: set EDGELAB_MIRROR (the tests need the real files)")
    found = sorted(mirror.glob("mobilenet/tflite/*.tflite"))
    assert found, f"no .tflite file under {mirror}/mobilenet/tflite"
    return found[0]


# ----------------------------------------------------------------------------- inspect

def test_inspect_png_with_a_jpeg_name(model, tmp_path):
    line = one_line_error(edgelab("inspect", model, "--png", tmp_path / "out.jpg"),
                          "--png", "out.jpg", "must end in .png", "out.png", code=2)
    assert str(tmp_path) not in line or "e.g." in line
    assert not (tmp_path / "out.jpg").exists()


def test_inspect_json_into_a_folder(model, tmp_path):
    folder = tmp_path / "dir"
    folder.mkdir()
    one_line_error(edgelab("inspect", model, "--json", f"{folder}/"), "--json", "is a folder",
                   "model.json", code=2)
    assert list(folder.iterdir()) == []


def test_inspect_json_before_the_model_keeps_the_model(model):
    proc = edgelab("inspect", "--json", model)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.lstrip().startswith("{") and '"operator_codes"' in proc.stdout


def test_inspect_without_a_model_and_with_a_folder(tmp_path):
    one_line_error(edgelab("inspect"), "no model given", "edgelab inspect model.tflite", code=2)
    one_line_error(edgelab("inspect", tmp_path), "folder", code=2)


# ----------------------------------------------------------------------------- lineart

@pytest.fixture
def images(tmp_path, mirror) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    for f in sorted((mirror / "sample_images").glob("*.png"))[:2]:
        (src / f.name).write_bytes(f.read_bytes())
    assert len(list(src.iterdir())) == 2
    return src


def test_lineart_into_an_existing_file(images, tmp_path):
    dest = tmp_path / "notes.txt"
    dest.write_text("mine")
    one_line_error(edgelab("lineart", images, dest), "DEST", "existing file", "folder", code=2)
    one_line_error(edgelab("lineart", next(images.iterdir()), dest), "DEST",
                   "existing file", ".png", code=2)
    assert dest.read_text() == "mine"


def test_lineart_to_a_jpeg_name_is_refused_not_renamed(images, tmp_path):
    source = next(images.iterdir())
    one_line_error(edgelab("lineart", source, tmp_path / "out.jpg"), "DEST", "out.jpg",
                   "PNG", "out.png", code=2)
    assert list(tmp_path.glob("out.*")) == []
    proc = edgelab("lineart", source, tmp_path / "out.png", "--no-progress")
    assert proc.returncode == 0 and (tmp_path / "out.png").is_file(), proc.stderr


def test_lineart_missing_source_and_pairs_into_a_png(images, tmp_path):
    one_line_error(edgelab("lineart", tmp_path / "nothing", tmp_path / "o"), "SRC",
                   "no such file or folder", code=2)
    one_line_error(edgelab("lineart", images, tmp_path / "p.png", "--pairs"), "--pairs",
                   "folder", code=2)


def test_lineart_messages_show_no_absolute_path(images, tmp_path):
    dest = tmp_path / "out"
    proc = edgelab("lineart", images, dest, "--no-progress")
    assert proc.returncode == 0
    again = edgelab("lineart", images, dest, "--no-progress")   # refuses to overwrite
    one_line_error(again, "already exists", "--force", code=1)
    assert str(tmp_path) not in again.stderr


# ----------------------------------------------------------------------------- data, results

def test_data_fetch_unknown_name_goes_to_stderr():
    proc = edgelab("data", "fetch", "nosuchname")
    assert proc.stdout == ""
    one_line_error(proc, "unknown dataset 'nosuchname'", "mnist", "'all'", code=2)


def test_data_fetch_help_lists_the_datasets():
    from edgelab.datasets import registry

    text = edgelab("data", "fetch", "--help").stdout
    for name in registry.datasets():
        assert re.search(rf"^\s+{name}\s", text, re.MULTILINE), name


def test_results_on_a_missing_file_fails(tmp_path):
    one_line_error(edgelab("results", tmp_path / "none.jsonl"), "no such results file", code=1)
    one_line_error(edgelab("results", "--add", tmp_path / "none.jsonl"), "--add", code=1)
    one_line_error(edgelab("results", "--page", tmp_path / "none.md"), "--page", "none.md", code=1)


def test_results_outside_the_repository(tmp_path):
    # From another folder, the checkout's benchmarks file is still found (editable install).
    proc = edgelab("results", cwd=tmp_path)
    assert proc.returncode == 0 and "| `run." in proc.stdout, proc.stderr
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    one_line_error(edgelab("results", empty, cwd=tmp_path), "no figures recorded", code=1)


# ----------------------------------------------------------------------------- help and README

def test_top_level_help_is_plain_text_with_examples():
    text = edgelab("--help").stdout
    assert "``" not in text and ":mod:" not in text
    assert "examples:" in text and "edgelab run --plan" in text


@pytest.mark.parametrize("command", sorted(cli.subparsers(cli.build_parser())))
def test_every_help_has_an_example(command):
    proc = edgelab(*command.split(), "--help")
    assert proc.returncode == 0
    assert "examples:" in proc.stdout, command
    assert cli.first_example(cli.subparsers(cli.build_parser())[command], command), command


def test_the_books_command_reference_matches_the_help():
    page = (ROOT / "book" / "en" / "commands.md").read_text()
    assert cli.PAGE_BEGIN in page, "book/en/commands.md has no generated command table"
    block = page.split(cli.PAGE_BEGIN, 1)[1].split(cli.PAGE_END, 1)[0].strip()
    assert block == cli.command_table(), "run: make docs (python tools/book.py blocks)"


def test_the_command_table_generator_rewrites_only_its_block(tmp_path):
    page = tmp_path / "commands.md"
    page.write_text(f"# Commands\n\n{cli.PAGE_BEGIN}\nSTALE TABLE\n{cli.PAGE_END}\n\nafter\n")
    proc = subprocess.run([sys.executable, "-m", "edgelab.run.cli", "--page", str(page)],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "updated" in proc.stdout, proc.stderr
    text = page.read_text()
    assert text.startswith("# Commands\n") and text.endswith("\nafter\n")
    assert cli.command_table() in text and "STALE TABLE" not in text


def test_an_unforeseen_file_system_error_is_one_line(tmp_path, model):
    not_a_folder = tmp_path / "plain_file"
    not_a_folder.write_text("")
    proc = edgelab("inspect", model, "--dot", not_a_folder / "g.dot")
    one_line_error(proc, "edgelab inspect:", code=1)
