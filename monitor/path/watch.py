"""When to trace, in the daemon: on link-state changes, every `baseline_every` as the healthy
baseline, never more than once per `min_gap` per target outside transitions, never two traces
of one target at once, at most two at a time in all. Each trace is its own task on the loop:
probes never wait for it.

Traces wait their turn in two queues, link-state changes before baselines: a trace on a
transition is an outage's evidence and must not wait behind a wave of baselines (every
data-center target comes due at once, 60 s after start and every `baseline_every` after:
~110 s of traces at 5,000 targets). Only the running traces are tasks: until 2026-12-02 each
due target got its task at once, 5,000 of them at 5,000 targets, each holding a frame and a
semaphore waiter for up to two minutes (probes skipped as the wave began, ~3 MB of RSS per
1,000 targets while it lasted).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from monitor.config import Config, DnsTarget, HttpTarget, TcpTarget
from monitor.path.analysis import Owner, PathFinding, judge_path, owner_of
from monitor.path.metrics import PathMetrics
from monitor.path.store import PathStore, TraceKind
from monitor.path.trace import Protocol, Trace
from monitor.path.tracer import TraceSettings, trace

log = logging.getLogger(__name__)
Spec = tuple[str, Protocol, int]
FindingSink = Callable[[str, Trace, PathFinding, dict[str, Any]], None]
CONCURRENT_TRACES = 2


def spec_of(target: object) -> Spec:
    """(host, protocol, port): TCP SYN to the service's port, ICMP echo for ICMP targets."""
    if isinstance(target, HttpTarget):
        parts = urlsplit(target.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return str(parts.hostname), "tcp", port
    if isinstance(target, TcpTarget):
        return target.host, "tcp", target.port
    if isinstance(target, DnsTarget):
        if target.transport == "tcp":
            return target.server_host, "tcp", target.server_port
        return target.server_host, "icmp", 0
    # ICMP targets, and any other kind with a `host`: a new probe kind needs no entry here.
    host = getattr(target, "host", None)
    assert isinstance(host, str), f"no host to trace for {target!r}"
    return host, "icmp", 0


def annotated(trace: Trace, owners: Sequence[Owner]) -> dict[str, Any]:
    """The trace as JSON with each hop's owner, as the ledger keeps it (owners may change)."""
    data = trace.as_dict()
    for hop in data["hops"]:
        owner = owner_of(hop["address"], owners)
        hop["owner"] = None if owner is None else {"name": owner.name, "role": owner.role}
    return data


class PathWatch:
    """Traces the data-center targets; hands every finding to `sink` (the tracker)."""

    def __init__(
        self, config: Config, store: PathStore, metrics: PathMetrics, sink: FindingSink
    ) -> None:
        settings = config.path
        self.settings = TraceSettings(settings.max_ttl, settings.probes, settings.timeout)
        self.min_gap = settings.min_gap
        self.threshold = settings.loss_threshold
        self.owners = [Owner.of(o) for o in settings.owners]
        # The targets themselves, not their specs: a trace's host, port and source (issue 16:
        # per uplink) are read when it starts, not kept as ~190 B more per target (issue 18).
        self.traced = {t.name: t for t in config.targets if t.role == "datacenter"}
        self.store, self.metrics, self.sink = store, metrics, sink
        self.baselines = {name: store.baseline(name) for name in self.traced}
        self.baseline_every = settings.baseline_every
        self._last: dict[str, float] = {}  # monotonic start of the last trace per target
        self._last_baseline: dict[str, float] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}  # the running traces
        self._queued: dict[str, TraceKind] = {}  # waiting for a slot, and why
        self._transitions: deque[str] = deque()  # served first
        self._baselines: deque[str] = deque()

    def on_transition(self, names: list[str]) -> None:
        """A link-state change: trace these targets now (unless one is already running)."""
        for name in names:
            self._start(name, "transition")

    def baseline_due(self, healthy: Callable[[str], bool]) -> None:
        """The periodic job: a healthy target gets a baseline every `baseline_every`, and never
        within `min_gap` of its last trace."""
        now = time.monotonic()
        for name in self.traced:
            if (
                healthy(name)
                and now - self._last.get(name, -1e18) >= self.min_gap
                and now - self._last_baseline.get(name, -1e18) >= self.baseline_every
            ):
                self._last_baseline[name] = now
                self._start(name, "baseline")

    def _start(self, name: str, why: TraceKind) -> None:
        if name not in self.traced or name in self._tasks:
            return
        queued = self._queued.get(name)
        if queued is not None:
            if queued == "baseline" and why != "baseline":  # now evidence: to the front queue
                self._baselines.remove(name)
                self._queued[name] = why
                self._transitions.append(name)
                self._next()
            return
        self._last[name] = time.monotonic()
        self._queued[name] = why
        (self._baselines if why == "baseline" else self._transitions).append(name)
        self._next()

    def _next(self) -> None:
        """Start queued traces while a slot is free, transitions first."""
        while len(self._tasks) < CONCURRENT_TRACES and (self._transitions or self._baselines):
            name = (self._transitions or self._baselines).popleft()
            why = self._queued.pop(name)
            task = asyncio.get_running_loop().create_task(self._run(name, why))
            self._tasks[name] = task
            task.add_done_callback(partial(self._done, name))

    def _done(self, name: str, _task: asyncio.Task[None]) -> None:
        del self._tasks[name]
        self._next()

    async def _run(self, name: str, why: TraceKind) -> None:
        target = self.traced[name]
        host, protocol, port = spec_of(target)
        try:
            found = await trace(host, protocol, port, self.settings, target.source)
        except Exception as exc:  # a bug in Pantau is never evidence against a hop
            log.exception("path trace of %s failed", name)
            at = time.time()
            found = Trace(host, "", protocol, port, at, error="internal", message=str(exc))
        if not found.error and (why != "baseline" or found.reached):
            await self._store(name, why, found)  # a baseline is a path that reached the target
        if why == "baseline" and found.reached:
            self.baselines[name] = found
        baseline = self.baselines.get(name)
        finding = judge_path(found, baseline, self.owners, self.threshold)
        self.metrics.observe(name, why, found, finding)
        if why != "baseline":
            evidence = {
                **finding.as_dict(),
                "trace": annotated(found, self.owners),
                "baseline": None if baseline is None else annotated(baseline, self.owners),
            }
            self.sink(name, found, finding, evidence)

    async def _store(self, name: str, why: TraceKind, found: Trace) -> None:
        """Keep the trace in the ledger file, off the loop; a full or locked disk costs the
        stored copy only: the outage still carries the trace in its evidence (via `sink`)."""
        try:
            await asyncio.to_thread(self.store.add, name, why, found)
        except (sqlite3.Error, OSError) as exc:
            self.metrics.store_failed()
            log.error("path trace of %s not stored in the ledger file: %s", name, exc)

    async def close(self) -> None:
        self._queued.clear()
        self._transitions.clear()
        self._baselines.clear()
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
