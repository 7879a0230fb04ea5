"""The status page as data: a small JSON view-model, every sentence in the page's language.

Built from the daemon's live verdict (cheap, read per build) and the ledger's last 7 service
days (`service_week`, read at most every `WEEK_MAX_AGE` s). The whole body is cached for
`BODY_MAX_AGE` s, so any number of screens polling every `POLL_SECONDS` s cost one build per
second at most, and a state change reaches every screen within BODY_MAX_AGE + POLL_SECONDS
(3 s; the issue promises 5).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from monitor import __version__
from monitor.calendar import ServiceCalendar
from monitor.calendar.accounting import account_days, day_bounds
from monitor.config import Config
from monitor.ledger import Ledger
from monitor.maintenance.central import planned_between
from monitor.maintenance.facts import facts_for
from monitor.maintenance.plan import Planned, active
from monitor.report.locale import Formatter
from monitor.report.model import trend_days
from monitor.vocabulary import LINK_STATES

POLL_SECONDS = 2.0
"""How often the page fetches /status.json."""
BODY_MAX_AGE = 1.0
"""How old a served body may be."""
WEEK_MAX_AGE = 5.0
"""How old the ledger's figures (lost today, the 7 days) may be: one ledger read per 5 s."""
STALE_AFTER_SECONDS = 8.0
"""With no successful fetch for this long the page says its data is stale (3 polls missed)."""
WEEK_DAYS = 7
_SEVERITY = defaultdict(lambda: 2, {"down": 0, "slow": 1, "up": 3})
log = logging.getLogger("pantau")


@dataclass(frozen=True, slots=True)
class DayBar:
    """One service day of the bar, in seconds of its scheduled service time."""

    date: date
    scheduled: float
    lost: float
    unmonitored: float
    later: float
    """Service time of the day that has not come yet (today only)."""

    @property
    def available(self) -> float:
        return max(0.0, self.scheduled - self.lost - self.unmonitored - self.later)


@dataclass(frozen=True, slots=True)
class Week:
    today: date
    today_lost: float
    """Service seconds lost today (0 on a closed day)."""
    days: tuple[DayBar, ...]
    """The last 7 service days up to today, oldest first."""
    today_planned: float = 0.0
    """Of `today_lost`, the seconds inside announced maintenance windows (issue 16)."""
    maintenance: Planned | None = None
    """The maintenance window open now, if any."""


