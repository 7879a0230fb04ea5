"""A plain-text table of service days, so an office can check its calendar before trusting it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from monitor.calendar.service import ServiceCalendar, ServiceDay
from monitor.vocabulary import Language

_WORDS: dict[Language, dict[str, str]] = {
    "id": {
        "date": "Tanggal",
        "weekday": "Hari",
        "hours": "Jam layanan",
        "note": "Keterangan",
        "closed": "tutup",
        "closed_override": "tutup (khusus)",
        "open_override": "buka khusus",
        "zone": "Zona waktu",
        "days": "Hari layanan",
        "total": "Jam layanan",
        "h": "jam",
        "min": "menit",
    },
    "en": {
        "date": "Date",
        "weekday": "Day",
        "hours": "Service hours",
        "note": "Note",
        "closed": "closed",
        "closed_override": "closed (override)",
        "open_override": "special opening",
        "zone": "Time zone",
        "days": "Service days",
        "total": "Service hours",
        "h": "h",
        "min": "min",
    },
}

_WEEKDAY_NAMES: dict[Language, tuple[str, ...]] = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


def _hours(day: ServiceDay, words: dict[str, str]) -> str:
    if not day.intervals:
        return words["closed"]
    return ", ".join(f"{s:%H:%M}-{_end(day.date, e)}" for s, e in day.intervals)


def _end(d: date, end: datetime) -> str:
    # A range that runs to midnight reads 24:00, as it was written in the config.
    return "24:00" if end.date() > d else f"{end:%H:%M}"


def _note(day: ServiceDay, words: dict[str, str]) -> str:
    if day.source == "closed":
        return words["closed_override"]
    if day.source == "open":
        return f"{words['open_override']}: {day.name}" if day.name else words["open_override"]
    return day.name or ""


def _duration(seconds: float, words: dict[str, str]) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} {words['h']} {minutes % 60:02d} {words['min']}"


def render_calendar(
    calendar: ServiceCalendar, start: date, end: date, language: Language = "id"
) -> str:
    """A table of each day in [start, end] with hours and reason, and totals at the bottom."""
    if language not in _WORDS:
        raise ValueError(f'language must be "id" or "en", not {language!r}')
    words, weekdays = _WORDS[language], _WEEKDAY_NAMES[language]
    rows = [(words["date"], words["weekday"], words["hours"], words["note"])]
    service_days, seconds = 0, 0.0
    d = start
    while d <= end:
        day = calendar.day(d)
        rows.append((d.isoformat(), weekdays[d.weekday()], _hours(day, words), _note(day, words)))
        service_days += day.is_service_day
        seconds += day.scheduled_seconds
        d += timedelta(days=1)
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    abbreviation = datetime(start.year, start.month, start.day, tzinfo=calendar.tz).tzname()
    lines = [f"{words['zone']}: {calendar.tz.key} ({abbreviation})", ""]
    for i, row in enumerate(rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[3]]).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in [*widths, len(row[3])]))
    lines += [
        "",
        f"{words['days']}: {service_days}",
        f"{words['total']}: {_duration(seconds, words)}",
    ]
    return "\n".join(lines) + "\n"
