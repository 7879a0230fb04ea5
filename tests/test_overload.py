"""Overload (issue 18): deadlines reported as deadlines, load shed by counted skips, skips
logged once per target per minute with their count."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from prometheus_client import CollectorRegistry

from monitor import schedule
from monitor.clock import Clock
from monitor.config import parse_config
from monitor.metrics import Metrics
from monitor.probes import PROBES
from monitor.probes.context import ProbeContext
from monitor.probes.result import ProbeResult
from monitor.skiplog import SkipLog
from tests.support.factories import result
from tests.support.probing import probe_context, probe_once, tcp_target

pytestmark = pytest.mark.timeout(20)


async def test_a_timeout_noticed_late_by_a_busy_loop_is_reported_as_its_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def hogs_the_loop(target, _timeout, ctx):  # type: ignore[no-untyped-def]
        time.sleep(0.3)  # noqa: ASYNC251 - the loop busy past the 0.1 s deadline, as under overload
        await asyncio.Event().wait()

    monkeypatch.setitem(PROBES, "tcp", hogs_the_loop)
    async with probe_context() as ctx:
        result = await probe_once(ctx, tcp_target(1), deadline=0.1)
    assert result.reason == "timeout"
    assert result.duration == 0.1  # not the ~0.3 s at which the loop got round to the timer
    assert result.latency == 0.1


def _config(names: list[str], interval: str, timeout: str):  # type: ignore[no-untyped-def]
    targets = [
        {"name": n, "role": "datacenter", "kind": "tcp", "host": "127.0.0.1", "port": 1}
        for n in names
    ]
    return parse_config(
        {"office": {"name": "X"}, "defaults": {"interval": interval, "timeout": timeout},
         "targets": targets}
    )  # fmt: skip


async def test_a_probe_due_while_the_loop_is_behind_is_skipped_and_counted_not_run_late(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    started: list[str] = []
    second_start = asyncio.Event()

    async def probe(target, timeout, ctx, clock) -> ProbeResult:  # type: ignore[no-untyped-def]
        started.append(target.name)
        if len(started) == 2:
            second_start.set()
        if target.name == "t0":
            time.sleep(0.8)  # noqa: ASYNC251 - overload: t1, due 0.5 s after t0, fires >= 0.3 s late
        return result(target.name)

    monkeypatch.setattr(schedule, "run_probe", probe)
    # Interval 2 s, four targets: offsets 0, 0.5, 1, 1.5; t1 is placed on the loop with t0.
    config = _config(["t0", "t1", "t2", "t3"], "2s", "1s")
    metrics = Metrics(CollectorRegistry())
    scheduler = schedule.ProbeScheduler(config, ProbeContext(), Clock(), metrics, lambda r: None)
    with caplog.at_level(logging.WARNING, logger="monitor.schedule"):
        scheduler.start()
        await asyncio.wait_for(second_start.wait(), 5)
        scheduler.shutdown()
        await asyncio.sleep(0)
    assert started[:2] == ["t0", "t2"], started  # t1 was not started late: it was skipped
    skipped = metrics.registry.get_sample_value("pantau_probes_skipped_total", {"target": "t1"})
    assert skipped == 1
    assert any("probe t1 skipped: the event loop is" in r.getMessage() for r in caplog.records)


async def test_repeated_skips_of_a_target_make_one_log_line_not_one_each(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def slow_probe(target, timeout, ctx, clock) -> ProbeResult:  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.75)  # three intervals: the runs in between are skipped
        return result(target.name)

    monkeypatch.setattr(schedule, "run_probe", slow_probe)
    metrics = Metrics(CollectorRegistry())
    config = _config(["t"], "250ms", "200ms")
    scheduler = schedule.ProbeScheduler(config, ProbeContext(), Clock(), metrics, lambda r: None)
    with caplog.at_level(logging.WARNING, logger="monitor.schedule"):
        scheduler.start()
        await asyncio.sleep(1.6)
        scheduler.shutdown()
        await asyncio.sleep(0)
    skipped = metrics.registry.get_sample_value("pantau_probes_skipped_total", {"target": "t"})
    lines = [r.getMessage() for r in caplog.records if "probe t skipped" in r.getMessage()]
    assert skipped is not None and skipped >= 3
    assert lines == ["probe t skipped: the previous one still runs "
                     "(further skips of it: one line a minute at most)"]  # fmt: skip


def test_skip_log_holds_a_targets_skips_for_a_minute_then_says_how_many() -> None:
    skips = SkipLog(every=60)
    assert skips.skipped("a", "the previous one still runs", 0.0) is not None
    assert skips.skipped("b", "started 2.0s late", 1.0) is not None  # per target
    assert [skips.skipped("a", f"why {i}", 1.0 + i) for i in range(3)] == [None, None, None]
    assert skips.due(59.0) == []
    assert skips.skipped("a", "the event loop is 150 ms behind (overload)", 61.0) == (
        "probe a skipped 4 times in the last 61s, the latest: "
        "the event loop is 150 ms behind (overload)"
    )
    assert skips.skipped("a", "x", 70.0) is None


def test_skip_log_says_what_was_held_back_once_the_minute_is_up() -> None:
    skips = SkipLog(every=60)
    skips.skipped("a", "first", 0.0)
    skips.skipped("a", "second", 10.0)
    skips.skipped("a", "third", 20.0)
    assert skips.due(30.0) == []
    assert skips.due(60.0) == ["probe a skipped 2 times in the last 60s, the latest: third"]
    assert skips.due(120.0) == []  # nothing held: a quiet target is forgotten...
    assert skips.skipped("a", "again", 121.0) == (  # ...and its next skip is logged at once
        "probe a skipped: again (further skips of it: one line a minute at most)"
    )
