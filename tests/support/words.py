"""The word lists (monitor/templates/report_words.{id,en}.txt) read back, to find English."""

from __future__ import annotations

import re
from typing import Any

from monitor.report.render import environment


def strings_of(value: Any) -> list[str]:
    """Every string in a word-list value (a string, or a dict of them, nested)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_of(v)]
    return []


def module_strings(language: str) -> list[str]:
    """Every string the word list of `language` defines."""
    module = environment(language).get_template(f"report_words.{language}.txt").module  # type: ignore[arg-type]
    return [
        s
        for name in dir(module)
        if not name.startswith("_")
        for s in strings_of(getattr(module, name))
    ]


def english_phrases() -> list[str]:
    """Every run of two or more words of the English list that the Indonesian list lacks."""
    indonesian = "\n".join(module_strings("id"))
    phrases = set()
    for text in module_strings("en"):
        for part in re.split(r"\{[a-z_]*\}", text):
            part = part.strip(" .,:;()–—[]")
            if len(part.split()) >= 2 and part not in indonesian:
                phrases.add(part)
    return sorted(phrases)
