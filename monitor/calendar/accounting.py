"""The one accounting of service time: scheduled, lost, slow, unmonitored and not yet, per day.

Every view a person reads (the daily e-mail, the range recap, `pantau outages`, /api/outages,
/api/status) takes its seconds from `account_days`, so no two of them can disagree.

Definitions, for one office-local day and an instant `now`:

- scheduled: service seconds of the day (the calendar's hours, holidays and overrides).
- not yet: scheduled seconds after `now` (the future is neither lost nor available).
- unmonitored: scheduled seconds before `now` when Pantau did not know the link state: before
  the first heartbeat ever (no heartbeat at all: everything), the ledger's gaps (daemon not
  running), and the time since a heartbeat older than `STALE_HEARTBEAT`. Never lost, never
  available.
- lost (slow): scheduled, monitored seconds inside an outage (slow period), by fault domain.
- monitored = scheduled - unmonitored - not yet.
- planned (issue 16): the part of lost inside an announced maintenance window (`Facts.maintenance`),
  by fault domain; unplanned = lost - planned. Planned time is still lost service time (citizens
  were not served) and counts against availability; it is shown apart from the unplanned time a
  provider is answerable for.
- degraded (issue 16): monitored service seconds the service answered only through a backup
  uplink (`Facts.degraded`), by uplink: available, shown beside it like slow time.
- availability = (monitored - lost) / monitored: the share of the service time Pantau watched
  in which the link was up (a slow period counts as available; it is shown beside it). None
  when nothing was monitored: no number is better than a reassuring 100 %.

Pure: the ledger's rows, the calendar, the zone and `now` are arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from monitor.calendar.service import ServiceCalendar

STALE_HEARTBEAT = 120.0
"""A heartbeat older than this (the daemon stopped or hangs) starts unmonitored time; the daemon
beats every few seconds, so two minutes is many missed beats, never one slow flush."""
MOSTLY_UNMONITORED = 0.5
"""A day whose elapsed service time is more than this share unmonitored is headlined as such."""
NOT_MONITORED_YET = "not_monitored_yet"
"""Reason code of the time before the first heartbeat."""
DAEMON_NOT_RUNNING = "daemon_not_running"
"""Reason code of a gap (the ledger writes it as "daemon not running")."""

Span = tuple[float, float, str]
"""(start, end, reason) in unix seconds."""


class EpisodeLike(Protocol):
    """What accounting reads of an outage or slow period (monitor.ledger.Episode fits)."""

    @property
    def kind(self) -> str: ...
    @property
    def started_at(self) -> float: ...
    @property
    def ended_at(self) -> float | None: ...
    def end_or(self, now: float) -> float: ...
    def domain_spans(self, now: float) -> list[tuple[float, float, str]]: ...


class GapLike(Protocol):
    """An unmonitored gap as the ledger keeps it (monitor.ledger.Gap fits)."""

    @property
    def started_at(self) -> float: ...
    @property
    def ended_at(self) -> float: ...
    @property
    def reason(self) -> str: ...


class LedgerReader(Protocol):
    """The reads `read_facts` needs (monitor.ledger.Ledger fits)."""

    def episodes(self, start: float, end: float) -> Sequence[Any]: ...
    def gaps(self, start: float, end: float) -> Sequence[Any]: ...
    def first_seen(self) -> float | None: ...
    def last_seen(self) -> float | None: ...


@dataclass(frozen=True, slots=True)
class Facts:
    """The ledger rows accounting needs; `read_facts` fetches them, tests build them by hand."""

    episodes: tuple[EpisodeLike, ...] = ()
    gaps: tuple[GapLike, ...] = ()
    first_seen: float | None = None
    """The first heartbeat ever: before it nothing is known (None with no heartbeat at all)."""
    last_seen: float | None = None
    """The latest heartbeat: a stale one means the daemon is not running now."""
    maintenance: tuple[Span, ...] = ()
    """Planned maintenance windows (start, end, announced_by) (monitor.maintenance)."""
    degraded: tuple[Span, ...] = ()
    """Spans the service answered only through a backup uplink (start, end, uplink down)."""


def read_facts(
    ledger: LedgerReader,
    start: float,
    end: float,
    maintenance: Iterable[Span] = (),
    degraded: Iterable[Span] = (),
) -> Facts:
    """The episodes and gaps overlapping [start, end), and the heartbeat, from a ledger."""
    return Facts(
        tuple(ledger.episodes(start, end)),
        tuple(ledger.gaps(start, end)),
        ledger.first_seen(),
        ledger.last_seen(),
        tuple(maintenance),
        tuple(degraded),
    )


def day_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[float, float]:
    """Unix times of local midnight at the start of `first` and the end of `last`."""
    start = datetime.combine(first, time(0), zone)
    end = datetime.combine(last + timedelta(days=1), time(0), zone)
    return start.timestamp(), end.timestamp()


def local_day(ts: float, zone: ZoneInfo) -> date:
    """The office-local date of a unix time."""
    return datetime.fromtimestamp(ts, zone).date()


def service_seconds(calendar: ServiceCalendar, start: float, end: float) -> float:
    """Seconds of [start, end) inside the office's service hours."""
    if end <= start:
        return 0.0
    return calendar.service_seconds(
        datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
    )


