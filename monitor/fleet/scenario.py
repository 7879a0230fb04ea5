"""What each simulated office sees at time t: a pure function of the fault list (no clock).

Offices confirm like Pantau does: an outage shows after `down_after` failed probes (30-45 s at
15 s, depending on where in its interval the fault began) and clears after `up_after` successes.
The first failing hop is blamed: a dead LAN hides the ISP, a dead ISP hides the data center.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from monitor.fleet.offices import Office

FaultKind = Literal["central", "isp", "local", "flap", "stale"]
# Blame order of Pantau's verdict: the first failing hop on the path wins.
_ORDER = {"stale": 0, "local": 1, "isp": 2, "central": 3}
_DOMAIN = {"local": "local", "isp": "isp", "central": "datacenter"}
_KIND_OF = {domain: kind for kind, domain in _DOMAIN.items()}


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault from `start` to `end` (seconds of simulation time).

    central: the data center, seen by `share` of all offices; isp: every office on `isp`
    (times `share`); local / stale: the listed offices; flap: the listed offices' ISP link goes
    down and up every `period` seconds. `blame` overrides the domain the offices blame (an
    ISP whose path to the data center fails while its internet works: `datacenter`).
    """

    kind: FaultKind
    start: float
    end: float
    isp: str | None = None
    offices: frozenset[str] = field(default_factory=frozenset)
    share: float = 1.0
    period: float = 0.0
    blame: str | None = None


@dataclass(frozen=True, slots=True)
class View:
    """One office at one instant: does the center receive its data, and what it blames."""

    reporting: bool
    domain: str | None  # the outage domain Pantau blames, None while the link is up


def _unit(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1) from its parts (same run, same answer)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def confirm_delay(office: Office, fault_index: int, interval: float = 15.0) -> float:
    """Seconds from a fault's onset until this office's Pantau confirms it (down_after = 3)."""
    return interval * (2 + _unit("down", office.id, fault_index))


def clear_delay(office: Office, fault_index: int, interval: float = 15.0) -> float:
    """Seconds from a fault's end until this office's Pantau confirms recovery (up_after = 2)."""
    return interval * (1 + _unit("up", office.id, fault_index))


def _hits(fault: Fault, index: int, office: Office) -> bool:
    if fault.kind == "central":
        return _unit("share", office.id, index) < fault.share
    if fault.kind == "isp":
        return office.isp == fault.isp and _unit("share", office.id, index) < fault.share
    return office.id in fault.offices


def _active(fault: Fault, index: int, office: Office, t: float, interval: float) -> bool:
    if fault.kind == "stale":
        return fault.start <= t < fault.end
    if fault.kind == "flap":
        if not fault.start <= t < fault.end or fault.period <= 0:
            return False
        phase = (t - fault.start) % (2 * fault.period)  # down for one period, up for the next
        return phase >= confirm_delay(office, index, interval) and phase < (
            fault.period + clear_delay(office, index, interval)
        )
    onset = fault.start + confirm_delay(office, index, interval)
    return onset <= t < fault.end + clear_delay(office, index, interval)


def view(office: Office, faults: Sequence[Fault], t: float, interval: float = 15.0) -> View:
    """What `office` reports at `t` under `faults`."""
    worst: str | None = None
    for index, fault in enumerate(faults):
        if not _hits(fault, index, office) or not _active(fault, index, office, t, interval):
            continue
        kind: str = "isp" if fault.kind == "flap" else fault.kind
        if fault.blame and kind != "stale":
            kind = _KIND_OF[fault.blame]
        if worst is None or _ORDER[kind] < _ORDER[worst]:
            worst = kind
    if worst == "stale":
        return View(reporting=False, domain=None)
    return View(reporting=True, domain=_DOMAIN[worst] if worst else None)


def affected(offices: Iterable[Office], faults: Sequence[Fault], t: float) -> dict[str, int]:
    """How many offices blame each domain at `t` (and how many do not report): for printing."""
    counts: dict[str, int] = {}
    for office in offices:
        v = view(office, faults, t)
        key = "stale" if not v.reporting else v.domain or "up"
        counts[key] = counts.get(key, 0) + 1
    return counts
