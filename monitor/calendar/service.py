"""The compiled service calendar: pure functions of time, no clock inside."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

from monitor.calendar.config import WEEKDAYS, HolidaysConfig, Hours, ServiceHoursConfig
from monitor.calendar.holiday_source import holiday_table

Source = Literal["weekly", "period", "holiday", "closed", "open"]
"""Which rule decided a day, from lowest to highest precedence."""

Interval = tuple[datetime, datetime]

NEXT_CHANGE_HORIZON = timedelta(days=800)
"""How far `next_change` looks before concluding the state never changes."""


@dataclass(frozen=True, slots=True)
class ServiceDay:
    """One local date of an office, as the calendar sees it."""

    date: date
    intervals: tuple[Interval, ...]
    """Open ranges as aware datetimes in the office zone; an end at 24:00 is next midnight."""
    source: Source
    """The rule that decided the day."""
    name: str | None = None
    """Holiday name, period name or the name of an `open` override; None for plain weekly."""

    @property
    def reason(self) -> str | None:
        """Why the day differs from plain weekly hours: the name, else "closed"/"open"."""
        if self.name is not None or self.source in ("weekly", "period", "holiday"):
            return self.name
        return self.source

    @property
    def is_service_day(self) -> bool:
        """True when the office is open at some time of this day."""
        return bool(self.intervals)

    @property
    def scheduled_seconds(self) -> float:
        """Seconds of service scheduled on this day."""
        return sum(((end - start).total_seconds() for start, end in self.intervals), 0.0)


@dataclass(frozen=True, slots=True)
class _Period:
    name: str
    first: date
    last: date
    weekly: tuple[tuple[Hours, ...], ...]


def _weekly_table(weekly: Mapping[str, tuple[Hours, ...]]) -> tuple[tuple[Hours, ...], ...]:
    return tuple(tuple(weekly.get(day, ())) for day in WEEKDAYS)


@dataclass(frozen=True, slots=True, init=False, eq=False, repr=False)
class ServiceCalendar:
    """When an office serves, compiled from its config and time zone.

    Precedence per date: `open` override > `closed` > holiday > period > weekly.
    All instants taken and returned are aware datetimes; results are in UTC.
    """

    tz: ZoneInfo
    _weekly: tuple[tuple[Hours, ...], ...]
    _periods: tuple[_Period, ...]
    _closed: frozenset[date]
    _open: Mapping[date, tuple[tuple[Hours, ...], str | None]]
    _holidays: HolidaysConfig | None

    def __init__(self, config: ServiceHoursConfig, tz: ZoneInfo) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "tz", tz)
        setattr_(self, "_weekly", _weekly_table(config.weekly))
        periods = (_Period(p.name, p.from_, p.to, _weekly_table(p.weekly)) for p in config.periods)
        setattr_(self, "_periods", tuple(periods))
        setattr_(self, "_closed", frozenset(config.closed))
        overrides = {o.date: (o.hours, o.name) for o in config.open}
        setattr_(self, "_open", MappingProxyType(overrides))
        setattr_(self, "_holidays", config.holidays)

    def __repr__(self) -> str:
        return (
            f"ServiceCalendar(tz={self.tz.key!r}, periods={len(self._periods)},"
            f" closed={len(self._closed)}, open={len(self._open)}, holidays={self._holidays!r})"
        )

    def holiday(self, d: date) -> str | None:
        """Name of the public holiday (or cuti bersama day) on `d`, if any."""
        if self._holidays is None:
            return None
        h = self._holidays
        return holiday_table(h.country, h.cuti_bersama, h.language, d.year).get(d)

    def day(self, d: date) -> ServiceDay:
        """The service day for local date `d`."""
        if d in self._open:
            hours, name = self._open[d]
            return self._service_day(d, hours, "open", name)
        if d in self._closed:
            return ServiceDay(d, (), "closed")
        if (holiday := self.holiday(d)) is not None:
            return ServiceDay(d, (), "holiday", holiday)
        for period in self._periods:
            if period.first <= d <= period.last:
                return self._service_day(d, period.weekly[d.weekday()], "period", period.name)
        return self._service_day(d, self._weekly[d.weekday()], "weekly", None)

    def _service_day(
        self, d: date, hours: tuple[Hours, ...], source: Source, name: str | None
    ) -> ServiceDay:
        # Wall-clock arithmetic on an aware datetime keeps 24:00 as the next local midnight.
        midnight = datetime(d.year, d.month, d.day, tzinfo=self.tz)
        intervals = tuple(
            (midnight + timedelta(minutes=h.start), midnight + timedelta(minutes=h.end))
            for h in hours
        )
        return ServiceDay(d, intervals, source, name)

    def _merged(self, first: date, last: date) -> Iterator[Interval]:
        """Open intervals in UTC of local dates first..last, touching ones merged."""
        pending: Interval | None = None
        d = first
        while d <= last:
            for local_start, local_end in self.day(d).intervals:
                start, end = local_start.astimezone(UTC), local_end.astimezone(UTC)
                if end <= start:  # a DST gap swallowed the range
                    continue
                if pending is not None and start <= pending[1]:
                    pending = (pending[0], max(pending[1], end))
                    continue
                if pending is not None:
                    yield pending
                pending = (start, end)
            d += timedelta(days=1)
        if pending is not None:
            yield pending

    def intervals(self, start: datetime, end: datetime) -> list[Interval]:
        """Open intervals in UTC, clipped to [start, end)."""
        _require_aware(start, end)
        if end <= start:
            return []
        result = []
        local = start.astimezone(self.tz).date(), end.astimezone(self.tz).date()
        for s, e in self._merged(*local):
            if s >= end:
                break
            if e > start:
                result.append((max(s, start).astimezone(UTC), min(e, end).astimezone(UTC)))
        return result

    def service_seconds(self, start: datetime, end: datetime) -> float:
        """Seconds of [start, end) inside service hours, e.g. service lost to an outage."""
        return sum(((e - s).total_seconds() for s, e in self.intervals(start, end)), 0.0)

    def is_open(self, at: datetime) -> bool:
        """True when `at` falls inside service hours."""
        _require_aware(at)
        return any(s <= at < e for s, e in self.day(at.astimezone(self.tz).date()).intervals)

    def next_change(self, at: datetime) -> datetime | None:
        """The first instant after `at` when the office opens or closes (UTC), if any."""
        _require_aware(at)
        first = at.astimezone(self.tz).date()
        for s, e in self._merged(first, first + NEXT_CHANGE_HORIZON):
            if s > at:
                return s
            if e > at:
                return e
        return None


def _require_aware(*instants: datetime) -> None:
    for instant in instants:
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError(f"{instant.isoformat()} must be timezone-aware (e.g. tzinfo=UTC)")
