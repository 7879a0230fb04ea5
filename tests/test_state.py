"""Target state with confirmation: no flapping, transitions back-dated to the confirming run."""

from __future__ import annotations

import pytest

from monitor.state import TargetState, Thresholds
from tests.support.factories import result

LIMITS = Thresholds(down_after=3, up_after=2, slow_latency=1.0, slow_loss=0.2)


def feed(state: TargetState, pattern: str, start: float = 0.0, step: float = 10.0) -> list:
    """Feed a pattern: '.' ok, 'x' fail, 's' slow; return the transitions."""
    transitions = []
    for i, c in enumerate(pattern):
        r = result(at=start + i * step, ok=c != "x", latency=2.0 if c == "s" else 0.01)
        t = state.observe(r)
        if t:
            transitions.append(t)
    return transitions


def test_first_success_makes_a_target_up() -> None:
    state = TargetState("dc", "datacenter", LIMITS)
    (t,) = feed(state, ".")
    assert (t.old, t.new, t.at) == ("unknown", "up", 0.0)


def test_single_failure_never_flips() -> None:
    state = TargetState("dc", "datacenter", LIMITS)
    assert [t.new for t in feed(state, "..x..x.x..xx..")] == ["up"]
    assert state.state == "up"


def test_down_after_three_backdated_to_first_failure() -> None:
    state = TargetState("dc", "datacenter", LIMITS)
    transitions = feed(state, "..xxx")
    assert transitions[-1].new == "down"
    assert transitions[-1].at == 20.0  # the first failed probe, not the third


def test_up_after_two_backdated_to_first_success() -> None:
    state = TargetState("dc", "datacenter", LIMITS)
    transitions = feed(state, ".xxxx.x..")
    assert [(t.new, t.at) for t in transitions] == [("up", 0), ("down", 10), ("up", 70)]


def test_duration_does_not_depend_on_down_after() -> None:
    spans = []
    for down_after in (1, 3, 5):
        state = TargetState("dc", "datacenter", Thresholds(down_after=down_after))
        transitions = feed(state, "." + "x" * 8 + "...")
        down = next(t for t in transitions if t.new == "down")
        up = next(t for t in transitions if t.new == "up" and t.old == "down")
        spans.append(up.at - down.at)
    assert spans == [80.0, 80.0, 80.0]


def test_slow_needs_confirmation_too() -> None:
    state = TargetState("dc", "datacenter", LIMITS)
    assert [t.new for t in feed(state, ".s.ss.")] == ["up"]
    transitions = feed(state, "sss..", start=100)
    assert [(t.new, t.at) for t in transitions] == [("slow", 100), ("up", 130)]


def test_icmp_loss_over_limit_is_slow() -> None:
    state = TargetState("router", "local", LIMITS)
    for i in range(3):
        state.observe(result("router", i, role="local", kind="icmp", loss=0.4))
    assert state.state == "slow"


@pytest.mark.parametrize(
    ("pattern", "final"), [("xxx.x", "down"), ("xxx.s", "slow"), ("xxxss", "slow"), ("xxx..", "up")]
)
def test_recovery_from_down_lands_on_what_the_probes_say(pattern: str, final: str) -> None:
    state = TargetState("dc", "datacenter", LIMITS)
    feed(state, pattern)
    assert state.state == final
