"""`body_regex`: matched by RE2 (time linear in the body) against the first BODY_LIMIT bytes.

Python's `re` backtracks: `^(x|xx)*y` on 28 x's took 0.2 s here and grows 1.6-fold per
character (about a minute at 40), and it ran on the event loop, which froze the whole daemon
(no /metrics, SIGTERM ignored). RE2 refuses the few features that need backtracking
(backreferences, lookaround), and `pantau check` says so. Measured on this machine: the slowest
pattern we tried (`.*SIAK OK`) takes 7 ms on a full 1 MiB body. Every match runs in a worker
thread, never on the event loop (RE2 releases the GIL: the loop kept ticking every 17 ms or
better during a 4 s match); the hand-off costs 0.17 ms, of which the loop spends a fraction.

Linear is not the same as cheap: when RE2's DFA would need too many states it falls back to
simulating the pattern, at a cost per body byte that grows with the compiled program. On 1 MiB
of random a/b text, `a[ab]{20}c` (program size 26) took 0.7 s, `a[ab]{200}c` (206) 2.4 s and
`(a|b){1000}c` (3005) 89 s; even 4 KiB took 28 ms with a fresh pattern of size 196. Patterns
above MAX_PROGRAM are refused; real checks are 10 to 40
(`SIAK OK` 11, `(?i)<title>\\s*SIAK.*</title>` 39).
"""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any

BODY_LIMIT = 1 << 20  # the probe reads (and matches) at most the first 1 MiB of a body
_MAX_MEM = 8 << 20  # RE2's budget for one compiled pattern
MAX_PROGRAM = 200  # compiled size; see the module docstring for what a larger one cost


class RegexRefused(ValueError):
    """The pattern is not valid for RE2; the message teaches what to write instead."""


def _options() -> Any:
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print every refused pattern to stderr
    options.max_mem = _MAX_MEM
    return options


@lru_cache(maxsize=256)
def compile_body_regex(pattern: str) -> Any:
    """The compiled pattern, or RegexRefused with a one-line lesson.

    RE2 is imported here, by the first pattern: with it come libstdc++ and RE2's library, 2.3 MB
    of RSS that a daemon with no `body_regex` never needs (measured 2026-12-02)."""
    import re2

    try:
        compiled = re2.compile(pattern, _options())
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
            lesson = "; keep repeat counts small, e.g. {1,3}"
        elif "too big" in reason or "pattern too large" in reason:
            lesson = "; make the pattern shorter or less repetitive"
        raise RegexRefused(
            f"is not a regular expression RE2 accepts ({reason}){lesson}; got {pattern!r}"
        ) from None
    if compiled.programsize > MAX_PROGRAM:
        raise RegexRefused(
            f"is too complex to run on every body (RE2 program size {compiled.programsize}, "
            f"at most {MAX_PROGRAM}): large repeat counts such as {{200}} cost time on every "
            f"byte; match a short fixed text instead, e.g. 'SIAK OK'; got {pattern!r}"
        )
    return compiled


def _search(pattern: str, body: bytes, charset: str) -> bool:
    try:
        text = body.decode(charset, errors="replace")
    except LookupError:  # the server named a charset Python does not know: read it as UTF-8
        text = body.decode("utf-8", errors="replace")
    return compile_body_regex(pattern).search(text) is not None


async def body_matches(pattern: str, body: bytes, charset: str) -> bool:
    """Whether `pattern` occurs in `body`, decided in a worker thread, off the event loop."""
    return await asyncio.to_thread(_search, pattern, body, charset)