def reason_code(reason: str) -> str:
    """A gap's reason as a code the word lists translate ("daemon not running" -> code)."""
    return reason.strip().replace(" ", "_")


def unmonitored_spans(facts: Facts, now: float) -> list[Span]:
    """Disjoint unmonitored spans up to `now`, oldest first (touching ones merged)."""
    spans: list[Span] = [
        (g.started_at, min(g.ended_at, now), reason_code(g.reason)) for g in facts.gaps
    ]
    # The first heartbeat follows the first known link state by up to a flush, and an outage
    # is back-dated to its first failing probe: what an episode shows was known, too.
    known = [e.started_at for e in facts.episodes]
    if facts.first_seen is not None:
        known.append(facts.first_seen)
    if known:
        spans.append((0.0, min(known), NOT_MONITORED_YET))
    elif facts.last_seen is None:
        spans.append((0.0, now, NOT_MONITORED_YET))  # no heartbeat at all: nothing is known
    if facts.last_seen is not None and now - facts.last_seen > STALE_HEARTBEAT:
        spans.append((facts.last_seen, now, DAEMON_NOT_RUNNING))
    merged: list[Span] = []
    for start, end, reason in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), last[2])
        else:
            merged.append((start, end, reason))
    return merged


def clip(spans: Iterable[Span], start: float, end: float) -> list[Span]:
    """The parts of `spans` inside [start, end)."""
    return [(max(s, start), min(e, end), r) for s, e, r in spans if s < end and e > start]


def monitored_service_seconds(
    calendar: ServiceCalendar, start: float, end: float, unmonitored: Sequence[Span]
) -> float:
    """Service seconds of [start, end) less the unmonitored ones (`unmonitored` disjoint)."""
    if end <= start:
        return 0.0
    total = service_seconds(calendar, start, end)
    for s, e, _ in clip(unmonitored, start, end):
        total -= service_seconds(calendar, s, e)
    return max(total, 0.0)


def episode_seconds(
    calendar: ServiceCalendar,
    episode: EpisodeLike,
    unmonitored: Sequence[Span],
    start: float,
    end: float,
    now: float,
) -> dict[str, float]:
    """Monitored service seconds of `episode` inside [start, min(end, now)), by fault domain."""
    end = min(end, now)
    by_domain: dict[str, float] = {}
    for s, e, domain in episode.domain_spans(now):
        seconds = monitored_service_seconds(calendar, max(s, start), min(e, end), unmonitored)
        if seconds > 0:
            by_domain[domain] = by_domain.get(domain, 0.0) + seconds
    return by_domain


def planned_seconds(
    calendar: ServiceCalendar,
    episode: EpisodeLike,
    unmonitored: Sequence[Span],
    windows: Sequence[Span],
    start: float,
    end: float,
    now: float,
) -> dict[str, float]:
    """The part of `episode_seconds` inside maintenance windows (`windows` disjoint), by domain."""
    by_domain: dict[str, float] = {}
    for ws, we, _ in windows:
        lo, hi = max(ws, start), min(we, end)
        if hi <= lo:
            continue
        for domain, seconds in episode_seconds(calendar, episode, unmonitored, lo, hi, now).items():
            by_domain[domain] = by_domain.get(domain, 0.0) + seconds
    return by_domain


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Disjoint spans, oldest first; overlapping or touching ones merged (the first's label)."""
    merged: list[Span] = []
    for start, end, label in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), last[2])
        else:
            merged.append((start, end, label))
    return merged


