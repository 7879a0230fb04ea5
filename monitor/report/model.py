"""The daily report as data: one pure function from ledger rows, calendar, config, day and `now`.

Everything a template or the chart shows is computed here, in seconds, from the same
definitions the daemon uses (`monitor.tracker`): lost service time is an outage intersected with
service hours, less unmonitored time, which is never counted as up or as lost.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from monitor.calendar import ServiceCalendar
from monitor.config import Config
from monitor.ledger import Episode, Gap, Ledger, Sample
from monitor.outages import day_bounds
from monitor.report.config import Escalation
from monitor.tracker import lost_service_seconds, service_seconds

TREND_DAYS = (7, 30)
LOOKBACK_DAYS = 120  # far enough back to find 30 service days across Lebaran and year end
STALE_HEARTBEAT = 120.0  # a heartbeat older than this (daemon stopped) starts unmonitored time
TICKET_DOMAINS = ("isp", "datacenter")


@dataclass(frozen=True, slots=True)
class LedgerData:
    """What the report reads from the ledger; `collect` fetches it, tests build it by hand."""

    episodes: tuple[Episode, ...]
    gaps: tuple[Gap, ...]
    samples: tuple[Sample, ...]
    """Data-center probes of the report day."""
    last_seen: float | None = None
    """The ledger's heartbeat: time after it (daemon not running now) is unmonitored."""
    first_seen: float | None = None
    """The first heartbeat ever: time before it is unmonitored."""


@dataclass(frozen=True, slots=True)
class Evidence:
    target: str
    role: str
    reason: str
    message: str
    count: int
    first: datetime | None
    last: datetime | None


@dataclass(frozen=True, slots=True)
class Incident:
    """An outage or slow period that touched the report day, in office-local time."""

    kind: str
    start: datetime
    end: datetime | None
    """None while still open."""
    starts_earlier: bool
    """Started before the report day (the date is shown, not only the time)."""
    ends_later: bool
    duration_seconds: float
    service_seconds: float
    """Service seconds of the report day lost (outage) or slowed (slow) by it."""
    domain: str
    domains: tuple[str, ...]
    first_hop: str | None
    first_hop_reason: str | None
    evidence: tuple[Evidence, ...]
    path: dict[str, Any] | None = None  # issue 14: the ledger's path evidence (report_path.*)


@dataclass(frozen=True, slots=True)
class Unmonitored:
    start: datetime
    end: datetime
    service_seconds: float
    reason: str


@dataclass(frozen=True, slots=True)
class DayTotals:
    date: date
    scheduled_seconds: float
    lost_seconds: float
    slow_seconds: float
    unmonitored_seconds: float
    lost_by_domain: dict[str, float] = field(default_factory=dict)
    outages: int = 0
    note: str | None = None

    @property
    def lost_ratio(self) -> float | None:
        return self.lost_seconds / self.scheduled_seconds if self.scheduled_seconds else None


@dataclass(frozen=True, slots=True)
class Totals:
    """A run of days (trend or month so far)."""

    days: tuple[DayTotals, ...]
    scheduled_seconds: float
    lost_seconds: float
    slow_seconds: float
    unmonitored_seconds: float

    @property
    def lost_ratio(self) -> float | None:
        return self.lost_seconds / self.scheduled_seconds if self.scheduled_seconds else None

    @property
    def service_days(self) -> int:
        return sum(1 for d in self.days if d.scheduled_seconds > 0)


@dataclass(frozen=True, slots=True)
class HourQuality:
    start: datetime
    samples: int
    failed: int
    p95: float | None

    @property
    def failed_ratio(self) -> float:
        return self.failed / self.samples if self.samples else 0.0


@dataclass(frozen=True, slots=True)
class Quality:
    """Data-center probes during service hours; percentiles are nearest-rank over successes."""

    samples: int
    failed: int
    p50: float | None
    p95: float | None
    worst_hour: HourQuality | None


