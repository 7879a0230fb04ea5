"""`pantau run`: wires config -> probes -> metrics/state/ledger -> web, and stops it all cleanly.

Start-up order is ledger, web listener, scheduler: each step that fails undoes the ones before
it, so a mistake never leaves a half-started daemon. Stopping runs the same list backwards.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import prometheus_client
from aiohttp import web
from prometheus_client import CollectorRegistry

from monitor import probes
from monitor.calendar import ServiceCalendar
from monitor.calendar.accounting import account_day, day_bounds, local_day, read_facts
from monitor.clock import Clock
from monitor.config import Config
from monitor.fleet.confirm import Confirmation, confirm_verdict
from monitor.ledger import Ledger
from monitor.metrics import Metrics
from monitor.outages import outage_rows
from monitor.probes.context import ProbeContext
from monitor.probes.result import ProbeResult
from monitor.schedule import ProbeScheduler
from monitor.status.web import add_status_page, board_for
from monitor.tracker import LinkTracker
from monitor.web import index, make_app
from monitor.webfront import WebFront

if TYPE_CHECKING:
    from monitor.report.job import ReportJob
    from monitor.verdict import LinkVerdict

log = logging.getLogger("pantau")
# `*_created` series double every counter and histogram in the text format for nothing that
# Prometheus 2.x uses; without them a 5,000-target /metrics is 10% smaller and 40% faster.
prometheus_client.disable_created_metrics()
FLUSH_SECONDS = 2.0  # how much probe evidence a SIGKILL may lose, at most
# Probe samples feed the report's latency percentiles for one day; episodes (the outages and
# lost time) are kept for ever. 90 days of samples is ~36 MB per target probed every 15 s.
SAMPLE_RETENTION_DAYS = 90


class StartupError(Exception):
    """The daemon could not start; the message says what to change."""


EventHook = Callable[[str, dict[str, Any]], None]


class Daemon:
    """One office's monitor. `async with Daemon(config):` or `start()` / `stop()`."""

    def __init__(
        self,
        config: Config,
        *,
        registry: CollectorRegistry | None = None,
        clock: Clock | None = None,
        on_event: EventHook | None = None,
    ) -> None:
        self.config = config
        self.clock = clock or Clock()
        self.metrics = Metrics(registry or CollectorRegistry())
        office = config.office
        self.metrics.set_office(
            office.office_id, office.name, office.timezone,
            office.province or "", office.regency_code or "", office.isp or "",
        )  # fmt: skip
        self.calendar = ServiceCalendar(config.service_hours, config.office.zone)
        self._on_event = on_event
        self.last: dict[str, ProbeResult] = {}
        self.ledger: Ledger | None = None
        self.tracker: LinkTracker | None = None
        self.fleet: Confirmation | None = None  # the center's word on the current verdict
        self.scheduler: ProbeScheduler | None = None
        self._ctx: ProbeContext | None = None
        self._runner: web.AppRunner | None = None
        self.report_job: ReportJob | None = None
        self.port: int | None = None
        self.web_front: WebFront | None = None

    async def __aenter__(self) -> Daemon:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        config = self.config
        try:
            self.ledger = Ledger(config.storage.path, config.office.office_id)
        except (sqlite3.Error, OSError) as exc:
            raise StartupError(
                f"storage.path: cannot open the ledger {str(config.storage.path)!r} ({exc}); "
                "point it at a writable file"
            ) from None
        if config.report is not None:
            # Before anything listens or probes: a missing SMTP password is a config mistake.
            from monitor.report.job import ReportJob

            self.report_job = ReportJob(config, self.ledger, self.calendar)
        self.tracker = LinkTracker(config, self.calendar, self.ledger, self.metrics, self._event)
        self.tracker.resume(self.clock.wall())
        self.web_front = WebFront(config.web)  # ConfigError for a bad web config file
        app = make_app(self.metrics, self.status, self.healthy, self.outages)
        if config.status_page.enabled:
            add_status_page(app, board_for(self))
        else:
            app.router.add_get("/", index)
        self.web_front.install(app)
        # The front's guard closes idle connections; aiohttp's own keep-alive timer (75 s by
        # default) only backs it up, so it must not fire first.
        keepalive = max(75.0, 2 * config.web.idle_timeout)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, keepalive_timeout=keepalive
        )
        await self._runner.setup()
        host, port = config.listen_host_port
        site = self.web_front.site(self._runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            raise StartupError(
                f"listen: cannot listen on {config.listen} ({exc.strerror}); "
                "stop what uses it or choose another address, e.g. listen: 127.0.0.1:9471"
            ) from None
        self.port = _bound_port(self._runner) or port
        # Import the probe modules the config uses now, before any probe is due: later, an
        # import would stall the running loop.
        probes.load({target.kind for target in config.targets})
        self._ctx = ProbeContext()
        self.scheduler = ProbeScheduler(config, self._ctx, self.clock, self.metrics, self._sink)
        self.scheduler.scheduler.add_job(
            self._flush, "interval", seconds=FLUSH_SECONDS, id="_flush", max_instances=1
        )
        self.scheduler.scheduler.add_job(
            self._housekeeping, "interval", hours=6, id="_housekeeping", max_instances=1
        )
        if self.report_job is not None:
            # A send may wait out SMTP retries for minutes: one at a time, never queued up.
            self.scheduler.scheduler.add_job(
                self._send_reports, "interval", seconds=60, id="_report", max_instances=1,
                coalesce=True, next_run_time=self.clock.now(),  # the outbox is sent at start too
            )  # fmt: skip
        if config.fleet is not None:
            # Fleet confirmation (issue 15): its own job with a timeout, never in a probe's way.
            self.scheduler.scheduler.add_job(
                self._confirm_with_fleet, "interval", seconds=config.fleet.every, id="_fleet",
                max_instances=1, coalesce=True, next_run_time=self.clock.now(),
            )  # fmt: skip
        self.tracker.flush(self.clock.wall())  # sets pantau_in_service_hours at once
        self.scheduler.start()
        log.info(
            "pantau started: office %s, %d targets, listening on %s://%s:%d/metrics",
            config.office.name, len(config.targets), self.web_front.scheme, host, self.port,
        )  # fmt: skip

    async def stop(self) -> None:
        """Stop probing, write what is pending, close the listener and the ledger (< 5 s)."""
        if self.scheduler is not None:
            self.scheduler.shutdown()
            self.scheduler = None
            await asyncio.sleep(0)  # let cancelled probes unwind before their resources close
        if self.tracker is not None and self.ledger is not None:
            self.tracker.flush(self.clock.wall())
        if self._ctx is not None:
            await self._ctx.close()
            self._ctx = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.report_job is not None:
            self.report_job.close()
            self.report_job = None
        if self.ledger is not None:
            self.ledger.close()
            self.ledger = None
            self.tracker = None

    # --- the pipeline: evaluate -> metrics -> state/ledger ---
    def _sink(self, result: ProbeResult) -> None:
        self.last[result.target] = result
        self.metrics.observe_probe(result)
        if self.tracker is not None:
            self.tracker.observe(result)
        if not result.ok:
            log.debug("probe %s failed: %s (%s)", result.target, result.reason, result.message)

    async def _send_reports(self) -> None:
        if self.report_job is not None:
            try:
                await self.report_job.run_due(self.clock.wall())
            except asyncio.CancelledError:
                return  # stopping: the outbox keeps the mail for the next run

    # The periodic jobs are coroutines on purpose: APScheduler's asyncio executor runs a plain
    # function in a worker thread, where it would race the loop over the tracker and ledger.
    async def _flush(self) -> None:
        if self.tracker is not None:
            self.tracker.flush(self.clock.wall())

    async def _confirm_with_fleet(self) -> None:
        fleet = self.config.fleet
        if self.tracker is not None and fleet is not None:
            self.fleet = await confirm_verdict(
                self.tracker, fleet.url, self.config.office.isp, fleet.timeout, self.clock.wall()
            )

    async def _housekeeping(self) -> None:
        self.clock.resync()
        if self.ledger is not None:
            self.ledger.prune_samples(time.time() - SAMPLE_RETENTION_DAYS * 86400)

    def _event(self, kind: str, data: dict[str, Any]) -> None:
        if self._on_event is not None:
            self._on_event(kind, data)
        log.info(describe_event(kind, data, self.config), extra=_plain({"event": kind, **data}))

    # --- what the web app shows ---
    def healthy(self) -> bool:
        return self.scheduler is not None and self.scheduler.running

    def outages(self, first: date, last: date) -> dict[str, Any]:
        assert self.ledger is not None
        start, end = day_bounds(first, last, self.config.office.zone)
        return outage_rows(self.ledger, self.calendar, self.config, start, end, self.clock.wall())

    def status(self) -> dict[str, Any]:
        tracker = self.tracker
        verdict = tracker.verdict if tracker else None
        episode = tracker.episode if tracker else None
        targets = []
        for target in self.config.targets:
            last = self.last.get(target.name)
            state = tracker.targets[target.name].state if tracker else "unknown"
            targets.append(
                {
                    "name": target.name,
                    "role": target.role,
                    "kind": target.kind,
                    "address": target.address,
                    "state": state,
                    "last": last.as_dict() if last else None,
                }
            )
        return {
            "office": {
                "id": self.config.office.office_id,
                "name": self.config.office.name,
                "timezone": self.config.office.timezone,
            },
            "link": {
                "state": verdict.state if verdict else "unknown",
                "domain": verdict.domain if verdict else None,
                "since": None if episode is None else episode.started_at,
                "episode": None if episode is None else episode.kind,
            }
            # Only with a `fleet` section: the center's word on the verdict (issue 15).
            | ({"fleet": _fleet_of(self.fleet, verdict)} if self.config.fleet else {}),
            "in_service_hours": self.calendar.is_open(self.clock.now()),
            "targets": targets,
            "today": self.today(),
        }

    def today(self) -> dict[str, Any] | None:
        """Today's account of service time (monitor.calendar.accounting), JSON-ready."""
        if self.ledger is None:
            return None
        now = self.clock.wall()
        zone = self.config.office.zone
        day = local_day(now, zone)
        facts = read_facts(self.ledger, *day_bounds(day, day, zone))
        return account_day(facts, self.calendar, zone, day, now).as_json()


def _fleet_of(fleet: Confirmation | None, verdict: LinkVerdict | None) -> dict[str, Any] | None:
    """The fleet's answer, if it is about the verdict now shown (issue 15)."""
    if fleet is None or verdict is None or verdict.state != "down":
        return None
    return fleet.as_dict() if verdict.domain == fleet.domain else None


def _bound_port(runner: web.AppRunner) -> int | None:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return None


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return {f"pantau_{k}": v for k, v in data.items()}


def local_time(ts: float, config: Config) -> str:
    """A unix time as the office reads it: `2026-11-30 10:02:03 WIB`."""
    moment = datetime.fromtimestamp(ts, config.office.zone)
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z")


def describe_event(kind: str, data: dict[str, Any], config: Config) -> str:
    """One readable log line per state change, in the office's time zone."""
    at = local_time(data["at"], config) if "at" in data else ""
    if kind == "target":
        why = f" ({data['reason']}: {data['message']})" if data.get("reason") else ""
        return f"{at} target {data['target']} [{data['role']}] {data['old']} -> {data['new']}{why}"
    if kind == "link":
        if data["state"] == "up":
            return f"{at} LINK UP: the data center answers again"
        word = "OUTAGE" if data["state"] == "down" else "SLOW"
        return f"{at} {word} started, fault domain: {data['domain']}"
    if kind == "domain":
        return f"{at} {data['kind']} continues, fault domain now: {data['domain']}"
    if kind == "gap":
        return (
            f"unmonitored from {local_time(data['from'], config)} "
            f"to {local_time(data['to'], config)}"
        )
    if kind == "resumed":
        return f"{data['kind']} still open since {local_time(data['since'], config)}: continued"
    return f"{kind} {data}"
