"""Numbers, dates and durations as each report language writes them (no Babel needed for two).

Indonesian: decimal comma, thousands dot, `Senin, 30 November 2026`, `1 jam 25 menit`.
English: decimal point, thousands comma, `Monday, 30 November 2026`, `1 h 25 min`.
"""

from __future__ import annotations

import datetime as dt

from monitor.vocabulary import LANGUAGES, Language

WEEKDAYS: dict[Language, tuple[str, ...]] = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTHS: dict[Language, tuple[str, ...]] = {
    "id": (
        "Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
        "September", "Oktober", "November", "Desember",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December",
    ),
}  # fmt: skip
_UNITS: dict[Language, tuple[str, str, str]] = {
    "id": ("jam", "menit", "detik"),
    "en": ("h", "min", "s"),
}


class Formatter:
    """The filters the templates use, bound to one language."""

    def __init__(self, language: Language) -> None:
        if language not in LANGUAGES:
            raise ValueError(f'language must be "id" or "en", not {language!r}')
        self.language = language

    def number(self, value: float, decimals: int = 0) -> str:
        """`1.234,5` (id) or `1,234.5` (en)."""
        text = f"{value:,.{decimals}f}"
        if self.language == "id":
            text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
        return text

    def percent(self, ratio: float | None, decimals: int = 1) -> str:
        """`18,9%` (id) or `18.9%` (en); a dash when there is nothing to divide."""
        if ratio is None:
            return "–"
        return f"{self.number(ratio * 100, decimals)}%"

    def duration(self, seconds: float) -> str:
        """Whole minutes as people say them: `1 jam 25 menit`, `7 jam`, `45 menit`, `0 menit`.

        Under a minute but not zero reads in seconds, so a short outage is never shown as 0.
        """
        hour, minute, second = _UNITS[self.language]
        if 0 < seconds < 60:
            return f"{round(seconds)} {second}"
        minutes = round(seconds / 60)
        hours, rest = divmod(minutes, 60)
        if hours and rest:
            return f"{hours} {hour} {rest} {minute}"
        if hours:
            return f"{hours} {hour}"
        return f"{rest} {minute}"

    def date(self, d: dt.date) -> str:
        """`Senin, 30 November 2026` / `Monday, 30 November 2026`."""
        return f"{WEEKDAYS[self.language][d.weekday()]}, {self.short_date(d)}"

    def short_date(self, d: dt.date) -> str:
        """`30 November 2026`."""
        return f"{d.day} {MONTHS[self.language][d.month - 1]} {d.year}"

    def weekday_abbr(self, d: dt.date) -> str:
        """`Sen 30/11` / `Mon 30/11`, for trend tables."""
        return f"{WEEKDAYS[self.language][d.weekday()][:3]} {d.day:02d}/{d.month:02d}"

    def month(self, d: dt.date) -> str:
        """`November 2026`."""
        return f"{MONTHS[self.language][d.month - 1]} {d.year}"

    def time(self, moment: dt.datetime | None) -> str:
        """`10:02` (local time); seconds are noise in a summary."""
        return "–" if moment is None else f"{moment:%H:%M}"

    def ms(self, seconds: float | None) -> str:
        """A latency in milliseconds: `1.234 ms` (id) / `1,234 ms` (en)."""
        return "–" if seconds is None else f"{self.number(seconds * 1000)} ms"

    def filters(self) -> dict[str, object]:
        return {
            "num": self.number,
            "pct": self.percent,
            "dur": self.duration,
            "longdate": self.date,
            "shortdate": self.short_date,
            "daydm": self.weekday_abbr,
            "monthname": self.month,
            "hhmm": self.time,
            "ms": self.ms,
        }
