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
from prometheus_client import CollectorRegistry

from monitor import probes
from monitor.body_match import compile_body_regex
from monitor.calendar import ServiceCalendar
from monitor.calendar.accounting import account_day, day_bounds, local_day
from monitor.clock import Clock, default_clock
from monitor.config import Config, HttpTarget
from monitor.fleet.confirm import Confirmation, confirm_verdict, current
from monitor.httpserver import Server
from monitor.ledger_lock import LedgerBusy, LedgerLock
from monitor.ledger_writer import BufferedLedger, LedgerWriter
from monitor.maintenance.facts import facts_for
from monitor.maintenance.job import MaintenanceWatch
from monitor.metrics import Metrics
from monitor.outages import outage_rows
from monitor.paging.facts import PageFacts
from monitor.paging.ledger_totals import LedgerTotals
from monitor.probe_trace import ProbeTrace
from monitor.probes.context import ProbeContext
from monitor.probes.result import ProbeResult
from monitor.schedule import ProbeScheduler
from monitor.status.web import add_status_page, board_for
from monitor.tracker import LinkTracker
from monitor.uplinks.bind import source_problems
from monitor.uplinks.ledger import DegradedLedger
from monitor.uplinks.watch import UplinkWatch
from monitor.web import index, make_routes
from monitor.webfront import WebFront

