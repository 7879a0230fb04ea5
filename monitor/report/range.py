"""`pantau report range`: the account of service time per day over a range, as CSV, HTML or JSON.

Every figure is a `DayAccount` of monitor.calendar.accounting, the same the daily e-mail shows.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date

from monitor.calendar import ServiceCalendar
from monitor.calendar.accounting import Account, account_days, day_bounds
from monitor.config import Config
from monitor.csv_safe import csv_safe_row
from monitor.ledger import Ledger
from monitor.maintenance.facts import facts_for
from monitor.report.locale import Language
from monitor.report.render import environment

DOMAINS = ("local", "isp", "datacenter", "dns", "unknown")
COLUMNS = (
    "date", "note", "scheduled_seconds", "lost_seconds", "slow_seconds", "unmonitored_seconds",
    "outages", *(f"lost_{d}_seconds" for d in DOMAINS),
    "not_yet_seconds", "monitored_seconds", "availability",
    "planned_seconds", "unplanned_seconds", "degraded_seconds",
)  # fmt: skip


def range_rows(
    ledger: Ledger, calendar: ServiceCalendar, config: Config, first: date, last: date, now: float
) -> Account:
    """The account of every office-local day in [first, last] as known at `now`."""
    start, end = day_bounds(first, last, config.office.zone)
    facts = facts_for(ledger, ledger.path, config, start, end, now)
    return account_days(facts, calendar, config.office.zone, first, last, now)


def _availability(value: float | None) -> str:
    """A share with four decimals; empty when nothing was monitored (never 0 or 100 %)."""
    return "" if value is None else f"{value:.4f}"


def render_range_csv(totals: Account) -> str:
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
                round(d.not_yet_seconds), round(d.monitored_seconds),
                _availability(d.availability),
                round(d.planned_seconds), round(d.unplanned_seconds), round(d.degraded_seconds),
            ])
        )  # fmt: skip
    return out.getvalue()


def render_range_json(totals: Account, config: Config, first: date, last: date) -> str:
    """The days and their totals (seconds to the millisecond)."""
    data = {
        "office": {"id": config.office.office_id, "name": config.office.name},
        "timezone": config.office.timezone,
        "from": first.isoformat(),
        "to": last.isoformat(),
    } | totals.as_json()
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render_range_html(
    totals: Account, config: Config, first: date, last: date, language: Language
) -> str:
    template = environment(language).get_template("report_range.html")
    return template.render(
        t=totals, office=config.office.name, first=first, last=last, language=language
    )
