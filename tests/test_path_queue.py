"""The path tracer's queue (issue 18, 5,000 targets): traces on a link-state change go before
waiting baselines, and only the running traces are tasks, two at a time, however many targets
come due at once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from monitor.config import parse_config
from monitor.path import watch
from monitor.path.metrics import PathMetrics
from monitor.path.store import PathStore
from monitor.path.trace import Hop, Trace
from monitor.path.watch import CONCURRENT_TRACES, PathWatch
from tests.support.wait import wait_until

COUNT = 40


class Tracer:
    """Stands in for the tracer: records the order traces start in, ends them on demand."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.release = asyncio.Event()

    async def __call__(self, host: str, protocol: str, port: int, *args: Any) -> Trace:
        self.started.append(host)
        await self.release.wait()
        hop = Hop(1, host, 5, 5)
        return Trace(host, host, "tcp", port, 1.76e9, hops=(hop,))


@pytest.fixture
def path_watch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[PathWatch, Tracer]]:
    tracer = Tracer()
    monkeypatch.setattr(watch, "trace", tracer)
    targets = [
        {"name": f"dc-{i}", "role": "datacenter", "kind": "tcp", "host": f"127.0.1.{i}",
         "port": 443}
        for i in range(COUNT)
    ]  # fmt: skip
    config = parse_config({"office": {"name": "Queue"}, "targets": targets})
    store = PathStore(tmp_path / "pantau.db", "queue")
    found: list[str] = []
    pw = PathWatch(config, store, PathMetrics(CollectorRegistry()), lambda n, *_: found.append(n))
    yield pw, tracer
    store.close()


def tasks_of_the_tracer() -> int:
    return sum(1 for t in asyncio.all_tasks() if "PathWatch._run" in repr(t.get_coro()))


async def test_a_wave_of_baselines_is_two_tasks_and_a_transition_goes_first(
    path_watch: tuple[PathWatch, Tracer],
) -> None:
    pw, tracer = path_watch
    pw.baseline_due(lambda name: True)  # every target due at once, as 60 s after start
    await asyncio.sleep(0)
    assert tasks_of_the_tracer() == CONCURRENT_TRACES  # not one per target
    assert tracer.started == ["127.0.1.0", "127.0.1.1"]
    pw.on_transition(["dc-30"])  # queued as a baseline: now the evidence of an outage
    pw.on_transition(["dc-35"])
    pw.on_transition(["dc-0"])  # running already: not twice
    tracer.release.set()
    await wait_until(lambda: len(tracer.started) == COUNT, what="every target traced")
    assert tracer.started[2:4] == ["127.0.1.30", "127.0.1.35"]  # before the 36 baselines left
    assert sorted(tracer.started) == sorted(f"127.0.1.{i}" for i in range(COUNT))  # each once
    await wait_until(lambda: tasks_of_the_tracer() == 0, what="the traces to end")
    await pw.close()


async def test_close_leaves_no_trace_running_or_waiting(
    path_watch: tuple[PathWatch, Tracer],
) -> None:
    pw, tracer = path_watch
    pw.baseline_due(lambda name: True)
    await asyncio.sleep(0)
    await pw.close()
    tracer.release.set()
    await asyncio.sleep(0.05)
    assert tasks_of_the_tracer() == 0 and len(tracer.started) == CONCURRENT_TRACES
