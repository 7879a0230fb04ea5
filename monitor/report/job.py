"""The daily report job: queue the day's mail when `send_at` passes, send what the outbox holds.

The daemon calls `await job.run_due(now)` every minute; the CLI uses `compose` and `send_day`.
Every decision uses the `now` passed in; times written after a sending round add the round's
monotonic duration to it, so a test's `now` and the wall clock never mix.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from typing import Any, TypeVar

from monitor.calendar import ServiceCalendar
from monitor.calendar.accounting import day_bounds
from monitor.config import Config, ConfigError
from monitor.ledger import Ledger
from monitor.metrics import Metrics
from monitor.report.chart import render_chart
from monitor.report.config import MissingSecret, ReportConfig
from monitor.report.mail import (
    build_message,
    message_id,
    recipients,
    rejected,
    send_with_retries,
)
from monitor.report.model import DailyReport, build_report, collect
from monitor.report.outbox import Outbox, OutboxRow

log = logging.getLogger("pantau.report")
T = TypeVar("T")
AFTER_CLOSE = timedelta(minutes=30)
CLOSED_DAY_SEND = 17 * 60  # minutes after midnight: when a closed day's report (if any) goes


@dataclass(frozen=True, slots=True)
class Composed:
    report: DailyReport
    message: EmailMessage


def send_time(calendar: ServiceCalendar, report: ReportConfig, day: date) -> datetime:
    """When the report of `day` is due: `send_at`, else 30 min after the day's last closing."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=calendar.tz)
    if report.send_minutes is not None:
        return midnight + timedelta(minutes=report.send_minutes)
    closes = [end for _, end in calendar.day(day).intervals]
    if not closes:
        return midnight + timedelta(minutes=CLOSED_DAY_SEND)
    return max(closes) + AFTER_CLOSE


def report_settings(config: Config) -> ReportConfig:
    if config.report is None:
        raise ConfigError(
            "report", ["the config has no report: section; add to, from and smtp to send mail"]
        )
    return config.report


