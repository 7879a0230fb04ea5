"""The path tracer's metrics, against the daemon's registry. Labels: target names (config) and
TTL (1..path.max_ttl), so the series count is bounded by targets x max_ttl."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from monitor.path.analysis import PathFinding
from monitor.path.trace import Trace


class PathMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.hops_reached = Gauge(
            "pantau_path_hops_reached",
            "Hops up to the last one that answered in the last trace to the target.",
            ["target"], registry=r,
        )  # fmt: skip
        self.hop_loss = Gauge(
            "pantau_path_hop_loss_ratio",
            "Share of probes to this TTL that got no reply in the last trace (0..1).",
            ["target", "ttl"], registry=r,
        )  # fmt: skip
        self.reaches_datacenter = Gauge(
            "pantau_path_reaches_datacenter",
            "1 if the last trace reached the data center's network, 0 if it died before, "
            "-1 if it could not tell (no trace or baseline).",
            ["target"], registry=r,
        )  # fmt: skip
        self.traces = Counter(
            "pantau_path_traces_total",
            "Traces run, by why (baseline, transition) and result (ok or the failure reason).",
            ["target", "why", "result"], registry=r,
        )  # fmt: skip
        self.store_errors = Counter(
            "pantau_path_store_errors_total",
            "Traces that could not be kept in the ledger file (full disk, lock); the outage's "
            "evidence still carries them.",
            registry=r,
        )
        self._ttls: dict[str, set[int]] = {}
        # For the fast /metrics renderer, which takes a list of families (Metrics.others).
        self.families = [
            self.hops_reached, self.hop_loss, self.reaches_datacenter, self.traces,
            self.store_errors,
        ]  # fmt: skip

    def observe(self, target: str, why: str, trace: Trace, finding: PathFinding) -> None:
        self.traces.labels(target, why, trace.error or "ok").inc()
        if trace.error:
            self.reaches_datacenter.labels(target).set(-1)
            return
        last = trace.last_answering
        self.hops_reached.labels(target).set(last.ttl if last else 0)
        ttls = set()
        for hop in trace.hops:
            self.hop_loss.labels(target, str(hop.ttl)).set(hop.loss_ratio)
            ttls.add(hop.ttl)
        for stale in self._ttls.get(target, set()) - ttls:
            self.hop_loss.remove(target, str(stale))  # a shorter path: no stale TTLs linger
        self._ttls[target] = ttls
        reaches = finding.reaches_datacenter
        self.reaches_datacenter.labels(target).set(-1 if reaches is None else int(reaches))
