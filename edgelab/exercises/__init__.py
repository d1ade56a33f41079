"""Exercises that answer back: a check, a hint and a solution one call away.

Every notebook ends with exercises. A notebook uses them in one line each::

    ex = edgelab.exercises("02")        # this notebook's exercise set
    ...                                  # the learner's code, e.g. schedule = ...
    ex[1].check(schedule)                # says what is right and what is off
    ex[1].hint()                         # a nudge
    ex[1].solution()                     # the reference code and why it is right

Design (after Kaggle Learn's ``learntools``, plus what it lacks):

* ``check`` takes the learner's objects explicitly (a model, a function, a number, a
  file); it never reads the notebook's globals. It prints one specific verdict: what is
  right and what is off, never just "wrong". A cell left as the notebook gives it
  (``____`` still in place) gets "not done yet", not a failure.
* The solution lives here, in the package, not in the notebook: stored notebooks show
  no solution, and the book and the teacher's page render them from the same source
  (:func:`solutions_markdown`).
* ``solution()`` is recorded as *viewed*, never as passed: :meth:`ExerciseSet.status`
  (and ``edgelab exercises`` on the command line) shows a teacher which exercises a
  learner passed on this machine, and which were passed only after looking.
* Every checker can fail, and CI proves it: for each exercise a test runs the reference
  solution (must pass), the untouched starter (must say "not done yet") and each of the
  realistic mistakes listed with the exercise (must fail with the message that names that
  mistake). See :mod:`edgelab.exercises.core` for how one exercise is written.

The exercises of notebook NN live in ``edgelab/exercises/nbNN.py``; this package sits
above the lessons (it may import them, no lesson imports it).
"""

from __future__ import annotations

from edgelab.exercises.core import (  # noqa: F401
    ____, Exercise, ExerciseError, ExerciseSet, Mistake, Result, catalogue, exercise_set,
    notebooks, solutions_markdown,
)

__all__ = ["____", "Exercise", "ExerciseError", "ExerciseSet", "Mistake", "Result",
           "catalogue", "exercise_set", "notebooks", "solutions_markdown"]


class _CallableModule(__import__("types").ModuleType):
    """``edgelab.exercises("02")`` is :func:`exercise_set`: one short call per notebook,
    while ``edgelab.exercises.catalogue()`` and the rest stay reachable as a module."""

    def __call__(self, notebook, *, lang=None, record=True):
        return exercise_set(notebook, lang=lang, record=record)


__import__("sys").modules[__name__].__class__ = _CallableModule
