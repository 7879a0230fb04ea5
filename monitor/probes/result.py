"""What a probe produces: a frozen result whose `ok` derives from `reason`, so they agree."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from monitor.vocabulary import REASONS, Reason

__all__ = ["REASONS", "Observation", "ProbeFailure", "ProbeResult", "Reason"]

_EMPTY: Mapping[str, float] = MappingProxyType({})


class ProbeFailure(Exception):
    """Raised by a probe for a protocol-level failure; the runner turns it into a result."""

    def __init__(self, reason: Reason, message: str, observation: Observation | None = None):
        super().__init__(message)
        self.reason: Reason = reason
        self.message = message
        self.observation = observation


@dataclass(frozen=True, slots=True)
class Observation:
    """What a probe saw, apart from the wall time the runner measures around it.

    `latency` is the protocol's own best measure when it has one the event loop cannot distort
    (the kernel's handshake RTT for TCP, the average echo RTT for ICMP). Without it the runner's
    monotonic stopwatch is the latency.
    """

    latency: float | None = None
    # default_factory: a mappingproxy is unhashable on 3.11, so dataclasses rejects it as a default.
    phases: Mapping[str, float] = field(default_factory=lambda: _EMPTY)
    loss_ratio: float | None = None
    # ICMP: min, avg, max, jitter (seconds)
    rtt: Mapping[str, float] = field(default_factory=lambda: _EMPTY)
    cert_expiry: float | None = None  # unix time the TLS certificate expires
    detail: str = ""  # e.g. "HTTP 200", "A 10.0.0.5"
    echo_id: int | None = None  # ICMP: the identifier its echo requests carried


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One probe of one target, as every later layer (metrics, state, ledger) sees it."""

    target: str
    role: str
    kind: str
    started_at: float  # unix time (UTC) the probe started
    monotonic: float  # time.monotonic() at start: durations between results come from this
    duration: float  # seconds the whole probe took (monotonic)
    latency: float  # seconds; see Observation.latency
    reason: Reason | None = None
    message: str = ""
    observation: Observation = field(default_factory=Observation)

    @property
    def ok(self) -> bool:
        return self.reason is None

    @property
    def result_label(self) -> str:
        return self.reason or "success"

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly view for /api/status and `pantau probe --json`."""
        obs = self.observation
        return {
            "target": self.target,
            "role": self.role,
            "kind": self.kind,
            "ok": self.ok,
            "result": self.result_label,
            "message": self.message,
            "started_at": self.started_at,
            "duration_seconds": round(self.duration, 6),
            "latency_seconds": round(self.latency, 6),
            "phases": {k: round(v, 6) for k, v in obs.phases.items()},
            "loss_ratio": obs.loss_ratio,
            "rtt": {k: round(v, 6) for k, v in obs.rtt.items()},
            "cert_expiry": obs.cert_expiry,
            "detail": obs.detail,
        }