@dataclass(frozen=True, slots=True)
class TicketTarget:
    name: str
    address: str

    def __str__(self) -> str:
        return f"{self.name} ({self.address})"


@dataclass(frozen=True, slots=True)
class Ticket:
    """A ready-to-paste complaint for the ISP (`isp`) or the ministry's help desk (`datacenter`)."""

    domain: str
    recipient: str
    circuit: str | None
    targets: tuple[TicketTarget, ...]
    incidents: tuple[Incident, ...]
    total_seconds: float
    service_seconds: float


@dataclass(frozen=True, slots=True)
class Timeline:
    """What the chart draws, as unix seconds (the chart converts to local hours)."""

    start: float
    end: float
    service: tuple[tuple[float, float], ...]
    episodes: tuple[tuple[float, float, str, str], ...]
    """(start, end, kind, domain), one per domain span, clipped to the day."""
    unmonitored: tuple[tuple[float, float], ...]
    latency: tuple[tuple[float, float, bool], ...]
    """(at, seconds, ok) of every data-center probe of the day."""


@dataclass(frozen=True, slots=True)
class DailyReport:
    office_name: str
    office_id: str
    timezone: str
    zone_abbr: str
    day: date
    generated_at: datetime
    complete: bool
    """False while the service day is still running (`now` before its last closing)."""
    is_service_day: bool
    day_note: str | None
    """Holiday or period name, or "closed"/"open" for a single-day override."""
    service_hours: tuple[tuple[datetime, datetime], ...]
    scheduled_seconds: float
    elapsed_seconds: float
    """Scheduled seconds up to `now` (all of them once the day is over)."""
    lost_seconds: float
    lost_by_domain: dict[str, float]
    slow_seconds: float
    slow_by_domain: dict[str, float]
    unmonitored_seconds: float
    unmonitored: tuple[Unmonitored, ...]
    availability: float | None
    """Share of monitored service seconds without an outage; None when nothing was monitored."""
    verdict_kind: str
    """"outage", "slow", "normal" or "unmonitored"."""
    verdict_domain: str | None
    incidents: tuple[Incident, ...]
    quality: Quality
    trends: tuple[Totals, ...]
    month: Totals
    tickets: tuple[Ticket, ...]
    worth_sending: bool
    """False on a closed day without an outage: no mail is sent."""
    timeline: Timeline = field(repr=False)

    @property
    def lost_ratio(self) -> float | None:
        return self.lost_seconds / self.scheduled_seconds if self.scheduled_seconds else None

    def as_json(self) -> dict[str, Any]:
        """Plain JSON-ready data (without the chart's sample points)."""
        return _plain({k: getattr(self, k) for k in self.__slots__ if k != "timeline"}) | {
            "lost_ratio": self.lost_ratio
        }


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "__slots__") and hasattr(value, "__dataclass_fields__"):
        return {k: _plain(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# --- reading the ledger -------------------------------------------------------------------
def trend_days(calendar: ServiceCalendar, day: date, count: int = max(TREND_DAYS)) -> list[date]:
    """The last `count` service days up to and including `day`, oldest first."""
    found: list[date] = []
    d = day
    while len(found) < count and (day - d).days < LOOKBACK_DAYS:
        if calendar.day(d).is_service_day:
            found.append(d)
        d -= timedelta(days=1)
    return found[::-1]


def window(calendar: ServiceCalendar, config: Config, day: date) -> tuple[float, float]:
    """The span of ledger time a report of `day` reads: its trend and its month."""
    days = trend_days(calendar, day)
    first = min([day.replace(day=1), *days])
    return day_bounds(first, day, config)


def collect(ledger: Ledger, calendar: ServiceCalendar, config: Config, day: date) -> LedgerData:
    """Read everything `build_report` needs for `day` from the ledger."""
    start, end = window(calendar, config, day)
    day_start, day_end = day_bounds(day, day, config)
    return LedgerData(
        episodes=tuple(ledger.episodes(start, end)),
        gaps=tuple(ledger.gaps(start, end)),
        samples=tuple(ledger.samples(day_start, day_end, role="datacenter")),
        last_seen=ledger.last_seen(),
        first_seen=ledger.first_seen(),
    )


# --- the pure part ------------------------------------------------------------------------
def _gap_spans(data: LedgerData, now: float) -> list[tuple[float, float, str]]:
    spans = [(g.started_at, g.ended_at, g.reason) for g in data.gaps]
    if data.first_seen is not None:
        # Before the office was first monitored nothing is known: not up, not lost.
        spans.append((0.0, data.first_seen, "not monitored yet"))
    if data.last_seen is not None and now - data.last_seen > STALE_HEARTBEAT:
        spans.append((data.last_seen, now, "daemon not running"))
    return spans


def _lost(
    calendar: ServiceCalendar, start: float, end: float, gaps: Sequence[tuple[float, float]]
) -> float:
    """Service seconds in [start, end) less unmonitored ones, by the tracker's own rule."""
    if end <= start:
        return 0.0
    return lost_service_seconds(calendar, Episode(0, "outage", start, end, []), list(gaps), end)


def _domain_seconds(
    calendar: ServiceCalendar,
    episodes: Iterable[Episode],
    kind: str,
    start: float,
    end: float,
    gaps: Sequence[tuple[float, float]],
    now: float,
) -> dict[str, float]:
    by_domain: dict[str, float] = {}
    for episode in episodes:
        if episode.kind != kind:
            continue
        for s, e, domain in episode.domain_spans(now):
            seconds = _lost(calendar, max(s, start), min(e, end), gaps)
            if seconds > 0:
                by_domain[domain] = by_domain.get(domain, 0.0) + seconds
    return by_domain


def day_totals(
    calendar: ServiceCalendar,
    config: Config,
    data: LedgerData,
    d: date,
    gaps: Sequence[tuple[float, float]],
    now: float,
) -> DayTotals:
    start, end = day_bounds(d, d, config)
    end_known = min(end, now)
    episodes = [e for e in data.episodes if e.started_at < end and e.end_or(now) > start]
    lost = _domain_seconds(calendar, episodes, "outage", start, end_known, gaps, now)
    slow = _domain_seconds(calendar, episodes, "slow", start, end_known, gaps, now)
    unmonitored = sum(service_seconds(calendar, max(s, start), min(e, end_known)) for s, e in gaps)
    service_day = calendar.day(d)
    return DayTotals(
        d,
        service_day.scheduled_seconds,
        sum(lost.values()),
        sum(slow.values()),
        unmonitored,
        lost,
        sum(1 for e in episodes if e.kind == "outage"),
        service_day.reason,
    )


def _totals(days: Sequence[DayTotals]) -> Totals:
    return Totals(
        tuple(days),
        sum(d.scheduled_seconds for d in days),
        sum(d.lost_seconds for d in days),
        sum(d.slow_seconds for d in days),
        sum(d.unmonitored_seconds for d in days),
    )


def _percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of sorted `values` (the value a share q of probes stayed under)."""
    if not values:
        return None
    return values[max(math.ceil(q * len(values)) - 1, 0)]


def _quality(service: Sequence[tuple[float, float]], samples: Sequence[Sample], tz: Any) -> Quality:
    inside = [s for s in samples if any(a <= s.at < b for a, b in service)]
    hours: dict[datetime, list[Sample]] = {}
    for s in inside:
        local = datetime.fromtimestamp(s.at, tz)
        hours.setdefault(local.replace(minute=0, second=0, microsecond=0), []).append(s)
    per_hour = []
    for start, group in sorted(hours.items()):
        ok = sorted(s.latency for s in group if s.ok)
        failed = sum(1 for s in group if not s.ok)
        per_hour.append(HourQuality(start, len(group), failed, _percentile(ok, 0.95)))
    worst = max(
        per_hour, key=lambda h: (h.failed_ratio, h.p95 or 0.0), default=None
    )  # the earliest hour wins a tie: max keeps the first maximum
    ok = sorted(s.latency for s in inside if s.ok)
    return Quality(
        samples=len(inside),
        failed=sum(1 for s in inside if not s.ok),
        p50=_percentile(ok, 0.50),
        p95=_percentile(ok, 0.95),
        worst_hour=worst,
    )


def _evidence(episode: Episode, tz: Any) -> tuple[Evidence, ...]:
    def local(ts: Any) -> datetime | None:
        return datetime.fromtimestamp(ts, tz) if isinstance(ts, int | float) else None

    entries = sorted(
        episode.evidence.get("targets", {}).items(), key=lambda kv: kv[1].get("first_at") or 0
    )
    return tuple(
        Evidence(
            target=str(name),
            role=str(e.get("role", "")),
            reason=str(e.get("reason") or ""),
            message=str(e.get("message") or ""),
            count=int(e.get("count") or 0),
            first=local(e.get("first_at")),
            last=local(e.get("last_at")),
        )
        for name, e in entries
    )


def _incident(
    calendar: ServiceCalendar,
    episode: Episode,
    start: float,
    end: float,
    gaps: Sequence[tuple[float, float]],
    now: float,
    tz: Any,
) -> Incident:
    ended = episode.end_or(now)
    hop = episode.evidence.get("first_hop")
    first_hop = None if hop is None else str(hop)
    hop_entry: dict[str, Any] = episode.evidence.get("targets", {}).get(first_hop or "", {})
    domains: list[str] = []
    for _, _, domain in episode.domain_spans(now):
        if not domains or domains[-1] != domain:
            domains.append(domain)
    return Incident(
        kind=episode.kind,
        start=datetime.fromtimestamp(episode.started_at, tz),
        end=None if episode.ended_at is None else datetime.fromtimestamp(episode.ended_at, tz),
        starts_earlier=episode.started_at < start,
        ends_later=episode.ended_at is None or episode.ended_at > end,
        duration_seconds=ended - episode.started_at,
        service_seconds=_lost(calendar, max(episode.started_at, start), min(ended, end), gaps),
        domain=episode.main_domain(now),
        domains=tuple(domains),
        first_hop=first_hop,
        first_hop_reason=hop_entry.get("reason"),
        evidence=_evidence(episode, tz),
        path=episode.evidence.get("path"),
    )


def _tickets(
    config: Config, escalation: Escalation, incidents: Sequence[Incident]
) -> tuple[Ticket, ...]:
    tickets = []
    for domain in TICKET_DOMAINS:
        mine = tuple(i for i in incidents if domain in i.domains)
        if not mine:
            continue
        role = "isp" if domain == "isp" else "datacenter"
        targets = tuple(TicketTarget(t.name, t.address) for t in config.targets if t.role == role)
        tickets.append(
            Ticket(
                domain=domain,
                recipient=escalation.isp if domain == "isp" else escalation.helpdesk,
                circuit=escalation.circuit if domain == "isp" else None,
                targets=targets,
                incidents=mine,
                total_seconds=sum(i.duration_seconds for i in mine),
                service_seconds=sum(i.service_seconds for i in mine),
            )
        )
    return tuple(tickets)


def build_report(
    data: LedgerData,
    calendar: ServiceCalendar,
    config: Config,
    day: date,
    now: float,
    escalation: Escalation | None = None,
) -> DailyReport:
    """The report of local date `day` as known at `now` (unix seconds). Pure: no I/O, no clock."""
    tz = config.office.zone
    escalation = escalation or (config.report.escalation if config.report else Escalation())
    start, end = day_bounds(day, day, config)
    end_known = min(end, now)
    service_day = calendar.day(day)
    gap_rows = _gap_spans(data, now)
    gaps = [(s, e) for s, e, _ in gap_rows]

    totals = day_totals(calendar, config, data, day, gaps, now)
    episodes = [e for e in data.episodes if e.started_at < end and e.end_or(now) > start]
    lost_by = _domain_seconds(calendar, episodes, "outage", start, end_known, gaps, now)
    slow_by = _domain_seconds(calendar, episodes, "slow", start, end_known, gaps, now)
    incidents = tuple(_incident(calendar, e, start, end_known, gaps, now, tz) for e in episodes)

    unmonitored = tuple(
        Unmonitored(
            datetime.fromtimestamp(max(s, start), tz),
            datetime.fromtimestamp(min(e, end_known), tz),
            service_seconds(calendar, max(s, start), min(e, end_known)),
            reason,
        )
        for s, e, reason in sorted(gap_rows)
        if s < end_known and e > start
    )
    elapsed = service_seconds(calendar, start, end_known)
    monitored = elapsed - totals.unmonitored_seconds
    availability = (monitored - totals.lost_seconds) / monitored if monitored > 0 else None

    if lost_by:
        verdict_kind, verdict_domain = "outage", max(lost_by, key=lambda d: lost_by[d])
    elif slow_by:
        verdict_kind, verdict_domain = "slow", max(slow_by, key=lambda d: slow_by[d])
    elif elapsed > 0 and monitored <= 0:
        verdict_kind, verdict_domain = "unmonitored", None
    else:
        verdict_kind, verdict_domain = "normal", None

    trend_list = trend_days(calendar, day)
    per_day = {d: day_totals(calendar, config, data, d, gaps, now) for d in trend_list}
    per_day[day] = totals
    trends = tuple(_totals([per_day[d] for d in trend_list[-n:]]) for n in TREND_DAYS)
    month_days = [day.replace(day=1) + timedelta(days=i) for i in range(day.day)]
    month = _totals(
        [per_day.get(d) or day_totals(calendar, config, data, d, gaps, now) for d in month_days]
    )

    last_close = max((e.timestamp() for _, e in service_day.intervals), default=start)
    timeline = Timeline(
        start=start,
        end=end,
        service=tuple((s.timestamp(), e.timestamp()) for s, e in service_day.intervals),
        episodes=tuple(
            (max(s, start), min(e, end_known), ep.kind, domain)
            for ep in episodes
            for s, e, domain in ep.domain_spans(now)
            if min(e, end_known) > max(s, start)
        ),
        unmonitored=tuple(
            (max(s, start), min(e, end_known)) for s, e in gaps if s < end_known and e > start
        ),
        latency=tuple((s.at, s.latency, s.ok) for s in data.samples if start <= s.at < end),
    )
    return DailyReport(
        office_name=config.office.name,
        office_id=config.office.office_id,
        timezone=config.office.timezone,
        zone_abbr=datetime.fromtimestamp(start, tz).tzname() or config.office.timezone,
        day=day,
        generated_at=datetime.fromtimestamp(now, tz),
        complete=now >= last_close,
        is_service_day=service_day.is_service_day,
        day_note=service_day.reason,
        service_hours=service_day.intervals,
        scheduled_seconds=service_day.scheduled_seconds,
        elapsed_seconds=elapsed,
        lost_seconds=totals.lost_seconds,
        lost_by_domain=lost_by,
        slow_seconds=totals.slow_seconds,
        slow_by_domain=slow_by,
        unmonitored_seconds=totals.unmonitored_seconds,
        unmonitored=unmonitored,
        availability=availability,
        verdict_kind=verdict_kind,
        verdict_domain=verdict_domain,
        incidents=incidents,
        quality=_quality(timeline.service, data.samples, tz),
        trends=trends,
        month=month,
        tickets=_tickets(config, escalation, incidents),
        worth_sending=service_day.is_service_day or any(e.kind == "outage" for e in episodes),
        timeline=timeline,
    )


def range_totals(
    data: LedgerData, calendar: ServiceCalendar, config: Config, first: date, last: date, now: float
) -> Totals:
    """Per-day totals of every date in [first, last] (closed days included, with 0 scheduled)."""
    gaps = [(s, e) for s, e, _ in _gap_spans(data, now)]
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return _totals([day_totals(calendar, config, data, d, gaps, now) for d in days])
