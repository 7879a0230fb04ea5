"""The fast /metrics renderer writes exactly what prometheus_client writes, and lets the loop run
while it does (reference and scenario: tests/metrics_reference.py)."""

from __future__ import annotations

import asyncio
import math

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.utils import floatToGoString

from monitor.exposition import go_float, render, wants_openmetrics_only
from monitor.metrics import Metrics
from monitor.series import TargetSeries
from tests.support.metrics_reference import (
    apply,
    daemon_and_reference,
    families,
    lines,
    probe,
    reference_text,
    rounds,
)


async def fast_text(metrics: Metrics) -> str:
    return (await render(metrics.series, metrics.others)).decode()


async def test_the_fast_text_is_what_prometheus_client_renders() -> None:
    metrics, reference, ref_registry = daemon_and_reference()
    for results, states, skips in rounds():
        apply(metrics, reference, results, states, skips)
        fast = await fast_text(metrics)
        expected = reference_text(metrics, ref_registry)
        assert families(fast) == families(expected)
        # Nothing the registry has is missing from the fast page (the daemon-wide metrics).
        assert families(fast) == families(generate_latest(metrics.registry).decode())
        # Not just the same numbers: the same text, line for line (le="1.0", 1.764...e+09).
        assert lines(fast) == lines(expected)
    assert 'target="odd \\"name\\" \\\\ with\\nnewline"' in fast
    assert 'le="+Inf"' in fast and "e+09" in fast


@pytest.mark.parametrize(
    "value",
    [0.0, 1.0, 3.0, 0.001, 1e-05, 2.5e-07, 0.1 + 0.2, 999_999.0, 1_000_000.0, 1_234_567.5,
     1_764_400_000.123456, 1e16, -2.5, -1_234_567.0, math.inf, -math.inf, math.nan],
)  # fmt: skip
def test_numbers_are_written_as_prometheus_client_writes_them(value: float) -> None:
    assert go_float(value) == floatToGoString(value)


async def test_bucket_counts_past_a_million_switch_to_go_exponent_form() -> None:
    metrics = Metrics(CollectorRegistry())
    metrics.observe_probe(probe("busy", "tcp", 0.003))
    series: TargetSeries = metrics.series.targets["busy"]
    assert series.buckets is not None
    series.buckets[2] = 1_234_567  # ~4 months of probes every 10 s
    text = await fast_text(metrics)
    assert 'le="0.005",role="datacenter",target="busy"} 1.234567e+06' in text
    assert families(text) == families(generate_latest(metrics.registry).decode())


async def test_a_large_render_lets_the_loop_run_between_slices() -> None:
    metrics = Metrics(CollectorRegistry())
    for i in range(3000):
        metrics.observe_probe(probe(f"http-{i}", "http", 0.004, phases={"total": 0.004}))
        metrics.set_target_state(f"http-{i}", "up")
    loop = asyncio.get_running_loop()
    ran_during_render: list[bool] = []
    task = asyncio.create_task(render(metrics.series, metrics.others))
    # Queued behind the render's first step: it runs before the render ends only if the
    # render gives the loop back (as due probes need it to).
    loop.call_soon(lambda: ran_during_render.append(not task.done()))
    text = (await task).decode()
    assert ran_during_render == [True]
    assert text.count("pantau_probe_duration_seconds_count{") == 3000


@pytest.mark.parametrize(
    ("accept", "openmetrics_only"),
    [
        ("", False),  # curl, promtool, a browser without a header
        ("*/*", False),
        # Prometheus 2.x: prefers OpenMetrics, lists the text format: it gets the text format
        ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
         "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", False),
        # Prometheus 3.x
        ("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"
         "application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;"
         "escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1", False),
        ("application/openmetrics-text; version=1.0.0", True),
        ("application/openmetrics-text;version=1.0.0, text/plain;q=0", True),
    ],
)  # fmt: skip
def test_only_an_openmetrics_only_client_gets_openmetrics(
    accept: str, openmetrics_only: bool
) -> None:
    assert wants_openmetrics_only(accept) is openmetrics_only
