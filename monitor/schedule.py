"""One APScheduler interval job per target, spread across its interval; overruns are skipped.

APScheduler owns the cadence. Each job runs one probe through the runner (which enforces the
timeout, so a hanging target never delays another) and hands the result to the daemon.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.clock import Clock
from monitor.config import Config, Target
from monitor.metrics import Metrics
from monitor.probes.context import ProbeContext
from monitor.probes.result import ProbeResult
from monitor.runner import run_probe

log = logging.getLogger(__name__)
ResultSink = Callable[[ProbeResult], None]


def start_offsets(config: Config) -> dict[str, float]:
    """Seconds after start at which each target first fires: evenly spread per interval.

    Targets that share an interval are spaced interval/n apart, so a thousand targets never
    fire in the same millisecond and the load on the loop (and the link) stays flat.
    """
    groups: dict[float, list[Target]] = defaultdict(list)
    for target in config.targets:
        groups[config.interval_of(target)].append(target)
    offsets = {}
    for interval, members in groups.items():
        for index, target in enumerate(members):
            offsets[target.name] = interval * index / len(members)
    return offsets


class ProbeScheduler:
    """Starts and stops the probe jobs; counts skipped runs in pantau_probes_skipped_total."""

    def __init__(
        self, config: Config, ctx: ProbeContext, clock: Clock, metrics: Metrics, sink: ResultSink
    ) -> None:
        self._config = config
        self._ctx = ctx
        self._clock = clock
        self._metrics = metrics
        self._sink = sink
        self._names = frozenset(t.name for t in config.targets)
        self._stopping = False
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.add_listener(self._on_skip, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running) and not self._stopping

    @property
    def scheduler(self) -> AsyncIOScheduler:
        """For the daemon's own periodic jobs (service-hours gauge, daily report)."""
        return self._scheduler

    def start(self) -> None:
        now = self._clock.now()
        offsets = start_offsets(self._config)
        for target in self._config.targets:
            interval = self._config.interval_of(target)
            self._scheduler.add_job(
                self._probe_once,
                IntervalTrigger(
                    seconds=interval, start_date=now + timedelta(seconds=offsets[target.name])
                ),
                args=(target,),
                id=target.name,
                name=f"probe {target.name}",
                max_instances=1,  # a run still going at the next tick: skip and count, never queue
                coalesce=True,
                misfire_grace_time=max(int(interval / 2), 1),
            )
        self._scheduler.start()

    async def _probe_once(self, target: Target) -> None:
        try:
            result = await run_probe(
                target, self._config.timeout_of(target), self._ctx, self._clock
            )
        except asyncio.CancelledError:
            return  # shutdown cancels probes in flight: their results are not needed
        self._sink(result)

    def _on_skip(self, event: JobEvent) -> None:
        if event.job_id in self._names:
            self._metrics.probes_skipped.labels(event.job_id).inc()

    def shutdown(self) -> None:
        """Stop firing and cancel probes in flight (the executor cancels its pending futures)."""
        # AsyncIOScheduler.shutdown() only schedules the stop on the loop; remember we asked,
        # so health turns red at once and a second call does not stop it twice.
        if self._scheduler.running and not self._stopping:
            self._stopping = True
            self._scheduler.shutdown(wait=False)
