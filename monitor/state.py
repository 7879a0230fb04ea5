"""Per-target state with confirmation: a single lost probe never flips a target.

A target is `up`, `slow` or `down` (`unknown` until its first confirmed state). Down after
`down_after` consecutive failures; up again after `up_after` consecutive successes; slow after
`down_after` consecutive slow successes (or `up_after` of them when recovering from down).
Every transition is back-dated to the first probe of the run that confirmed it, so outage
durations do not depend on the confirmation counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.probes.result import ProbeResult
from monitor.vocabulary import Grade, State


@dataclass(frozen=True, slots=True)
class Thresholds:
    down_after: int = 3
    up_after: int = 2
    slow_latency: float = 2.0  # seconds
    slow_loss: float = 0.2  # ratio of lost ICMP echoes


@dataclass(frozen=True, slots=True)
class Transition:
    target: str
    role: str
    old: State
    new: State
    at: float  # unix time of the first probe of the confirming run
    result: ProbeResult  # the probe that confirmed it


def grade(result: ProbeResult, limits: Thresholds) -> Grade:
    """ok, slow or fail for one probe result."""
    if not result.ok:
        return "fail"
    loss = result.observation.loss_ratio
    if result.latency > limits.slow_latency or (loss is not None and loss > limits.slow_loss):
        return "slow"
    return "ok"


class _Run:
    """A run of consecutive results sharing a property: its length and its first probe's time."""

    __slots__ = ("length", "started_at")

    def __init__(self) -> None:
        self.length = 0
        self.started_at = 0.0

    def feed(self, matches: bool, at: float) -> None:
        if not matches:
            self.length = 0
        else:
            if self.length == 0:
                self.started_at = at
            self.length += 1


class TargetState:
    """Confirmed state of one target, fed one result at a time (pure: no clock, no I/O)."""

    # One per target: slots, not a dict per instance (~90 B a target; issue 18's memory).
    __slots__ = ("_fail", "_nonfail", "_ok", "_slow", "last", "last_failure", "limits", "name",
                 "role", "state")  # fmt: skip

    def __init__(self, name: str, role: str, limits: Thresholds) -> None:
        self.name = name
        self.role = role
        self.limits = limits
        self.state: State = "unknown"
        self.last: ProbeResult | None = None
        self.last_failure: ProbeResult | None = None
        self._fail, self._nonfail, self._slow, self._ok = _Run(), _Run(), _Run(), _Run()

    def observe(self, result: ProbeResult) -> Transition | None:
        graded = grade(result, self.limits)
        at = result.started_at
        self._fail.feed(graded == "fail", at)
        self._nonfail.feed(graded != "fail", at)
        self._slow.feed(graded == "slow", at)
        self._ok.feed(graded == "ok", at)
        self.last = result
        if graded == "fail":
            self.last_failure = result
        new, since = self._next_state(graded)
        if new is None or new == self.state:
            return None
        transition = Transition(self.name, self.role, self.state, new, since, result)
        self.state = new
        return transition

    def confirming_run(self) -> tuple[float, int]:
        """(time of the first probe, length) of the run of failures (down) or slow results
        (slow) that holds the current state: the evidence an outage is back-dated to."""
        run = self._fail if self.state == "down" else self._slow
        return run.started_at, run.length

    def _next_state(self, graded: Grade) -> tuple[State | None, float]:
        limits, state = self.limits, self.state
        if self._fail.length >= limits.down_after and state != "down":
            return "down", self._fail.started_at
        if state == "down":
            if self._nonfail.length >= limits.up_after:
                # Recovered; whether to slow or up depends on what the latest probe says.
                return ("slow" if graded == "slow" else "up"), self._nonfail.started_at
            return None, 0.0
        if state in ("up", "unknown") and self._slow.length >= limits.down_after:
            return "slow", self._slow.started_at
        if state == "slow" and self._ok.length >= limits.up_after:
            return "up", self._ok.started_at
        if state == "unknown" and self._ok.length >= 1:
            return "up", self._ok.started_at  # nothing to flap from yet
        return None, 0.0
