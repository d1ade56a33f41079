"""The proof every exercise's checker can fail, shared by tests/test_exercises_NN.py.

For one exercise and a namespace that stands in for the notebook at the exercise cell
(the names the solution uses: ``S``, ``data``, a model, ...):

* the reference solution, run in a copy of the namespace, must pass;
* the untouched starter must get "not done yet";
* every listed mistake must fail with the message the mistake names.

Usage in a notebook's test module::

    from _exercises import prove

    @pytest.mark.parametrize("number", [1, 2, 3, 4])
    def test_exercise(number, context):
        prove("02", number, context)
"""

from __future__ import annotations

from typing import Any, Mapping

import edgelab.exercises as exercises
from edgelab.exercises import ____


def run(code: str, context: Mapping[str, Any]) -> dict:
    namespace = dict(context)
    namespace.setdefault("____", ____)
    exec(compile(code, "<exercise>", "exec"), namespace)  # noqa: S102 - the package's own code
    return namespace


def verdict(ex, code: str, context: Mapping[str, Any]):
    namespace = run(code, context)
    missing = [n for n in ex.answers if n not in namespace]
    assert not missing, f"the code defines no {missing}:\n{code}"
    return ex.evaluate(*[namespace[n] for n in ex.answers])


def prove(notebook: str, number: int, context: Mapping[str, Any]) -> dict[str, Any]:
    """Run the three kinds of answer for exercise ``number``; return what each got, so a
    test can print or assert more."""
    ex = exercises.exercise_set(notebook, record=False, lang="en")[number]
    cls = type(ex)
    outcome = {}

    result = verdict(ex, cls.code("solution"), context)
    assert result.passed, f"{notebook}.{number}: the reference solution got {result}"
    outcome["solution"] = result

    result = verdict(ex, cls.code("starter"), context)
    assert result.status == "not_done", f"{notebook}.{number}: the starter got {result}"
    outcome["starter"] = result

    assert list(cls.mistakes), f"{notebook}.{number}: no realistic mistake is listed"
    for i, mistake in enumerate(cls.mistakes):
        result = verdict(ex, mistake.code, context)
        assert result.status == "wrong" and result.key == mistake.says, (
            f"{notebook}.{number}: mistake {i} ({mistake.what or mistake.code!r}) should be "
            f"answered with {mistake.says!r}, got {result}")
        outcome[f"mistake {i}"] = result
    return outcome
