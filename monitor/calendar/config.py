"""The `service_hours` config section: validated at the edge, compiled by `ServiceCalendar`.

Defaults follow Perpres 21/2023 (civil-service working hours, 37.5 hours a week):
Monday-Thursday 07:30-16:00 with a 60-minute break 12:00-13:00, Friday 07:30-16:30 with a
90-minute break 11:30-13:00 (Friday prayers), closed at weekends, Indonesian public holidays
plus cuti bersama. Counter hours differ per office, so every part can be overridden.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from monitor.calendar.holiday_source import country_holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday keys in `date.weekday()` order."""

_RANGE = re.compile(r"(\d\d):(\d\d)-(\d\d):(\d\d)")
_RANGE_HELP = 'must be hh:mm-hh:mm, between 00:00 and 24:00, start before end (e.g. "07:30-12:00")'


@dataclass(frozen=True, slots=True, order=True)
class Hours:
    """One open range of a day, in minutes after local midnight; `end` may be 1440 (24:00)."""

    start: int
    end: int

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _parse_hours(value: Any) -> Hours:
    if isinstance(value, Hours):
        return value
    match = _RANGE.fullmatch(value.strip()) if isinstance(value, str) else None
    if match:
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 < 60 and m2 < 60 and 0 <= start < end <= 24 * 60:
            return Hours(start, end)
    raise PydanticCustomError("hours", '"{value}" ' + _RANGE_HELP, {"value": value})


def _no_overlap(ranges: tuple[Hours, ...]) -> tuple[Hours, ...]:
    ordered = sorted(ranges)
    for before, after in pairwise(ordered):
        if after.start < before.end:
            raise PydanticCustomError(
                "hours_overlap",
                '"{a}" overlaps "{b}": ranges of one day must not overlap',
                {"a": str(before), "b": str(after)},
            )
    return tuple(ordered)


HoursField = Annotated[Hours, PlainValidator(_parse_hours), PlainSerializer(str)]
DayHours = Annotated[tuple[HoursField, ...], AfterValidator(_no_overlap)]
"""The open ranges of one day, sorted; empty means closed."""


def _weekday(value: str) -> str:
    if value not in WEEKDAYS:
        raise PydanticCustomError(
            "weekday",
            'unknown weekday "{value}": use mon, tue, wed, thu, fri, sat or sun',
            {"value": value},
        )
    return value


Weekly = dict[Annotated[str, AfterValidator(_weekday)], DayHours]
"""Open ranges per weekday key; a weekday that is missing is closed."""

_MON_THU = (Hours(7 * 60 + 30, 12 * 60), Hours(13 * 60, 16 * 60))
_FRI = (Hours(7 * 60 + 30, 11 * 60 + 30), Hours(13 * 60, 16 * 60 + 30))
PERPRES_21_2023: Mapping[str, tuple[Hours, ...]] = MappingProxyType(
    {"mon": _MON_THU, "tue": _MON_THU, "wed": _MON_THU, "thu": _MON_THU, "fri": _FRI}
)
"""Default weekly hours: 37.5 hours a week, 60-minute break Mon-Thu, 90 minutes on Friday."""


class HolidaysConfig(BaseModel):
    """Which public holidays close the office (from the `holidays` package)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    country: str = "ID"
    cuti_bersama: bool = True
    """Also close on collective-leave days (the package's GOVERNMENT category)."""
    language: Literal["id", "en_US"] = "id"
    """Language of holiday names; always passed, else names would follow $LANG."""

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        import holidays  # here, not at the top: the daemon itself never imports it

        if value not in holidays.list_supported_countries():
            raise PydanticCustomError(
                "country",
                'unknown country "{value}": use an ISO 3166-1 alpha-2 code that the `holidays`'
                ' package supports (e.g. "ID")',
                {"value": value},
            )
        return value

    @model_validator(mode="after")
    def _supported(self) -> HolidaysConfig:
        import holidays

        entity = country_holidays(self.country)
        if self.language not in (entity.supported_languages or ()):
            raise PydanticCustomError(
                "language",
                'holiday names for {country} are not available in "{value}"',
                {"country": self.country, "value": self.language},
            )
        if self.cuti_bersama and holidays.GOVERNMENT not in entity.supported_categories:
            raise PydanticCustomError(
                "cuti_bersama",
                "{country} has no collective-leave (government) holidays: set cuti_bersama: false",
                {"country": self.country},
            )
        return self


class Period(BaseModel):
    """A date range (both ends included) with its own weekly hours, e.g. Ramadan."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, populate_by_name=True)

    name: str = Field(min_length=1)
    from_: date = Field(alias="from")
    to: date
    weekly: Weekly

    @field_validator("to")
    @classmethod
    def _ordered(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("from_")
        if start is not None and value < start:
            raise PydanticCustomError(
                "period_order",
                'to ({to}) is before from ({start}) in period "{name}"',
                {"to": str(value), "start": str(start), "name": info.data.get("name")},
            )
        return value


def _some_hours(ranges: tuple[Hours, ...]) -> tuple[Hours, ...]:
    if not ranges:
        raise PydanticCustomError(
            "open_empty",
            'an open day needs hours (e.g. ["08:00-12:00"]); list a day without service in closed',
        )
    return ranges


class OpenDay(BaseModel):
    """A single day open with its own hours, e.g. a service Saturday."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    date: date
    hours: Annotated[DayHours, AfterValidator(_some_hours)]
    name: str | None = None


class ServiceHoursConfig(BaseModel):
    """The `service_hours` section. Precedence: open > closed > holiday > period > weekly."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    weekly: Weekly = Field(default_factory=lambda: dict(PERPRES_21_2023))
    holidays: HolidaysConfig | None = Field(default_factory=HolidaysConfig)
    """`null` ignores public holidays altogether."""
    periods: tuple[Period, ...] = ()
    closed: tuple[date, ...] = ()
    open: tuple[OpenDay, ...] = ()

    @field_validator("periods")
    @classmethod
    def _periods_apart(cls, periods: tuple[Period, ...]) -> tuple[Period, ...]:
        ordered = sorted(periods, key=lambda p: p.from_)
        for before, after in pairwise(ordered):
            if after.from_ <= before.to:
                raise PydanticCustomError(
                    "period_overlap",
                    'period "{a}" ({a_from}..{a_to}) overlaps period "{b}" ({b_from}..{b_to})',
                    {
                        "a": before.name,
                        "a_from": str(before.from_),
                        "a_to": str(before.to),
                        "b": after.name,
                        "b_from": str(after.from_),
                        "b_to": str(after.to),
                    },
                )
        return periods

    @field_validator("open")
    @classmethod
    def _open_once(cls, days: tuple[OpenDay, ...]) -> tuple[OpenDay, ...]:
        seen: set[date] = set()
        for day in days:
            if day.date in seen:
                raise PydanticCustomError(
                    "open_twice",
                    "open lists {value} twice: give each day one entry with all its hours",
                    {"value": str(day.date)},
                )
            seen.add(day.date)
        return days
