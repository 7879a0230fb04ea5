"""A failed HTTP probe never exports a phase as 0 ms: what it did not measure is absent.

Real probes through the runner against the simulated data center on 127.0.0.1; the page is
the daemon's own /metrics renderer and the prometheus_client collector (both must agree).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from monitor.exposition import render
from monitor.metrics import Metrics
from monitor.probes.context import ProbeContext
from monitor.sim import DataCenterApp
from tests.helpers.probing import http_target, probe_context, probe_once

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
async def ctx() -> AsyncIterator[ProbeContext]:
    async with probe_context() as ctx:
        yield ctx


@pytest.fixture
async def app() -> AsyncIterator[DataCenterApp]:
    app = DataCenterApp("127.0.0.1", 0, tls=None)
    await app.start()
    yield app
    await app.stop()


async def _phases(metrics: Metrics) -> dict[str, float]:
    text = (await render(metrics.series, metrics.others)).decode()
    exported = {
        s.labels["phase"]: s.value
        for family in text_string_to_metric_families(text)
        if family.name == "pantau_probe_phase_seconds"
        for s in family.samples
    }
    collected = {
        s.labels["phase"]: s.value
        for family in metrics.registry.collect()
        if family.name == "pantau_probe_phase_seconds"
        for s in family.samples
    }
    assert exported == collected, (exported, collected)
    return exported


async def test_a_timed_out_probe_leaves_unmeasured_phases_absent(ctx, app) -> None:
    metrics = Metrics(CollectorRegistry())
    target = http_target(app.url)

    ok = await probe_once(ctx, target, deadline=2.0)
    assert ok.ok, ok.message
    metrics.observe_probe(ok)
    before = await _phases(metrics)
    assert set(before) == {"dns", "connect", "tls", "ttfb", "total"}
    assert before["total"] > 0

    await app.set_mode("hang")  # accepts, never answers: the probe times out waiting for it
    failed = await probe_once(ctx, target, deadline=0.3)
    assert failed.reason == "timeout", failed
    metrics.observe_probe(failed)
    after = await _phases(metrics)
    # Neither 0 ms nor the previous success's value: a target that times out is not fast.
    assert "ttfb" not in after and "total" not in after, after
    assert all(value > 0 or phase == "tls" for phase, value in after.items()), after
    assert set(after) == set(failed.observation.phases), (after, failed.observation.phases)

    await app.set_mode("down")  # refused: nothing measured at all
    refused = await probe_once(ctx, target, deadline=1.0)
    assert not refused.ok
    metrics.observe_probe(refused)
    assert await _phases(metrics) == dict(refused.observation.phases)
    assert 0.0 not in (await _phases(metrics)).values()

    await app.set_mode("ok")
    again = await probe_once(ctx, target, deadline=2.0)
    metrics.observe_probe(again)
    assert set(await _phases(metrics)) == {"dns", "connect", "tls", "ttfb", "total"}
