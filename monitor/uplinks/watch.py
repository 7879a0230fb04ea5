"""The daemon's side of uplinks: `pantau_uplink_state`, `pantau_link_degraded`, the degraded
rows of the ledger and one log line per change. Called by the tracker at every target change."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from monitor.metrics import UPLINK_STATES, Metrics
from monitor.state import TargetState
from monitor.uplinks.ledger import DegradedLedger
from monitor.uplinks.verdict import UplinkVerdicts, judge_uplinks

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.path.analysis import PathFinding

log = logging.getLogger("pantau.uplinks")


class UplinkWatch:
    """Keeps one open degraded row per uplink that is down while the service answers."""

    def __init__(
        self,
        config: Config,
        metrics: Metrics,
        ledger: DegradedLedger,
        events: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.uplink_of = {t.name: t.uplink for t in config.targets}
        self.metrics = metrics
        self.ledger = ledger
        self._events = events
        self.open: dict[str, int] = {}
        self.last: UplinkVerdicts | None = None
        ledger.close_abandoned()  # a row the last run left open ends where it was last seen
        metrics.set_uplinks(config.uplinks, {t.name: t.uplink for t in config.targets if t.uplink})

    def update(
        self,
        targets: Iterable[TargetState],
        at: float,
        paths: Mapping[str, PathFinding] | None = None,
    ) -> UplinkVerdicts:
        """Re-judge after a target changed state at `at` (back-dated like the outage)."""
        verdicts = judge_uplinks(targets, self.uplink_of, paths)
        for uplink, verdict in verdicts.uplinks.items():
            state = verdict.state if verdict.state in ("up", "down") else "unknown"
            state = "up" if verdict.state == "slow" else state
            for s in UPLINK_STATES:
                self.metrics.uplink_state.labels(uplink=uplink, state=s).set(s == state)
            before = self.last.uplinks.get(uplink) if self.last else None
            if before is None or before.state != verdict.state or before.domain != verdict.domain:
                self._event(uplink, verdict.state, verdict.domain, at)
        self.metrics.link_degraded.set(1 if verdicts.degraded else 0)
        wanted = set(verdicts.down) if verdicts.degraded else set()
        self.last = verdicts
        try:
            for uplink in sorted(wanted - set(self.open)):
                self.open[uplink] = self.ledger.open(uplink, at, verdicts.uplinks[uplink].domain)
            for uplink in sorted(set(self.open) - wanted):
                self.ledger.close_row(self.open[uplink], at)
                del self.open[uplink]
        except sqlite3.Error as exc:
            # The verdict and the gauges stand; the row is retried at the next change.
            log.error("uplinks: cannot write the degraded row (%s)", exc)
        return verdicts

    def flush(self, now: float) -> None:
        """Mark the open rows as still seen (a SIGKILL then loses at most one flush)."""
        try:
            for row in self.open.values():
                self.ledger.touch(row, now)
        except sqlite3.Error as exc:
            log.error("uplinks: cannot update the degraded row (%s)", exc)

    def close(self, now: float) -> None:
        """Stopping: the open rows end now (a restart that finds it still down opens anew)."""
        for row in self.open.values():
            self.ledger.close_row(row, now)
        self.open.clear()
        self.ledger.close()

    def _event(self, uplink: str, state: str, domain: str | None, at: float) -> None:
        data = {"uplink": uplink, "state": state, "domain": domain, "at": at}
        if self._events is not None:
            self._events("uplink", data)
