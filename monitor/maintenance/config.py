"""The `maintenance:` config section and the central schedule file (the same shape), validated.

maintenance:
  windows:                       # one-off, start and end with a zone (or the office's)
    - {name: Pemeliharaan SIAK, start: "2026-12-10 17:00", end: "2026-12-12 08:00",
       timezone: Asia/Jakarta, announced_by: center}
  weekly:                        # every week, office-local time
    - {name: Backup server, days: [fri], start: "17:00", end: "19:00", announced_by: office}
  url: https://pusat.example/jadwal.yaml   # optional: the center's schedule, YAML or JSON
  refresh: 15m
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.durations import Duration, between

AnnouncedBy = Literal["center", "isp", "office"]
ANNOUNCERS: tuple[AnnouncedBy, ...] = ("center", "isp", "office")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"(\d\d):(\d\d)")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def _zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"must be an IANA time zone such as Asia/Jakarta (WIB); got {value!r}"
        ) from None
    return value


def _moment(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    text = str(value).strip()
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            'must be a date and time, e.g. "2026-12-10 17:00" or "2026-12-10T17:00+07:00"; '
            f"got {value!r}"
        ) from None


class Window(_Model):
    """One announced window; a start or end without an offset is in `timezone` (the office's)."""

    name: str = Field(min_length=1, max_length=120)
    start: datetime
    end: datetime
    timezone: str | None = None
    announced_by: AnnouncedBy

    _tz = field_validator("timezone")(classmethod(lambda cls, v: _zone(v)))
    _start = field_validator("start", "end", mode="before")(classmethod(lambda cls, v: _moment(v)))

    def bounds(self, office_zone: ZoneInfo) -> tuple[float, float]:
        """Unix start and end (a naive time is in `timezone`, else the office's zone)."""
        zone = ZoneInfo(self.timezone) if self.timezone else office_zone

        def ts(moment: datetime) -> float:
            return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).timestamp()

        return ts(self.start), ts(self.end)

    @model_validator(mode="after")
    def _order(self) -> Window:
        zone = ZoneInfo("UTC")
        start, end = self.bounds(zone)
        if end <= start:
            raise ValueError(f"end: must be after start ({self.start} .. {self.end})")
        return self


def _minutes(value: str) -> int:
    match = _HHMM.fullmatch(value.strip())
    if not match or int(match.group(1)) > 24 or int(match.group(2)) > 59:
        raise ValueError(f"must be hh:mm between 00:00 and 24:00 (e.g. 17:00); got {value!r}")
    minutes = int(match.group(1)) * 60 + int(match.group(2))
    if minutes > 1440:
        raise ValueError(f"must be hh:mm between 00:00 and 24:00 (e.g. 17:00); got {value!r}")
    return minutes


class WeeklyWindow(_Model):
    """Every week on `days`, `start`..`end` office-local; an end before the start is next day."""

    name: str = Field(min_length=1, max_length=120)
    days: tuple[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ...] = Field(min_length=1)
    start: str
    end: str
    announced_by: AnnouncedBy

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        _minutes(value)
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> WeeklyWindow:
        if _minutes(self.start) == _minutes(self.end):
            raise ValueError(f"end: must differ from start ({self.start})")
        return self

    @property
    def minutes(self) -> tuple[int, int]:
        """(start, end) in minutes after local midnight; end may pass 1440 (the next day)."""
        start, end = _minutes(self.start), _minutes(self.end)
        return start, end if end > start else end + 1440


class Schedule(_Model):
    """The windows: the config's own and the central file's (same shape, no url)."""

    windows: tuple[Window, ...] = ()
    weekly: tuple[WeeklyWindow, ...] = ()


class MaintenanceConfig(Schedule):
    """`maintenance:` the office's windows, and optionally the center's schedule file."""

    url: str | None = None
    refresh: Annotated[Duration, between(10.0, 86400.0, example="15m")] = 900.0
    timeout: Duration = 10.0

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(
                    "must be an http:// or https:// URL of a YAML or JSON schedule "
                    f"(e.g. https://pusat.example/jadwal.yaml); got {value!r}"
                )
        return value
