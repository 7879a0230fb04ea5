"""`pantau report daily` and `pantau report range`, hooked into monitor.cli."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import date, datetime
from pathlib import Path

from monitor.calendar import ServiceCalendar
from monitor.cli import UsageError, _config, _today, day_option
from monitor.clock import default_clock
from monitor.config import Config
from monitor.ledger import Ledger
from monitor.report.locale import Language


def add_report_commands(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    with_config: argparse.ArgumentParser,
    span: argparse.ArgumentParser,
) -> None:
    """Register `report daily` and `report range` under `pantau`."""
    report = sub.add_parser("report", help="the daily summary e-mail and monthly evidence")
    commands = report.add_subparsers(dest="report_command", required=True, metavar="REPORT")
    p = commands.add_parser(
        "daily", parents=[with_config], help="print or send one day's report (default today)"
    )
    p.add_argument("--date", type=day_option("--date"), default=None, help="the day, YYYY-MM-DD")
    p.add_argument("--format", choices=("text", "html", "json", "eml"), default="text")
    p.add_argument(
        "--language", choices=("id", "en"), default=None, help="default: report.language"
    )
    p.add_argument(
        "--send", action="store_true", help="send it by mail (once per day, via the outbox)"
    )
    p.set_defaults(func=cmd_daily)
    p = commands.add_parser(
        "range", parents=[with_config, span], help="per-day lost service time over a date range"
    )
    p.add_argument("--format", choices=("csv", "html", "json"), default="csv")
    p.add_argument("--language", choices=("id", "en"), default=None)
    p.set_defaults(func=cmd_range)


def _ledger(config: Config) -> Ledger:
    if not Path(config.storage.path).exists():
        raise UsageError(
            f"storage.path: no ledger at {config.storage.path} yet; run `pantau run` first"
        )
    return Ledger(config.storage.path, config.office.office_id)


def _language(args: argparse.Namespace, config: Config) -> Language:
    if args.language:
        return args.language  # type: ignore[no-any-return]
    return config.report.language if config.report else "id"


def cmd_daily(args: argparse.Namespace) -> int:
    config = _config(args)
    today = _today(config)
    day = args.date or today
    if day > today:
        raise UsageError(
            f"--date {day}: that day has not come yet (today is {today} in"
            f" {config.office.timezone}); ask for today or an earlier day"
        )
    ledger = _ledger(config)
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    try:
        if args.send or args.format == "eml":
            return asyncio.run(_mail(config, ledger, calendar, day, args))
        return _print(config, ledger, calendar, day, _language(args, config), args.format)
    finally:
        ledger.close()


def _print(
    config: Config, ledger: Ledger, calendar: ServiceCalendar, day: date, language: Language,
    fmt: str,
) -> int:  # fmt: skip
    from monitor.report.model import build_report, collect
    from monitor.report.render import render_html, render_text

    data = collect(ledger, calendar, config, day)
    report = build_report(data, calendar, config, day, default_clock().wall())
    if fmt == "json":
        print(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    elif fmt == "html":
        print(render_html(report, language), end="")
    else:
        print(render_text(report, language), end="")
    return 0


async def _mail(
    config: Config, ledger: Ledger, calendar: ServiceCalendar, day: date, args: argparse.Namespace
) -> int:
    from monitor.report.job import ReportJob

    if args.language:
        assert config.report is not None
        config = config.model_copy(
            update={"report": config.report.model_copy(update={"language": args.language})}
        )
    job = ReportJob(config, ledger, calendar)
    try:
        now = default_clock().wall()
        if not args.send:
            composed = await job.compose(day, now)
            print(composed.message.as_string(), end="")
            return 0
        row = await job.send_day(day, now)
    finally:
        job.close()
    if row.status == "sent":
        sent = datetime.fromtimestamp(row.sent_at or 0, config.office.zone)
        print(f"report {day}: sent {sent:%Y-%m-%d %H:%M} to {', '.join(row.recipients)}")
        return 0
    if row.status == "failed":
        print(f"report {day}: rejected by the SMTP server ({row.last_error}); not retried")
        return 1
    print(f"report {day}: not sent yet ({row.last_error}); the daemon keeps retrying it")
    return 1


def cmd_range(args: argparse.Namespace) -> int:
    config = _config(args)
    first = args.date_from or _today(config).replace(day=1)
    last = args.date_to or _today(config)
    if last < first:
        raise UsageError("--to must not be before --from")
    if (last - first).days > 366:
        raise UsageError("--from .. --to spans more than a year; ask for at most 366 days")
    from monitor.report.range import (
        range_rows,
        render_range_csv,
        render_range_html,
        render_range_json,
    )

    ledger = _ledger(config)
    try:
        calendar = ServiceCalendar(config.service_hours, config.office.zone)
        rows = range_rows(ledger, calendar, config, first, last, default_clock().wall())
    finally:
        ledger.close()
    if args.format == "csv":
        print(render_range_csv(rows), end="")
    elif args.format == "json":
        print(render_range_json(rows, config, first, last), end="")
    else:
        print(render_range_html(rows, config, first, last, _language(args, config)), end="")
    return 0
