"""The daily report as data: one pure function from ledger rows, calendar, config, day and `now`.

Every second a template or the chart shows comes from the one accounting of service time
(`monitor.calendar.accounting`): lost service time is an outage intersected with service hours,
less unmonitored time, which is never counted as up or as lost. The conclusion comes from
`monitor.report.conclusion`, over the same incidents the table lists.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from monitor.calendar import ServiceCalendar
from monitor.calendar.accounting import (
    Account,
    DayAccount,
    Facts,
    Span,
    account_day,
    account_days,
    clip,
    day_bounds,
    episode_seconds,
    merge_spans,
    planned_seconds,
    service_seconds,
    unmonitored_spans,
)
from monitor.config import Config
from monitor.ledger import Episode, Gap, Ledger, Sample
from monitor.maintenance.facts import facts_for
from monitor.report.conclusion import Conclusion, conclude, normal_hops
from monitor.report.config import Escalation

TREND_DAYS = (7, 30)
LOOKBACK_DAYS = 120  # far enough back to find 30 service days across Lebaran and year end
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
    maintenance: tuple[Span, ...] = ()
    """Maintenance windows (start, end, announced_by) overlapping the report's span."""
    degraded: tuple[Span, ...] = ()
    """Spans on a backup uplink (start, end, uplink)."""

    @property
    def facts(self) -> Facts:
        """What the accounting reads."""
        return Facts(
            self.episodes, self.gaps, self.first_seen, self.last_seen, self.maintenance,
            self.degraded,
        )  # fmt: skip


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
    planned_seconds: float = 0.0
    """Of `service_seconds`, those inside announced maintenance windows (issue 16)."""
    announced: bool = False
    """The whole outage lies inside one announced window: planned work, no complaint to send."""
    path: dict[str, Any] | None = None  # issue 14: the ledger's path evidence (report_path.*)
    fleet: dict[str, Any] | None = None
    """Issue 15: the center's last answer on the verdict (Confirmation.as_dict), if asked."""


@dataclass(frozen=True, slots=True)
class Unmonitored:
    start: datetime
    end: datetime
    service_seconds: float
    reason: str


DayTotals = DayAccount
"""Older name of one day's account (the account lives in monitor.calendar.accounting)."""
Totals = Account
"""Older name of a run of days' account."""


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
    normal: tuple[str, ...] = ()
    """Hops before `domain` that no incident of the day names: the ticket may call them normal."""


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
    """"outage", "slow", "normal", "unmonitored" or "closed" (the conclusion's kind)."""
    verdict_domain: str | None
    incidents: tuple[Incident, ...]
    quality: Quality
    trends: tuple[Account, ...]
    month: Account
    tickets: tuple[Ticket, ...]
    worth_sending: bool
    """False on a closed day without an outage: no mail is sent."""
    timeline: Timeline = field(repr=False)
    account: DayAccount | None = None
    """The day's account: every number above comes from it."""
    conclusion: Conclusion | None = None
    first_seen: float | None = None
    """The first heartbeat ever (None: Pantau never knew the link state)."""

    @property
    def lost_ratio(self) -> float | None:
        """Lost over monitored service time (1 - availability), the headline's share."""
        return None if self.availability is None else 1.0 - self.availability

    @property
    def not_yet_seconds(self) -> float:
        return self.scheduled_seconds - self.elapsed_seconds

    @property
    def monitored_seconds(self) -> float:
        return max(self.elapsed_seconds - self.unmonitored_seconds, 0.0)

    @property
    def mostly_unmonitored(self) -> bool:
        """The headline and subject say "not monitored" instead of a share."""
        return self.account is not None and self.account.mostly_unmonitored

    @property
    def watched_nothing(self) -> bool:
        """Pantau first ran after the day's service hours: nothing to tell (no mail is sent)."""
        if not self.complete or not self.is_service_day:
            return False
        if self.monitored_seconds > 0 or self.incidents:
            return False
        last_close = max(end for _, end in self.service_hours).timestamp()
        return self.first_seen is None or self.first_seen >= last_close

    def as_json(self) -> dict[str, Any]:
        """Plain JSON-ready data (without the chart's sample points)."""
        return _plain({k: getattr(self, k) for k in self.__slots__ if k != "timeline"}) | {
            "lost_ratio": self.lost_ratio,
            "not_yet_seconds": self.not_yet_seconds,
            "monitored_seconds": self.monitored_seconds,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, DayAccount | Account):
        return value.as_json()
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
    return day_bounds(first, day, config.office.zone)