def _add(into: dict[str, float], more: dict[str, float]) -> None:
    for key, value in more.items():
        into[key] = into.get(key, 0.0) + value


class _Seconds:
    """Derived figures shared by one day and a run of days."""

    __slots__ = ()
    scheduled_seconds: float
    lost_by_domain: dict[str, float]
    slow_by_domain: dict[str, float]
    unmonitored_seconds: float
    not_yet_seconds: float
    planned_by_domain: dict[str, float]
    degraded_by_uplink: dict[str, float]

    @property
    def planned_seconds(self) -> float:
        """Lost seconds inside announced maintenance windows (part of `lost_seconds`)."""
        return sum(self.planned_by_domain.values(), 0.0)

    @property
    def unplanned_seconds(self) -> float:
        """Lost seconds outside maintenance windows: what a provider is answerable for."""
        return max(self.lost_seconds - self.planned_seconds, 0.0)

    @property
    def degraded_seconds(self) -> float:
        """Service seconds the service answered only through a backup uplink."""
        return sum(self.degraded_by_uplink.values(), 0.0)

    @property
    def lost_seconds(self) -> float:
        return sum(self.lost_by_domain.values(), 0.0)

    @property
    def slow_seconds(self) -> float:
        return sum(self.slow_by_domain.values(), 0.0)

    @property
    def elapsed_seconds(self) -> float:
        """Scheduled seconds up to `now` (monitored or not)."""
        return max(self.scheduled_seconds - self.not_yet_seconds, 0.0)

    @property
    def monitored_seconds(self) -> float:
        return max(self.elapsed_seconds - self.unmonitored_seconds, 0.0)

    @property
    def available_seconds(self) -> float:
        return max(self.monitored_seconds - self.lost_seconds, 0.0)

    @property
    def availability(self) -> float | None:
        """Monitored service time without an outage over monitored service time."""
        monitored = self.monitored_seconds
        return self.available_seconds / monitored if monitored > 0 else None

    @property
    def lost_ratio(self) -> float | None:
        """Lost over monitored service time: 1 - availability."""
        monitored = self.monitored_seconds
        return self.lost_seconds / monitored if monitored > 0 else None

    @property
    def mostly_unmonitored(self) -> bool:
        """More than half of the elapsed service time was not watched."""
        elapsed = self.elapsed_seconds
        return elapsed > 0 and self.unmonitored_seconds > MOSTLY_UNMONITORED * elapsed

    def _json(self) -> dict[str, Any]:
        return {
            "scheduled_seconds": round(self.scheduled_seconds, 3),
            "lost_seconds": round(self.lost_seconds, 3),
            "lost_by_domain": {k: round(v, 3) for k, v in sorted(self.lost_by_domain.items())},
            "slow_seconds": round(self.slow_seconds, 3),
            "slow_by_domain": {k: round(v, 3) for k, v in sorted(self.slow_by_domain.items())},
            "unmonitored_seconds": round(self.unmonitored_seconds, 3),
            "not_yet_seconds": round(self.not_yet_seconds, 3),
            "monitored_seconds": round(self.monitored_seconds, 3),
            "availability": None if self.availability is None else round(self.availability, 6),
            "planned_seconds": round(self.planned_seconds, 3),
            "planned_by_domain": {
                k: round(v, 3) for k, v in sorted(self.planned_by_domain.items())
            },
            "unplanned_seconds": round(self.unplanned_seconds, 3),
            "degraded_seconds": round(self.degraded_seconds, 3),
            "degraded_by_uplink": {
                k: round(v, 3) for k, v in sorted(self.degraded_by_uplink.items())
            },
        }


@dataclass(frozen=True, slots=True)
class DayAccount(_Seconds):
    """One office-local day's service time, as known at `now`."""

    date: date
    scheduled_seconds: float
    lost_by_domain: dict[str, float] = field(default_factory=dict)
    slow_by_domain: dict[str, float] = field(default_factory=dict)
    unmonitored_seconds: float = 0.0
    not_yet_seconds: float = 0.0
    """The future part of the day's service time."""
    note: str | None = None
    """Why the day differs from plain weekly hours (holiday or period name, closed, open)."""
    outages: int = 0
    """Outages that touched the day (in or out of service hours)."""
    planned_by_domain: dict[str, float] = field(default_factory=dict)
    """The lost seconds inside maintenance windows, by domain (issue 16)."""
    degraded_by_uplink: dict[str, float] = field(default_factory=dict)
    """Service seconds on a backup uplink, by the uplink that was down (issue 16)."""

    @property
    def is_service_day(self) -> bool:
        return self.scheduled_seconds > 0

    def as_json(self) -> dict[str, Any]:
        """Plain JSON-ready data, seconds rounded to the millisecond."""
        head = {"date": self.date.isoformat(), "note": self.note, "outages": self.outages}
        return head | self._json()


