"""Turns probe results into outages and slow periods with a verdict, and keeps the ledger.

Read top to bottom per result: target state -> link verdict -> episode open/close/domain ->
metrics -> ledger. Pure of the clock: every instant comes from a probe result or from the
`now` the daemon passes to `flush()`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from monitor.calendar import ServiceCalendar
from monitor.calendar.accounting import service_seconds
from monitor.config import Config
from monitor.ledger import Episode, EpisodeKind, Ledger, Sample
from monitor.metrics import Metrics
from monitor.path.analysis import PathFinding
from monitor.probes.result import ProbeResult
from monitor.state import TargetState, Thresholds, Transition
from monitor.uplinks.verdict import judge_link
from monitor.uplinks.watch import UplinkWatch
from monitor.verdict import LinkVerdict

log = logging.getLogger(__name__)
EventSink = Callable[[str, dict[str, Any]], None]

_EPISODE_OF: dict[str, EpisodeKind] = {"down": "outage", "slow": "slow"}


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def lost_service_seconds(
    calendar: ServiceCalendar, episode: Episode, gaps: list[tuple[float, float]], now: float
) -> float:
    """Service seconds of the episode, less any unmonitored gap inside it (never counted lost).

    Kept for older callers; the views read monitor.calendar.accounting, which also counts the
    time before the first heartbeat and after a stale one as unmonitored.
    """
    start, end = episode.started_at, episode.end_or(now)
    total = service_seconds(calendar, start, end)
    for gap_start, gap_end in gaps:
        total -= service_seconds(calendar, max(start, gap_start), min(end, gap_end))
    return max(total, 0.0)


class LinkTracker:
    """Owns the target states, the open episode, and the accounting of lost service time."""

    def __init__(
        self,
        config: Config,
        calendar: ServiceCalendar,
        ledger: Ledger,
        metrics: Metrics,
        events: EventSink | None = None,
    ) -> None:
        self.calendar = calendar
        self.ledger = ledger
        self.metrics = metrics
        self._events = events or (lambda kind, data: None)
        self.targets: dict[str, TargetState] = {}
        shared: dict[Thresholds, Thresholds] = {}  # one per distinct set, not one per target
        for target in config.targets:
            limits = Thresholds(
                down_after=config.outage.down_after,
                up_after=config.outage.up_after,
                slow_latency=config.slow_latency_of(target),
                slow_loss=config.outage.slow_loss,
            )
            limits = shared.setdefault(limits, limits)
            self.targets[target.name] = TargetState(target.name, target.role, limits)
            self.metrics.set_target_state(target.name, "unknown")
        # Finer than one probe interval, the order of failures on two hops is unknowable.
        self._resolution = max(config.interval_of(t) for t in config.targets)
        self.verdict = LinkVerdict("unknown", None)
        self.episode: Episode | None = None
        self._resumed: list[Episode] = []
        self._gap_start: float | None = None
        self._accounted_until = 0.0
        self._samples: list[Sample] = []
        # Issue 16: which uplink each target is probed through; the daemon sets the watch.
        self.uplink_of = {t.name: t.uplink for t in config.targets}
        self.uplink_watch: UplinkWatch | None = None
        # Path findings per data-center target (issue 14); None when path tracing is off.
        self.paths: dict[str, PathFinding] | None = {} if config.path.enabled else None

    # --- start-up: continue what the previous run left open ---
    def resume(self, now: float) -> None:
        """Pick up open episodes and the unmonitored gap since the last run's heartbeat."""
        self._resumed = self.ledger.open_episodes()
        last_seen = self.ledger.last_seen()
        self._gap_start = last_seen if last_seen is not None else None
        if self._resumed and self._gap_start is None:
            self._gap_start = max(e.updated_at for e in self._resumed)

    # --- per result ---
    def observe(self, result: ProbeResult) -> None:
        if result.reason == "internal":
            return  # a bug in Pantau is no evidence about any hop: no sample, no state change
        self._samples.append(
            Sample(
                result.started_at,
                result.target,
                result.role,
                result.ok,
                result.latency,
                result.reason,
            )
        )
        state = self.targets.get(result.target)
        if state is None:
            return
        transition = state.observe(result)
        if self.episode is not None:
            self._add_evidence(state, result)
        if transition is not None:
            self._on_transition(transition)

    def _on_transition(self, transition: Transition) -> None:
        self.metrics.set_target_state(transition.target, transition.new)
        self._events(
            "target",
            {
                "target": transition.target,
                "role": transition.role,
                "old": transition.old,
                "new": transition.new,
                "at": transition.at,
                "reason": transition.result.reason,
                "message": transition.result.message,
            },
        )
        if self.paths is not None:
            self.paths.pop(transition.target, None)  # its path must be traced again
        verdict = judge_link(self.targets.values(), self.uplink_of, self.paths)  # issue 16
        if self.uplink_watch is not None:
            self.uplink_watch.update(self.targets.values(), transition.at, self.paths)
        if verdict != self.verdict:
            self._on_verdict(verdict, transition.at)

    def on_path(
        self, target: str, finding: PathFinding, evidence: dict[str, Any], at: float
    ) -> None:
        """A trace finished: keep it as evidence and let it confirm or correct the verdict."""
        if self.paths is None:
            return
        self.paths[target] = finding
        episode = self.episode
        if episode is not None:
            path = episode.evidence.setdefault("path", {})
            path.setdefault("targets", {})[target] = evidence
        verdict = judge_link(self.targets.values(), self.uplink_of, self.paths)  # issue 16
        if verdict != self.verdict:
            # The trace refines the verdict of the change that asked for it: it replaces the
            # domain in place rather than opening a new stretch at the trace's finishing time.
            self._on_verdict(verdict, at, refine=True)
        elif episode is not None:
            self._path_verdict(episode, verdict)
            self.ledger.save_episode(episode)

    def _path_verdict(self, episode: Episode, verdict: LinkVerdict) -> None:
        if verdict.confirmed is not None:
            path = episode.evidence.setdefault("path", {})
            path["confirmed"] = verdict.confirmed
            path["cause"] = verdict.cause

    def _on_verdict(self, verdict: LinkVerdict, at: float, refine: bool = False) -> None:
        old = self.verdict
        self.verdict = verdict
        self.metrics.set_link_state(verdict.state)
        if old.state == "unknown":
            self._end_gap(at, verdict)
        kind = _EPISODE_OF.get(verdict.state)
        episode = self.episode
        if episode is not None and episode.kind == kind:
            self._path_verdict(episode, verdict)
            if verdict.domain and verdict.domain != episode.domains[-1][1]:
                self._account(at)
                last_at, _ = episode.domains[-1]
                if refine or at - last_at <= self._resolution:
                    # Probes are staggered across an interval, so two hops failing within one
                    # interval cannot be ordered: the fuller picture replaces the first guess
                    # (an ISP cut is first seen as "data center down" by whichever probe ran).
                    episode.domains[-1] = (last_at, verdict.domain)
                else:
                    episode.domains.append((at, verdict.domain))
                self._set_active(episode, verdict.domain)
                self.ledger.save_episode(episode)
                self._events("domain", {"kind": kind, "domain": verdict.domain, "at": at})
            else:
                self.ledger.save_episode(episode)
            return
        if episode is not None:
            self._close(episode, at)
        if kind is not None:
            self._open(kind, at, verdict)
        self._events("link", {"state": verdict.state, "domain": verdict.domain, "at": at})

    def _end_gap(self, at: float, verdict: LinkVerdict) -> None:
        """The first verdict after start: record the unmonitored gap, settle resumed episodes."""
        if self._gap_start is not None and at > self._gap_start:
            self.ledger.add_gap(self._gap_start, at, "daemon not running")
            self.metrics.add_unmonitored(service_seconds(self.calendar, self._gap_start, at))
            self._events("gap", {"from": self._gap_start, "to": at})
        kind = _EPISODE_OF.get(verdict.state)
        for resumed in self._resumed:
            if resumed.kind == kind and self.episode is None:
                self.episode = resumed  # still down: the same outage goes on across the gap
                self._accounted_until = at
                self._set_active(resumed, resumed.domains[-1][1])
                self._events("resumed", {"kind": kind, "since": resumed.started_at})
            else:
                # It ended while we were not watching: close it where our evidence ends.
                resumed.ended_at = self._gap_start or resumed.updated_at
                self.ledger.save_episode(resumed)
        self._resumed = []
        self._gap_start = None

    def _open(self, kind: EpisodeKind, at: float, verdict: LinkVerdict) -> None:
        domain = verdict.domain or "unknown"
        evidence: dict[str, Any] = {"first_hop": verdict.culprit, "targets": {}}
        if verdict.confirmed is not None:
            evidence["path"] = {"confirmed": verdict.confirmed, "cause": verdict.cause}
        episode = self.ledger.open_episode(kind, at, domain, evidence)
        self.episode = episode
        self._accounted_until = at
        for state in self.targets.values():
            if state.state in ("down", "slow") and state.last is not None:
                self._add_evidence(state, state.last)
                self._backdate_evidence(state)
        self.ledger.save_episode(episode)
        self._set_active(episode, domain)

    def _close(self, episode: Episode, at: float) -> None:
        self._account(at)
        if len(episode.domains) > 1 and at - episode.domains[-1][0] <= self._resolution:
            # Hops recover in the order their probes happen to run: a verdict that held for
            # less than one probe interval before the end is that race, not a finding.
            episode.domains.pop()
        episode.ended_at = at
        episode.updated_at = at
        self.ledger.save_episode(episode)
        if episode.kind == "outage":
            # Counted when it ends, under the domain that held longest: the first guess at
            # the start of an outage may still be corrected (see _on_verdict).
            self.metrics.count_outage(episode.main_domain(at))
        self._set_active(episode, None)
        self.episode = None

    def _set_active(self, episode: Episode, domain: str | None) -> None:
        """One-hot the episode's gauge on `domain` (None: the episode is over)."""
        self.metrics.set_episode_active(episode.kind, domain)

    def _add_evidence(self, state: TargetState, result: ProbeResult) -> None:
        assert self.episode is not None
        if result.ok and self.episode.kind == "outage":
            return
        if result.ok and state.state != "slow":
            return
        entry = self.episode.evidence.setdefault("targets", {}).setdefault(
            state.name,
            {"role": state.role, "first_at": result.started_at, "count": 0},
        )
        entry["reason"] = result.reason or "slow"
        entry["message"] = result.message if not result.ok else f"{result.latency * 1000:.0f} ms"
        entry["last_at"] = result.started_at
        entry["count"] += 1

    def _backdate_evidence(self, state: TargetState) -> None:
        """Cite the first probe of the run that confirmed the state, not the confirming one:
        the same instant the episode is back-dated to (a counter-party checks the two agree)."""
        assert self.episode is not None
        entry = self.episode.evidence.get("targets", {}).get(state.name)
        first_at, length = state.confirming_run()
        if entry is not None and length > 0:
            entry["first_at"] = min(entry["first_at"], first_at)
            entry["count"] = max(entry["count"], length)

    def _account(self, now: float) -> None:
        """Add service seconds since the last accounting to the open episode's domain counter."""
        episode = self.episode
        if episode is None or now <= self._accounted_until:
            return
        seconds = service_seconds(self.calendar, self._accounted_until, now)
        if seconds > 0:
            self.metrics.add_lost_service(episode.kind, episode.domains[-1][1], seconds)
        self._accounted_until = now

    # --- periodic, from the daemon ---
    def flush(self, now: float) -> None:
        """Write what is pending (samples, open episode, heartbeat) in one transaction."""
        self.metrics.set_service_open(self.calendar.is_open(utc(now)))
        self._account(now)
        samples, self._samples = self._samples, []
        with self.ledger.transaction():
            if samples:
                self.ledger.add_samples(samples)
            if self.episode is not None:
                self.episode.updated_at = now
                self.ledger.save_episode(self.episode)
            if self.verdict.state != "unknown":
                # Only a known link state is evidence; the heartbeat marks where it ends.
                self.ledger.beat(now)
