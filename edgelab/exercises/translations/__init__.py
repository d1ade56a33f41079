"""Exercise texts in other languages, each tied to the English it translates.

``<lang>/nbNN.toml`` in this folder holds, per exercise of notebook NN (``["02.1"]``), the translated
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
    """Every exercise translation of ``lang``: the tables of ``<lang>/*.toml`` together."""
    found: dict = {}
    for path in sorted((FOLDER / lang).glob("*.toml")):
        with path.open("rb") as f:
            found.update(tomllib.load(f))
    return found


def skeleton(exercise_set) -> str:
    """A TOML file to translate: every text of the set's exercises in English, with the
    hashes that tie a translation to it (``python tools/translations.py exercises LANG NN``)."""
    def quoted(text: str) -> str:
        text = textwrap.dedent(text).strip()
        return '"""\n' + text.replace("\\", "\\\\").replace('"""', '\\"""') + '"""'

    out = []
    for ex in exercise_set:
        cls = type(ex)
        out.append(f'["{exercise_set.notebook}.{cls.number}"]')
        for field in ("title", "hint", "explanation"):
            out.append(f"{field} = {quoted(getattr(cls, field))}")
            out.append(f'{field}_en = "{sha(getattr(cls, field))}"')
        whats = mistake_words(cls)
        if whats:
            out.append("mistakes = [\n" + ",\n".join("  " + quoted(w).replace('"""\n', '"""', 1)
                                                      for w in whats) + ",\n]")
            out.append(f'mistakes_en = "{sha(chr(10).join(whats))}"')
        out.append(f'\n["{exercise_set.notebook}.{cls.number}".messages]')
        for key, text in cls.messages.items():
            out.append(f"{key} = {quoted(text)}")
        out.append(f'\n["{exercise_set.notebook}.{cls.number}".messages_en]')
        for key, text in cls.messages.items():
            out.append(f'{key} = "{sha(text)}"')
        out.append("")
    return "\n".join(out)


def lookup(lang: str, notebook: str, number: int, field: str, english: Any) -> Any:
    """The ``lang`` text of ``field``, where it translates ``english`` as it is now; else
    ``english`` (per message key for ``messages``)."""
    entry = table(lang).get(f"{notebook}.{number}", {})
    if field == "mistakes":      # a list: the mistakes in words, in the exercise's order
        text = entry.get("mistakes")
        if text and len(text) == len(english) and entry.get("mistakes_en") == sha("\n".join(english)):
            return list(text)
        return list(english)
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


def mistake_words(cls) -> list[str]:
    """The mistakes an exercise's check recognises, in words (English)."""
    return [m.what or m.says for m in cls.mistakes]


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
            whats = mistake_words(cls)
            if whats and "mistakes" not in entry:
                found.append(f"{key}.mistakes: not translated")
            elif whats and entry.get("mistakes_en") != sha("\n".join(whats)):
                found.append(f"{key}.mistakes: stale (the English changed)")
            hashes = entry.get("messages_en", {})
            for name, english in cls.messages.items():
                if name not in entry.get("messages", {}):
                    found.append(f"{key}.messages.{name}: not translated")
                elif hashes.get(name) != sha(english):
                    found.append(f"{key}.messages.{name}: stale (the English changed)")
    checked = {s.notebook for s in exercise_sets}
    found += [f"{key}: no such exercise any more" for key in data
              if key not in seen and key.split(".")[0] in checked]
    return found
