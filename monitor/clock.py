"""Wall time derived from the monotonic clock, so durations never jump with NTP steps.

One process has one clock (`default_clock()`): the daemon and the CLI commands read "now" from
it, so what a report says and what the daemon recorded use the same time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

# The system wall clock and the monotonic one are slewed together by NTP; they part only when
# the wall clock is stepped (ntpdate, chrony's makestep, a manual date -s) or the machine was
# suspended (the monotonic clock stops). A part of a second or more is such a step, not drift.
STEP_SECONDS = 1.0


class Clock:
    """Anchors the wall clock; every timestamp after is anchor + monotonic elapsed.

    Two timestamps from one daemon run therefore differ by exactly the monotonic time between
    them, until `check()` (the daemon calls it at every flush) finds the system's wall clock
    stepped away and re-anchors. `resync()` re-anchors unconditionally.
    """

    def __init__(
        self,
        wall_source: Callable[[], float] = time.time,
        mono_source: Callable[[], float] = time.monotonic,
    ) -> None:
        self._wall_source = wall_source
        self._mono_source = mono_source
        self.resync()

    def resync(self) -> None:
        self._wall0 = self._wall_source()
        self._mono0 = self._mono_source()

    def check(self) -> float | None:
        """Re-anchor if the system's wall clock stepped; the step in seconds, or None."""
        wall, mono = self._wall_source(), self._mono_source()
        step = wall - (self._wall0 + (mono - self._mono0))
        if abs(step) < STEP_SECONDS:
            return None
        self._wall0, self._mono0 = wall, mono
        return step

    def wall(self, mono: float | None = None) -> float:
        """Unix time (UTC) of a monotonic reading (default: now)."""
        if mono is None:
            mono = self._mono_source()
        return self._wall0 + (mono - self._mono0)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.wall(), UTC)


_DEFAULT: Clock | None = None


def default_clock() -> Clock:
    """The process's one clock (created on first use)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Clock()
    return _DEFAULT
