"""Facts a page needs that only the daemon knows, exported as bounded gauges for the rules.

A page is written by Prometheus (rules/pantau.yml) from these series, so it reads the same
facts as the ledger: the outage's back-dated start, the hop Pantau blames and why, the office's
name and language, and the service windows ahead. The windows let Prometheus page while the
office is open even when the daemon is dead: the last scrape still says when it opens next,
holidays included (PromQL cannot know Indonesian holidays).
"""

from __future__ import annotations

import math
from datetime import timedelta

from monitor.calendar import ServiceCalendar
from monitor.config import Config
from monitor.metrics import Metrics
from monitor.report.config import Escalation
from monitor.tracker import LinkTracker, utc

WINDOW_HORIZON = timedelta(days=8)  # a daemon dead over a long weekend still pages on Monday
MAX_WINDOWS = 16  # a week of mornings and afternoons (a break splits a day in two)
RECHECK_SECONDS = 3600.0  # the horizon moves on: recompute at least hourly


class PageFacts:
    """Keeps the page series of one daemon current; `update` runs on every flush (2 s)."""

    def __init__(self, config: Config, calendar: ServiceCalendar, metrics: Metrics) -> None:
        self.calendar = calendar
        self.metrics = metrics
        report = config.report
        escalation = report.escalation if report is not None else Escalation.model_validate({})
        metrics.page_info.labels(
            language=config.pages.language,
            dashboard_url=config.pages.dashboard_url or "",
            isp=escalation.isp,
            circuit=escalation.circuit or "",
            helpdesk=escalation.helpdesk,
        ).set(1)
        self._hop: tuple[str, str, str] | None = None
        self._windows_until = -math.inf
        self._windows = 0

    def update(self, tracker: LinkTracker, now: float) -> None:
        episode = tracker.episode
        outage = episode if episode is not None and episode.kind == "outage" else None
        self.metrics.outage_start.set(0.0 if outage is None else outage.started_at)
        hop = None
        culprit = tracker.verdict.culprit
        if outage is not None and culprit is not None and culprit in tracker.targets:
            state = tracker.targets[culprit]
            failure = state.last_failure
            reason = failure.reason if failure is not None and failure.reason else "unknown"
            hop = (culprit, state.role, reason)
        if hop != self._hop:
            self.metrics.outage_hop.clear()
            if hop is not None:
                self.metrics.outage_hop.labels(*hop).set(1)
            self._hop = hop
        if now >= self._windows_until:
            self._export_windows(now)

    def _export_windows(self, now: float) -> None:
        # From local midnight, so the open window keeps its real start (not "now").
        local = utc(now).astimezone(self.calendar.tz)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        found = self.calendar.intervals(midnight, midnight + WINDOW_HORIZON)
        windows = [(s, e) for s, e in found if e.timestamp() > now][:MAX_WINDOWS]
        for index, (opens, closes) in enumerate(windows):
            self.metrics.window_start.labels(str(index)).set(opens.timestamp())
            self.metrics.window_end.labels(str(index)).set(closes.timestamp())
        for index in range(len(windows), self._windows):
            self.metrics.window_start.remove(str(index))
            self.metrics.window_end.remove(str(index))
        self._windows = len(windows)
        # Recompute when the first window closes (the next one becomes window 0) or hourly.
        first_end = windows[0][1].timestamp() if windows else math.inf
        self._windows_until = min(first_end, now + RECHECK_SECONDS)
