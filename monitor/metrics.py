"""Every Prometheus metric Pantau exports, defined once against an injected registry.

Labels are bounded: target names come from the config, roles/kinds/phases/reasons/domains/
states from fixed sets. No free text ever becomes a label value. The office identity lives in
`pantau_office_info` (and in the `office` label Prometheus adds at scrape time), so hundreds of
offices can share one central store without per-series duplication of names.
"""

from __future__ import annotations

import contextlib

from prometheus_client import CollectorRegistry, Counter, Gauge

from monitor import __version__
from monitor.maintenance.config import ANNOUNCERS
from monitor.probes.result import ProbeResult
from monitor.series import (
    HTTP_PHASES,
    LATENCY_BUCKETS,
    Collector,
    SeriesCollector,
    SeriesStore,
)
from monitor.vocabulary import DOMAINS, LINK_STATES, TARGET_STATES, UPLINK_STATES

__all__ = ["DOMAINS", "HTTP_PHASES", "LATENCY_BUCKETS", "LINK_STATES", "TARGET_STATES", "Metrics"]

INTERNAL_ERROR_PLACES = ("probe", "sink")
LEDGER_ERRORS = ("write", "deleted", "replaced")


class Metrics:
    """All metrics of one daemon; tests pass a fresh `CollectorRegistry()`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        r = registry
        # --- probes (issue: the probe daemon) ---
        # Thousands of targets: their series are plain numbers in one store (monitor/series.py),
        # not a prometheus_client child (lock and value objects) per label set.
        self.series = SeriesStore()
        r.register(SeriesCollector(self.series))
        self.build_info = Gauge(
            "pantau_build_info", "Pantau version; always 1.", ["version"], registry=r
        )
        self.build_info.labels(version=__version__).set(1)
        self.office_info = Gauge(
            "pantau_office_info",
            "Identity of the office this daemon watches; always 1.",
            ["office", "name", "timezone", "province", "regency_code", "isp"],
            registry=r,
        )
        # --- link state and outages (issue: outages with a verdict) ---
        self.link_state = Gauge(
            "pantau_link_state",
            "State of the service link to the data center, one-hot over up/slow/down.",
            ["state"],
            registry=r,
        )
        self.outage_active = Gauge(
            "pantau_outage_active",
            "1 while an outage is open, labelled with the fault domain now blamed.",
            ["domain"],
            registry=r,
        )
        self.slow_active = Gauge(
            "pantau_slow_active",
            "1 while a slow period is open, labelled with the fault domain now blamed.",
            ["domain"],
            registry=r,
        )
        self.outages = Counter(
            "pantau_outages",
            "Outages ended, by their main fault domain (the one that held longest).",
            ["domain"],
            registry=r,
        )
        self.lost_service = Counter(
            "pantau_lost_service_seconds",
            "Seconds of scheduled service time lost to outages, by fault domain.",
            ["domain"],
            registry=r,
        )
        self.slow_service = Counter(
            "pantau_slow_service_seconds",
            "Seconds of scheduled service time spent in a slow period, by fault domain.",
            ["domain"],
            registry=r,
        )
        self.service_open = Gauge(
            "pantau_service_open",
            "1 while the office is open by its own calendar (holidays included), else 0.",
            registry=r,
        )
        self.unmonitored = Counter(
            "pantau_unmonitored_seconds",
            "Seconds of scheduled service time nobody watched (the daemon was not running), "
            "counted when monitoring resumes.",
            registry=r,
        )
        # --- what pages are written from (issue 11; monitor/paging/facts.py sets them) ---
        self.page_info = Gauge(
            "pantau_page_info",
            "Settings the alert rules write pages with (pages: and report.escalation); always 1.",
            ["language", "dashboard_url", "isp", "circuit", "helpdesk"],
            registry=r,
        )
        self.outage_start = Gauge(
            "pantau_outage_start_timestamp_seconds",
            "Unix time the open outage started (its first failing probe); 0 while none is open.",
            registry=r,
        )
        self.outage_hop = Gauge(
            "pantau_outage_hop_info",
            "The first failing hop Pantau blames for the open outage and its last failure "
            "reason; 1 while an outage is open, absent otherwise.",
            ["target", "role", "reason"],
            registry=r,
        )
        self.window_start = Gauge(
            "pantau_service_window_start_timestamp_seconds",
            "Start of each service window in the next 8 days (window 0: the open or next one).",
            ["window"],
            registry=r,
        )
        self.window_end = Gauge(
            "pantau_service_window_end_timestamp_seconds",
            "End of each service window in the next 8 days (window 0: the open or next one).",
            ["window"],
            registry=r,
        )
        self.ledger_lost = Gauge(
            "pantau_ledger_lost_service_seconds",
            "Service seconds lost to outages, by fault domain, as the ledger counts them, over "
            "the office's local days: today, the last 7 / 30 days, this calendar month.",
            ["period", "domain"],
            registry=r,
        )
        # Pre-create the bounded label sets so dashboards and rules see 0, not "no data".
        for state in LINK_STATES:
            self.link_state.labels(state=state).set(0)
        for domain in DOMAINS:
            self.outage_active.labels(domain=domain).set(0)
            self.slow_active.labels(domain=domain).set(0)
            self.outages.labels(domain=domain)
            self.lost_service.labels(domain=domain)
            self.slow_service.labels(domain=domain)
        self.service_open.set(0)
        # What the fast /metrics renderer takes besides the store: prometheus_client metrics,
        # and plain families (PlainCollector: the path tracer's) that it writes itself.
        self.others: list[Collector] = [
            self.build_info, self.office_info, self.link_state, self.outage_active,
            self.slow_active, self.outages, self.lost_service, self.slow_service,
            self.service_open, self.unmonitored, self.page_info, self.outage_start,
            self.outage_hop, self.window_start, self.window_end, self.ledger_lost,
        ]  # fmt: skip
        # --- storage, mail and time (issue 12) ---
        self.ledger_writable = Gauge(
            "pantau_ledger_writable",
            "1 while the last write to the ledger succeeded, 0 while writes fail (evidence is "
            "kept in memory meanwhile) or the ledger file was deleted or replaced.",
            registry=r,
        )
        self.ledger_errors = Counter(
            "pantau_ledger_errors",
            "Ledger problems: a failed write (write), the file deleted or replaced under the "
            "daemon (deleted, replaced).",
            ["reason"],
            registry=r,
        )
        self.ledger_pending = Gauge(
            "pantau_ledger_pending_writes",
            "Rows waiting in memory to be written to the ledger.",
            registry=r,
        )
        self.ledger_delayed = Counter(
            "pantau_ledger_commits_delayed",
            "Flushes that found the previous ledger write still running; their rows wait for "
            "the next one.",
            registry=r,
        )
        self.samples_dropped = Counter(
            "pantau_ledger_samples_dropped",
            "Probe samples dropped because the ledger could not be written for too long "
            "(episodes are never dropped).",
            registry=r,
        )
        self.mails_rejected = Counter(
            "pantau_report_mails_rejected",
            "Report mails the SMTP server rejected permanently (5xx); they are not retried.",
            registry=r,
        )
        self.clock_steps = Counter(
            "pantau_clock_steps",
            "Wall-clock steps (NTP, suspend) noticed and followed by re-anchoring.",
            registry=r,
        )
        for reason in LEDGER_ERRORS:
            self.ledger_errors.labels(reason=reason)
        self.ledger_writable.set(1)
        self.others += [
            self.ledger_writable, self.ledger_errors, self.ledger_pending, self.ledger_delayed,
            self.samples_dropped, self.mails_rejected, self.clock_steps,
        ]  # fmt: skip
        # --- Pantau's own bugs (issue 12) ---
        self.internal_errors = Counter(
            "pantau_internal_errors",
            "Exceptions in Pantau's own code, by where they were caught: probe (the probe "
            "gets reason internal) or sink (handling a probe's result). A bug, not an outage.",
            ["where"],
            registry=r,
        )
        for where in INTERNAL_ERROR_PLACES:
            self.internal_errors.labels(where=where)
        self.others.append(self.internal_errors)
        # --- issue 16: planned maintenance and uplinks (labels: fixed sets, uplink names from
        # the config) ---
        self.maintenance_active = Gauge(
            "pantau_maintenance_active",
            "1 while an announced maintenance window is open, by who announced it.",
            ["announced_by"],
            registry=r,
        )
        for who in ANNOUNCERS:
            self.maintenance_active.labels(announced_by=who).set(0)
        self.ledger_planned = Gauge(
            "pantau_ledger_planned_service_seconds",
            "Lost service seconds inside announced maintenance windows (part of the lost "
            "time), from the ledger's accounting, for today and this calendar month.",
            ["period"],
            registry=r,
        )
        self.ledger_degraded = Gauge(
            "pantau_ledger_degraded_service_seconds",
            "Service seconds on a backup uplink, from the ledger, today and this month.",
            ["period"],
            registry=r,
        )
        for period in ("today", "month"):
            self.ledger_planned.labels(period=period).set(0)
            self.ledger_degraded.labels(period=period).set(0)
        self.uplink_state = Gauge(
            "pantau_uplink_state",
            "State of each uplink, one-hot over up/down/unknown (down: its own isp verdict).",
            ["uplink", "state"],
            registry=r,
        )
        self.link_degraded = Gauge(
            "pantau_link_degraded",
            "1 while the service answers only through a backup uplink (up on backup), else 0.",
            registry=r,
        )
        self.target_uplink = Gauge(
            "pantau_target_uplink",
            "Maps a target to the uplink it is probed through; always 1 (join on target).",
            ["target", "uplink"],
            registry=r,
        )
        self.others += [
            self.maintenance_active, self.uplink_state, self.link_degraded, self.target_uplink,
            self.ledger_planned, self.ledger_degraded,
        ]  # fmt: skip
        # --- issue 15: the fleet's confirmation of the verdict (monitor/fleet/confirm.py) ---
        self.fleet_offices = Gauge(
            "pantau_fleet_confirmation_offices",
            "While the link is down and the central store answered about the verdict: offices "
            "that see the same (scope same) of those with fresh data (scope fresh); absent else.",
            ["domain", "scope"],
            registry=r,
        )
        self.others.append(self.fleet_offices)

    def set_uplinks(self, uplinks: tuple[str, ...], targets: dict[str, str]) -> None:
        """Pre-create the uplink series (`targets`: target name -> uplink name)."""
        for uplink in uplinks:
            for state in UPLINK_STATES:
                self.uplink_state.labels(uplink=uplink, state=state).set(state == "unknown")
        for target, uplink in targets.items():
            self.target_uplink.labels(target=target, uplink=uplink).set(1)
            self.series.get(target).uplink = uplink  # the label on its probe series
        self.link_degraded.set(0)

    def set_fleet_confirmation(
        self, domain: str | None, same: int | None = None, fresh: int | None = None
    ) -> None:
        """Issue 15: the center's count for the verdict shown now (`same` offices of `fresh`);
        `domain` None or no count removes the series (never cleared wholesale: a scrape
        meanwhile sees no hole)."""
        counted = domain is not None and same is not None and fresh is not None
        for each in DOMAINS:
            for scope, value in (("same", same), ("fresh", fresh)):
                if counted and each == domain and value is not None:
                    self.fleet_offices.labels(domain=each, scope=scope).set(value)
                else:
                    with contextlib.suppress(KeyError):
                        self.fleet_offices.remove(each, scope)

    def set_office(
        self,
        office_id: str,
        name: str,
        timezone: str,
        province: str = "",
        regency_code: str = "",
        isp: str = "",
    ) -> None:
        """Set the office identity once; national rules join it by `office` (issue 15)."""
        self.office_info.labels(
            office=office_id,
            name=name,
            timezone=timezone,
            province=province,
            regency_code=regency_code,
            isp=isp,
        ).set(1)

    def observe_probe(self, result: ProbeResult) -> None:
        """Export one probe result (called once per probe: keep it cheap)."""
        series = self.series.get(result.target)
        if series.buckets is None or series.role != result.role or series.kind != result.kind:
            series.start_probes(result.role, result.kind)
        if result.reason == "internal":
            # A bug in Pantau says nothing about the target: counted, but its success gauge,
            # latency and last-probe time stay what the last real probe said.
            self.internal_errors.labels(where="probe").inc()
            series.results["internal"] = series.results.get("internal", 0.0) + 1.0
            return
        ok = result.reason is None
        series.success = 1.0 if ok else 0.0
        label = result.reason or "success"
        results = series.results
        results[label] = results.get(label, 0.0) + 1.0
        series.last_timestamp = result.started_at + result.duration
        obs = result.observation
        if ok:  # a timeout is not a latency; it would drown the p95 of a healthy link
            series.observe(result.latency)
        if series.phases is not None:
            phases = obs.phases
            # A failed probe measured only the phases before the failure (often none): the
            # rest is absent, not 0 ms, or a timing-out target would look like the fastest.
            series.phases = [phases.get(phase) for phase in HTTP_PHASES]
        if obs.cert_expiry is not None:
            series.tls_expiry = obs.cert_expiry
        if result.kind == "icmp":
            series.icmp_loss = 1.0 if obs.loss_ratio is None else obs.loss_ratio
            if obs.rtt:
                rtt = series.icmp_rtt if series.icmp_rtt is not None else {}
                rtt.update(obs.rtt)
                series.icmp_rtt = rtt

    def internal_error(self, where: str) -> None:
        """Count a bug caught at `where` (one of INTERNAL_ERROR_PLACES)."""
        self.internal_errors.labels(where=where).inc()

    def probe_skipped(self, target: str) -> None:
        """Count a scheduled probe of `target` that did not run."""
        series = self.series.get(target)
        series.skipped = (series.skipped or 0.0) + 1.0

    def set_target_state(self, target: str, state: str) -> None:
        """The confirmed state of `target` (one-hot over TARGET_STATES)."""
        if state not in TARGET_STATES:
            raise ValueError(f"target state must be one of {TARGET_STATES}; got {state!r}")
        self.series.get(target).state = state

    # --- the link and its episodes (the tracker's decisions, exported) ---
    def set_link_state(self, state: str) -> None:
        """The link's state, one-hot over LINK_STATES (all 0 while unknown)."""
        for label in LINK_STATES:
            self.link_state.labels(label).set(1 if label == state else 0)

    def set_episode_active(self, kind: str, domain: str | None) -> None:
        """One-hot an outage's (or slow episode's) gauge on `domain`; None: it is over."""
        gauge = self.outage_active if kind == "outage" else self.slow_active
        for label in DOMAINS:
            gauge.labels(label).set(1 if label == domain else 0)

    def count_outage(self, domain: str) -> None:
        """One outage ended, counted under the domain that held it longest."""
        self.outages.labels(domain).inc()

    def add_lost_service(self, kind: str, domain: str, seconds: float) -> None:
        """Service seconds lost to an outage (or slowed by a slow episode) blamed on `domain`."""
        counter = self.lost_service if kind == "outage" else self.slow_service
        counter.labels(domain).inc(seconds)

    def add_unmonitored(self, seconds: float) -> None:
        """Service seconds no one watched (the daemon was not running)."""
        self.unmonitored.inc(seconds)

    def set_service_open(self, is_open: bool) -> None:
        """Whether the office's service hours are open now."""
        self.service_open.set(1 if is_open else 0)

    # --- the daemon's own health: clock, ledger, mail ---
    def clock_stepped(self) -> None:
        """The wall clock stepped (NTP or a suspend) and was re-anchored."""
        self.clock_steps.inc()

    def ledger_write_delayed(self) -> None:
        """A flush found the last write still running: its rows go with the next one."""
        self.ledger_delayed.inc()

    def ledger_error(self, reason: str) -> None:
        """A ledger write failed, or the file was deleted or replaced (LEDGER_ERRORS)."""
        self.ledger_errors.labels(reason).inc()

    def ledger_after_write(self, pending: int, dropped_samples: int, writable: bool) -> None:
        """After each write attempt: rows still queued, samples dropped, whether it is writable."""
        self.ledger_pending.set(pending)
        self.samples_dropped.inc(dropped_samples)
        self.ledger_writable.set(1 if writable else 0)

    def mail_rejected(self) -> None:
        """The SMTP server refused a report for good (not retried)."""
        self.mails_rejected.inc()

    # --- uplinks and planned maintenance (issue 16) ---
    def set_uplink_state(self, uplink: str, state: str) -> None:
        """One uplink's state, one-hot over UPLINK_STATES."""
        for label in UPLINK_STATES:
            self.uplink_state.labels(uplink=uplink, state=label).set(label == state)

    def set_link_degraded(self, degraded: bool) -> None:
        """The service answers through a backup uplink while another is down."""
        self.link_degraded.set(1 if degraded else 0)

    def set_maintenance_active(self, announced_by: str, is_open: bool) -> None:
        """Whether a maintenance window announced by `announced_by` is open now."""
        self.maintenance_active.labels(announced_by=announced_by).set(1 if is_open else 0)

    def set_ledger_planned(self, period: str, planned: float, degraded: float) -> None:
        """The ledger's planned-maintenance and backup-uplink seconds for `period`."""
        self.ledger_planned.labels(period=period).set(planned)
        self.ledger_degraded.labels(period=period).set(degraded)
