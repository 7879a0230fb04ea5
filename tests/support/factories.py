"""Small builders for probe results, so pure tests read as timelines."""

from __future__ import annotations

from monitor.config import Config, parse_config
from monitor.probes.result import Observation, ProbeResult, Reason
from monitor.state import TargetState, Thresholds


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


ROLES = {"router": "local", "isp-dns": "isp", "anchor": "internet", "dc-web": "datacenter",
         "dc-vpn": "datacenter"}  # fmt: skip


def world(states: dict[str, str], reason: str = "timeout", roles: dict | None = None) -> list:
    """Targets in `states` (every other one of `roles` up), confirmed, as the verdict sees them."""
    targets = []
    for name, role in (roles or ROLES).items():
        t = TargetState(name, role, Thresholds(down_after=1, up_after=1, slow_latency=1.0))
        wanted = states.get(name, "up")
        if wanted != "unknown":
            r = result(name, 0, role=role, ok=wanted != "down", reason=reason,  # type: ignore[arg-type]
                       latency=2.0 if wanted == "slow" else 0.01)  # fmt: skip
            for _ in range(3):
                t.observe(r)
        assert t.state == wanted
        targets.append(t)
    return targets


def tcp_targets_config(n: int, interval: str = "10s") -> Config:
    """A config of `n` TCP targets t0..t{n-1} sharing one interval (for schedule tests)."""
    targets = [
        {"name": f"t{i}", "role": "datacenter", "kind": "tcp", "host": "127.0.0.1", "port": 1}
        for i in range(n)
    ]
    return parse_config(
        {"office": {"name": "X"}, "defaults": {"interval": interval, "timeout": "1s"},
         "targets": targets}
    )  # fmt: skip
