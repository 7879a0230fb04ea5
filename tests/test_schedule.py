"""Scheduling: spread start times, overruns skipped and counted, a hang never delays others."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from monitor import schedule
from monitor.clock import Clock
from monitor.config import parse_config
from monitor.metrics import Metrics
from monitor.probes.context import ProbeContext
from monitor.probes.result import REASONS, ProbeResult
from monitor.sim import SimNetwork
from tests.support.daemon import fast_config, running
from tests.support.factories import result, tcp_targets_config
from tests.support.wait import wait_until


def config_with(n: int, interval: str = "10s") -> object:
    return tcp_targets_config(n, interval)


def test_start_offsets_spread_targets_evenly_across_the_interval() -> None:
    offsets = schedule.start_offsets(config_with(1000))  # type: ignore[arg-type]
    values = sorted(offsets.values())
    assert len(set(values)) == 1000
    assert values[0] == 0.0 and values[-1] < 10.0
    gaps = {round(b - a, 9) for a, b in itertools.pairwise(values)}
    assert gaps == {0.01}


async def test_an_overrun_is_skipped_and_counted_not_queued(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[float] = []

    async def slow_probe(target, timeout, ctx, clock) -> ProbeResult:  # type: ignore[no-untyped-def]
        started.append(time.monotonic())
        await asyncio.sleep(0.75)  # three intervals: the runs in between must be skipped
        return result(target.name)

    monkeypatch.setattr(schedule, "run_probe", slow_probe)
    config = parse_config(
        {"office": {"name": "X"}, "defaults": {"interval": "250ms", "timeout": "200ms"},
         "targets": [{"name": "t", "role": "datacenter", "kind": "tcp", "host": "127.0.0.1",
                      "port": 1}]}
    )  # fmt: skip
    metrics = Metrics(CollectorRegistry())
    results: list[ProbeResult] = []
    scheduler = schedule.ProbeScheduler(config, ProbeContext(), Clock(), metrics, results.append)
    scheduler.start()
    await asyncio.sleep(1.6)
    scheduler.shutdown()
    await asyncio.sleep(0)
    skipped = metrics.registry.get_sample_value("pantau_probes_skipped_total", {"target": "t"})
    assert skipped is not None and skipped >= 2
    # Never two at once, and no backlog burst after a slow run: starts are >= 0.75 s apart.
    assert all(b - a >= 0.74 for a, b in itertools.pairwise(started))
    assert len(started) >= 2 and len(results) >= 1  # it kept running, one at a time


async def test_a_hanging_target_never_delays_another() -> None:
    async with SimNetwork(icmp=False) as net, running(fast_config(net)) as daemon:
        await net.set_mode("datacenter", "hang")
        before = daemon.metrics.registry.get_sample_value(
            "pantau_probes_total",
            {"target": "dc-vpn", "role": "datacenter", "kind": "tcp", "result": "success"},
        )
        await asyncio.sleep(2.0)
        after = daemon.metrics.registry.get_sample_value(
            "pantau_probes_total",
            {"target": "dc-vpn", "role": "datacenter", "kind": "tcp", "result": "success"},
        )
        hung = daemon.metrics.registry.get_sample_value(
            "pantau_probes_total",
            {"target": "dc-siak", "role": "datacenter", "kind": "http", "result": "timeout"},
        )
    assert before is not None and after is not None and hung is not None
    assert after - before >= 8  # every 0.2 s for 2 s, while dc-siak waits out its timeouts
    assert hung >= 8


async def test_the_daemons_periodic_jobs_run_on_the_event_loop() -> None:
    """A plain function job runs in APScheduler's thread pool and would race the loop."""
    import threading

    async with SimNetwork(icmp=False) as net, running(fast_config(net)) as daemon:
        assert daemon.scheduler is not None
        jobs = daemon.scheduler.jobs()
        assert {"_flush", "_housekeeping"} <= {name for name, _ in jobs}
        assert all(asyncio.iscoroutinefunction(func) for _, func in jobs)
        seen: list[threading.Thread] = []
        original = daemon.tracker.flush  # type: ignore[union-attr]

        def spy(now: float) -> None:
            seen.append(threading.current_thread())
            original(now)

        daemon.tracker.flush = spy  # type: ignore[union-attr,method-assign]
        await wait_until(lambda: bool(seen), 5, "a flush")
    assert seen[0] is threading.main_thread()


async def test_the_bench_hook_writes_one_line_per_probe_from_outside_the_scheduler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trace = tmp_path / "probes.trace"
    monkeypatch.setenv("PANTAU_PROBE_TRACE", str(trace))
    async with SimNetwork(icmp=False) as net, running(fast_config(net)) as daemon:
        await wait_until(lambda: len(daemon.last) > 0, 5, "a probe result")
    fields = trace.read_text().splitlines()[0].split()  # buffered: complete once stopped
    assert len(fields) == 8 and fields[-2] in ("success", *REASONS)
    assert fields[-1] == "-1"  # the ICMP echo identifier: none for other kinds
    planned, started = float(fields[1]), float(fields[2])
    assert started >= planned - 0.01  # wall times: a probe starts at or after its instant


async def test_a_periodic_job_must_be_a_coroutine() -> None:
    async with SimNetwork(icmp=False) as net, running(fast_config(net)) as daemon:
        assert daemon.scheduler is not None
        with pytest.raises(TypeError, match="coroutine"):
            daemon.scheduler.every(1.0, lambda: None, "plain")  # type: ignore[arg-type,return-value]


async def test_a_job_cancelled_by_our_stop_is_not_logged_as_an_error_but_a_failure_is(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from datetime import UTC, datetime

    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    async def tick() -> None:
        await asyncio.sleep(0)

    async def broken() -> None:
        raise ValueError("a bug in a job")

    assert schedule.log is not None  # the module (and its log filter) is loaded
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.start(paused=True)  # the test submits the runs itself
    executor = scheduler._lookup_executor("default")
    # A job whose task exists but has not run yet when the scheduler stops: what a loaded
    # machine shows at every stop. The executor cancels it and used to log an ERROR.
    pending = scheduler.add_job(tick, id="pending")
    executor.submit_job(pending, [datetime.now(UTC)])
    failing = scheduler.add_job(broken, id="failing")
    executor.submit_job(failing, [datetime.now(UTC)])
    await asyncio.sleep(0.05)  # `failing` runs and fails
    executor.submit_job(pending, [datetime.now(UTC)])
    scheduler.shutdown(wait=False)
    await asyncio.sleep(0.05)
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "broken" in errors[0] and "raised an exception" in errors[0], errors
