"""The per-target probe series as plain numbers, and the collector that exports them.

prometheus_client gives every label set a child object with its own lock and one value object
(and lock) per histogram bucket: ~20 KB per HTTP target, 27 children with the target states.
Here one slotted object per target holds plain floats and ints, written only from the event
loop. `SeriesCollector` turns them into ordinary metric families, so `registry.collect()`,
`get_sample_value` and the OpenMetrics encoder see exactly the series the prometheus_client
metrics exported: same names, HELP, TYPE, labels and buckets. The fast text renderer for
/metrics (monitor/exposition.py) reads the same objects.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString

from monitor.vocabulary import TARGET_STATES

# Buckets sized for the path an office sees: LAN in single ms, Jakarta from Java in tens of ms,
# a loaded data center or a probe waiting for its timeout in seconds.
LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip
BUCKET_LE = tuple(floatToGoString(b) for b in (*LATENCY_BUCKETS, float("inf")))
HTTP_PHASES = ("dns", "connect", "tls", "ttfb", "total")


@dataclass(frozen=True)
class Family:
    """One exported metric family: `name` as prometheus_client's Metric has it (no `_total`)."""

    name: str
    type: str
    help: str
    labels: tuple[str, ...]

    @property
    def sample(self) -> str:
        """The name its samples (and its HELP and TYPE lines) carry: a counter's ends in
        `_total`, as prometheus_client writes it."""
        return f"{self.name}_total" if self.type == "counter" else self.name


SUCCESS = Family(
    "pantau_probe_success",
    "gauge",
    "1 if the last probe of the target succeeded, else 0.",
    ("target", "role", "kind"),
)
DURATION = Family(
    "pantau_probe_duration_seconds",
    "histogram",
    "Latency the probe measured: HTTP total request time, TCP connect time, "
    "ICMP average round trip, DNS query time.",
    ("target", "role", "kind"),
)
PHASE = Family(
    "pantau_probe_phase_seconds",
    "gauge",
    "Duration of each phase of the last HTTP probe (dns, connect, tls, ttfb, total); "
    "a phase the last probe did not measure (it failed before) is absent, never 0.",
    ("target", "phase"),
)
PROBES = Family(
    "pantau_probes",
    "counter",
    "Probes run, by result: success or the failure reason.",
    ("target", "role", "kind", "result"),
)
SKIPPED = Family(
    "pantau_probes_skipped",
    "counter",
    "Scheduled probes skipped because the previous one of the target was still running "
    "or the daemon fell behind.",
    ("target",),
)
LAST_TIMESTAMP = Family(
    "pantau_probe_last_timestamp_seconds",
    "gauge",
    "Unix time the last probe of the target finished.",
    ("target",),
)
ICMP_LOSS = Family(
    "pantau_icmp_packet_loss_ratio",
    "gauge",
    "Share of echo requests in the last burst that got no reply (0..1).",
    ("target",),
)
ICMP_RTT = Family(
    "pantau_icmp_rtt_seconds",
    "gauge",
    "Round trip of the last ICMP burst: min, avg, max and jitter.",
    ("target", "stat"),
)
TLS_EXPIRY = Family(
    "pantau_tls_cert_expiry_timestamp_seconds",
    "gauge",
    "Unix time the server certificate of an https target expires.",
    ("target",),
)
TARGET_STATE = Family(
    "pantau_target_state",
    "gauge",
    "Confirmed state of each target, one-hot over up/slow/down/unknown.",
    ("target", "state"),
)
FAMILIES = (
    SUCCESS, DURATION, PHASE, PROBES, SKIPPED, LAST_TIMESTAMP, ICMP_LOSS, ICMP_RTT, TLS_EXPIRY,
    TARGET_STATE,
)  # fmt: skip


class Collector(Protocol):
    """What a registry collects from: a prometheus_client metric, a collector of ours."""

    def collect(self) -> Iterable[Metric]: ...


