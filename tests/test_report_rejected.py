"""A permanent SMTP rejection (5xx) marks the mail failed: ERROR log, a metric, no retry; a 4xx
is still retried. Against a real aiosmtpd server on 127.0.0.1 that answers what the test says."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from prometheus_client import CollectorRegistry

from monitor.calendar import ServiceCalendar
from monitor.config import Config
from monitor.ledger import Ledger
from monitor.metrics import Metrics
from monitor.report.job import ReportJob
from monitor.report.outbox import SCHEMA, Outbox
from tests.fixtures.report.ledger import at, fill, make_config
from tests.fixtures.report.smtp import free_port

NOW = at(27, "17:30")
FAST = {"attempts": 3, "wait_initial": "50ms", "wait_max": "100ms", "timeout": "5s",
        "pause": "1s"}  # fmt: skip


@dataclass
class Answering:
    """An SMTP handler that answers DATA with `reply`, and counts how often it was asked."""

    reply: str
    calls: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.calls.append(envelope.content)
        return self.reply


def prepared(tmp_path: Path, port: int) -> Config:
    smtp = {"host": "127.0.0.1", "port": port, "security": "none", "timeout": "5s"}
    config = make_config(tmp_path, smtp=smtp, retry=FAST)
    ledger = Ledger(config.storage.path, config.office.office_id)
    fill(ledger)
    ledger.close()
    return config


async def rounds(config: Config, metrics: Metrics, times: list[float]) -> None:
    ledger = Ledger(config.storage.path, config.office.office_id)
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    job = ReportJob(config, ledger, calendar, catch_up_days=0, metrics=metrics)
    try:
        for now in times:
            await job.run_due(now)
    finally:
        job.close()
        ledger.close()


def status(config: Config) -> list[tuple[str, str]]:
    db = sqlite3.connect(config.storage.path)
    try:
        return db.execute(
            "SELECT status, last_error FROM report_outbox WHERE day = '2026-11-27'"
        ).fetchall()
    finally:
        db.close()


def serve(handler: Answering, port: int) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


async def test_550_marks_the_mail_failed_once_and_never_retries(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    config = prepared(tmp_path, port)
    handler = Answering("550 5.7.1 relaying denied")
    registry = CollectorRegistry()
    controller = serve(handler, port)
    try:
        with caplog.at_level(logging.INFO, "pantau.report"):
            await rounds(config, Metrics(registry), [NOW, NOW + 3600, NOW + 86400])
    finally:
        controller.stop()
    assert len(handler.calls) == 1  # one try, no retry in the round nor in later rounds
    ((state, error),) = status(config)
    assert state == "failed" and "550" in error
    assert registry.get_sample_value("pantau_report_mails_rejected_total") == 1.0
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "rejected" in errors[0].getMessage()


async def test_451_is_still_retried(tmp_path: Path) -> None:
    port = free_port()
    config = prepared(tmp_path, port)
    handler = Answering("451 4.3.0 try again later")
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    controller = serve(handler, port)
    try:
        await rounds(config, metrics, [NOW])
        handler.reply = "250 OK"
        await rounds(config, metrics, [NOW + 3600])
    finally:
        controller.stop()
    assert len(handler.calls) == FAST["attempts"] + 1  # a whole round of retries, then success
    assert [s for s, _ in status(config)] == ["sent"]
    assert registry.get_sample_value("pantau_report_mails_rejected_total") == 0.0


def test_an_outbox_from_before_failed_existed_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA.replace(", 'failed'", ""))
    db.execute(
        "INSERT INTO report_outbox (office, day, status, queued_at) VALUES"
        " ('x', '2026-11-27', 'sent', 1.0)"
    )
    db.commit()
    db.close()
    outbox = Outbox(path, "x")
    try:
        (row,) = outbox._db.execute("SELECT day, status FROM report_outbox").fetchall()
        assert row == ("2026-11-27", "sent")
        outbox._db.execute("UPDATE report_outbox SET status = 'failed'")  # allowed now
    finally:
        outbox.close()
