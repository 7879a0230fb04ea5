"""CSV cells a spreadsheet will not run: every CSV Pantau writes passes its cells through here.

A cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula by
Excel and LibreOffice (`=cmd|' /C calc'!A0` from a calendar entry's name would run a program).
Such a cell gets a leading `'`, which spreadsheets show as text and never evaluate. A cell that
is only a number (`-3`, `+1.5`) is left alone: it cannot be a formula and must stay summable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def csv_safe(value: Any) -> Any:
    """The cell as a spreadsheet must show it: text that could start a formula gets a `'`."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_safe_row(row: Iterable[Any]) -> list[Any]:
    """`csv_safe` on every cell of a csv.writer row."""
    return [csv_safe(cell) for cell in row]


def csv_safe_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    """`csv_safe` on every cell of a csv.DictWriter row."""
    return {key: csv_safe(cell) for key, cell in row.items()}