class TargetSeries:
    """Every series of one target. None means "not exported yet", as a label child that was
    never created: a target shows its probe series from its first result on, a skip counter
    from its first skip, a certificate expiry once one was seen."""

    __slots__ = (
        "buckets", "icmp_loss", "icmp_rtt", "kind", "last_timestamp", "lines", "phases",
        "results", "role", "skipped", "state", "success", "sum", "target", "tls_expiry", "uplink",
    )  # fmt: skip

    def __init__(self, target: str) -> None:
        self.target = target
        self.role: str | None = None  # role and kind: from the first probe result
        self.kind: str | None = None
        self.success: float | None = None
        self.buckets: list[int] | None = None  # per bucket, not cumulative; the last is +Inf
        self.sum = 0.0
        self.results: dict[str, float] = {}  # pantau_probes_total by result label
        self.skipped: float | None = None
        self.last_timestamp: float | None = None
        # HTTP targets, in HTTP_PHASES order; None: the last probe did not measure that phase
        self.phases: list[float | None] | None = None
        self.icmp_loss: float | None = None
        self.icmp_rtt: dict[str, float] | None = None
        self.tls_expiry: float | None = None
        self.state: str | None = None  # one of TARGET_STATES
        # Issue 16: the uplink the target is probed through, a label on each of its series
        # (None: no label, the shape of an office with one link).
        self.uplink: str | None = None
        # Its lines of /metrics, one bytes per family in FAMILIES order, while the store keeps
        # them (monitor/exposition.py); None: not rendered since its last change.
        self.lines: tuple[bytes, ...] | None = None

    def start_probes(self, role: str, kind: str) -> None:
        """The probe series of a target, at its first result. A target's role and kind are
        fixed by the config for the daemon's life; should they change, its series restart."""
        self.role, self.kind = role, kind
        self.buckets = [0] * len(BUCKET_LE)
        self.sum = 0.0
        self.results = {}
        self.phases = [None] * len(HTTP_PHASES) if kind == "http" else None

    def observe(self, seconds: float) -> None:
        """One latency into the histogram (a bucket counts values <= its bound)."""
        assert self.buckets is not None
        self.buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.sum += seconds


class SeriesStore:
    """The targets' series, by name, in the order targets first appeared.

    With many targets the store also keeps each target's rendered lines of /metrics
    (`keep_lines`, switched by monitor/exposition.py), so a scrape renders only what changed
    since the last refresh: `get` is how every writer reaches a series, and it drops them.
    """

    def __init__(self) -> None:
        self.targets: dict[str, TargetSeries] = {}
        self.keep_lines = False
        # Targets changed since their lines were rendered (an ordered set), while keep_lines.
        self.stale: dict[TargetSeries, None] = {}
        self.last_scrape = 0.0  # time.monotonic() of the last /metrics render begun
        # Lines other families keep while the store keeps its own (PlainFamily.lines, by
        # monitor/exposition.py): drop_lines frees them with the store's.
        self.kept_beside: list[dict[Any, bytes]] = []

    def get(self, target: str) -> TargetSeries:
        """The target's series, to change: its rendered lines, if kept, are dropped."""
        series = self.targets.get(target)
        if series is None:
            series = self.targets[target] = TargetSeries(target)
        if series.lines is not None:
            series.lines = None
            self.stale[series] = None
        return series

    def drop_lines(self) -> None:
        """Stop keeping rendered lines, and free those kept."""
        self.keep_lines = False
        self.stale.clear()
        for series in self.targets.values():
            series.lines = None
        for lines in self.kept_beside:
            lines.clear()
        self.kept_beside.clear()

    def snapshot(self) -> list[TargetSeries]:
        """The targets now known; a copy, so a reader in another thread never sees the dict
        change size under it (list(dict.values()) runs without releasing the GIL)."""
        return list(self.targets.values())


class SeriesCollector:
    """The store as prometheus_client metric families (for `registry.collect()`)."""

    def __init__(self, store: SeriesStore) -> None:
        self._store = store

    def describe(self) -> list[Metric]:
        return [Metric(f.name, f.help, f.type) for f in FAMILIES]

    def collect(self) -> Iterator[Metric]:
        targets = self._store.snapshot()
        families = {f.name: Metric(f.name, f.help, f.type) for f in FAMILIES}
        for s in targets:
            _collect_target(s, families)
        yield from families.values()


