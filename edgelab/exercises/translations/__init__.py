"""Exercise texts in other languages, each tied to the English it translates.

``<lang>.toml`` in this folder holds, per exercise (``["02.1"]``), the translated
``title``, ``hint``, ``explanation`` and ``messages`` (a table with the English keys), and
for each text the first 12 hex digits of the SHA-256 of the English it was made from
(``title_en``, ``hint_en``, ``explanation_en``, and ``[ "02.1".messages_en ]``)::

    ["02.1"]
    title = "原典の学習率スケジュール"
    title_en = "3f2a9c0d1b7e"
    ...

A translation whose English has changed since is *stale*: it is not used (the learner
sees the current English instead of an outdated translation), :func:`problems` lists it,
``python tools/translations.py status`` reports it, and a test fails.
"""

from __future__ import annotations

import functools
import hashlib
import textwrap
import tomllib
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parent


def sha(text: str) -> str:
    return hashlib.sha256(textwrap.dedent(text).strip().encode("utf-8")).hexdigest()[:12]


@functools.lru_cache(maxsize=None)
def table(lang: str) -> dict:
    path = FOLDER / f"{lang}.toml"
    if not path.exists():
        return {}
    with path.open("rb") as f:
        return tomllib.load(f)


def lookup(lang: str, notebook: str, number: int, field: str, english: Any) -> Any:
    """The ``lang`` text of ``field``, where it translates ``english`` as it is now; else
    ``english`` (per message key for ``messages``)."""
    entry = table(lang).get(f"{notebook}.{number}", {})
    if field == "messages":
        done = dict(english)
        hashes = entry.get("messages_en", {})
        for key, text in entry.get("messages", {}).items():
            if key in english and hashes.get(key) == sha(english[key]):
                done[key] = text
        return done
    text = entry.get(field)
    if text and entry.get(f"{field}_en") == sha(english):
        return text
    return english


def problems(lang: str, exercise_sets) -> list[str]:
    """Missing, stale and orphaned translations of the given exercise sets' texts."""
    found = []
    data = table(lang)
    seen = set()
    for ex_set in exercise_sets:
        for ex in ex_set:
            cls = type(ex)
            key = f"{ex_set.notebook}.{cls.number}"
            seen.add(key)
            entry = data.get(key)
            if entry is None:
                found.append(f"{key}: not translated")
                continue
            for field in ("title", "hint", "explanation"):
                if field not in entry:
                    found.append(f"{key}.{field}: not translated")
                elif entry.get(f"{field}_en") != sha(getattr(cls, field)):
                    found.append(f"{key}.{field}: stale (the English changed)")
            hashes = entry.get("messages_en", {})
            for name, english in cls.messages.items():
                if name not in entry.get("messages", {}):
                    found.append(f"{key}.messages.{name}: not translated")
                elif hashes.get(name) != sha(english):
                    found.append(f"{key}.messages.{name}: stale (the English changed)")
    found += [f"{key}: no such exercise any more" for key in data if key not in seen]
    return found
