"""The exercise API itself (edgelab.exercises), and the notebooks' exercise cells.

Each notebook's checkers are proven in tests/test_exercises_NN.py (solution passes, starter
is "not done yet", each realistic mistake fails with its own message); here: the
framework's rules, with a toy exercise, and what every notebook with exercises must show.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import edgelab
import edgelab.exercises as exercises
from edgelab.exercises import ____, Exercise, ExerciseError, ExerciseSet, Mistake, core, progress

ROOT = Path(__file__).resolve().parent.parent


class Halving(Exercise):
    number = 1
    title = "Halving"
    answers = ("every",)
    starter = """
    every = ____   # how many steps between two halvings?
    """
    hint = "Look at the schedule's printout."
    solution = """
    every = 500
    """
    explanation = "The source halved the rate every 500 steps."
    messages = {"passed": "right: every {every} steps",
                "steps": "your schedule halves the rate every {got} steps; the source halved it every 500",
                "type": "give a whole number of steps, not {kind}"}
    mistakes = [Mistake("every = 100", "steps", "the quick profile's value")]

    def verify(self, every):
        if not isinstance(every, int):
            return self.wrong("type", kind=type(every).__name__)
        if every != 500:
            return self.wrong("steps", got=every)
        return self.passed(every=every)


class Broken(Exercise):
    number = 2
    title = "A checker meeting a learner's bug"
    answers = ("fn",)
    messages = {"passed": "ok"}

    def verify(self, fn):
        fn(1)
        return self.passed()


@pytest.fixture(autouse=True)
def own_progress(tmp_path, monkeypatch):
    """Each test starts with no progress recorded (the session's home is shared)."""
    monkeypatch.setenv("EDGELAB_HOME", str(tmp_path / "home"))


@pytest.fixture
def toy():
    return ExerciseSet("02", "02_toy", [Halving, Broken], record=True)


def test_a_blank_is_not_done_and_names_the_answer(toy, capsys):
    result = toy[1].check(____)
    assert result.status == "not_done" and not result
    assert "`every = ____`" in capsys.readouterr().out


def test_a_right_answer_passes_and_a_wrong_one_says_what_is_off(toy, capsys):
    assert toy[1].check(500).passed
    result = toy[1].check(100)
    assert (result.status, result.key) == ("wrong", "steps")
    out = capsys.readouterr().out
    assert "Correct: right: every 500 steps" in out
    assert "Not yet: your schedule halves the rate every 100 steps" in out


def test_a_learner_bug_is_one_line_not_a_traceback(toy, capsys):
    result = toy[2].check(lambda x: 1 / 0)
    assert result.key == "raised" and "ZeroDivisionError" in result.text
    assert "Traceback" not in capsys.readouterr().out


def test_wrong_number_of_answers_is_an_exercise_error(toy):
    with pytest.raises(ExerciseError, match=r"ex\[1\].check\(every\)"):
        toy[1].check(1, 2)


def test_the_blank_cannot_be_used_as_a_value():
    with pytest.raises(ExerciseError):
        ____.shape
    with pytest.raises(ExerciseError):
        ____()
    with pytest.raises(ExerciseError):
        bool(____)


def test_hint_and_solution_print_and_solution_is_recorded_as_viewed_not_passed(toy, capsys):
    toy[1].hint()
    toy[1].solution()
    out = capsys.readouterr().out
    assert "Hint: Look at the schedule's printout." in out
    assert "    every = 500" in out and "Why: The source halved" in out
    entry = progress.load()["02"]["1"]
    assert "solution_viewed" in entry and "passed" not in entry
    toy[1].check(500)
    assert progress.state(progress.load()["02"]["1"]) == "passed after viewing the solution"


def test_progress_counts_checks_and_survives_a_damaged_file(toy):
    toy[1].check(____)
    toy[1].check(100)
    entry = progress.load()["02"]["1"]
    assert entry["checks"] == 1 and entry["last"] == "wrong" and "passed" not in entry
    assert progress.state(entry) == "tried, not passed yet"
    progress.progress_file().write_text("{not json")
    assert progress.load() == {}
    toy[1].check(500)
    assert progress.state(progress.load()["02"]["1"]) == "passed"


def test_record_false_leaves_no_trace():
    quiet = ExerciseSet("02", "02_toy", [Halving], record=False)
    quiet[1].check(500)
    quiet[1].solution()
    assert not progress.progress_file().exists()


def test_translations_are_used_only_while_they_translate_the_current_english(monkeypatch):
    from edgelab.exercises import translations

    Halving.notebook = "02"
    toy = {"02.1": {"hint": "スケジュールの表示を見てください。", "hint_en": translations.sha(Halving.hint),
                    "messages": {"passed": "正解: {every} ステップごと", "steps": "古い訳"},
                    "messages_en": {"passed": translations.sha(Halving.messages["passed"]),
                                    "steps": "000000000000"}}}
    monkeypatch.setattr(translations, "table", lambda lang: toy)
    core.set_language("ja")
    try:
        assert Halving.text("hint").startswith("スケジュール")
        assert Halving.text("messages")["passed"].startswith("正解")
        # stale (its English changed since): the current English is shown, not the old text
        assert Halving.text("messages")["steps"].startswith("your schedule")
        assert Halving.text("explanation") == Halving.explanation          # not translated
        assert Halving("02").evaluate(____).text.startswith("まだ")
        problems = translations.problems("ja", [ExerciseSet("02", "02_toy", [Halving], record=False)])
        assert "02.1.messages.steps: stale (the English changed)" in problems
        assert "02.1.title: not translated" in problems
    finally:
        core.set_language("en")


def test_the_notebook_cell_is_the_starter_and_the_check_line():
    assert Halving.cell_source() == "every = ____   # how many steps between two halvings?\nex[1].check(every)"


def test_unknown_notebooks_and_exercises_are_one_line_errors(toy):
    with pytest.raises(ExerciseError, match="no notebook '9'"):
        exercises("9")
    with pytest.raises(ExerciseError, match="there is no 7"):
        toy[7]


def test_the_module_is_callable_and_names_resolve():
    assert edgelab.exercises is exercises
    for spelling in ("02", 2, "02_xception_sonnet_flowers"):
        assert core._number(spelling) == "02"


# --------------------------------------------------------------------- the notebooks

NOTEBOOKS = {n: ROOT / "notebooks" / f"{stem}.ipynb" for n, (stem, _) in core.NOTEBOOKS.items()}
WITH_EXERCISES = core.notebooks()


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _text(cell):
    return "".join(cell.get("source", []))


def _outputs(cell):
    parts = []
    for o in cell.get("outputs", []):
        t = o.get("text") or o.get("data", {}).get("text/plain") or ""
        parts.append("".join(t) if isinstance(t, list) else t)
    return "".join(parts)


@pytest.mark.parametrize("notebook", WITH_EXERCISES)
def test_each_exercise_cell_in_the_notebook_is_the_packages_starter(notebook):
    cells = _cells(NOTEBOOKS[notebook])
    sources = [_text(c) for c in cells if c["cell_type"] == "code"]
    opening = f'ex = edgelab.exercises("{notebook}")'
    assert any(opening in s for s in sources), f"notebook {notebook} never calls {opening}"
    for ex in exercises.exercise_set(notebook, record=False):
        cell = type(ex).cell_source()
        matches = [c for c in cells if c["cell_type"] == "code" and _text(c) == cell]
        assert matches, f"notebook {notebook}: no cell equals exercise {ex.number}'s starter:\n{cell}"
        assert "Not done yet" in _outputs(matches[0]), \
            f"notebook {notebook}: exercise {ex.number}'s stored output is not the untouched starter's"


@pytest.mark.parametrize("notebook", WITH_EXERCISES)
def test_no_solution_is_stored_in_the_notebook(notebook):
    cells = _cells(NOTEBOOKS[notebook])
    text = "\n".join(_text(c) + "\n" + _outputs(c) for c in cells)
    for ex in exercises.exercise_set(notebook, record=False):
        starter = type(ex).code("starter")
        for line in type(ex).code("solution").splitlines():
            line = line.strip()
            if len(line) >= 20 and line not in starter:
                assert line not in text, f"notebook {notebook} shows exercise {ex.number}'s solution line: {line}"


@pytest.mark.parametrize("notebook", WITH_EXERCISES)
def test_every_exercise_has_its_parts(notebook):
    for ex in exercises.exercise_set(notebook, record=False):
        cls = type(ex)
        assert cls.title and cls.answers and cls.code("starter").strip() and cls.hint \
            and cls.code("solution").strip() and cls.explanation, f"{notebook}.{cls.number}"
        assert "____" in cls.starter, f"{notebook}.{cls.number}: the starter has no blank"
        assert cls.where in ("class", "home")
        assert list(cls.mistakes), f"{notebook}.{cls.number} lists no realistic mistake"
        for m in cls.mistakes:
            assert m.says in cls.messages, f"{notebook}.{cls.number}: no message {m.says!r}"


def test_the_command_shows_progress_and_refuses_bad_input(tmp_path):
    env = {**__import__("os").environ, "EDGELAB_HOME": str(tmp_path)}
    run = lambda *a: subprocess.run([sys.executable, "-m", "edgelab", "exercises", *a],
                                    capture_output=True, text=True, env=env)
    bad = run("42")
    assert bad.returncode == 2 and "no notebook '42'" in bad.stderr and "Traceback" not in bad.stderr
    ok = run()
    assert ok.returncode == 0, ok.stderr
    if WITH_EXERCISES:
        assert "passed (" in ok.stdout
        sol = run(WITH_EXERCISES[0], "--solutions")
        assert sol.returncode == 0 and "```python" in sol.stdout
