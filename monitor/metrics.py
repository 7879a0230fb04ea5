"""Every Prometheus metric Pantau exports, defined once against an injected registry.

Labels are bounded: target names come from the config, roles/kinds/phases/reasons/domains/
states from fixed sets. No free text ever becomes a label value. The office identity lives in
`pantau_office_info` (and in the `office` label Prometheus adds at scrape time), so hundreds of
offices can share one central store without per-series duplication of names.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from monitor import __version__
from monitor.probes.result import ProbeResult
from monitor.series import (
    HTTP_PHASES,
    LATENCY_BUCKETS,
    TARGET_STATES,
    SeriesCollector,
    SeriesStore,
)

__all__ = ["DOMAINS", "HTTP_PHASES", "LATENCY_BUCKETS", "LINK_STATES", "TARGET_STATES", "Metrics"]

LINK_STATES = ("up", "slow", "down")
DOMAINS = ("local", "isp", "datacenter", "dns", "unknown")


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
        self.in_service_hours = Gauge(
            "pantau_in_service_hours",
            "1 while the office is open by its own calendar (holidays included), else 0.",
            registry=r,
        )
        self.unmonitored = Counter(
            "pantau_unmonitored_seconds",
            "Seconds of scheduled service time nobody watched (the daemon was not running), "
            "counted when monitoring resumes.",
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
        self.in_service_hours.set(0)
        # What the fast /metrics renderer takes from prometheus_client: all but the store.
        self.others = [
            self.build_info, self.office_info, self.link_state, self.outage_active,
            self.slow_active, self.outages, self.lost_service, self.slow_service,
            self.in_service_hours, self.unmonitored,
        ]  # fmt: skip

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
            series.phases = [phases.get(phase, 0.0) for phase in HTTP_PHASES]
        if obs.cert_expiry is not None:
            series.tls_expiry = obs.cert_expiry
        if result.kind == "icmp":
            series.icmp_loss = 1.0 if obs.loss_ratio is None else obs.loss_ratio
            if obs.rtt:
                rtt = series.icmp_rtt if series.icmp_rtt is not None else {}
                rtt.update(obs.rtt)
                series.icmp_rtt = rtt

    def probe_skipped(self, target: str) -> None:
        """Count a scheduled probe of `target` that did not run."""
        series = self.series.get(target)
        series.skipped = (series.skipped or 0.0) + 1.0

    def set_target_state(self, target: str, state: str) -> None:
        """The confirmed state of `target` (one-hot over TARGET_STATES)."""
        if state not in TARGET_STATES:
            raise ValueError(f"target state must be one of {TARGET_STATES}; got {state!r}")
        self.series.get(target).state = state