class ReportJob:
    """Owns the outbox; shares the daemon's ledger (read only) and calendar."""

    def __init__(
        self,
        config: Config,
        ledger: Ledger,
        calendar: ServiceCalendar,
        *,
        environ: Mapping[str, str] | None = None,
        catch_up_days: int = 1,
        metrics: Metrics | None = None,
    ) -> None:
        self.config = config
        self.settings = report_settings(config)
        try:
            self._password = self.settings.smtp.password(environ)
        except MissingSecret as exc:
            raise ConfigError("environment", [str(exc)]) from None
        self.ledger = ledger
        self.calendar = calendar
        self.catch_up_days = catch_up_days
        self.metrics = metrics
        retry = self.settings.retry
        lease = retry.timeout + self.settings.smtp.timeout + 60.0
        self.outbox = Outbox(config.storage.path, config.office.office_id, lease=lease)
        self._outbox_thread = ThreadPoolExecutor(1, thread_name_prefix="pantau-outbox")

    def close(self) -> None:
        self._outbox_thread.shutdown(wait=True)  # every write asked for is done before closing
        self.outbox.close()

    async def _db(self, call: Callable[..., T], *args: Any) -> T:
        """An outbox call in its own thread: a write lock held elsewhere never stalls the loop.

        Shielded: a call once made completes even if the job is cancelled meanwhile (a stop
        right after the server's "250 OK" must still mark the mail sent, or it goes twice).
        """
        loop = asyncio.get_running_loop()
        return await asyncio.shield(loop.run_in_executor(self._outbox_thread, call, *args))

    # --- building ---
    def report(self, day: date, now: float) -> DailyReport:
        data = collect(self.ledger, self.calendar, self.config, day)
        return build_report(data, self.calendar, self.config, day, now)

    async def compose(self, day: date, now: float, chart: bool = True) -> Composed:
        """The report of `day` and its mail; the chart renders in a thread (matplotlib is slow)."""
        report = self.report(day, now)
        png = None
        if chart:
            png = await asyncio.to_thread(render_chart, report, self.settings.language)
        return Composed(report, build_message(report, self.settings, png))

    async def _queue(self, composed: Composed, now: float) -> bool:
        settings = self.settings
        day = composed.report.day
        args = (
            day,
            message_id(self.config.office.office_id, day, settings.from_),
            settings.from_,
            recipients(settings),
            composed.message.as_bytes(),
            now,
        )
        if await self._db(self.outbox.queue, *args):
            return True
        return await self._db(self.outbox.requeue_skipped, *args)

    # --- the scheduler's entry point ---
    async def run_due(self, now: float) -> None:
        """Queue every report whose time has come, then send what is due. Never raises for SMTP."""
        await self.queue_due(now)
        await self.send_pending(now)

    async def queue_due(self, now: float) -> list[date]:
        """Queue today's report once its send time passed (and a missed one of the days before)."""
        today = datetime.fromtimestamp(now, self.config.office.zone).date()
        queued = []
        for back in range(self.catch_up_days, -1, -1):
            day = today - timedelta(days=back)
            if await self._db(self.outbox.get, day) is not None:
                continue
            if now < send_time(self.calendar, self.settings, day).timestamp():
                continue
            if back and not self._watched(day):
                continue  # Pantau was not running that day (e.g. the day before installing)
            report = self.report(day, now)
            if report.watched_nothing:
                # Pantau first ran after this day's service hours (e.g. installed after closing
                # time): it can say nothing true about the day, so it says nothing.
                why = "not monitored: Pantau started after service hours"
                await self._db(self.outbox.skip, day, now, why)
                log.info("report %s: Pantau started after the day's service hours, no mail", day)
                continue
            if not report.worth_sending:
                why = f"closed ({report.day_note or 'no service'}), no outage"
                await self._db(self.outbox.skip, day, now, why)
                log.info("report %s: office closed and nothing happened, no mail", day)
                continue
            composed = await self.compose(day, now)
            if await self._queue(composed, now):
                queued.append(day)
                log.info("report %s queued for %s", day, ", ".join(recipients(self.settings)))
        return queued

    def _watched(self, day: date) -> bool:
        start, end = day_bounds(day, day, self.config.office.zone)
        return bool(self.ledger.samples(start, end, role="datacenter")) or bool(
            self.ledger.episodes(start, end)
        )

    async def send_pending(self, now: float, only: date | None = None) -> list[date]:
        """Send queued mails that are due; a failed round keeps the mail for the next round."""
        sent = []
        for row in await self._db(self.outbox.due, now):
            if only is not None and row.day != only:
                continue
            if await self._send(row, now):
                sent.append(row.day)
        return sent

    async def _send(self, row: OutboxRow, now: float) -> bool:
        if not await self._db(self.outbox.claim, row.day, now):
            return False
        started = time.monotonic()
        assert row.message is not None and row.sender is not None
        smtp, retry = self.settings.smtp, self.settings.retry
        try:
            await send_with_retries(
                row.message, row.sender, row.recipients, smtp, self._password, retry
            )
        except Exception as exc:  # every failure is data for the outbox, never a crash
            failed_at = now + (time.monotonic() - started)
            error = f"{type(exc).__name__}: {exc}"
            if rejected(exc):
                await self._db(self.outbox.mark_failed, row.day, failed_at, error)
                if self.metrics is not None:
                    self.metrics.mails_rejected.inc()
                log.error(
                    "report %s rejected by the SMTP server (%s); not retried: fix the cause, "
                    "then `pantau report daily --date %s --send`",
                    row.day, error, row.day,
                )  # fmt: skip
                return False
            await self._db(self.outbox.release, row.day, failed_at, error, failed_at + retry.pause)
            log.warning("report %s not sent (%s); next try in %.0f s", row.day, error, retry.pause)
            return False
        except asyncio.CancelledError:
            # Stopping mid-send: hand the mail back so the next run (or process) sends it.
            self.outbox.release(row.day, now, "cancelled", now)
            raise
        await self._db(self.outbox.mark_sent, row.day, now + (time.monotonic() - started))
        log.info("report %s sent (%s)", row.day, row.message_id)
        return True

    async def send_day(self, day: date, now: float) -> OutboxRow:
        """`pantau report daily --send`: queue the day's report (once) and try to send it now."""
        row = await self._db(self.outbox.get, day)
        if row is None or row.status == "skipped":
            await self._queue(await self.compose(day, now), now)
        elif row.status == "failed":
            await self._db(self.outbox.retry_failed, day, now)
        row = await self._db(self.outbox.get, day)
        assert row is not None
        if row.status == "queued":
            await self.send_pending(max(now, row.next_attempt_at), only=day)
        result = await self._db(self.outbox.get, day)
        assert result is not None
        return result