def collect(
    ledger: Ledger, calendar: ServiceCalendar, config: Config, day: date, now: float | None = None
) -> LedgerData:
    """Read everything `build_report` needs for `day` from the ledger."""
    start, end = window(calendar, config, day)
    day_start, day_end = day_bounds(day, day, config.office.zone)
    facts = facts_for(ledger, ledger.path, config, start, end, end if now is None else now)
    return LedgerData(
        episodes=facts.episodes,  # type: ignore[arg-type]
        gaps=facts.gaps,  # type: ignore[arg-type]
        samples=tuple(ledger.samples(day_start, day_end, role="datacenter")),
        last_seen=facts.last_seen,
        first_seen=facts.first_seen,
        maintenance=facts.maintenance,
        degraded=facts.degraded,
    )


# --- the pure part ------------------------------------------------------------------------
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
        # 0 or absent: a ledger written before the first probe's time was kept
        return datetime.fromtimestamp(ts, tz) if isinstance(ts, int | float) and ts > 0 else None

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
    unmonitored: Sequence[Span],
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
        service_seconds=sum(
            episode_seconds(calendar, episode, unmonitored, start, end, now).values(), 0.0
        ),
        domain=episode.main_domain(now),
        domains=tuple(domains),
        first_hop=first_hop,
        first_hop_reason=hop_entry.get("reason"),
        evidence=_evidence(episode, tz),
        path=episode.evidence.get("path"),
        fleet=episode.evidence.get("fleet"),
    )


def _planned(
    incident: Incident,
    calendar: ServiceCalendar,
    episode: Episode,
    facts: Facts,
    unmonitored: Sequence[Span],
    start: float,
    end: float,
    now: float,
) -> Incident:
    """The incident with its planned seconds and whether an announced window holds it whole."""
    if episode.kind != "outage" or not facts.maintenance:
        return incident
    windows = merge_spans(facts.maintenance)
    inside = merge_spans(clip(windows, start, end))
    planned = sum(
        planned_seconds(calendar, episode, unmonitored, inside, start, end, now).values(), 0.0
    )
    ended = episode.end_or(now)
    announced = any(s <= episode.started_at and ended <= e for s, e, _ in windows)
    return replace(incident, planned_seconds=planned, announced=announced)


def _tickets(
    config: Config, escalation: Escalation, incidents: Sequence[Incident]
) -> tuple[Ticket, ...]:
    tickets = []
    for domain in TICKET_DOMAINS:
        # Issue 16: work announced in advance is not a failure to complain about.
        mine = tuple(i for i in incidents if domain in i.domains and not i.announced)
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
                normal=normal_hops(domain, incidents),
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
    start, end = day_bounds(day, day, tz)
    end_known = min(end, now)
    service_day = calendar.day(day)
    facts = data.facts
    spans = unmonitored_spans(facts, now)
    account = account_day(facts, calendar, tz, day, now, spans)
    episodes = [e for e in data.episodes if e.started_at < end and e.end_or(now) > start]
    incidents = tuple(
        _planned(_incident(calendar, e, start, end_known, spans, now, tz), calendar, e, facts,
                 spans, start, end_known, now)
        for e in episodes
    )  # fmt: skip
    day_spans = clip(spans, start, end_known)
    unmonitored = tuple(
        Unmonitored(
            datetime.fromtimestamp(s, tz),
            datetime.fromtimestamp(e, tz),
            service_seconds(calendar, s, e),
            reason,
        )
        for s, e, reason in day_spans
    )
    conclusion = conclude(account, incidents)

    trend_list = trend_days(calendar, day)
    per_day = {d: account_day(facts, calendar, tz, d, now, spans) for d in trend_list}
    per_day[day] = account
    trends = tuple(Account.of([per_day[d] for d in trend_list[-n:]]) for n in TREND_DAYS)
    month_days = [day.replace(day=1) + timedelta(days=i) for i in range(day.day)]
    month = Account.of(
        per_day.get(d) or account_day(facts, calendar, tz, d, now, spans) for d in month_days
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
        unmonitored=tuple((s, e) for s, e, _ in day_spans),
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
        scheduled_seconds=account.scheduled_seconds,
        elapsed_seconds=account.elapsed_seconds,
        lost_seconds=account.lost_seconds,
        lost_by_domain=account.lost_by_domain,
        slow_seconds=account.slow_seconds,
        slow_by_domain=account.slow_by_domain,
        unmonitored_seconds=account.unmonitored_seconds,
        unmonitored=unmonitored,
        availability=account.availability,
        verdict_kind=conclusion.kind,
        verdict_domain=conclusion.domain,
        incidents=incidents,
        quality=_quality(timeline.service, data.samples, tz),
        trends=trends,
        month=month,
        tickets=_tickets(config, escalation, incidents),
        worth_sending=service_day.is_service_day or any(e.kind == "outage" for e in episodes),
        timeline=timeline,
        account=account,
        conclusion=conclusion,
        first_seen=data.first_seen,
    )


def range_totals(
    data: LedgerData, calendar: ServiceCalendar, config: Config, first: date, last: date, now: float
) -> Account:
    """Per-day accounts of every date in [first, last] (closed days included, with 0 scheduled)."""
    return account_days(data.facts, calendar, config.office.zone, first, last, now)
