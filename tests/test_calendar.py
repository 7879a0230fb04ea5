"""The service calendar: config validation, exact lost seconds, properties, rendering."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from monitor.calendar import ServiceCalendar, ServiceHoursConfig, render_calendar

FIXTURES = Path(__file__).parent / "fixtures" / "calendar"
H = 3600
WIB, WITA, WIT = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar"), ZoneInfo("Asia/Jayapura")
PONTIANAK = ZoneInfo("Asia/Pontianak")


def load(path: Path) -> ServiceHoursConfig:
    return ServiceHoursConfig.model_validate(yaml.safe_load(path.read_text())["service_hours"])


ISSUE3 = load(FIXTURES / "issue3.yaml")
CALENDARS = {tz.key: ServiceCalendar(ISSUE3, tz) for tz in (WIB, PONTIANAK, WITA, WIT)}
GROBOGAN = CALENDARS["Asia/Jakarta"]


def local(text: str, tz: ZoneInfo = WIB) -> datetime:
    """An instant written in office time, as the aware UTC datetime the daemon passes."""
    return datetime.fromisoformat(text).replace(tzinfo=tz).astimezone(UTC)


# --- config -------------------------------------------------------------------------------


def test_issue3_section_validates_as_written() -> None:
    assert [str(h) for h in ISSUE3.weekly["fri"]] == ["07:30-11:30", "13:00-16:00"]
    assert "sat" not in ISSUE3.weekly
    (ramadan,) = ISSUE3.periods
    assert (ramadan.name, ramadan.from_, ramadan.to) == (
        "Ramadan 1448",
        date(2027, 2, 8),
        date(2027, 3, 9),
    )
    assert ISSUE3.closed == (date(2026, 12, 31),)
    assert ISSUE3.open[0].date == date(2026, 12, 5)
    assert ISSUE3.holidays is not None and ISSUE3.holidays.language == "id"


def test_config_round_trips_through_its_dump() -> None:
    dumped = ISSUE3.model_dump(by_alias=True)
    assert dumped["periods"][0]["from"] == date(2027, 2, 8)
    assert ServiceHoursConfig.model_validate(dumped) == ISSUE3


def test_config_is_frozen() -> None:
    with pytest.raises(ValidationError):
        ISSUE3.closed = ()  # type: ignore[misc]


def test_default_is_perpres_21_2023() -> None:
    calendar = ServiceCalendar(ServiceHoursConfig(), WIB)
    week = [calendar.day(date(2026, 12, 7) + timedelta(days=i)) for i in range(7)]
    assert [d.scheduled_seconds / H for d in week] == [7.5, 7.5, 7.5, 7.5, 7.5, 0, 0]
    friday = week[4]
    assert [(s.strftime("%H:%M"), e.strftime("%H:%M")) for s, e in friday.intervals] == [
        ("07:30", "11:30"),
        ("13:00", "16:30"),
    ]
    assert calendar.day(date(2026, 12, 24)).name == "Cuti Bersama Hari Raya Natal"


def test_midnight_is_written_24_00() -> None:
    config = ServiceHoursConfig.model_validate({"weekly": {"sat": ["00:00-24:00"]}})
    day = ServiceCalendar(config, WIB).day(date(2026, 12, 12))
    assert day.scheduled_seconds == 24 * H
    assert day.intervals[0][1] == datetime(2026, 12, 13, tzinfo=WIB)


def bad_fixtures() -> list[Path]:
    return sorted((FIXTURES / "bad").glob("*.yaml"))


@pytest.mark.parametrize("path", bad_fixtures(), ids=lambda p: p.stem)
def test_bad_config_names_the_field_and_teaches(path: Path) -> None:
    header = dict(
        line[2:].split(": ", 1) for line in path.read_text().splitlines()[:2] if ": " in line
    )
    with pytest.raises(ValidationError) as caught:
        load(path)
    messages = {".".join(map(str, e["loc"])): e["msg"] for e in caught.value.errors()}
    assert header["error"] in messages[header["loc"]], messages


# --- holidays -----------------------------------------------------------------------------


def test_2026_has_17_national_holidays_and_8_cuti_bersama() -> None:
    public = holidays.country_holidays("ID", years=2026, language="id")
    both = holidays.country_holidays(
        "ID", years=2026, categories=(holidays.PUBLIC, holidays.GOVERNMENT), language="id"
    )
    assert (len(public), len(both) - len(public)) == (17, 8)
    assert all(name.startswith("Cuti Bersama") for d, name in both.items() if d not in public)

    def holiday_days(cuti_bersama: bool) -> int:
        config = ServiceHoursConfig.model_validate({"holidays": {"cuti_bersama": cuti_bersama}})
        calendar = ServiceCalendar(config, WIB)
        days = (date(2026, 1, 1) + timedelta(days=i) for i in range(365))
        return sum(calendar.day(d).source == "holiday" for d in days)

    assert (holiday_days(False), holiday_days(True)) == (17, 25)


def test_holiday_names_follow_the_config_not_lang(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    english = ServiceHoursConfig.model_validate({"holidays": {"language": "en_US"}})
    assert GROBOGAN.day(date(2026, 12, 25)).name == "Hari Raya Natal"
    assert ServiceCalendar(english, WIB).day(date(2026, 12, 25)).name == "Christmas Day"


def test_holidays_can_be_switched_off() -> None:
    config = ServiceHoursConfig.model_validate({"holidays": None})
    assert ServiceCalendar(config, WIB).day(date(2026, 12, 25)).source == "weekly"


# --- precedence: open > closed > holiday > period > weekly -------------------------------


@pytest.mark.parametrize(
    ("d", "source", "name", "hours"),
    [
        (date(2026, 12, 4), "weekly", None, 7.0),
        (date(2026, 12, 5), "open", None, 4.0),
        (date(2026, 12, 6), "weekly", None, 0.0),
        (date(2026, 12, 24), "holiday", "Cuti Bersama Hari Raya Natal", 0.0),
        (date(2026, 12, 25), "holiday", "Hari Raya Natal", 0.0),
        (date(2026, 12, 31), "closed", None, 0.0),
        (date(2027, 2, 10), "period", "Ramadan 1448", 7.0),
        (date(2027, 2, 12), "period", "Ramadan 1448", 3.0),
        (date(2027, 3, 8), "holiday", "Hari Suci Nyepi", 0.0),  # inside Ramadan
    ],
)
def test_day(d: date, source: str, name: str | None, hours: float) -> None:
    day = GROBOGAN.day(d)
    assert (day.date, day.source, day.name, day.scheduled_seconds / H) == (d, source, name, hours)
    assert day.reason == (name if source not in ("open", "closed") else source)


def test_open_beats_closed_beats_holiday() -> None:
    config = ServiceHoursConfig.model_validate(
        {
            "closed": ["2026-12-25", "2026-12-28"],
            "open": [{"date": "2026-12-28", "hours": ["08:00-10:00"], "name": "Pelayanan"}],
        }
    )
    calendar = ServiceCalendar(config, WIB)
    assert calendar.day(date(2026, 12, 25)).source == "closed"
    opened = calendar.day(date(2026, 12, 28))
    assert (opened.source, opened.name, opened.scheduled_seconds) == ("open", "Pelayanan", 2 * H)


# --- lost service seconds -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "tz", "start", "end", "lost"),
    [
        ("friday long break", WIB, "2026-12-04 10:00", "2026-12-04 14:00", 1.5 * H + 1 * H),
        ("friday to the microsecond", WIB, "2026-12-04 11:29:59.5", "2026-12-04 13:00:00.25", 0.75),
        ("christmas", WIB, "2026-12-25 00:00", "2026-12-26 00:00", 0),
        ("cuti bersama", WIB, "2026-12-24 07:00", "2026-12-24 17:00", 0),
        ("ramadan wednesday", WIB, "2027-02-10 07:00", "2027-02-10 16:00", 7 * H),
        ("ramadan friday", WIB, "2027-02-12 09:00", "2027-02-12 12:00", 2 * H),
        ("open saturday", WIB, "2026-12-05 00:00", "2026-12-06 00:00", 4 * H),
        ("closed override", WIB, "2026-12-31 00:00", "2027-01-01 00:00", 0),
        ("across midnight", WIB, "2026-12-08 15:00", "2026-12-09 09:00", 1 * H + 1.5 * H),
        ("across a weekend", WIB, "2026-12-11 15:00", "2026-12-14 08:30", 1 * H + 1 * H),
        ("before opening", WIB, "2026-12-08 06:00", "2026-12-08 07:30", 0),
        ("a whole week", WIB, "2026-12-07 00:00", "2026-12-14 00:00", 4 * 7.5 * H + 7 * H),
    ],
)
def test_lost_seconds(case: str, tz: ZoneInfo, start: str, end: str, lost: float) -> None:
    assert GROBOGAN.service_seconds(local(start, tz), local(end, tz)) == lost


@pytest.mark.parametrize(
    ("zone", "lost"),
    # 06:00-09:00 UTC on Tuesday 2026-12-08 is 13-16 WIB, 14-17 WITA, 15-18 WIT.
    [
        ("Asia/Jakarta", 3 * H),
        ("Asia/Pontianak", 3 * H),
        ("Asia/Makassar", 2 * H),
        ("Asia/Jayapura", H),
    ],
)
def test_same_utc_outage_costs_each_zone_differently(zone: str, lost: float) -> None:
    start = datetime(2026, 12, 8, 6, tzinfo=UTC)
    assert CALENDARS[zone].service_seconds(start, start + timedelta(hours=3)) == lost


def test_intervals_are_utc_and_clipped() -> None:
    got = GROBOGAN.intervals(local("2026-12-04 10:00"), local("2026-12-05 09:00"))
    assert got == [
        (local("2026-12-04 10:00"), local("2026-12-04 11:30")),
        (local("2026-12-04 13:00"), local("2026-12-04 16:00")),
        (local("2026-12-05 08:00"), local("2026-12-05 09:00")),
    ]
    assert all(s.tzinfo is UTC and e.tzinfo is UTC for s, e in got)
    assert got[0][0] == datetime(2026, 12, 4, 3, tzinfo=UTC)


def test_ranges_touching_at_midnight_merge() -> None:
    config = ServiceHoursConfig.model_validate(
        {"weekly": {"sat": ["20:00-24:00"], "sun": ["00:00-04:00"]}, "holidays": None}
    )
    calendar = ServiceCalendar(config, WIT)
    got = calendar.intervals(local("2026-12-05 00:00", WIT), local("2026-12-07 00:00", WIT))
    assert got == [(local("2026-12-05 20:00", WIT), local("2026-12-06 04:00", WIT))]
    assert calendar.next_change(local("2026-12-05 21:00", WIT)) == local("2026-12-06 04:00", WIT)


def test_empty_and_naive_ranges() -> None:
    at = local("2026-12-04 10:00")
    assert GROBOGAN.intervals(at, at) == []
    assert GROBOGAN.service_seconds(at, at - timedelta(hours=1)) == 0
    with pytest.raises(ValueError, match="must be timezone-aware"):
        GROBOGAN.service_seconds(datetime(2026, 12, 4, 10), at)
    with pytest.raises(ValueError, match="must be timezone-aware"):
        GROBOGAN.is_open(datetime(2026, 12, 4, 10))


# --- is_open / next_change ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "is_open", "next_change"),
    [
        ("2026-12-04 07:29:59", False, "2026-12-04 07:30"),
        ("2026-12-04 07:30", True, "2026-12-04 11:30"),
        ("2026-12-04 11:30", False, "2026-12-04 13:00"),
        ("2026-12-04 16:00", False, "2026-12-05 08:00"),
        ("2026-12-23 16:00", False, "2026-12-28 07:30"),
        ("2026-12-30 15:59", True, "2026-12-30 16:00"),
        ("2026-12-30 16:00", False, "2027-01-04 07:30"),
    ],
)
def test_is_open_and_next_change(at: str, is_open: bool, next_change: str) -> None:
    assert GROBOGAN.is_open(local(at)) is is_open
    assert GROBOGAN.next_change(local(at)) == local(next_change)


def test_never_open_has_no_next_change() -> None:
    calendar = ServiceCalendar(ServiceHoursConfig.model_validate({"weekly": {}}), WIB)
    assert calendar.next_change(local("2026-12-04 10:00")) is None
    assert calendar.is_open(local("2026-12-04 10:00")) is False


# --- properties ---------------------------------------------------------------------------

zones = st.sampled_from(sorted(CALENDARS))
instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=9))


@given(zones, instants, durations)
def test_lost_never_exceeds_the_outage(zone: str, start: datetime, duration: timedelta) -> None:
    lost = CALENDARS[zone].service_seconds(start, start + duration)
    assert 0 <= lost <= duration.total_seconds()


@given(zones, instants, durations, st.floats(min_value=0, max_value=1))
def test_splitting_an_outage_keeps_the_total(
    zone: str, start: datetime, duration: timedelta, where: float
) -> None:
    calendar, end = CALENDARS[zone], start + duration
    middle = start + duration * where
    whole = calendar.service_seconds(start, end)
    parts = calendar.service_seconds(start, middle) + calendar.service_seconds(middle, end)
    assert math.isclose(whole, parts, abs_tol=1e-6)


CLOSED_2026 = [
    d
    for d in (date(2026, 1, 1) + timedelta(days=i) for i in range(365))
    if not GROBOGAN.day(d).is_service_day
]


@given(
    zones,
    st.sampled_from(CLOSED_2026),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=1)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=1)),
)
def test_nothing_is_lost_on_a_closed_day(zone: str, d: date, a: timedelta, b: timedelta) -> None:
    calendar = CALENDARS[zone]
    midnight = datetime(d.year, d.month, d.day, tzinfo=calendar.tz)
    start, end = sorted((midnight + a, midnight + b))
    assert calendar.service_seconds(start, end) == 0


@given(zones, instants)
def test_state_holds_until_next_change(zone: str, at: datetime) -> None:
    calendar = CALENDARS[zone]
    change = calendar.next_change(at)
    assert change is not None and change > at
    before = calendar.is_open(at)
    assert calendar.is_open(change) is not before
    assert calendar.service_seconds(at, change) == ((change - at).total_seconds() if before else 0)


@given(zones, st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)))
def test_a_whole_day_loses_its_scheduled_seconds(zone: str, d: date) -> None:
    calendar = CALENDARS[zone]
    midnight = datetime(d.year, d.month, d.day, tzinfo=calendar.tz)
    lost = calendar.service_seconds(midnight, midnight + timedelta(days=1))
    assert lost == calendar.day(d).scheduled_seconds


# --- rendering ----------------------------------------------------------------------------


def test_render_december_2026_matches_golden_file() -> None:
    rendered = render_calendar(GROBOGAN, date(2026, 12, 1), date(2026, 12, 31))
    assert rendered == (FIXTURES / "december-2026.id.txt").read_text()


def test_render_in_english() -> None:
    rendered = render_calendar(GROBOGAN, date(2026, 12, 4), date(2026, 12, 6), language="en")
    lines = rendered.splitlines()
    assert lines[0] == "Time zone: Asia/Jakarta (WIB)"
    assert "2026-12-04  Friday    07:30-11:30, 13:00-16:00" in lines
    assert "2026-12-05  Saturday  08:00-12:00               special opening" in lines
    assert "2026-12-06  Sunday    closed" in lines
    assert lines[-2:] == ["Service days: 2", "Service hours: 11 h 00 min"]
