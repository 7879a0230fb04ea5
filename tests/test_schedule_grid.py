"""The probes' instants on the WAKE_GRID grid: shared wake-ups, each target's own cadence kept."""

from __future__ import annotations

import math

from monitor import schedule
from tests.support.factories import tcp_targets_config


def _group(n: int, interval: str) -> schedule._Group:
    config = tcp_targets_config(n, interval)
    offsets = schedule.start_offsets(config)
    return schedule._Group(
        config.interval_of(config.targets[0]),
        list(config.targets),
        [offsets[t.name] for t in config.targets],
    )


def test_targets_whose_offsets_share_a_step_fire_at_one_instant() -> None:
    group = _group(1000, "5s")  # 5 ms apart: four per 20 ms step
    spread = [5.0 * i / 1000 for i in range(1000)]

    assert len(set(group.offsets)) == 250
    for planned, offset in zip(group.offsets, spread, strict=True):
        assert offset - schedule.WAKE_GRID < planned <= offset + 1e-9  # at most one step early
        steps = planned / schedule.WAKE_GRID
        assert math.isclose(steps, round(steps), abs_tol=1e-6)  # on the grid


def test_targets_further_apart_than_a_step_keep_their_own_instants() -> None:
    group = _group(10, "10s")  # 1 s apart

    assert group.offsets == [float(i) for i in range(10)]


def test_each_slot_holds_the_targets_placed_in_it() -> None:
    group = _group(1000, "5s")

    placed = sorted(member for members in group.members.values() for member in members)
    assert placed == list(range(1000))
    for index, members in group.members.items():
        for member in members:
            assert index * group.slot <= group.offsets[member] + 1e-9
            assert group.offsets[member] < (index + 1) * group.slot
