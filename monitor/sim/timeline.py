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
# start and end), then an ISP resolver blip, then a slow ("lemot") central period.
DEMO_CYCLE = 120.0
DEMO_TIMELINE: tuple[Step, ...] = (
    Step(10, "datacenter", "down", note="data center unreachable (central maintenance)"),
    Step(10, "vpn", "hang", note="VPN port black-holed"),
    Step(30, "datacenter", "ok", note="data center back"),
    Step(30, "vpn", "ok", note="VPN back"),
    Step(45, "dns", "silent", note="ISP resolver stops answering"),
    Step(55, "dns", "ok", note="ISP resolver back"),
    Step(70, "datacenter", "slow", delay=3.0, note="central overload: answers take 3 s"),
    Step(95, "datacenter", "ok", note="central load back to normal"),
)


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
