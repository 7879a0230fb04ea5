"""Office-local days as people type them (`--from`, `--date`, `?from=`): one parser, one range.

Dates outside the range are refused with one line, never an OverflowError later: the day after
9999-12-31 does not exist, and holiday data for centuries ahead means nothing.
"""

from __future__ import annotations

from datetime import date

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2199, 12, 31)
HINT = f"must be a date as YYYY-MM-DD between {FIRST_DAY} and {LAST_DAY} (e.g. 2026-12-01)"


def parse_day(text: str) -> date:
    """A day from `YYYY-MM-DD` inside [FIRST_DAY, LAST_DAY]; ValueError with HINT otherwise."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{HINT}; got {text!r}") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{HINT}; got {text!r}")
    return day
