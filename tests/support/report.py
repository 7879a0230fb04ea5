"""The report tests' shared steps: the Friday report from the hand-made ledger
(tests/fixtures/report/ledger.py), an office prepared against a real SMTP server on 127.0.0.1,
one run of the report job, and the outbox read back."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date
from pathlib import Path

from monitor.calendar import ServiceCalendar
from monitor.config import Config
from monitor.ledger import Ledger
from monitor.report.job import ReportJob
from monitor.report.model import DailyReport, build_report, collect
from tests.fixtures.report.ledger import FRIDAY, at, fill, make_config

NOW = at(27, "17:30")  # Friday's report is due at 17:00 (30 min after closing at 16:30)
FAST = {"attempts": 40, "wait_initial": "200ms", "wait_max": "500ms", "timeout": "20s",
        "pause": "1s"}  # fmt: skip
# Few and quick retries: for the tests that count the rounds (a 5xx is never retried).
FEW = {"attempts": 3, "wait_initial": "50ms", "wait_max": "100ms", "timeout": "5s",
        "pause": "1s"}  # fmt: skip
HOSTILE = "<script>alert(1)</script>"


def report_of(
    tmp_path: Path,
    day: date = FRIDAY,
    now: float | None = None,
    target: str = "isp-gw",
    extra: Callable[[Ledger], None] | None = None,
) -> DailyReport:
    """The daily report of `day` from the hand-made ledger (plus what `extra` writes)."""
    config = make_config(tmp_path)
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    ledger = Ledger(config.storage.path, config.office.office_id)
    try:
        fill(ledger, target)
        if extra:
            extra(ledger)
        data = collect(ledger, calendar, config, day)
    finally:
        ledger.close()
    return build_report(data, calendar, config, day, now or at(day.day, "23:00", day.month))


def smtp_at(port: int, **extra: object) -> dict[str, object]:
    return {"host": "127.0.0.1", "port": port, "security": "none", "timeout": "5s", **extra}


def prepared(tmp_path: Path, port: int, **report: object) -> Config:
    config = make_config(tmp_path, **{"smtp": smtp_at(port), "retry": FAST, **report})
    ledger = Ledger(config.storage.path, config.office.office_id)
    fill(ledger)
    ledger.close()
    return config


def new_job(config: Config) -> tuple[ReportJob, Ledger]:
    ledger = Ledger(config.storage.path, config.office.office_id)
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    return ReportJob(config, ledger, calendar, catch_up_days=0), ledger


async def run_job(config: Config, now: float = NOW) -> None:
    job, ledger = new_job(config)
    try:
        await job.run_due(now)
    finally:
        job.close()
        ledger.close()


def outbox_status(config: Config) -> list[tuple[str, str, str | None]]:
    db = sqlite3.connect(config.storage.path)
    try:
        return db.execute("SELECT day, status, claimed_by FROM report_outbox").fetchall()
    except sqlite3.OperationalError:  # no table yet: nothing queued
        return []
    finally:
        db.close()


def day_status(config: Config) -> list[tuple[str, str]]:
    db = sqlite3.connect(config.storage.path)
    try:
        return db.execute(
            "SELECT status, last_error FROM report_outbox WHERE day = '2026-11-27'"
        ).fetchall()
    finally:
        db.close()
