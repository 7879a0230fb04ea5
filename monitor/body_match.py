"""`body_regex`: matched by RE2 (time linear in the body) against the first BODY_LIMIT bytes.

Python's `re` backtracks: `^(x|xx)*y` on 28 x's took 0.2 s here and grows 1.6-fold per
character (about a minute at 40), and it ran on the event loop, which froze the whole daemon
(no /metrics, SIGTERM ignored). RE2 refuses the few features that need backtracking
(backreferences, lookaround), and `pantau check` says so. Measured on this machine: the slowest
pattern we tried (`.*SIAK OK`) takes 7 ms on a full 1 MiB body, under 0.5 ms on 64 KiB; bodies
larger than BODY_INLINE are matched in a worker thread."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any

import re2

BODY_LIMIT = 1 << 20  # the probe reads (and matches) at most the first 1 MiB of a body
BODY_INLINE = 64 << 10  # bodies up to this size are matched on the loop: < 0.5 ms
_MAX_MEM = 8 << 20  # RE2's budget for one compiled pattern


class RegexRefused(ValueError):
    """The pattern is not valid for RE2; the message teaches what to write instead."""


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # RE2 would print every refused pattern to stderr
    options.max_mem = _MAX_MEM
    return options


@lru_cache(maxsize=256)
def compile_body_regex(pattern: str) -> Any:
    """The compiled pattern, or RegexRefused with a one-line lesson."""
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        first = exc.args[0] if exc.args else str(exc)
        reason = first.decode(errors="replace") if isinstance(first, bytes) else str(first)
        lesson = ""
        if "perl operator" in reason or "escape sequence" in reason:
            lesson = (
                "; Pantau's linear-time engine (RE2) has no lookahead (?=...), lookbehind "
                "(?<=...) or backreferences (\\1): match the text itself, e.g. 'SIAK.*OK'"
            )
        elif "repetition" in reason:
            lesson = "; repeat counts go up to {1000}"
        elif "too big" in reason or "pattern too large" in reason:
            lesson = "; make the pattern shorter or less repetitive"
        raise RegexRefused(
            f"is not a regular expression RE2 accepts ({reason}){lesson}; got {pattern!r}"
        ) from None


def _search(pattern: str, body: bytes, charset: str) -> bool:
    try:
        text = body.decode(charset, errors="replace")
    except LookupError:  # the server named a charset Python does not know: read it as UTF-8
        text = body.decode("utf-8", errors="replace")
    return compile_body_regex(pattern).search(text) is not None


async def body_matches(pattern: str, body: bytes, charset: str) -> bool:
    """Whether `pattern` occurs in `body`; a large body is matched off the event loop."""
    if len(body) <= BODY_INLINE:
        return _search(pattern, body, charset)
    return await asyncio.to_thread(_search, pattern, body, charset)
