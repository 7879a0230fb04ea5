"""The path tracer's metrics, against the daemon's registry. Labels: target names (config) and
TTL (1..path.max_ttl), so the series count is bounded by targets x max_ttl.

Its labelled families are plain numbers (monitor/series.py `PlainFamily`): one trace per
data-center target puts ~5 series on the page for each, and as prometheus_client children they
cost 3.5 MB at 1,000 targets and, at 5,000, ~0.4 s of one uninterrupted render at every scrape
(measured 2026-12-02); /metrics now writes them in its 1 ms slices."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from monitor.path.analysis import PathFinding
from monitor.path.trace import Trace
from monitor.series import Collector, Family, PlainCollector, PlainFamily

HOPS_REACHED = Family(
    "pantau_path_hops_reached",
    "gauge",
    "Hops up to the last one that answered in the last trace to the target.",
    ("target",),
)
HOP_LOSS = Family(
    "pantau_path_hop_loss_ratio",
    "gauge",
    "Share of probes to this TTL that got no reply in the last trace (0..1).",
    ("target", "ttl"),
)
REACHES_DATACENTER = Family(
    "pantau_path_reaches_datacenter",
    "gauge",
    "1 if the last trace reached the data center's network, 0 if it died before, "
    "-1 if it could not tell (no trace or baseline).",
    ("target",),
)
TRACES = Family(
    "pantau_path_traces",
    "counter",
    "Traces run, by why (baseline, transition) and result (ok or the failure reason).",
    ("target", "why", "result"),
)
_TTL = tuple(str(ttl) for ttl in range(256))  # one label string per TTL, not one per series


class PathMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.hops_reached = PlainFamily(HOPS_REACHED)
        self.hop_loss = PlainFamily(HOP_LOSS)
        self.reaches_datacenter = PlainFamily(REACHES_DATACENTER)
        self.traces = PlainFamily(TRACES)
        self.collector = PlainCollector(
            [self.hops_reached, self.hop_loss, self.reaches_datacenter, self.traces]
        )
        registry.register(self.collector)
        self.store_errors = Counter(
            "pantau_path_store_errors_total",
            "Traces that could not be kept in the ledger file (full disk, lock); the outage's "
            "evidence still carries them.",
            registry=registry,
        )
        self._ttls: dict[str, tuple[int, ...]] = {}
        # For the fast /metrics renderer, which takes a list of collectors (Metrics.others).
        self.families: list[Collector] = [self.collector, self.store_errors]

    def observe(self, target: str, why: str, trace: Trace, finding: PathFinding) -> None:
        self.traces.inc((target, why, trace.error or "ok"))
        if trace.error:
            self.reaches_datacenter.set((target,), -1)
            return
        last = trace.last_answering
        self.hops_reached.set((target,), last.ttl if last else 0)
        ttls = tuple(hop.ttl for hop in trace.hops)
        for hop in trace.hops:
            self.hop_loss.set((target, _ttl(hop.ttl)), hop.loss_ratio)
        for stale in set(self._ttls.get(target, ())) - set(ttls):
            self.hop_loss.remove((target, _ttl(stale)))  # a shorter path: no stale TTLs linger
        self._ttls[target] = ttls
        reaches = finding.reaches_datacenter
        self.reaches_datacenter.set((target,), -1 if reaches is None else int(reaches))

    def store_failed(self) -> None:
        """A trace could not be kept in the ledger file (full or locked disk)."""
        self.store_errors.inc()


def _ttl(ttl: int) -> str:
    return _TTL[ttl] if 0 <= ttl < len(_TTL) else str(ttl)
