"""``edgelab exercises``: a learner's progress on this machine, and the solutions page.

A teacher asks a room to run ``edgelab exercises`` and sees, per exercise, passed, passed
after viewing the solution, tried, or not tried (the record is local: see
:mod:`edgelab.exercises.progress`).
"""

from __future__ import annotations

import sys

EXAMPLES = """examples:
  edgelab exercises                 progress on every notebook's exercises, on this machine
  edgelab exercises 02              progress on notebook 02's exercises
  edgelab exercises 02 --solutions  notebook 02's solutions as Markdown (for teachers)
  edgelab exercises --reset 02      forget notebook 02's progress on this machine"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "exercises", help="your progress on the exercises; solutions for teachers",
        description="Show which exercises were passed on this machine (from the local record "
                    "that ex[n].check() keeps), print a notebook's solutions as Markdown, or "
                    "reset the record.",
        epilog=EXAMPLES)
    p.add_argument("notebooks", nargs="*", metavar="NOTEBOOK",
                   help="notebook numbers, e.g. 02 (default: all)")
    p.add_argument("--solutions", action="store_true",
                   help="print the solutions of the notebooks given, as Markdown")
    p.add_argument("--reset", action="store_true",
                   help="forget the progress recorded for the notebooks given (or all)")
    p.set_defaults(func=_cli)


def _fail(message: str) -> int:
    print(f"edgelab exercises: {message}", file=sys.stderr)
    return 2


def _cli(args) -> int:
    from edgelab.exercises import core, progress

    try:
        numbers = [core._number(n) for n in args.notebooks]
    except core.ExerciseError as err:
        return _fail(str(err))
    available = core.notebooks()
    missing = [n for n in numbers if n not in available]
    if missing:
        return _fail(f"notebook {missing[0]} has no exercises in this installation; "
                     f"exercises exist for {', '.join(available) or 'no notebook yet'}")
    if args.solutions:
        if not numbers:
            return _fail("--solutions needs notebook numbers, e.g. edgelab exercises 02 --solutions")
        for n in numbers:
            print(f"# Notebook {n}: solutions\n")
            print(core.solutions_markdown(n))
        return 0
    if args.reset:
        progress.reset(numbers or None)
        print(f"progress forgotten for {', '.join(numbers) if numbers else 'every notebook'}")
        return 0
    sets = [core.exercise_set(n, record=False) for n in (numbers or available)]
    print(progress.format_table(progress.rows(sets)))
    print(f"record: {progress.progress_file()}")
    return 0
