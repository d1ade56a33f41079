"""How one exercise is written, checked, hinted, solved and recorded.

An exercise is a small class in ``edgelab/exercises/nbNN.py``::

    class Schedule(Exercise):
        '''Halve the learning rate every 500 steps, as the source did.'''
        number = 1
        title = "The source's schedule"
        answers = ("schedule",)             # what the learner passes to check, in order
        where = "class"                     # "class" (fits in a session) or "home"
        minutes = 10                        # a suggestion for the teacher's notes
        starter = '''
    schedule = ____   # a training.StaircaseDecay that halves 1e-3 every 500 steps
    '''
        hint = "StaircaseDecay takes the initial rate, the factor and the steps between halvings."
        solution = '''
    schedule = training.StaircaseDecay(1e-3, 0.5, decay_steps=500)
    '''
        explanation = "The source halved the rate every 500 steps; ..."
        messages = {
            "passed": "right: {schedule} (the source's schedule)",
            "steps": "your schedule halves the rate every {got} steps; the source halved it every 500",
        }
        mistakes = [Mistake("schedule = training.StaircaseDecay(1e-3, 0.5, decay_steps=100)", "steps")]

        def verify(self, schedule):
            if schedule.decay_steps != 500:
                return self.wrong("steps", got=schedule.decay_steps)
            return self.passed("passed", schedule=schedule)

What the framework does around ``verify``:

* an answer that is still ``____`` (or ``...``/``None``) gets "not done yet", naming it;
* an exception raised while checking becomes one line naming the answer and the error,
  never a traceback;
* every message is a template in ``messages`` looked up by key, so a second language is
  one more table (``messages_ja`` on the class, or a translation file) and tests can ask
  *which* verdict a wrong answer got, not just that it failed;
* the verdict is printed and recorded in the learner's local progress file
  (:mod:`edgelab.exercises.progress`); ``solution()`` is recorded as viewed, never passed.

The notebook's exercise cell is ``starter`` followed by the check line
(:meth:`Exercise.cell_source`); a test keeps the notebook and the package equal.
"""

from __future__ import annotations

import importlib
import re
import textwrap
from dataclasses import dataclass
from typing import Any, ClassVar, Iterable, Mapping

from edgelab.core import language as _lang

LANGUAGES = _lang.LANGUAGES
DEFAULT_LANGUAGE = _lang.DEFAULT


