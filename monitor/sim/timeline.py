"""A scripted fault timeline for the demo: which mode each server has when, on a repeating cycle."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from monitor.sim.network import SimNetwork


@dataclass(frozen=True, slots=True)
class Step:
    """At `at` seconds into the cycle, switch `server` to `mode` (`delay` for slow)."""

    at: float
    server: str
    mode: str
    delay: float | None = None
    note: str = ""  # what the step stands for, for the demo's log line


# Two minutes, repeating: the data center drops for 20 s early on (so a 60 s demo sees an outage
# start and end), then a slow ("lemot") central period, then the ISP loses its uplink so nothing
# beyond the office answers (an outage the verdict must blame on the ISP, not the data center).
DEMO_CYCLE = 120.0
_ISP_CUT = (("anchor", "hang"), ("dns", "silent"), ("datacenter", "hang"), ("vpn", "hang"))
DEMO_TIMELINE: tuple[Step, ...] = (
    Step(8, "datacenter", "down", note="data center refuses connections (SIAK app down)"),
    Step(28, "datacenter", "ok", note="data center back"),
    Step(36, "datacenter", "slow", delay=0.6, note="central overload: answers take 0.6 s"),
    Step(50, "datacenter", "ok", note="central load back to normal"),
    *(Step(62, server, mode, note="ISP uplink cut: nothing beyond the office answers")
      for server, mode in _ISP_CUT),
    *(Step(80, server, "ok", note="ISP uplink restored") for server, _ in _ISP_CUT),
)  # fmt: skip


def due_steps(
    timeline: Sequence[Step], after: float, until: float, cycle: float | None = DEMO_CYCLE
) -> list[tuple[float, Step]]:
    """Steps whose time falls in (after, until], as (absolute time, step), in order.

    Times are seconds since the timeline started; with `cycle` the timeline repeats.
    """
    out: list[tuple[float, Step]] = []
    if cycle is None:
        return [(s.at, s) for s in sorted(timeline, key=lambda s: s.at) if after < s.at <= until]
    first = int(max(after, 0) // cycle)
    for n in range(first, int(until // cycle) + 1):
        for step in sorted(timeline, key=lambda s: s.at):
            when = n * cycle + step.at
            if after < when <= until:
                out.append((when, step))
    return out


async def play(
    net: SimNetwork,
    timeline: Sequence[Step] = DEMO_TIMELINE,
    cycle: float | None = DEMO_CYCLE,
    on_step: Callable[[float, Step], None] | None = None,
) -> None:
    """Apply the timeline to `net` until cancelled (or, without a cycle, until its last step)."""
    loop = asyncio.get_running_loop()
    start, done = loop.time(), -1.0  # steps at or before `done` (seconds since start) are applied
    span = cycle or max((s.at for s in timeline), default=0.0)
    while True:
        upcoming = due_steps(timeline, done, done + span + 1.0, cycle)
        if not upcoming:
            return
        when = upcoming[0][0]
        await asyncio.sleep(max(when - (loop.time() - start), 0.0))
        for at, step in upcoming:
            if at != when:
                break
            await net.set_mode(step.server, step.mode, step.delay)
            if on_step is not None:
                on_step(at, step)
        done = when