def _collect_target(s: TargetSeries, families: dict[str, Metric]) -> None:
    target = s.target
    up = {"uplink": s.uplink} if s.uplink else {}
    if s.role is not None and s.kind is not None and s.buckets is not None:
        labels = {"target": target, "role": s.role, "kind": s.kind, **up}
        if s.success is not None:
            families[SUCCESS.name].add_sample(SUCCESS.name, labels, s.success)
        duration = families[DURATION.name]
        total, probe_sum = 0, s.sum
        for le, count in zip(BUCKET_LE, list(s.buckets), strict=True):
            total += count
            duration.add_sample(f"{DURATION.name}_bucket", {**labels, "le": le}, float(total))
        duration.add_sample(f"{DURATION.name}_count", labels, float(total))
        duration.add_sample(f"{DURATION.name}_sum", labels, probe_sum)
        phases = s.phases
        if phases is not None:
            for phase, seconds in zip(HTTP_PHASES, list(phases), strict=True):
                if seconds is None:
                    continue
                families[PHASE.name].add_sample(
                    PHASE.name, {"target": target, "phase": phase, **up}, seconds
                )
        for result, runs in dict(s.results).items():
            families[PROBES.name].add_sample(PROBES.sample, {**labels, "result": result}, runs)
    one = {"target": target, **up}
    if s.skipped is not None:
        families[SKIPPED.name].add_sample(SKIPPED.sample, one, s.skipped)
    if s.last_timestamp is not None:
        families[LAST_TIMESTAMP.name].add_sample(LAST_TIMESTAMP.name, one, s.last_timestamp)
    if s.icmp_loss is not None:
        families[ICMP_LOSS.name].add_sample(ICMP_LOSS.name, one, s.icmp_loss)
    if s.icmp_rtt is not None:
        for stat, seconds in dict(s.icmp_rtt).items():
            families[ICMP_RTT.name].add_sample(
                ICMP_RTT.name, {"target": target, "stat": stat, **up}, seconds
            )
    if s.tls_expiry is not None:
        families[TLS_EXPIRY.name].add_sample(TLS_EXPIRY.name, one, s.tls_expiry)
    if s.state is not None:
        for state in TARGET_STATES:
            families[TARGET_STATE.name].add_sample(
                TARGET_STATE.name,
                {"target": target, "state": state, **up},
                1.0 if state == s.state else 0.0,
            )


class PlainFamily:
    """A labelled gauge or counter kept as plain numbers, for the families with a few series
    per target that are not the probes' (the path tracer's): prometheus_client's child per label
    set (a Gauge or Counter object, its value object, two locks) is ~700 B of heap, here a dict
    entry (~130 B), and from KEEP_LINES_FROM targets on its line once scraped (~130 B): at
    1,000 traced data-center targets 3.5 MB against ~0.6 MB. Written only from the event loop;
    readers in other threads copy `values` first."""

    __slots__ = ("family", "lines", "values")

    def __init__(self, family: Family) -> None:
        self.family = family
        self.values: dict[tuple[str, ...], float] = {}  # label values, in family.labels order
        # Each series' line of /metrics once rendered (monitor/exposition.py), until it changes,
        # while the store keeps lines (from KEEP_LINES_FROM targets on): a path changes at most
        # once per trace, and at 5,000 targets its 25,000 lines cost ~30-50 ms of CPU to write
        # anew at every scrape on the project's VM (~130 B each kept).
        self.lines: dict[tuple[str, ...], bytes] = {}

    def set(self, labels: tuple[str, ...], value: float) -> None:
        self.values[labels] = float(value)
        self.lines.pop(labels, None)

    def inc(self, labels: tuple[str, ...], amount: float = 1.0) -> None:
        self.values[labels] = self.values.get(labels, 0.0) + amount
        self.lines.pop(labels, None)

    def remove(self, labels: tuple[str, ...]) -> None:
        self.values.pop(labels, None)
        self.lines.pop(labels, None)

    def metric(self) -> Metric:
        family = self.family
        metric = Metric(family.name, family.help, family.type)
        for labels, value in list(self.values.items()):
            metric.add_sample(family.sample, dict(zip(family.labels, labels, strict=True)), value)
        return metric


class PlainCollector:
    """Plain families as prometheus_client metric families (for `registry.collect()`, the
    OpenMetrics encoder, `get_sample_value`); the fast /metrics renders `families` itself."""

    def __init__(self, families: list[PlainFamily]) -> None:
        self.families = families

    def describe(self) -> list[Metric]:
        return [Metric(f.family.name, f.family.help, f.family.type) for f in self.families]

    def collect(self) -> Iterator[Metric]:
        for family in self.families:
            yield family.metric()
