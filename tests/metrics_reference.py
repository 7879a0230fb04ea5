"""Pantau's per-target metrics as prometheus_client children, the way it exported them before
the series store, and a scenario to drive both with.

What Pantau exports must stay exactly what this reference exports: names, HELP, TYPE, labels,
buckets and values, because the Prometheus rules, the dashboards and the alerts are written
against them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from monitor.metrics import Metrics
from monitor.probes.result import Observation, ProbeResult, Reason

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
STATES = ("up", "slow", "down", "unknown")
PHASES = ("dns", "connect", "tls", "ttfb", "total")
# Target names come from the config, which allows letters, digits, '.', '_' and '-' only; the
# last name cannot come from a config, but the renderer must escape whatever it is given.
NAMES = ("dc-siak", "isp_gw.1", "Kantor-7", 'odd "name" \\ with\nnewline')


class Reference:
    """The per-target metrics as prometheus_client children (the exporter before the store)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.success = Gauge(
            "pantau_probe_success",
            "1 if the last probe of the target succeeded, else 0.",
            ["target", "role", "kind"],
            registry=r,
        )
        self.duration = Histogram(
            "pantau_probe_duration_seconds",
            "Latency the probe measured: HTTP total request time, TCP connect time, "
            "ICMP average round trip, DNS query time.",
            ["target", "role", "kind"],
            buckets=BUCKETS,
            registry=r,
        )
        self.phase = Gauge(
            "pantau_probe_phase_seconds",
            "Duration of each phase of the last HTTP probe (dns, connect, tls, ttfb, total); "
            "a phase the last probe did not measure (it failed before) is absent, never 0.",
            ["target", "phase"],
            registry=r,
        )
        self.probes = Counter(
            "pantau_probes",
            "Probes run, by result: success or the failure reason.",
            ["target", "role", "kind", "result"],
            registry=r,
        )
        self.skipped = Counter(
            "pantau_probes_skipped",
            "Scheduled probes skipped because the previous one of the target was still running "
            "or the daemon fell behind.",
            ["target"],
            registry=r,
        )
        self.last = Gauge(
            "pantau_probe_last_timestamp_seconds",
            "Unix time the last probe of the target finished.",
            ["target"],
            registry=r,
        )
        self.loss = Gauge(
            "pantau_icmp_packet_loss_ratio",
            "Share of echo requests in the last burst that got no reply (0..1).",
            ["target"],
            registry=r,
        )
        self.rtt = Gauge(
            "pantau_icmp_rtt_seconds",
            "Round trip of the last ICMP burst: min, avg, max and jitter.",
            ["target", "stat"],
            registry=r,
        )
        self.tls = Gauge(
            "pantau_tls_cert_expiry_timestamp_seconds",
            "Unix time the server certificate of an https target expires.",
            ["target"],
            registry=r,
        )
        self.state = Gauge(
            "pantau_target_state",
            "Confirmed state of each target, one-hot over up/slow/down/unknown.",
            ["target", "state"],
            registry=r,
        )

    def observe(self, result: ProbeResult) -> None:
        t, role, kind = result.target, result.role, result.kind
        self.success.labels(t, role, kind).set(1 if result.ok else 0)
        self.probes.labels(t, role, kind, result.result_label).inc()
        self.last.labels(t).set(result.started_at + result.duration)
        histogram = self.duration.labels(t, role, kind)
        if result.ok:
            histogram.observe(result.latency)
        obs = result.observation
        if kind == "http":
            for phase in PHASES:
                if phase in obs.phases:
                    self.phase.labels(t, phase).set(obs.phases[phase])
                elif (t, phase) in self.phase._metrics:
                    self.phase.remove(t, phase)
        if obs.cert_expiry is not None:
            self.tls.labels(t).set(obs.cert_expiry)
        if kind == "icmp":
            self.loss.labels(t).set(1.0 if obs.loss_ratio is None else obs.loss_ratio)
            for stat, seconds in obs.rtt.items():
                self.rtt.labels(t, stat).set(seconds)

    def set_state(self, target: str, state: str) -> None:
        for other in STATES:
            self.state.labels(target, other).set(1 if other == state else 0)


