"""Wall time derived from the monotonic clock, so durations never jump with NTP steps."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """Anchors the wall clock once; every timestamp after is anchor + monotonic elapsed.

    Two timestamps from one daemon run therefore differ by exactly the monotonic time between
    them. The anchor is refreshed by `resync()` (the daemon calls it daily) to follow slow drift.
    """

    def __init__(self) -> None:
        self.resync()

    def resync(self) -> None:
        self._wall0 = time.time()
        self._mono0 = time.monotonic()

    def wall(self, mono: float | None = None) -> float:
        """Unix time (UTC) of a monotonic reading (default: now)."""
        if mono is None:
            mono = time.monotonic()
        return self._wall0 + (mono - self._mono0)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.wall(), UTC)