class _Blank:
    """``____``: the blank a learner replaces. Any use of it other than passing it to
    ``check`` fails loudly, so a half-edited cell cannot look like an answer."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "____"

    def __bool__(self) -> bool:
        raise ExerciseError("____ is a blank for you to fill in: replace it with your answer")

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise ExerciseError(f"____.{name}: ____ is a blank for you to fill in; replace it "
                            "with your answer first")

    def __call__(self, *args, **kwargs):
        raise ExerciseError("____ is a blank for you to fill in: replace it with your answer")


____ = _Blank()


class ExerciseError(Exception):
    """A misuse of the exercise API (unknown notebook or exercise, a blank used as a value),
    shown as one line."""

    def _render_traceback_(self):  # IPython shows this one line instead of a traceback
        return [f"{type(self).__name__}: {self}"]


@dataclass(frozen=True)
class Mistake:
    """A realistic wrong answer: code a learner might write instead of the solution, and
    the key of the message ``check`` must answer it with. CI runs every one."""

    code: str
    says: str
    what: str = ""     # the mistake in words, for the solutions page and the test report


@dataclass(frozen=True)
class Result:
    """What ``check`` decided. ``status`` is ``passed``, ``wrong`` or ``not_done``; ``key``
    names the message (``"steps"``), ``text`` is that message as shown."""

    notebook: str
    number: int
    status: str
    key: str
    text: str

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __bool__(self) -> bool:
        return self.passed

    def _ipython_display_(self):
        # check() has printed the verdict already; showing the returned object again as the
        # cell's value would repeat it.
        return None


def set_language(lang: str) -> None:
    """The language of hints, messages and solutions (``en``, ``ja``) for this process
    (by default the notebook's: :mod:`edgelab.core.language` finds it out)."""
    try:
        _lang.use(lang)
    except ValueError as err:
        raise ExerciseError(str(err)) from None


def language() -> str:
    return _lang.current()


_NOT_DONE = {
    "en": "not done yet: replace ____ in `{name} = ____` with your answer, then run the cell again",
    "ja": "まだ解答されていません: `{name} = ____` の ____ をあなたの解答に置き換えて、もう一度セルを実行してください",
}
_RAISED = {
    "en": "checking `{name}` raised {error}: fix your code so that it runs, then check again",
    "ja": "`{name}` の確認中に {error} が発生しました: コードが動くように直してから、もう一度確認してください",
}
_LABELS = {
    "en": {"passed": "Correct", "wrong": "Not yet", "not_done": "Not done yet",
           "hint": "Hint", "solution": "Solution", "why": "Why", "exercise": "Exercise"},
    "ja": {"passed": "正解", "wrong": "もう一歩", "not_done": "未解答",
           "hint": "ヒント", "solution": "解答例", "why": "解説", "exercise": "演習"},
}


def _is_blank(value: Any) -> bool:
    return value is ____ or value is Ellipsis


class Exercise:
    """One exercise: subclass it, fill in the class attributes and write ``verify``."""

    notebook: ClassVar[str] = ""          # set by the exercise set: "02"
    number: ClassVar[int] = 0
    title: ClassVar[str] = ""
    answers: ClassVar[tuple[str, ...]] = ()
    where: ClassVar[str] = "class"        # "class" or "home"
    minutes: ClassVar[int] = 10           # suggested minutes, for the teacher's notes
    starter: ClassVar[str] = ""
    hint: ClassVar[str] = ""              # (the method of the same name shows it)
    solution: ClassVar[str] = ""          # reference code; runs in the notebook's namespace
    explanation: ClassVar[str] = ""
    messages: ClassVar[Mapping[str, str]] = {}
    mistakes: ClassVar[Iterable[Mistake]] = ()
    # Other languages: edgelab/exercises/translations/<lang>.toml (see translations.py).

    def __init__(self, notebook: str, record: bool = True):
        self._notebook = notebook
        self._record = record
        # The texts stay readable as data (cls.hint, cls.solution); the instance's callables
        # of the same name show them.
        self.hint = self._show_hint            # type: ignore[assignment]
        self.solution = self._show_solution    # type: ignore[assignment]

    # ------------------------------------------------------------------ texts
    @classmethod
    def text(cls, field: str, lang: str | None = None) -> Any:
        """``hint``/``explanation``/``messages``/``title`` in ``lang``: the translation in
        ``edgelab/exercises/translations/<lang>.toml`` where it translates the current
        English (:mod:`edgelab.exercises.translations`), else English."""
        lang = lang or language()
        english = getattr(cls, field)
        if lang == DEFAULT_LANGUAGE:
            return english
        from edgelab.exercises import translations

        return translations.lookup(lang, cls.notebook, cls.number, field, english)

    @classmethod
    def code(cls, field: str) -> str:
        """``starter`` or ``solution`` as code: dedented, no blank first or last line."""
        return textwrap.dedent(getattr(cls, field)).strip("\n") + "\n"

    @classmethod
    def check_line(cls) -> str:
        return f"ex[{cls.number}].check({', '.join(cls.answers)})"

    @classmethod
    def cell_source(cls) -> str:
        """The notebook's exercise cell: the starter, then the check line."""
        return cls.code("starter") + cls.check_line()

    # ------------------------------------------------------------------ verdicts
    def _say(self, status: str, key: str, values: Mapping[str, Any]) -> Result:
        messages = type(self).text("messages")
        if key not in messages:
            raise KeyError(f"exercise {self._notebook}.{self.number}: no message {key!r}")
        return Result(self._notebook, self.number, status, key, messages[key].format(**values))

    def passed(self, key: str = "passed", **values: Any) -> Result:
        return self._say("passed", key, values)

    def wrong(self, key: str, **values: Any) -> Result:
        return self._say("wrong", key, values)

    def verify(self, *answers: Any) -> Result:  # pragma: no cover - every exercise overrides
        raise ExerciseError(f"exercise {self._notebook}.{self.number} has no checker")

    # ------------------------------------------------------------------ the learner's calls
    def evaluate(self, *args: Any, **kwargs: Any) -> Result:
        """The verdict on the learner's answers, without printing or recording it."""
        names = list(self.answers)
        if len(args) + len(kwargs) != len(names) or any(k not in names for k in kwargs):
            raise ExerciseError(
                f"exercise {self.number} checks {len(names)} answer(s): "
                f"ex[{self.number}].check({', '.join(names)})")
        values = dict(zip(names, args))
        values.update(kwargs)
        lang = language()
        for name in names:
            if _is_blank(values[name]):
                return Result(self._notebook, self.number, "not_done", "not_done",
                              _NOT_DONE[lang].format(name=name))
        try:
            result = self.verify(*[values[n] for n in names])
        except ExerciseError as err:
            return Result(self._notebook, self.number, "not_done", "not_done", str(err))
        except Exception as err:  # noqa: BLE001 - a learner's bug becomes one line
            error = f"{type(err).__name__}: {err}".strip().splitlines()[0][:300]
            return Result(self._notebook, self.number, "wrong", "raised",
                          _RAISED[lang].format(name=", ".join(names), error=error))
        if not isinstance(result, Result):
            raise TypeError(f"exercise {self._notebook}.{self.number}: verify() must return "
                            "self.passed(...) or self.wrong(...)")
        return result

    def check(self, *args: Any, **kwargs: Any) -> Result:
        """Check the learner's answers; print the verdict and record it."""
        result = self.evaluate(*args, **kwargs)
        label = _LABELS[language()][result.status]
        print(f"Exercise {self.number} · {label}: {result.text}")
        if self._record:
            from edgelab.exercises import progress

            progress.note_check(result)
        return result

    def _show_hint(self) -> None:
        label = _LABELS[language()]["hint"]
        print(f"Exercise {self.number} · {label}: {textwrap.dedent(type(self).text('hint')).strip()}")

    def _show_solution(self) -> None:
        labels = _LABELS[language()]
        print(f"Exercise {self.number} · {labels['solution']}:\n")
        print(textwrap.indent(type(self).code("solution"), "    "))
        print(f"{labels['why']}: {textwrap.dedent(type(self).text('explanation')).strip()}")
        if self._record:
            from edgelab.exercises import progress

            progress.note_solution_viewed(self._notebook, self.number)

    def __repr__(self) -> str:
        return f"<exercise {self._notebook}.{self.number}: {self.title}>"


# ---------------------------------------------------------------------- sets of exercises

# notebook number -> (notebook file stem, module with its exercises)
NOTEBOOKS = {
    "01": ("01_mnist_distribute", "edgelab.exercises.nb01"),
    "02": ("02_xception_sonnet_flowers", "edgelab.exercises.nb02"),
    "03": ("03_gradcam", "edgelab.exercises.nb03"),
    "04": ("04_chainer_datasets_updaters", "edgelab.exercises.nb04"),
    "05": ("05_mobilenet_tfhub_transfer", "edgelab.exercises.nb05"),
    "06": ("06_lineart_extraction", "edgelab.exercises.nb06"),
    "07": ("07_edge_quantization", "edgelab.exercises.nb07"),
    "08": ("08_pytorch_to_edge", "edgelab.exercises.nb08"),
}


def _number(notebook: str | int) -> str:
    text = str(notebook).strip()
    match = re.match(r"^(\d{1,2})(?:_|$)", text)
    if match:
        number = f"{int(match.group(1)):02d}"
        if number in NOTEBOOKS:
            return number
    raise ExerciseError(f"no notebook {notebook!r}; use its number, one of "
                        f"{', '.join(NOTEBOOKS)} (e.g. edgelab.exercises(\"02\"))")


def notebooks() -> list[str]:
    """The notebook numbers whose exercises exist in this installation."""
    found = []
    for number, (_, module) in NOTEBOOKS.items():
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name != module:
                raise
            continue
        found.append(number)
    return found


class ExerciseSet:
    """A notebook's exercises: ``ex[1]`` is exercise 1; ``ex.status()`` shows progress."""

    def __init__(self, number: str, stem: str, classes: list[type[Exercise]], record: bool = True):
        self.notebook, self.stem = number, stem
        self._by_number: dict[int, Exercise] = {}
        for cls in classes:
            cls.notebook = number
            self._by_number[cls.number] = cls(number, record=record)

    def __getitem__(self, number: int) -> Exercise:
        if number not in self._by_number:
            raise ExerciseError(f"notebook {self.notebook} has exercises "
                                f"{', '.join(map(str, self._by_number))}; there is no {number!r}")
        return self._by_number[number]

    def __iter__(self):
        return iter(self._by_number.values())

    def __len__(self) -> int:
        return len(self._by_number)

    def status(self) -> None:
        """Print which of this notebook's exercises were passed on this machine."""
        from edgelab.exercises import progress

        print(progress.format_table(progress.rows([self])))

    def __repr__(self) -> str:
        return f"<exercises of notebook {self.notebook}: {len(self)}>"


def _classes(module) -> list[type[Exercise]]:
    found = [obj for obj in vars(module).values()
             if isinstance(obj, type) and issubclass(obj, Exercise) and obj is not Exercise
             and obj.__module__ == module.__name__]
    found.sort(key=lambda c: c.number)
    numbers = [c.number for c in found]
    if numbers != list(range(1, len(found) + 1)):
        raise ExerciseError(f"{module.__name__}: exercises must be numbered 1..n, got {numbers}")
    return found


def exercise_set(notebook: str | int, *, lang: str | None = None,
                 record: bool = True) -> ExerciseSet:
    """The exercises of ``notebook`` (``"02"``, ``2`` or ``"02_xception_sonnet_flowers"``).

    ``lang`` sets the language of hints, messages and solutions (default: the notebook's,
    set by :func:`edgelab.notebook.start`). ``record=False`` keeps checks out of the
    learner's progress file (tests, the book).
    """
    number = _number(notebook)
    if lang is not None:
        set_language(lang)
    stem, module_name = NOTEBOOKS[number]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name != module_name:
            raise
        raise ExerciseError(f"notebook {number} has no exercises in this edgelab "
                            "installation") from None
    return ExerciseSet(number, stem, _classes(module), record=record)


def catalogue(lang: str | None = None) -> list[dict[str, Any]]:
    """One row per exercise of every notebook: notebook, number, title, where ("class" or
    "home"), suggested minutes, and the mistakes CI checks. For the teacher's notes."""
    rows = []
    for number in notebooks():
        for ex in exercise_set(number, record=False):
            cls = type(ex)
            rows.append(dict(notebook=number, number=cls.number, title=cls.text("title", lang),
                             where=cls.where, minutes=cls.minutes,
                             mistakes=[m.what or m.says for m in cls.mistakes]))
    return rows


def solutions_markdown(notebook: str | int, lang: str = DEFAULT_LANGUAGE,
                       heading_level: int = 2) -> str:
    """The solutions of one notebook's exercises as Markdown, for the book and teachers:
    title, the starter, the hint, the reference solution and why, the mistakes the checker
    recognises."""
    ex_set = exercise_set(notebook, record=False)
    labels = _LABELS[lang]
    hashes = "#" * heading_level
    parts = []
    for ex in ex_set:
        cls = type(ex)
        parts.append(f"{hashes} {labels['exercise']} {cls.number}: {cls.text('title', lang)}\n")
        parts.append(f"**{labels['hint']}.** {textwrap.dedent(cls.text('hint', lang)).strip()}\n")
        parts.append(f"**{labels['solution']}.**\n\n```python\n{cls.code('solution')}```\n")
        parts.append(f"**{labels['why']}.** {textwrap.dedent(cls.text('explanation', lang)).strip()}\n")
        if cls.mistakes:
            messages = cls.text("messages", lang)
            lines = [f"- {m.what or m.says}: *{_template(messages[m.says])}*" for m in cls.mistakes]
            title = "Mistakes the check recognises" if lang == "en" else "チェックが見分ける誤り"
            parts.append(f"{title}:\n\n" + "\n".join(lines) + "\n")
    return "\n".join(parts)


def _template(text: str) -> str:
    """A message template with its ``{placeholders}`` shown as ``…``."""
    return re.sub(r"\{[^}]*\}", "…", text)