def probe(
    target: str,
    kind: str,
    latency: float,
    *,
    reason: Reason | None = None,
    at: float = 1_764_400_000.123456,  # a unix time: the Go float form is 1.764400000123456e+09
    role: str = "datacenter",
    **observed: Any,
) -> ProbeResult:
    return ProbeResult(
        target, role, kind, at, 0.0, latency * 1.5, latency, reason, "", Observation(**observed)
    )


RTT = {"min": 0.001, "avg": 0.0042, "max": 0.0101, "jitter": 3e-06}


def round_one() -> list[ProbeResult]:
    http = {"phases": {"dns": 1e-05, "connect": 0.0021, "ttfb": 0.0123456789, "total": 0.02}}
    return [
        probe(NAMES[0], "http", 0.001, **http),  # exactly on a bound: counted in le="0.001"
        probe(NAMES[0], "http", 0.0025, cert_expiry=1_790_000_000.0, **http),
        probe(NAMES[0], "http", 45.0, reason="timeout"),  # no latency observed
        probe(NAMES[1], "tcp", 30.0, role="isp"),
        probe(NAMES[1], "tcp", 31.5, role="isp"),  # above every bound: only +Inf
        probe(NAMES[2], "icmp", 0.0042, role="local", loss_ratio=0.25, rtt=RTT),
        probe(NAMES[3], "dns", 1e-05, role="internet"),
    ]


def round_two() -> list[ProbeResult]:
    return [
        probe(NAMES[0], "http", 0.7, reason="http_status", at=1_764_400_010.5),
        probe(NAMES[0], "http", 0.123456789012, phases={"connect": 0.5}, at=1_764_400_020.0),
        probe(NAMES[2], "icmp", 5.0, role="local", reason="loss", at=1_764_400_010.0),
        probe(NAMES[3], "dns", 2.5, role="internet", reason="dns"),
        probe("late-comer", "tcp", 0.05, role="isp"),  # a target seen only now
    ]


def apply(
    metrics: Metrics,
    reference: Reference,
    results: Iterable[ProbeResult],
    states: dict[str, str],
    skips: Iterable[str] = (),
) -> None:
    for result in results:
        metrics.observe_probe(result)
        reference.observe(result)
    for target, state in states.items():
        metrics.set_target_state(target, state)
        reference.set_state(target, state)
    for target in skips:
        metrics.probe_skipped(target)
        reference.skipped.labels(target).inc()


def families(text: str) -> dict[str, tuple[str, str, list[tuple[Any, ...]]]]:
    """Parsed exposition: name -> (type, help, sorted samples); `_created` left out (the daemon
    turns it off, a fresh prometheus_client metric in a test may still have it)."""
    out = {}
    for family in text_string_to_metric_families(text):
        if family.name.endswith("_created"):
            continue
        samples = sorted(sample_key(s) for s in family.samples if not s.name.endswith("_created"))
        out[family.name] = (family.type, family.documentation, samples)
    return out


def sample_key(sample: Any) -> tuple[Any, ...]:
    return sample.name, tuple(sorted(sample.labels.items())), sample.value


def lines(text: str) -> list[str]:
    return sorted(line for line in text.splitlines() if "_created" not in line)


def reference_text(metrics: Metrics, reference: CollectorRegistry) -> str:
    """What prometheus_client renders for the reference plus the daemon's other metrics."""
    others = CollectorRegistry()
    for collector in metrics.others:  # the daemon-wide metrics, whatever issues add
        others.register(collector)
    return generate_latest(reference).decode() + generate_latest(others).decode()


Round = tuple[list[ProbeResult], dict[str, str], list[str]]


def rounds() -> list[Round]:
    """Three scrapes' worth of change: first results, then failures, state changes and a target
    seen late, then more results and skips (one of a target never probed)."""
    return [
        (round_one(), {NAMES[0]: "unknown", NAMES[1]: "unknown", NAMES[2]: "unknown"}, []),
        (round_two(), {NAMES[0]: "down", NAMES[2]: "slow", NAMES[3]: "up"}, [NAMES[1]]),
        (round_one(), {NAMES[0]: "up"}, [NAMES[1], NAMES[3], "never-probed"]),
    ]


def daemon_and_reference() -> tuple[Metrics, Reference, CollectorRegistry]:
    metrics = Metrics(CollectorRegistry())
    metrics.set_office("grobogan", 'Disdukcapil "Grobogan" \\ Purwodadi', "Asia/Jakarta")
    ref_registry = CollectorRegistry()
    return metrics, Reference(ref_registry), ref_registry
