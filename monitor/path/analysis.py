"""What a trace says, as pure functions: whose hop it is, where the path ends, who loses packets.

`judge_path(trace, baseline, owners)` is the evidence the link verdict uses for a data-center
target that is down while the internet anchors answer (monitor/verdict.py):
- `reaches_datacenter=True`: the destination answered (refused or not), a hop owned by the data
  center answered, or the path still reaches the baseline's last hop before the data center;
- `False`: an ISP hop refused to forward (an ICMP unreachable: no route), or the path now ends
  before where the healthy baseline used to hand over to the data center;
- `None`: no trace, or silence after non-data-center hops with no baseline to compare with.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from monitor.path.config import PathOwner
from monitor.path.trace import Hop, Trace


@dataclass(frozen=True, slots=True)
class Owner:
    network: ipaddress.IPv4Network
    name: str
    role: str

    @classmethod
    def of(cls, config: PathOwner) -> Owner:
        return cls(ipaddress.IPv4Network(config.prefix), config.name, config.role)


def owner_of(address: str | None, owners: Sequence[Owner]) -> Owner | None:
    """The owner with the longest prefix holding `address`, if any."""
    if not address:
        return None
    ip = ipaddress.IPv4Address(address)
    holding = [o for o in owners if ip in o.network]
    return max(holding, key=lambda o: o.network.prefixlen) if holding else None


@dataclass(frozen=True, slots=True)
class LossBlame:
    """Loss that starts at `first_lossy` and persists to the destination: the segment after
    `forwarder` (the last hop before it whose own replies came back) loses `loss_ratio`."""

    forwarder: Hop | None  # None: the very first hop already loses (the office's own link)
    first_lossy: Hop
    loss_ratio: float

    @property
    def blamed(self) -> Hop:
        return self.forwarder or self.first_lossy


def blame_loss(hops: Sequence[Hop], destination: str, threshold: float = 0.1) -> LossBlame | None:
    """The first hop whose loss persists through every later hop and the destination.

    A router that rate-limits its own ICMP replies loses only its own replies: the hops behind it
    answer fully, so its loss does not persist and it is never blamed. Loss persists when every
    later answering hop loses at least `threshold` and at least half as much (sampling noise of a
    few probes per hop). Silent hops (routers that never answer) carry no evidence either way.
    Blamed is the hop that forwards onto the lossy segment: what it forwards is lost, what it
    answers itself is not.
    """
    answering = [h for h in hops if h.received > 0]
    if not answering or answering[-1].address != destination:
        return None  # the destination must answer for loss (not an outage) to be measured
    for index, hop in enumerate(answering):
        loss = hop.loss_ratio
        if loss < threshold:
            continue
        later = answering[index + 1 :]
        if all(h.loss_ratio >= max(threshold, loss / 2) for h in later):
            forwarder = answering[index - 1] if index else None
            return LossBlame(forwarder, hop, loss)
    return None


@dataclass(frozen=True, slots=True)
class PathFinding:
    """The verdict's path evidence for one target (see the module docstring)."""

    target: str
    reaches_datacenter: bool | None
    cause: str  # why, in a fixed vocabulary (see CAUSES)
    last_hop: Hop | None  # the last hop that answered
    last_owner: Owner | None
    refused: str | None = None  # the unreachable text when a hop refused to forward
    handoff: str | None = None  # the baseline's last hop before the data center
    used_to_continue: str | None = None  # the baseline's next hop after where the path ends now
    used_owner: Owner | None = None
    loss: LossBlame | None = None
    loss_owner: Owner | None = None

    def as_dict(self) -> dict[str, Any]:
        def hop(h: Hop | None) -> dict[str, Any] | None:
            return None if h is None else {"ttl": h.ttl, "address": h.address}

        return {
            "reaches_datacenter": self.reaches_datacenter,
            "confirmed": self.reaches_datacenter is not None,
            "cause": self.cause,
            "last_hop": hop(self.last_hop),
            "last_owner": _owner(self.last_owner),
            "refused": self.refused,
            "handoff": self.handoff,
            "used_to_continue": self.used_to_continue,
            "used_owner": _owner(self.used_owner),
            "loss": None
            if self.loss is None
            else {
                "blamed": hop(self.loss.blamed),
                "first_lossy": hop(self.loss.first_lossy),
                "loss_ratio": round(self.loss.loss_ratio, 3),
                "owner": _owner(self.loss_owner),
            },
        }


