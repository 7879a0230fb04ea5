"""APScheduler owns the cadence; each target fires at its own spread offset, overruns are skipped.

One APScheduler job per interval group ticks about once a second and places the targets due in
that slot on the event loop with `loop.call_at`, at their planned instants, on a WAKE_GRID grid
(targets whose spread offsets fall in one grid step start in one wake-up of the loop). A job per
target costs APScheduler ~0.24 ms per run (its job store, events and executor); this path costs
a timer handle and a task. The runner enforces the timeout, so a hanging target never delays
another; a run still going at its next planned instant, or started more than the grace period
late, is skipped and counted in pantau_probes_skipped_total, never queued.

Overload degrades by skipping, not by late results: a probe whose timer fires more than
LOOP_BEHIND seconds after its instant (the loop is that far behind, so the probe's own timers
would be as late) is skipped and counted too. Skips are logged once per target per minute at
most, with their count (`monitor.skiplog`).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import defaultdict
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.clock import Clock
from monitor.config import Config, Target
from monitor.metrics import Metrics
from monitor.probes.context import ProbeContext
from monitor.probes.result import ProbeResult
from monitor.runner import run_probe
from monitor.skiplog import SkipLog

log = logging.getLogger(__name__)


def _not_a_cancelled_job(record: logging.LogRecord) -> bool:
    """APScheduler's asyncio executor cancels the job tasks still pending when it shuts down
    and logs each as "Error running job" (seen on a loaded machine at every stop): a job
    cancelled by our own stop is not an error. Any other job failure is still logged."""
    exc = record.exc_info[1] if record.exc_info else None
    return not isinstance(exc, asyncio.CancelledError)


logging.getLogger("apscheduler.executors.default").addFilter(_not_a_cancelled_job)
ResultSink = Callable[[ProbeResult], None]
# Called after each probe with (target, planned, started, result), loop times: the bench's hook
# (monitor/probe_trace.py) and nothing else; None in service.
ProbeObserver = Callable[[Target, float, float, ProbeResult], None]
SLOT_SECONDS = 1.0  # how far ahead the targets of one group are placed on the loop
# A timer that fires this late means the loop is overloaded: skip the probe rather than run it
# on a loop whose deadline timers fire as late (the bench at 150 % of the maximum HTTP rate saw
# 900 ms timeouts reported after 0.99-1.17 s). Well above the loop's lag in normal service
# (p99 ~1-2 ms, max ~7 ms at 5,000 targets), so only a loop that has fallen behind sheds.
LOOP_BEHIND = 0.1
# The probes' instants, rounded down to this grid: at 200 TCP probes/s the loop otherwise wakes
# every 5 ms for one probe, and on the project's VM a wake-up costs more than the probe (a bare
# call_at -> task -> connect loop: 0.78-0.80 ms CPU per probe one per wake-up, 0.33-0.35 four
# per wake-up; the daemon: 0.48-0.59 -> 0.28-0.33). Every target keeps its exact interval (the
# same offset every cycle), its first run moves up to one step earlier, and the load stays flat
# at the scale of a step. Issue 18 (CPU per result).
WAKE_GRID = 0.02


def start_offsets(config: Config) -> dict[str, float]:
    """Seconds after start at which each target first fires: evenly spread per interval.

    Targets that share an interval are spaced interval/n apart, so a thousand targets never
    fire all at once and the load on the loop (and the link) stays flat; the scheduler then
    rounds these down to WAKE_GRID, so a few that fall in one step share a wake-up.
    """
    groups: dict[float, list[Target]] = defaultdict(list)
    for target in config.targets:
        groups[config.interval_of(target)].append(target)
    offsets = {}
    for interval, members in groups.items():
        for index, target in enumerate(members):
            offsets[target.name] = interval * index / len(members)
    return offsets


def slots(interval: float, offsets: list[float]) -> tuple[float, int, dict[int, list[int]]]:
    """The slot length (interval split into ~1 s slots), the slot count, and the members due
    in each slot that has any.

    Only occupied slots are stored: a list per slot cost memory in proportion to the interval
    (`interval: 1000h` made 3.6 million empty lists, 320 MB, before the first probe).
    """
    count = max(1, math.ceil(interval / SLOT_SECONDS))
    length = interval / count
    members: dict[int, list[int]] = {}
    for index, offset in enumerate(offsets):
        members.setdefault(min(int(offset / length), count - 1), []).append(index)
    return length, count, members


class _Group:
    """Targets sharing one interval: their offsets and the slot each falls in."""

    def __init__(self, interval: float, targets: list[Target], offsets: list[float]) -> None:
        self.interval = interval
        self.targets = targets
        self.offsets = [math.floor(offset / WAKE_GRID + 1e-9) * WAKE_GRID for offset in offsets]
        self.slot, self.count, self.members = slots(interval, self.offsets)
        self.grace = max(int(interval / 2), 1)  # as APScheduler's misfire_grace_time was
        self.next_tick = 0  # the first slot not yet placed on the loop
        self.first_placed = 0.0  # loop time the first slot was placed at
        self.handles: list[asyncio.TimerHandle] = []  # the last slot's, for shutdown


class ProbeScheduler:
    """Starts and stops the probes; counts skipped runs in pantau_probes_skipped_total."""

    def __init__(
        self, config: Config, ctx: ProbeContext, clock: Clock, metrics: Metrics, sink: ResultSink,
        observer: ProbeObserver | None = None,
    ) -> None:  # fmt: skip
        self._config = config
        self._ctx = ctx
        self._clock = clock
        self._metrics = metrics
        self._sink = sink
        self._stopping = False
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._base = 0.0  # loop time of the first slot of every group
        self._loop: asyncio.AbstractEventLoop | None = None  # the running loop, from start()
        self._running: dict[str, asyncio.Task[None]] = {}
        self._groups: list[_Group] = []
        self._observer = observer
        self._skips = SkipLog()

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running) and not self._stopping

    def every(
        self, seconds: float, job: Callable[[], Awaitable[None]], name: str, at_start: bool = False
    ) -> None:
        """Run the daemon's periodic `job` every `seconds`, one run at a time, runs missed
        meanwhile collapsed into one; `at_start`: also once as soon as the scheduler starts.

        A coroutine function: APScheduler runs a plain function in a worker thread, where it
        would race the loop over the tracker and the ledger.
        """
        if not asyncio.iscoroutinefunction(job):
            raise TypeError(f"periodic job {name} must be a coroutine function")
        first = {"next_run_time": self._clock.now()} if at_start else {}
        self._scheduler.add_job(
            job, "interval", seconds=seconds, id=name, name=name, max_instances=1, coalesce=True,
            **first,
        )  # fmt: skip

    def jobs(self) -> list[tuple[str, Callable[..., object]]]:
        """(name, function) of every periodic job, the probe slots included."""
        return [(job.id, job.func) for job in self._scheduler.get_jobs()]

    def start(self) -> None:
        now = self._clock.now()
        self._loop = asyncio.get_running_loop()
        self._base = self._loop.time()
        offsets = start_offsets(self._config)
        grouped: dict[float, list[Target]] = defaultdict(list)
        for target in self._config.targets:
            grouped[self._config.interval_of(target)].append(target)
        for interval, targets in grouped.items():
            group = _Group(interval, targets, [offsets[t.name] for t in targets])
            self._groups.append(group)
            self._scheduler.add_job(
                self._place_slot,
                IntervalTrigger(seconds=group.slot, start_date=now),
                args=(group,),
                id=f"_probes_{interval:g}s",
                name=f"probes every {interval:g}s",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,  # a late slot still places its probes; _fire judges
                next_run_time=now,
            )
        self._scheduler.start()

    async def _place_slot(self, group: _Group) -> None:
        """Put the targets of the slots now due on the loop at their planned instants.

        A slot the job reached late is still placed (at most one interval's worth): its
        probes are then late, and `_fire` skips and counts them, as a missed run should be.
        A coroutine, so APScheduler runs it on the loop, not in its thread pool.
        """
        loop = asyncio.get_running_loop()
        current = int((loop.time() - self._base) / group.slot + 0.5)  # the job may run early
        first = max(group.next_tick, current - group.count + 1)
        group.handles = []
        placed = loop.time()
        for line in self._skips.due(placed):
            log.warning("%s", line)
        if group.next_tick == 0:
            group.first_placed = placed
        for tick in range(first, current + 1):
            index = tick % group.count
            due = group.members.get(index)
            if due is None:
                continue
            cycle_start = self._base + (tick - index) * group.slot
            for member in due:
                planned = cycle_start + group.offsets[member]
                group.handles.append(loop.call_at(planned, self._fire, group, member, planned))
        group.next_tick = max(group.next_tick, current + 1)

    def _fire(self, group: _Group, member: int, planned: float) -> None:
        if self._stopping:
            return
        # The loop start() ran on: asyncio.get_running_loop() makes a getpid() system call on
        # Python 3.11, once per probe here.
        loop = self._loop or asyncio.get_running_loop()
        now = loop.time()
        target = group.targets[member]
        if target.name in self._running:
            self._skip(target, "the previous one still runs", now)
            return
        if now - planned > group.grace:
            self._skip(target, f"started {now - planned:.1f}s late", now)
            return
        # Late by more than LOOP_BEHIND (a late timer, or a slot job that ran late: either way
        # the loop is behind right now): skip rather than start a probe whose timers fire late.
        # Only the first slot counts from when it was placed: the job's first run after
        # start-up may come late without the loop being behind.
        behind = now - max(planned, group.first_placed)
        if behind > LOOP_BEHIND:
            self._skip(target, f"the event loop is {behind * 1000:.0f} ms behind (overload)", now)
            return
        self._running[target.name] = loop.create_task(self._probe_once(target, planned, now))

    def _skip(self, target: Target, why: str, now: float) -> None:
        self._metrics.probe_skipped(target.name)
        line = self._skips.skipped(target.name, why, now)
        if line is not None:
            log.warning("%s", line)

    async def _probe_once(self, target: Target, planned: float, started: float) -> None:
        try:
            result = await run_probe(
                target, self._config.timeout_of(target), self._ctx, self._clock
            )
        except asyncio.CancelledError:
            return  # shutdown cancels probes in flight: their results are not needed
        finally:
            self._running.pop(target.name, None)
        try:
            self._sink(result)
        except Exception:
            # The guarded boundary: this task is awaited by nobody, so an error escaping here
            # was only "Task exception was never retrieved". Each step of the sink is whole
            # (Daemon._sink), so the next result finds the state consistent.
            log.exception("internal error handling the result of probe %s", target.name)
            self._metrics.internal_error("sink")
        if self._observer is not None:
            self._observer(target, planned, started, result)

    def shutdown(self) -> None:
        """Stop firing and cancel probes in flight."""
        # AsyncIOScheduler.shutdown() only schedules the stop on the loop; remember we asked,
        # so health turns red at once and a second call does not stop it twice.
        if self._scheduler.running and not self._stopping:
            self._stopping = True
            self._scheduler.shutdown(wait=False)
            for group in self._groups:
                for handle in group.handles:
                    handle.cancel()
            for task in list(self._running.values()):
                task.cancel()
