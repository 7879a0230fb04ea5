"""Durations as people write them in the config: `500ms`, `10s`, `2m`, `1h`, `1m30s`."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, PlainSerializer

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
# Nothing Pantau waits for is longer than a month; a larger number is a typo (`100000000000h`)
# that would otherwise reach the scheduler and the timers as is.
MAX_SECONDS = 31 * 86400.0
HINT = 'write a number with a unit: ms, s, m or h (e.g. "500ms", "10s", "2m")'


def parse_duration(value: object) -> float:
    """Seconds from a duration string; raises ValueError with a hint on anything else."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{HINT}; got {value!r}")
    if isinstance(value, int | float):
        # A bare number is ambiguous (seconds? milliseconds?), so the unit is required.
        raise ValueError(f"{HINT}; got a bare number {value!r}")
    text = value.strip().replace(" ", "")
    pos, total = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(f"{HINT}; got {value!r}")
    if total <= 0:
        raise ValueError(f"must be longer than zero; got {value!r}")
    if total > MAX_SECONDS:
        raise ValueError(f"must be at most {format_duration(MAX_SECONDS)}; got {value!r}")
    return total


def format_duration(seconds: float) -> str:
    """The shortest config-style spelling of a duration (`15s`, `500ms`, `2m`)."""
    if seconds < 1 or seconds != int(seconds):
        return f"{seconds * 1000:g}ms"
    whole = int(seconds)
    if whole % 3600 == 0:
        return f"{whole // 3600}h"
    if whole % 60 == 0:
        return f"{whole // 60}m"
    return f"{whole}s"


Duration = Annotated[
    float, BeforeValidator(parse_duration), PlainSerializer(format_duration, return_type=str)
]


def between(low: float, high: float, example: str | None = None) -> AfterValidator:
    """A validator for `Annotated[..., between(0.1, 60)]`: one line naming both bounds (and a
    value to write, when given)."""
    hint = f" (e.g. {example})" if example else ""

    def check(seconds: float) -> float:
        if not low <= seconds <= high:
            raise ValueError(
                f"must be between {format_duration(low)} and {format_duration(high)}{hint}; "
                f"got {format_duration(seconds)}"
            )
        return seconds

    return AfterValidator(check)
