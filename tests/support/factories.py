"""Small builders for probe results, so pure tests read as timelines."""

from __future__ import annotations

from monitor.probes.result import Observation, ProbeResult, Reason


def result(
    target: str = "dc",
    at: float = 0.0,
    *,
    ok: bool = True,
    role: str = "datacenter",
    kind: str = "tcp",
    latency: float = 0.01,
    reason: Reason = "timeout",
    loss: float | None = None,
) -> ProbeResult:
    return ProbeResult(
        target=target,
        role=role,
        kind=kind,
        started_at=at,
        monotonic=at,
        duration=latency,
        latency=latency,
        reason=None if ok else reason,
        message="" if ok else f"{reason} at {at}",
        observation=Observation(loss_ratio=loss),
    )