# cause -> meaning; the word lists (templates) and the README use these keys
CAUSES = {
    "no_trace": "no trace (tracing failed or is not allowed)",
    "destination_answers": "the destination itself answers",
    "reaches_datacenter": "a data-center hop answers",
    "reaches_handoff": "the path reaches where it used to hand over to the data center",
    "isp_no_route": "an ISP hop refuses to forward (no route to the data center)",
    "ends_before_handoff": "the path ends before where it used to hand over to the data center",
    "no_baseline": "the path ends silently and there is no healthy baseline to compare with",
}


def _owner(owner: Owner | None) -> dict[str, str] | None:
    return None if owner is None else {"name": owner.name, "role": owner.role}


def handoff_of(baseline: Trace, owners: Sequence[Owner]) -> tuple[str | None, str | None]:
    """(the last answering hop before the data center, the hop after it) in a healthy trace."""
    answering = [h for h in baseline.hops if h.received and h.address]
    for index, hop in enumerate(answering):
        owner = owner_of(hop.address, owners)
        if hop.address == baseline.destination or (owner and owner.role == "datacenter"):
            if index == 0:
                return None, hop.address
            return answering[index - 1].address, hop.address
    return None, None


def judge_path(
    trace: Trace | None, baseline: Trace | None, owners: Sequence[Owner], threshold: float = 0.1
) -> PathFinding:
    """Does the path to the target still reach the data center? (pure)"""
    if trace is None or trace.error:
        name = trace.target if trace else ""
        return PathFinding(name, None, "no_trace", None, None)
    last = trace.last_answering
    common: dict[str, Any] = {
        "last_hop": last,
        "last_owner": owner_of(last.address if last else None, owners),
        "loss": blame_loss(trace.hops, trace.destination, threshold),
    }
    if common["loss"] is not None:
        common["loss_owner"] = owner_of(common["loss"].blamed.address, owners)
    if trace.reached:
        return PathFinding(trace.target, True, "destination_answers", **common)
    for hop in trace.hops:
        owner = owner_of(hop.address, owners)
        if hop.received and owner is not None and owner.role == "datacenter":
            return PathFinding(trace.target, True, "reaches_datacenter", **common)
    refused = next((h for h in trace.hops if h.unreachable), None)
    handoff, after = handoff_of(baseline, owners) if baseline is not None else (None, None)
    if refused is not None:
        return PathFinding(
            trace.target, False, "isp_no_route", refused=refused.unreachable, handoff=handoff,
            used_to_continue=after, used_owner=owner_of(after, owners), **common,
        )  # fmt: skip
    if baseline is None or (handoff is None and after is None):
        return PathFinding(trace.target, None, "no_baseline", **common)
    seen = {h.address for h in trace.hops if h.received}
    if handoff is not None and handoff in seen:
        return PathFinding(trace.target, True, "reaches_handoff", handoff=handoff, **common)
    # Where the path used to go next after the last hop that still answers.
    base = [h.address for h in baseline.hops if h.received and h.address]
    after_last = after
    if last is not None and last.address in base:
        position = base.index(last.address)
        after_last = base[position + 1] if position + 1 < len(base) else after
    return PathFinding(
        trace.target, False, "ends_before_handoff", handoff=handoff,
        used_to_continue=after_last, used_owner=owner_of(after_last, owners), **common,
    )  # fmt: skip