@dataclass(frozen=True, slots=True)
class Account(_Seconds):
    """A run of days (a trend, a month, a range) and its totals."""

    days: tuple[DayAccount, ...]
    scheduled_seconds: float = 0.0
    lost_by_domain: dict[str, float] = field(default_factory=dict)
    slow_by_domain: dict[str, float] = field(default_factory=dict)
    unmonitored_seconds: float = 0.0
    not_yet_seconds: float = 0.0
    planned_by_domain: dict[str, float] = field(default_factory=dict)
    degraded_by_uplink: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, days: Iterable[DayAccount]) -> Account:
        """The totals of `days`."""
        days = tuple(days)
        lost: dict[str, float] = {}
        slow: dict[str, float] = {}
        planned: dict[str, float] = {}
        degraded: dict[str, float] = {}
        for d in days:
            _add(lost, d.lost_by_domain)
            _add(slow, d.slow_by_domain)
            _add(planned, d.planned_by_domain)
            _add(degraded, d.degraded_by_uplink)
        return cls(
            days,
            sum((d.scheduled_seconds for d in days), 0.0),
            lost,
            slow,
            sum((d.unmonitored_seconds for d in days), 0.0),
            sum((d.not_yet_seconds for d in days), 0.0),
            planned,
            degraded,
        )

    @property
    def service_days(self) -> int:
        return sum(1 for d in self.days if d.scheduled_seconds > 0)

    @property
    def outages(self) -> int:
        return sum(d.outages for d in self.days)

    def as_json(self) -> dict[str, Any]:
        """The days and the totals, JSON-ready."""
        return {
            "days": [d.as_json() for d in self.days],
            "total": {"service_days": self.service_days, "outages": self.outages} | self._json(),
        }


def account_day(
    facts: Facts,
    calendar: ServiceCalendar,
    zone: ZoneInfo,
    day: date,
    now: float,
    unmonitored: Sequence[Span] | None = None,
) -> DayAccount:
    """The account of one office-local day (`unmonitored`: precomputed spans, for speed)."""
    spans = unmonitored_spans(facts, now) if unmonitored is None else unmonitored
    start, end = day_bounds(day, day, zone)
    known = min(max(now, start), end)
    lost: dict[str, float] = {}
    slow: dict[str, float] = {}
    planned: dict[str, float] = {}
    windows = merge_spans(clip(facts.maintenance, start, known))
    outages = 0
    for episode in facts.episodes:
        if not (episode.started_at < end and episode.end_or(now) > start):
            continue
        outages += episode.kind == "outage"
        into = lost if episode.kind == "outage" else slow
        _add(into, episode_seconds(calendar, episode, spans, start, known, now))
        if episode.kind == "outage" and windows:
            _add(planned, planned_seconds(calendar, episode, spans, windows, start, known, now))
    degraded: dict[str, float] = {}
    for s, e, uplink in clip(facts.degraded, start, known):
        seconds = monitored_service_seconds(calendar, s, e, spans)
        if seconds > 0:
            degraded[uplink] = degraded.get(uplink, 0.0) + seconds
    service_day = calendar.day(day)
    return DayAccount(
        date=day,
        scheduled_seconds=service_seconds(calendar, start, end),
        lost_by_domain=lost,
        slow_by_domain=slow,
        unmonitored_seconds=sum(
            (service_seconds(calendar, s, e) for s, e, _ in clip(spans, start, known)), 0.0
        ),
        not_yet_seconds=service_seconds(calendar, known, end),
        note=service_day.reason,
        outages=outages,
        planned_by_domain=planned,
        degraded_by_uplink=degraded,
    )


def account_days(
    facts: Facts, calendar: ServiceCalendar, zone: ZoneInfo, first: date, last: date, now: float
) -> Account:
    """Per-day accounts of every date in [first, last] (closed days too), and their totals."""
    spans = unmonitored_spans(facts, now)
    days = (first + timedelta(days=i) for i in range((last - first).days + 1))
    return Account.of(account_day(facts, calendar, zone, d, now, spans) for d in days)
