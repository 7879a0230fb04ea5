"""The report's conclusion and the tickets' "this part was fine" claims, from the incident table.

One pure function over the same facts the incident table shows (each incident's kind and fault
domains) and the day's account, so the conclusion can never call a hop normal that the table
lists as failing. The templates turn the codes into sentences from the word lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

ConclusionKind = Literal["outage", "slow", "normal", "unmonitored", "closed"]

UPSTREAM: Mapping[str, tuple[str, ...]] = {
    "datacenter": ("local", "isp"),
    "dns": ("local", "isp"),
    "isp": ("local",),
    "local": (),
    "unknown": (),
}
"""The hops between the office and a fault domain: the ones a finding there may call normal."""


class IncidentFacts(Protocol):
    """What the conclusion reads of an incident (monitor.report.model.Incident fits)."""

    @property
    def kind(self) -> str: ...
    @property
    def domains(self) -> tuple[str, ...]: ...


class DayFacts(Protocol):
    """What it reads of the day (monitor.calendar.accounting.DayAccount fits)."""

    @property
    def lost_by_domain(self) -> dict[str, float]: ...
    @property
    def slow_by_domain(self) -> dict[str, float]: ...
    @property
    def scheduled_seconds(self) -> float: ...
    @property
    def unmonitored_seconds(self) -> float: ...
    @property
    def mostly_unmonitored(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Conclusion:
    kind: ConclusionKind
    domain: str | None
    """The fault domain that cost the most service time (of `kind`), if any."""
    also: tuple[tuple[str, str], ...]
    """Other (kind, domain) pairs in the incident table, the costliest first."""
    normal: tuple[str, ...]
    """Hops between the office and `domain` without any incident in the table."""
    unmonitored: bool
    """Part of the day's service time was not watched (the conclusion covers the rest)."""


def _ranked(seconds: Mapping[str, float]) -> list[str]:
    return sorted((d for d, s in seconds.items() if s > 0), key=lambda d: -seconds[d])


def troubled(incidents: Iterable[IncidentFacts]) -> set[str]:
    """Every fault domain the incident table names, of any kind."""
    return {domain for i in incidents for domain in i.domains}


def normal_hops(domain: str, incidents: Iterable[IncidentFacts]) -> tuple[str, ...]:
    """The hops before `domain` that no incident names: only these may be called normal."""
    bad = troubled(incidents)
    return tuple(h for h in UPSTREAM.get(domain, ()) if h not in bad)


def conclude(day: DayFacts, incidents: Sequence[IncidentFacts]) -> Conclusion:
    """The day's conclusion from its account and its incident table."""
    lost, slow = _ranked(day.lost_by_domain), _ranked(day.slow_by_domain)
    unmonitored = day.unmonitored_seconds > 0
    kind: ConclusionKind
    if lost:
        kind, domain = "outage", lost[0]
    elif slow:
        kind, domain = "slow", slow[0]
    elif day.scheduled_seconds <= 0:
        kind, domain = "closed", None
    elif day.mostly_unmonitored:
        kind, domain = "unmonitored", None
    else:
        kind, domain = "normal", None
    ranked = [("outage", d) for d in lost] + [("slow", d) for d in slow]
    # Incidents outside service hours (or in unmonitored time) cost nothing but are in the table.
    for i in incidents:
        for d in i.domains:
            if (i.kind, d) not in ranked:
                ranked.append((i.kind, d))
    also = tuple(pair for pair in ranked if pair != (kind, domain))
    normal = normal_hops(domain, incidents) if domain is not None else ()
    return Conclusion(kind, domain, also, normal, unmonitored)
