"""A trace: what each hop of the path answered. Frozen data, JSON both ways, no sockets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Protocol = Literal["icmp", "tcp"]


@dataclass(frozen=True, slots=True)
class Hop:
    """One TTL of a trace. `address` is the router (or the destination) that answered most."""

    ttl: int
    address: str | None
    sent: int
    received: int
    rtt: float | None = None  # seconds, average over the replies, from kernel receive stamps
    unreachable: str | None = None  # "network unreachable", ... when this hop refused to forward

    @property
    def loss_ratio(self) -> float:
        return 1.0 - self.received / self.sent if self.sent else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "ttl": self.ttl,
            "address": self.address,
            "sent": self.sent,
            "received": self.received,
            "loss_ratio": round(self.loss_ratio, 3),
            "rtt_ms": None if self.rtt is None else round(self.rtt * 1000, 3),
            "unreachable": self.unreachable,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Hop:
        rtt = data.get("rtt_ms")
        return cls(
            int(data["ttl"]),
            data.get("address"),
            int(data["sent"]),
            int(data["received"]),
            None if rtt is None else float(rtt) / 1000,
            data.get("unreachable"),
        )


@dataclass(frozen=True, slots=True)
class Trace:
    """Hops 1..n toward `destination`; `error` (permission, dns, internal) means no evidence."""

    target: str  # the host as configured
    destination: str  # the IPv4 address traced
    protocol: Protocol
    port: int  # TCP destination port; 0 for ICMP
    at: float  # unix time the trace started
    hops: tuple[Hop, ...] = ()
    error: str | None = None  # the reason there is no trace: permission, dns, internal
    message: str = ""

    @property
    def reached(self) -> bool:
        """Whether the destination itself answered."""
        return any(h.address == self.destination for h in self.hops)

    @property
    def last_answering(self) -> Hop | None:
        return next((h for h in reversed(self.hops) if h.received), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "destination": self.destination,
            "protocol": self.protocol,
            "port": self.port,
            "at": self.at,
            "reached": self.reached,
            "error": self.error,
            "message": self.message,
            "hops": [h.as_dict() for h in self.hops],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trace:
        return cls(
            str(data["target"]),
            str(data["destination"]),
            data["protocol"],
            int(data.get("port") or 0),
            float(data["at"]),
            tuple(Hop.from_dict(h) for h in data.get("hops", ())),
            data.get("error"),
            str(data.get("message", "")),
        )
