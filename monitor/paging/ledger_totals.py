"""Lost service seconds of recent office-local days, read from the ledger, for the dashboard.

The dashboard used to sum minute-by-minute increases of the lost-seconds counter: every daemon
restart and every scrape gap dropped up to a minute (a 75 s outage showed as 48 s "today").
These figures come from the ledger itself, so the dashboard says what the report says, also
after a restart. The seconds come from the one accounting (monitor/calendar/accounting.py);
this module only keeps them per day and adds them up per period.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from monitor.calendar import ServiceCalendar
from monitor.calendar.accounting import account_days, day_bounds, read_facts
from monitor.config import Config
from monitor.ledger import Ledger
from monitor.metrics import DOMAINS, Metrics

REFRESH_SECONDS = 10.0  # the dashboard reads it every scrape (15 s)
PAST_DAYS = 30  # the longest period, "30d", is today and 30 days before; a month fits in it
PERIODS = ("today", "7d", "30d", "month")


def lost_by_domain(
    ledger: Ledger, calendar: ServiceCalendar, config: Config, first: date, last: date, now: float
) -> dict[str, float]:
    """Service seconds lost to outages per fault domain over the local days first..last, from
    the one accounting of service time (`account_days`), as every other view reads it."""
    zone = config.office.zone
    facts = read_facts(ledger, *day_bounds(first, last, zone))
    account = account_days(facts, calendar, zone, first, last, now)
    return dict.fromkeys(DOMAINS, 0.0) | account.lost_by_domain


def period_days(today: date, period: str) -> tuple[date, date]:
    """The local days a dashboard period covers, up to and including today."""
    if period == "today":
        return today, today
    if period == "month":
        return today.replace(day=1), today
    return today - timedelta(days=int(period.removesuffix("d")) - 1), today


class LedgerTotals:
    """Keeps `pantau_ledger_lost_service_seconds{period, domain}` current (every 10 s).

    Today is read from the ledger at every refresh (~3 ms with 10 outages a day). The 30 days
    before change only when an unmonitored gap is recorded after a restart: they are computed
    once at start-up, before any probe runs (~23 ms for 300 outages), then kept per day and
    recomputed one day per refresh when `invalidate` marks them, so the event loop is never
    held longer than one day's arithmetic (probes wait for it).
    """

    def __init__(
        self, config: Config, calendar: ServiceCalendar, ledger: Ledger, metrics: Metrics
    ) -> None:
        self.config, self.calendar, self.ledger, self.metrics = config, calendar, ledger, metrics
        self._next = 0.0
        self._days: dict[date, dict[str, float]] = {}
        self._dirty: set[date] = set()

    def invalidate(self, start: float, end: float) -> None:
        """The ledger changed between these unix times (a gap recorded): recount those days."""
        zone = self.config.office.zone
        day = datetime.fromtimestamp(start, zone).date()
        while day <= datetime.fromtimestamp(end, zone).date():
            self._dirty.add(day)
            day += timedelta(days=1)

    def update(self, now: float, monotonic: float) -> None:
        if monotonic < self._next:
            return
        self._next = monotonic + REFRESH_SECONDS
        today = datetime.fromtimestamp(now, self.config.office.zone).date()
        past = [today - timedelta(days=k) for k in range(1, PAST_DAYS + 1)]
        self._days = {d: v for d, v in self._days.items() if d in past}
        stale = [d for d in past if d not in self._days or d in self._dirty]
        for day in stale if len(stale) == len(past) else stale[:1]:
            self._days[day] = self._lost(day, now)
            self._dirty.discard(day)
        days = {**self._days, today: self._lost(today, now)}
        for period in PERIODS:
            first, last = period_days(today, period)
            totals = dict.fromkeys(DOMAINS, 0.0)
            for day, lost in days.items():
                if first <= day <= last:
                    for domain, seconds in lost.items():
                        totals[domain] = totals.get(domain, 0.0) + seconds
            for domain, seconds in totals.items():
                self.metrics.ledger_lost.labels(period, domain).set(round(seconds, 3))

    def _lost(self, day: date, now: float) -> dict[str, float]:
        return lost_by_domain(self.ledger, self.calendar, self.config, day, day, now)
