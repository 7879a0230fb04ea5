"""Maintenance windows as unix spans: the config's, the weekly ones and the center's. Pure.

`windows_between` is what accounting reads (`Facts.maintenance`); `active` what the daemon
exports as `pantau_maintenance_active`. Time is an argument; nothing here reads the clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from monitor.maintenance.config import WEEKDAYS, Schedule


@dataclass(frozen=True, slots=True)
class Planned:
    """One window in unix seconds, as a person announced it."""

    start: float
    end: float
    name: str
    announced_by: str
    source: str
    """"config" or "central" (the schedule file at `maintenance.url`)."""

    @property
    def span(self) -> tuple[float, float, str]:
        """(start, end, announced_by): what accounting reads."""
        return (self.start, self.end, self.announced_by)


def windows_between(
    schedules: Iterable[tuple[str, Schedule]], zone: ZoneInfo, start: float, end: float
) -> list[Planned]:
    """Every window of `schedules` ((source, schedule) pairs) overlapping [start, end)."""
    found: list[Planned] = []
    for source, schedule in schedules:
        for window in schedule.windows:
            s, e = window.bounds(zone)
            if s < end and e > start:
                found.append(Planned(s, e, window.name, window.announced_by, source))
        if not schedule.weekly:
            continue
        # A weekly window may run past midnight: start a day early to catch yesterday's tail.
        first = datetime.fromtimestamp(start, zone).date() - timedelta(days=1)
        last = datetime.fromtimestamp(end, zone).date()
        day = first
        while day <= last:
            key = WEEKDAYS[day.weekday()]
            midnight = datetime.combine(day, time(0), zone)
            for weekly in schedule.weekly:
                if key not in weekly.days:
                    continue
                lo, hi = weekly.minutes
                # Wall-clock minutes in the office's zone (Indonesia has no DST).
                s = (midnight + timedelta(minutes=lo)).timestamp()
                e = (midnight + timedelta(minutes=hi)).timestamp()
                if s < end and e > start:
                    found.append(Planned(s, e, weekly.name, weekly.announced_by, source))
            day += timedelta(days=1)
    return sorted(found, key=lambda p: (p.start, p.end, p.name))


def active(windows: Iterable[Planned], at: float) -> Planned | None:
    """The window open at `at` (the earliest-started one), or None."""
    return next((w for w in sorted(windows, key=lambda w: w.start) if w.start <= at < w.end), None)
