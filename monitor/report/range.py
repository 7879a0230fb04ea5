"""`pantau report range`: lost service time per day over a range, as CSV or HTML evidence."""

from __future__ import annotations

import csv
import io
from datetime import date

from monitor.calendar import ServiceCalendar
from monitor.config import Config
from monitor.csv_safe import csv_safe_row
from monitor.ledger import Ledger
from monitor.outages import day_bounds
from monitor.report.locale import Language
from monitor.report.model import LedgerData, Totals, range_totals
from monitor.report.render import environment

DOMAINS = ("local", "isp", "datacenter", "dns", "unknown")
COLUMNS = (
    "date", "note", "scheduled_seconds", "lost_seconds", "slow_seconds", "unmonitored_seconds",
    "outages", *(f"lost_{d}_seconds" for d in DOMAINS),
)  # fmt: skip


def range_rows(
    ledger: Ledger, calendar: ServiceCalendar, config: Config, first: date, last: date, now: float
) -> Totals:
    start, end = day_bounds(first, last, config)
    data = LedgerData(
        tuple(ledger.episodes(start, end)), tuple(ledger.gaps(start, end)), (), ledger.last_seen()
    )
    return range_totals(data, calendar, config, first, last, now)


def render_range_csv(totals: Totals) -> str:
    """One row per date, seconds as whole numbers (a spreadsheet sums them)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for d in totals.days:
        writer.writerow(
            csv_safe_row([
                d.date.isoformat(), d.note or "", round(d.scheduled_seconds), round(d.lost_seconds),
                round(d.slow_seconds), round(d.unmonitored_seconds), d.outages,
                *(round(d.lost_by_domain.get(x, 0.0)) for x in DOMAINS),
            ])
        )  # fmt: skip
    return out.getvalue()


def render_range_html(
    totals: Totals, config: Config, first: date, last: date, language: Language
) -> str:
    template = environment(language).get_template("report_range.html")
    return template.render(
        t=totals, office=config.office.name, first=first, last=last, language=language
    )
