"""`pantau calendar` and `pantau outages`: the service calendar and the outage ledger, printed."""

from __future__ import annotations

import argparse
from pathlib import Path

from monitor.cli.common import UsageError, config_of, span


def cmd_calendar(args: argparse.Namespace) -> int:
    config = config_of(args)
    from monitor.calendar import ServiceCalendar, render_calendar

    first, last = span(args, config)
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    print(render_calendar(calendar, first, last, args.language), end="")
    return 0


def cmd_outages(args: argparse.Namespace) -> int:
    config = config_of(args)
    from monitor.calendar import ServiceCalendar
    from monitor.calendar.accounting import day_bounds
    from monitor.clock import default_clock
    from monitor.ledger import Ledger
    from monitor.outages import outage_rows, render

    first, last = span(args, config)
    if not Path(config.storage.path).exists():
        raise UsageError(
            f"storage.path: no ledger at {config.storage.path} yet; run `pantau run` first"
        )
    ledger = Ledger(config.storage.path, config.office.office_id)
    try:
        calendar = ServiceCalendar(config.service_hours, config.office.zone)
        start, end = day_bounds(first, last, config.office.zone)
        data = outage_rows(ledger, calendar, config, start, end, default_clock().wall())
    finally:
        ledger.close()
    print(render(data, args.format), end="")
    return 0