def service_week(ledger: Ledger, calendar: ServiceCalendar, config: Config, now: float) -> Week:
    """Today's lost service time and the last 7 service days: the one place the page gets them.

    Reads the one accounting of service time (`monitor.calendar.accounting`), as the e-mail,
    the recap and the APIs do, so the page and they agree to the second.
    """
    zone = config.office.zone
    today = datetime.fromtimestamp(now, zone).date()
    days = trend_days(calendar, today, WEEK_DAYS)
    first = min([*days, today])
    start, end = day_bounds(first, today, zone)
    facts = facts_for(ledger, ledger.path, config, start, end, now)
    by_date = {d.date: d for d in account_days(facts, calendar, zone, first, today, now).days}
    bars = []
    for d in days:
        day = by_date[d]
        bars.append(
            DayBar(d, day.scheduled_seconds, day.lost_seconds, day.unmonitored_seconds,
                   day.not_yet_seconds)
        )  # fmt: skip
    active_window = active(planned_between(config, ledger.path, now - 1, now + 1), now)
    return Week(
        today, by_date[today].lost_seconds, tuple(bars), by_date[today].planned_seconds,
        active_window,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Live:
    """What the daemon knows right now, without touching the ledger."""

    state: str
    """The link state: unknown, up, slow or down."""
    domain: str | None
    since: float | None
    """Start of the open outage or slow period (unix time)."""
    healthy: bool
    """False when the probes are not running: nothing shown may look current."""
    targets: tuple[tuple[str, str, str], ...] = ()
    """(name, role, state) of every target."""
    degraded: bool = False
    """Up on backup (issue 16): the service answers only through a backup uplink."""
    fleet: dict[str, Any] | None = None
    """Issue 15: the center's last answer (Confirmation.as_dict); shown if about this verdict."""


class Words(Protocol):
    """The issue-13 block of report_words.<language>.txt (a Jinja template module)."""

    status_title: str
    status_headline: dict[str, str]
    status_detail: dict[str, str]
    status_since: str
    status_since_day: str
    status_recovery: str
    status_holiday: str
    status_reopens: str
    status_reopens_today: str
    status_reopens_tomorrow: str
    status_reopens_day: str
    status_reopens_unknown: str
    status_hours: str
    status_hours_closed: str
    status_lost_today: str
    status_days: str
    status_legend: dict[str, str]
    status_day_lost: str
    status_day_ok: str
    status_updated: str
    status_targets: str
    status_roles: dict[str, str]
    status_target_states: dict[str, str]
    status_maintenance_detail: str
    status_degraded: str
    status_planned_today: str
    announced_by: dict[str, str]
    status_fleet: dict[str, str]


def _hhmm(moment: datetime, day: date) -> str:
    return "24:00" if moment.date() > day else f"{moment:%H:%M}"


def _headline(
    live: Live, config: Config, calendar: ServiceCalendar, words: Words, fmt: Formatter, now: float
) -> tuple[str, str, list[str]]:
    """(tone, state key, [headline, detail lines...]) for the big banner."""
    zone = config.office.zone
    at = datetime.fromtimestamp(now, UTC)
    today = at.astimezone(zone).date()
    if not live.healthy:
        updated = fmt.time(at.astimezone(zone))
        detail = words.status_detail["stale"].format(time=updated)
        return "stale", "stale", [words.status_headline["stale"], detail]
    if not calendar.is_open(at):
        service_day = calendar.day(today)
        key = "closed" if service_day.is_service_day else "closed_today"
        lines = [words.status_headline[key]]
        if not service_day.is_service_day and service_day.name:
            lines.append(words.status_holiday.format(name=service_day.name))
        opens = calendar.next_change(at)
        if opens is None:
            lines.append(words.status_reopens_unknown)
        else:
            local = opens.astimezone(zone)
            time_text = fmt.time(local)
            if local.date() == today:
                when = words.status_reopens_today.format(time=time_text)
            elif local.date() == today + timedelta(days=1):
                when = words.status_reopens_tomorrow.format(time=time_text)
            else:
                when = words.status_reopens_day.format(day=fmt.date(local.date()), time=time_text)
            lines.append(words.status_reopens.format(when=when))
        return "closed", key, lines
    if live.state not in LINK_STATES:
        checking = [words.status_headline["unknown"], words.status_detail["unknown"]]
        return "checking", "unknown", checking
    if live.state == "up":
        return "ok", "up", [words.status_headline["up"], words.status_detail["up"]]
    key = f"{live.state}/{live.domain or 'unknown'}"
    if key not in words.status_headline:
        key = f"{live.state}/unknown"
    lines = [words.status_headline[key], words.status_detail[key]]
    fleet = live.fleet or {}
    # Issue 15: how many offices see the same ("Dikonfirmasi: 312 dari 498 kantor ..."); an
    # office without `isp` set is never compared with its ISP: nothing to say each time.
    if live.state == "down" and fleet.get("domain") == live.domain and fleet.get("why") != "no_isp":
        text = words.status_fleet.get(str(fleet.get("state")))
        if text is not None:
            lines.append(text.format(offices=fleet.get("offices"), of=fleet.get("of")))
    if live.since is not None:
        started = datetime.fromtimestamp(live.since, zone)
        if started.date() == today:
            lines.append(words.status_since.format(time=fmt.time(started)))
        else:
            day_text = fmt.date(started.date())
            lines.append(words.status_since_day.format(day=day_text, time=fmt.time(started)))
    if live.state == "down":
        lines.append(words.status_recovery)
    return live.state, key, lines


def build_view(
    live: Live,
    week: Week,
    config: Config,
    calendar: ServiceCalendar,
    words: Words,
    now: float,
) -> dict[str, Any]:
    """The page's view-model: pure, `now` and the state are arguments."""
    page = config.status_page
    fmt = Formatter(page.language)
    zone = config.office.zone
    tone, key, lines = _headline(live, config, calendar, words, fmt, now)
    if week.maintenance is not None and tone not in ("stale", "closed"):
        window = week.maintenance
        until = datetime.fromtimestamp(window.end, zone)
        until_text = fmt.time(until)
        if until.date() != datetime.fromtimestamp(now, zone).date():
            until_text = f"{fmt.date(until.date())} {until_text}"
        who = words.announced_by.get(window.announced_by, window.announced_by)
        lines.insert(
            1, words.status_maintenance_detail.format(who=who, name=window.name, until=until_text)
        )
    if live.degraded and tone in ("ok", "slow"):
        lines.insert(1, words.status_degraded)
    if week.today_planned > 0:
        lines.append(f"{words.status_planned_today}: {fmt.duration(week.today_planned)}")
    today = datetime.fromtimestamp(now, zone).date()
    intervals = calendar.day(today).intervals
    hours = ", ".join(f"{_hhmm(s, today)}–{_hhmm(e, today)}" for s, e in intervals)
    updated = fmt.time(datetime.fromtimestamp(now, zone))
    view: dict[str, Any] = {
        "tone": tone,
        "state": key,
        "headline": lines[0],
        "lines": lines[1:],
        "notice": page.notice,
        "hours": {"label": words.status_hours, "value": hours or words.status_hours_closed},
        "lost_today": {
            "label": words.status_lost_today,
            "value": fmt.duration(week.today_lost),
            "seconds": round(week.today_lost, 1),
        },
        "days": {
            "label": words.status_days,
            "legend": dict(words.status_legend),
            "bars": [_bar(bar, words, fmt) for bar in week.days],
        },
        "targets": None,
        "updated": words.status_updated.format(time=updated),
        "stale": {
            "headline": words.status_headline["stale"],
            "detail": words.status_detail["stale"].format(time=updated),
        },
        "generated_at": round(now, 3),
        "poll_seconds": POLL_SECONDS,
        "version": __version__,
        "stale_after_seconds": STALE_AFTER_SECONDS,
    }
    if page.show_targets:
        view["targets"] = {
            "label": words.status_targets,
            "items": [
                {
                    "name": name,
                    "role": words.status_roles.get(role, role),
                    "state": state,
                    "text": words.status_target_states.get(state, state),
                }
                # Trouble first: a long list is cut on screen, never a failing target.
                for name, role, state in sorted(live.targets, key=lambda t: _SEVERITY[t[2]])
            ],
        }
    return view


def _bar(bar: DayBar, words: Words, fmt: Formatter) -> dict[str, Any]:
    # A day nobody watched must not read "0 minutes lost": that would look like a good day.
    if bar.lost > 0:
        text = words.status_day_lost.format(lost=fmt.duration(bar.lost))
    elif bar.available > 0:
        text = words.status_day_ok
    elif bar.unmonitored > 0:
        text = words.status_legend["unmonitored"]
    else:
        text = words.status_legend["later"]
    return {
        "date": bar.date.isoformat(),
        "label": fmt.weekday_abbr(bar.date),
        "scheduled": round(bar.scheduled),
        "lost": round(bar.lost),
        "available": round(bar.available),
        "unmonitored": round(bar.unmonitored),
        "later": round(bar.later),
        "text": text,
    }


class StatusBoard:
    """Serves the view-model as cached JSON bytes; the ledger is read at most every 5 s."""

    def __init__(
        self,
        config: Config,
        calendar: ServiceCalendar,
        words: Words,
        live: Callable[[], Live],
        week: Callable[[float], Week],
        wall: Callable[[], float],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.calendar = calendar
        self.words = words
        self._live = live
        self._week_fn = week
        self._wall = wall
        self._monotonic = monotonic
        self._body: bytes | None = None
        self._body_at = 0.0
        self._week: Week | None = None
        self._week_at = 0.0
        self._week_key: tuple[object, ...] = ()
        self.builds = 0
        self.week_reads = 0

    def view(self) -> dict[str, Any]:
        """A fresh view-model; the ledger is re-read after 5 s or a change of state."""
        now, mono, live = self._wall(), self._monotonic(), self._live()
        today = datetime.fromtimestamp(now, self.config.office.zone).date()
        # A state change re-reads at once, so the figures never lag the headline.
        key = (today, live.state, live.domain, live.since)
        week = self._week
        if week is None or mono - self._week_at >= WEEK_MAX_AGE or key != self._week_key:
            self._week_at, self._week_key = mono, key
            self.week_reads += 1
            try:
                week = self._week = self._week_fn(now)
            except (sqlite3.Error, OSError) as exc:
                # The headline is live and must not go with the ledger; /healthz says why.
                log.warning("status page: cannot read the ledger (%s); figures kept", exc)
                if week is None or week.today != today:
                    week = Week(today, 0.0, ())
        self.builds += 1
        return build_view(live, week, self.config, self.calendar, self.words, now)

    def body(self) -> bytes:
        """The JSON body, rebuilt at most once per BODY_MAX_AGE seconds."""
        mono = self._monotonic()
        if self._body is None or mono - self._body_at >= BODY_MAX_AGE:
            self._body = json.dumps(self.view(), ensure_ascii=False).encode()
            self._body_at = mono
        return self._body