if TYPE_CHECKING:
    from monitor.path.analysis import PathFinding
    from monitor.path.trace import Trace
    from monitor.path.watch import PathWatch
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
        self.clock = clock or default_clock()
        self.metrics = Metrics(registry or CollectorRegistry())
        office = config.office
        self.metrics.set_office(
            office.office_id, office.name, office.timezone,
            office.province or "", office.regency_code or "", office.isp or "",
        )  # fmt: skip
        self.calendar = ServiceCalendar(config.service_hours, config.office.zone)
        self._on_event = on_event
        self.last: dict[str, ProbeResult] = {}
        self.ledger: BufferedLedger | None = None
        self.writer: LedgerWriter | None = None
        self._lock: LedgerLock | None = None
        self._commit_task: asyncio.Task[None] | None = None
        self.storage_problem: str | None = None  # why /healthz answers 503, None while fine
        self._moved: str | None = None  # the ledger file was deleted or replaced: what to do
        self.tracker: LinkTracker | None = None
        self.fleet: Confirmation | None = None  # the center's word on the current verdict
        self.page_facts: PageFacts | None = None
        self.ledger_totals: LedgerTotals | None = None
        self.scheduler: ProbeScheduler | None = None
        self._probe_trace: ProbeTrace | None = None
        self._ctx: ProbeContext | None = None
        self._listener: asyncio.Server | None = None
        self._server: Server | None = None
        self.report_job: ReportJob | None = None
        self.path_watch: PathWatch | None = None
        self.port: int | None = None
        self.web_front: WebFront | None = None
        self.maintenance: MaintenanceWatch | None = None

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
        path = config.storage.path
        if str(path) == ":memory:":
            raise StartupError(
                "storage.path: ':memory:' would lose every outage when Pantau stops; "
                "give a file, e.g. storage: {path: /var/lib/pantau/pantau.db}"
            )
        try:
            self._lock = LedgerLock(path)
        except LedgerBusy as busy:
            holder = f"pid {busy.pid}" if busy.pid is not None else "a process"
            raise StartupError(
                f"storage.path: the ledger {str(path)!r} is in use by another Pantau "
                f"({holder}, lock {busy.lock_path}); stop that one, or give this one its own "
                "storage.path"
            ) from None
        except OSError as exc:
            raise StartupError(
                f"storage.path: cannot lock the ledger {str(path)!r} ({exc}); "
                "point it at a writable directory"
            ) from None
        try:
            self.ledger = BufferedLedger(path, config.office.office_id)
            self.writer = LedgerWriter(path, config.office.office_id)
        except (sqlite3.Error, OSError) as exc:
            raise StartupError(
                f"storage.path: cannot open the ledger {str(config.storage.path)!r} ({exc}); "
                "point it at a writable file"
            ) from None
        if config.report is not None:
            # Before anything listens or probes: a missing SMTP password is a config mistake.
            from monitor.report.job import ReportJob

            self.report_job = ReportJob(config, self.ledger, self.calendar, metrics=self.metrics)
        for problem in source_problems(config):
            # Not fatal: a 4G modem's interface may appear later; until then its probes fail.
            log.warning("%s (its probes fail until it exists)", problem)
        self.tracker = LinkTracker(config, self.calendar, self.ledger, self.metrics, self._event)
        if config.uplinks:  # issue 16: the verdict per uplink and the degraded rows
            self.tracker.uplink_watch = UplinkWatch(
                config, self.metrics, DegradedLedger(config.storage.path, config.office.office_id),
                self._event,
            )  # fmt: skip
        self.tracker.resume(self.clock.wall())
        self.page_facts = PageFacts(config, self.calendar, self.metrics)
        self.ledger_totals = LedgerTotals(config, self.calendar, self.ledger, self.metrics)
        self.web_front = WebFront(config.web)  # ConfigError for a bad web config file
        if config.path.enabled:
            self._start_path_watch()
        routes = make_routes(self.metrics, self.status, self.health_problem, self.outages)
        if config.status_page.enabled:
            add_status_page(routes, board_for(self))
        else:
            routes.get("/", index)
        self._server = self.web_front.server(routes)
        host, port = config.listen_host_port
        try:
            self._listener = await self.web_front.listen(self._server, host, port)
        except OSError as exc:
            raise StartupError(
                f"listen: cannot listen on {config.listen} ({exc.strerror}); "
                "stop what uses it or choose another address, e.g. listen: 127.0.0.1:9471"
            ) from None
        self.port = _bound_port(self._listener) or port
        # Import the probe modules the config uses now, before any probe is due: later, an
        # import would stall the running loop.
        probes.load({target.kind for target in config.targets})
        # Compiled now, as validating the config in this process used to: `pantau run`
        # validates in a child, and RE2 would otherwise be imported by the first body read.
        for pattern in {t.body_regex for t in config.targets if isinstance(t, HttpTarget)}:
            if pattern is not None:
                compile_body_regex(pattern)
        if config.fleet is not None or config.maintenance.url is not None:
            # The fleet and central-schedule fetches import aiohttp where they fetch (a daemon
            # without them never holds it); with them, now: the fleet's first question comes
            # as an outage begins, when a stalled loop would start the probes late.
            import aiohttp  # noqa: F401
        self._ctx = ProbeContext()
        self._probe_trace = ProbeTrace.from_env(self.clock)  # the bench's hook, if asked for
        self.scheduler = ProbeScheduler(
            config, self._ctx, self.clock, self.metrics, self._sink,
            observer=self._probe_trace.write if self._probe_trace else None,
        )  # fmt: skip
        self.scheduler.every(FLUSH_SECONDS, self._flush, "_flush")
        self.scheduler.every(6 * 3600, self._housekeeping, "_housekeeping")
        if self.path_watch is not None:
            # Checked at least every minute; the watch keeps baseline_every and min_gap.
            seconds = min(60.0, config.path.baseline_every / 2)
            self.scheduler.every(seconds, self._path_baseline, "_path", at_start=True)
        if self.report_job is not None:
            # A send may wait out SMTP retries for minutes: one at a time, never queued up; the
            # outbox is sent at start too.
            self.scheduler.every(60, self._send_reports, "_report", at_start=True)
        if config.fleet is not None:
            # Fleet confirmation (issue 15): its own job with a timeout, never in a probe's way.
            self.scheduler.every(
                config.fleet.every, self._confirm_with_fleet, "_fleet", at_start=True
            )
        self.tracker.flush(self.clock.wall())  # sets pantau_service_open at once
        self.page_facts.update(self.tracker, self.clock.wall())
        self.ledger_totals.update(self.clock.wall(), time.monotonic())
        await self._commit()
        self._start_maintenance()
        self.scheduler.start()
        log.info(
            "pantau started: office %s, %d targets, listening on %s://%s:%d/metrics",
            config.office.name, len(config.targets), self.web_front.scheme, host, self.port,
        )  # fmt: skip

    def _start_maintenance(self) -> None:
        """Issue 16: the maintenance gauge every few seconds, the central file every `refresh`."""
        assert self.scheduler is not None
        self.maintenance = MaintenanceWatch(self.config, self.metrics, self.ledger, self.calendar)
        self.maintenance.tick(self.clock.wall())
        watch = self.maintenance

        async def totals() -> None:
            try:
                watch.totals(self.clock.wall())
            except sqlite3.Error as exc:  # the figures wait for the next minute
                log.warning("maintenance: cannot read the ledger for the month (%s)", exc)

        async def tick() -> None:
            watch.tick(self.clock.wall())

        async def fetch() -> None:
            await watch.refresh(self.clock.wall())

        self.scheduler.every(FLUSH_SECONDS, tick, "_maintenance")
        # The month's planned and backup-link seconds for the dashboard (a few ms a minute).
        self.scheduler.every(60, totals, "_planned", at_start=True)
        if self.config.maintenance.url is not None:
            self.scheduler.every(self.config.maintenance.refresh, fetch, "_central", at_start=True)

    async def stop(self) -> None:
        """Stop probing, write what is pending, close the listener and the ledger (< 5 s)."""
        if self.scheduler is not None:
            self.scheduler.shutdown()
            self.scheduler = None
            await asyncio.sleep(0)  # let cancelled probes unwind before their resources close
        if self.maintenance is not None:
            await self.maintenance.close()
            self.maintenance = None
        if self._probe_trace is not None:
            self._probe_trace.close()
            self._probe_trace = None
        if self._commit_task is not None:
            await asyncio.wait([self._commit_task])
            self._commit_task = None
        if self.tracker is not None and self.ledger is not None:
            self.tracker.flush(self.clock.wall())
            if self.tracker.uplink_watch is not None:
                self.tracker.uplink_watch.close(self.clock.wall())
                self.tracker.uplink_watch = None
            await self._commit()
            if self.ledger.pending:
                log.error(
                    "stopping with %d rows the ledger could not take (%s): they are lost",
                    self.ledger.pending.size(), self.storage_problem,
                )  # fmt: skip
        if self.path_watch is not None:
            await self.path_watch.close()
            self.path_watch.store.close()
            self.path_watch = None
        if self._ctx is not None:
            await self._ctx.close()
            self._ctx = None
        if self._listener is not None:
            self._listener.close()  # no new connections; then the open ones end
            assert self._server is not None and self.web_front is not None
            await self._server.close()
            await self._listener.wait_closed()
            self.web_front.close()
            self._listener = self._server = None
        if self.report_job is not None:
            self.report_job.close()
            self.report_job = None
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        if self.ledger is not None:
            self.ledger.close()
            self.ledger = None
            self.tracker = None
            self.ledger_totals = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # --- the pipeline: evaluate -> metrics -> state/ledger ---
    def _sink(self, result: ProbeResult) -> None:
        self.last[result.target] = result
        # Each step is guarded on its own (issue 12): a bug in the metrics never keeps a result
        # from the state machine, nor the other way round. The scheduler guards the whole.
        for step in (self.metrics.observe_probe, self._observe_state, self._commit_if_urgent):
            try:
                step(result)
            except Exception:
                log.exception("internal error handling the result of probe %s", result.target)
                self.metrics.internal_error("sink")
        if not result.ok:
            log.debug("probe %s failed: %s (%s)", result.target, result.reason, result.message)

    def _observe_state(self, result: ProbeResult) -> None:
        if self.tracker is not None:
            self.tracker.observe(result)

    def _commit_if_urgent(self, _result: ProbeResult) -> None:
        if self.ledger is not None and self.ledger.urgent:
            self._start_commit()  # an outage opened or ended: on disk now, not at the next flush

    async def _send_reports(self) -> None:
        if self.report_job is not None:
            try:
                await self.report_job.run_due(self.clock.wall())
            except asyncio.CancelledError:
                return  # stopping: the outbox keeps the mail for the next run

    # The periodic jobs are coroutines on purpose: APScheduler's asyncio executor runs a plain
    # function in a worker thread, where it would race the loop over the tracker and ledger.
    async def _flush(self) -> None:
        step = self.clock.check()
        if step is not None:
            self.metrics.clock_stepped()
            log.warning("the wall clock stepped by %+.1f s (NTP or suspend): re-anchored", step)
        if self.tracker is not None:
            self.tracker.flush(self.clock.wall())
            if self.tracker.uplink_watch is not None:
                self.tracker.uplink_watch.flush(self.clock.wall())
            if self.page_facts is not None:
                self.page_facts.update(self.tracker, self.clock.wall())
            if self.config.fleet is not None:
                self._export_fleet()
            if self.ledger_totals is not None:
                self.ledger_totals.update(self.clock.wall(), time.monotonic())
        if not self._start_commit():
            # The last write still waits (a lock, a slow disk): its rows and these go next time.
            self.metrics.ledger_write_delayed()

    def _start_commit(self) -> bool:
        """Start writing what is queued, unless a write is still running (then False)."""
        if self._commit_task is not None and not self._commit_task.done():
            return False
        self._commit_task = asyncio.create_task(self._commit())
        return True

    async def _commit(self) -> None:
        """Write what the tracker queued, in the writer thread; a failure keeps it queued."""
        ledger, writer = self.ledger, self.writer
        if ledger is None or writer is None:
            return
        batch = ledger.take()
        try:
            moved = await writer.commit(batch)
        except (sqlite3.Error, OSError) as exc:
            ledger.put_back()
            self._storage_failing(f"ledger write failed: {exc}", "write")
        except Exception as exc:  # a bug of ours: still keep the rows, and show the traceback
            ledger.put_back()
            log.exception("ledger write failed")
            self._storage_failing(f"ledger write failed: {type(exc).__name__}: {exc}", "write")
        else:
            ledger.written()
            if self.storage_problem not in (None, self._moved):
                log.warning("ledger writable again: %d queued rows written", batch.size())
            if moved is not None:
                ledger.reattach(moved.to)
                if self.report_job is not None:
                    self.report_job.outbox.reattach(moved.to)
                self.metrics.ledger_error(moved.what)
                self._moved = (
                    f"ledger file {self.config.storage.path} was {moved.what} under the daemon; "
                    f"everything is kept in {moved.to}: stop Pantau, move that file to "
                    "storage.path, start it again"
                )
                log.error("%s", self._moved)
            self.storage_problem = self._moved  # until a restart, once the file was lost
        finally:
            self.metrics.ledger_after_write(
                ledger.pending.size(), ledger.dropped_samples, self.storage_problem is None
            )
            ledger.dropped_samples = 0

    def _storage_failing(self, problem: str, reason: str) -> None:
        self.metrics.ledger_error(reason)
        if self.storage_problem is None:  # one ERROR per incident, not one every flush
            log.error("%s; keeping the evidence in memory until it can be written", problem)
        self.storage_problem = problem

    async def _confirm_with_fleet(self) -> None:
        fleet = self.config.fleet
        if self.tracker is not None and fleet is not None:
            self.fleet = await confirm_verdict(
                self.tracker, fleet.url, self.config.office.isp, fleet.timeout, self.clock.wall()
            )
            self._export_fleet()

    def _export_fleet(self) -> None:
        """The fleet gauge for the verdict shown now (issue 15): set on each answer and flush."""
        if self.tracker is not None:
            verdict = self.tracker.verdict
            shown = current(self.fleet, verdict.state, verdict.domain)
            if shown is None:
                self.metrics.set_fleet_confirmation(None)
            else:
                self.metrics.set_fleet_confirmation(shown.domain, shown.offices, shown.of)

    async def _housekeeping(self) -> None:
        self.clock.resync()
        if self.ledger is not None:
            self.ledger.prune_samples(self.clock.wall() - SAMPLE_RETENTION_DAYS * 86400)
        if self.path_watch is not None:
            self.path_watch.store.prune(self.clock.wall() - SAMPLE_RETENTION_DAYS * 86400)

    # --- path evidence (issue 14): traces on link-state changes and as a periodic baseline ---
    def _start_path_watch(self) -> None:
        from monitor.path.metrics import PathMetrics
        from monitor.path.store import PathStore
        from monitor.path.watch import PathWatch

        store = PathStore(self.config.storage.path, self.config.office.office_id)
        metrics = PathMetrics(self.metrics.registry)
        self.metrics.others.extend(metrics.families)
        self.path_watch = PathWatch(self.config, store, metrics, self._on_path)

    def _path_trigger(self, kind: str, data: dict[str, Any]) -> None:
        """Trace the data-center targets that are not up, on every link-state change."""
        if self.path_watch is None or self.tracker is None:
            return
        if kind == "target" and data["role"] == "datacenter" and data["new"] in ("down", "slow"):
            self.path_watch.on_transition([data["target"]])
        elif kind == "domain" or (kind == "link" and data["state"] in ("down", "slow")):
            states = self.tracker.targets
            self.path_watch.on_transition(
                [n for n in self.path_watch.traced if states[n].state in ("down", "slow")]
            )

    def _on_path(
        self, target: str, trace: Trace, finding: PathFinding, evidence: dict[str, Any]
    ) -> None:
        if self.tracker is not None:
            self.tracker.on_path(target, finding, evidence, self.clock.wall())
        plain = {
            "target": target,
            "summary": path_summary(trace, finding, self.path_watch),
            "reaches_datacenter": finding.reaches_datacenter,
            "cause": finding.cause,
        }
        if self._on_event is not None:
            self._on_event("path", {**plain, "trace": trace, "finding": finding})
        # The log line carries plain values only (JSON logs), not the trace objects.
        log.info(
            describe_event("path", plain, self.config), extra=_plain({"event": "path", **plain})
        )

    async def _path_baseline(self) -> None:
        if self.path_watch is not None and self.tracker is not None:
            states = self.tracker.targets
            self.path_watch.baseline_due(lambda name: states[name].state == "up")

    def _event(self, kind: str, data: dict[str, Any]) -> None:
        # Called by the tracker in the middle of a state change: an error in one of these steps
        # must neither leave that change half done nor skip the other steps, so each is logged
        # and counted, never raised (issue 12).
        steps = (self._invalidate_totals, self._on_event, self._path_trigger, self._log_event)
        for step in steps:
            if step is None:
                continue
            try:
                step(kind, data)
            except Exception:
                log.exception("internal error reporting the %s event %r", kind, data)
                self.metrics.internal_error("sink")

    def _invalidate_totals(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "gap" and self.ledger_totals is not None:
            self.ledger_totals.invalidate(data["from"], data["to"])

    def _log_event(self, kind: str, data: dict[str, Any]) -> None:
        log.info(describe_event(kind, data, self.config), extra=_plain({"event": kind, **data}))

    # --- what the web app shows ---
    def healthy(self) -> bool:
        """The probes are running (what the status page needs to look current)."""
        return self.scheduler is not None and self.scheduler.running

    def health_problem(self) -> str | None:
        """Why /healthz answers 503 (one line), or None while all is well."""
        if not self.healthy():
            return "scheduler not running"
        return self.storage_problem

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
            # issue 14: whether a path trace confirms the link's domain (None: not traced)
            "path": {
                "confirmed": verdict.confirmed if verdict else None,
                "cause": verdict.cause if verdict else None,
            },
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
        start, end = day_bounds(day, day, zone)
        facts = facts_for(self.ledger, self.ledger.path, self.config, start, end, now)
        return account_day(facts, self.calendar, zone, day, now).as_json()


def _fleet_of(fleet: Confirmation | None, verdict: LinkVerdict | None) -> dict[str, Any] | None:
    """The fleet's answer, if it is about the verdict now shown (issue 15)."""
    if fleet is None or verdict is None or verdict.state != "down":
        return None
    return fleet.as_dict() if verdict.domain == fleet.domain else None


def path_summary(trace: Trace, finding: PathFinding, watch: PathWatch | None) -> str:
    from monitor.path.describe import summary

    return summary(trace, finding, watch.owners if watch else [])


def _bound_port(listener: asyncio.Server) -> int | None:
    for sock in listener.sockets:
        address = sock.getsockname()
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
    if kind == "uplink":
        why = f", fault domain: {data['domain']}" if data.get("domain") else ""
        return f"{at} uplink {data['uplink']} {data['state']}{why}"
    if kind == "path":
        return f"path to {data['target']}: {data['summary']}"
    if kind == "resumed":
        return f"{data['kind']} still open since {local_time(data['since'], config)}: continued"
    return f"{kind} {data}"
