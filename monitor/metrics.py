"""Every Prometheus metric Pantau exports, defined once against an injected registry.

Labels are bounded: target names come from the config, roles/kinds/phases/reasons/domains/
states from fixed sets. No free text ever becomes a label value. The office identity lives in
`pantau_office_info` (and in the `office` label Prometheus adds at scrape time), so hundreds of
offices can share one central store without per-series duplication of names.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from monitor import __version__
from monitor.probes.result import ProbeResult

# Buckets sized for the path an office sees: LAN in single ms, Jakarta from Java in tens of ms,
# a loaded data center or a probe waiting for its timeout in seconds.
LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip

LINK_STATES = ("up", "slow", "down")
TARGET_STATES = ("up", "slow", "down", "unknown")
HTTP_PHASES = ("dns", "connect", "tls", "ttfb", "total")
DOMAINS = ("local", "isp", "datacenter", "dns", "unknown")


class Metrics:
    """All metrics of one daemon; tests pass a fresh `CollectorRegistry()`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        r = registry
        # --- probes (issue: the probe daemon) ---
        self.probe_success = Gauge(
            "pantau_probe_success",
            "1 if the last probe of the target succeeded, else 0.",
            ["target", "role", "kind"],
            registry=r,
        )
        self.probe_duration = Histogram(
            "pantau_probe_duration_seconds",
            "Latency the probe measured: HTTP total request time, TCP connect time, "
            "ICMP average round trip, DNS query time.",
            ["target", "role", "kind"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.probe_phase = Gauge(
            "pantau_probe_phase_seconds",
            "Duration of each phase of the last HTTP probe (dns, connect, tls, ttfb, total).",
            ["target", "phase"],
            registry=r,
        )
        self.probes = Counter(
            "pantau_probes",
            "Probes run, by result: success or the failure reason.",
            ["target", "role", "kind", "result"],
            registry=r,
        )
        self.probes_skipped = Counter(
            "pantau_probes_skipped",
            "Scheduled probes skipped because the previous one of the target was still running "
            "or the daemon fell behind.",
            ["target"],
            registry=r,
        )
        self.probe_last_timestamp = Gauge(
            "pantau_probe_last_timestamp_seconds",
            "Unix time the last probe of the target finished.",
            ["target"],
            registry=r,
        )
        self.icmp_loss = Gauge(
            "pantau_icmp_packet_loss_ratio",
            "Share of echo requests in the last burst that got no reply (0..1).",
            ["target"],
            registry=r,
        )
        self.icmp_rtt = Gauge(
            "pantau_icmp_rtt_seconds",
            "Round trip of the last ICMP burst: min, avg, max and jitter.",
            ["target", "stat"],
            registry=r,
        )
        self.tls_expiry = Gauge(
            "pantau_tls_cert_expiry_timestamp_seconds",
            "Unix time the server certificate of an https target expires.",
            ["target"],
            registry=r,
        )
        self.build_info = Gauge(
            "pantau_build_info", "Pantau version; always 1.", ["version"], registry=r
        )
        self.build_info.labels(version=__version__).set(1)
        self.office_info = Gauge(
            "pantau_office_info",
            "Identity of the office this daemon watches; always 1.",
            ["office", "name", "timezone"],
            registry=r,
        )
        # --- link state and outages (issue: outages with a verdict) ---
        self.target_state = Gauge(
            "pantau_target_state",
            "Confirmed state of each target, one-hot over up/slow/down/unknown.",
            ["target", "state"],
            registry=r,
        )
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
        self._series: dict[str, _TargetSeries] = {}

    def set_office(self, office_id: str, name: str, timezone: str) -> None:
        self.office_info.labels(office=office_id, name=name, timezone=timezone).set(1)

    def observe_probe(self, result: ProbeResult) -> None:
        """Export one probe result (called once per probe: keep it cheap)."""
        series = self._series.get(result.target)
        if series is None or series.key != (result.role, result.kind):
            series = self._series[result.target] = _TargetSeries(self, result)
        ok = result.reason is None
        series.success.set(1 if ok else 0)
        label = result.reason or "success"
        counter = series.results.get(label)
        if counter is None:
            counter = series.results[label] = self.probes.labels(
                result.target, result.role, result.kind, label
            )
        counter.inc()
        series.last_timestamp.set(result.started_at + result.duration)
        obs = result.observation
        if ok:  # a timeout is not a latency; it would drown the p95 of a healthy link
            series.duration.observe(result.latency)
        if series.phases:
            phases = obs.phases
            for phase, gauge in series.phases:
                gauge.set(phases.get(phase, 0.0))
        if obs.cert_expiry is not None:
            self.tls_expiry.labels(result.target).set(obs.cert_expiry)
        if series.icmp_loss is not None:
            series.icmp_loss.set(1.0 if obs.loss_ratio is None else obs.loss_ratio)
            for stat, seconds in obs.rtt.items():
                self.icmp_rtt.labels(result.target, stat).set(seconds)


class _TargetSeries:
    """The label children of one target, looked up once: `.labels()` costs a lock and a hash
    of the label tuple, several times per probe, thousands of probes a second."""

    __slots__ = ("duration", "icmp_loss", "key", "last_timestamp", "phases", "results", "success")

    def __init__(self, metrics: Metrics, result: ProbeResult) -> None:
        target, role, kind = result.target, result.role, result.kind
        self.key = (role, kind)
        self.success = metrics.probe_success.labels(target, role, kind)
        self.duration = metrics.probe_duration.labels(target, role, kind)
        self.last_timestamp = metrics.probe_last_timestamp.labels(target)
        self.results: dict[str, Counter] = {}
        self.phases = (
            [(phase, metrics.probe_phase.labels(target, phase)) for phase in HTTP_PHASES]
            if kind == "http"
            else []
        )
        self.icmp_loss = metrics.icmp_loss.labels(target) if kind == "icmp" else None
