"""The fast /metrics renderer's shortcuts (bytes templates, repr for common floats, a Go form for
Unix times, ISA-L gzip) write what prometheus_client writes for every value, and a render lets
the probes that fall due during a slice start before the next one (issue 18)."""

from __future__ import annotations

import asyncio
import gzip
import math
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from monitor import exposition
from monitor.exposition import KEEP_LINES_FROM, chunks, gzip_compressor, render
from monitor.metrics import Metrics
from monitor.series import TargetSeries
from tests.support.metrics_reference import families, lines, probe

# The boundaries of each shortcut: repr below 1e6, Go's exponent form from it (and up to 1e16,
# where repr switches too), the 10-digit Unix times, the values that are words.
EDGES = [
    0.0, -0.0, 1e-05, 2.5e-07, 0.1 + 0.2, 999_999.9, 1_000_000.0, 1_234_567.5, 999_999_999.9,
    1e9, 1_764_400_000.123456, 1_764_400_000.0, 9_999_999_999.5, 1e10, 1e16, 1.5e17, -2.5,
    -1_234_567.0, math.inf, -math.inf, math.nan,
]  # fmt: skip


def _one_target(**fields: Any) -> Metrics:
    metrics = Metrics(CollectorRegistry())
    metrics.observe_probe(probe("web", "http", 0.004, phases={"connect": 0.001, "total": 0.004}))
    metrics.set_target_state("web", "slow")
    series: TargetSeries = metrics.series.targets["web"]
    for name, value in fields.items():
        setattr(series, name, value)
    return metrics


async def _same_as_prometheus_client(metrics: Metrics) -> str:
    fast = (await render(metrics.series, metrics.others)).decode()
    expected = generate_latest(metrics.registry).decode()  # the store through prometheus_client
    assert lines(fast) == lines(expected)
    # And prometheus_client's parser reads the same samples (repr: NaN is not equal to NaN).
    assert repr(sorted(families(fast).items())) == repr(sorted(families(expected).items()))
    return fast


@pytest.mark.parametrize("value", EDGES)
async def test_every_float_field_is_written_as_prometheus_client_writes_it(value: float) -> None:
    fields = {
        "success": value,
        "sum": value,
        "last_timestamp": value,
        "tls_expiry": value,
        "skipped": value,
        "icmp_loss": value,
        "icmp_rtt": {"avg": value},
        "results": {"success": value, "timeout": 1.0},
        "phases": [None, value, None, 0.002, value],
    }
    await _same_as_prometheus_client(_one_target(**fields))


@pytest.mark.parametrize(
    "fields",
    [
        {"phases": [1, 0.5, None, None, 2]},  # ints where floats are expected: the slow path
        {"phases": [None] * 5},  # a probe that measured no phase
        {"phases": [0.1, 0.2, 0.3, 0.4, 0.5]},  # https: every phase
        {"sum": 3},
        {"buckets": [999_999, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]},  # counts pass 1e6
        {"results": {}},
        {"uplink": 'backup "2"'},
    ],
)
async def test_unusual_shapes_are_written_as_prometheus_client_writes_them(
    fields: dict[str, Any],
) -> None:
    await _same_as_prometheus_client(_one_target(**fields))


async def test_a_probe_due_during_a_slice_starts_before_the_next_slice() -> None:
    metrics = Metrics(CollectorRegistry())
    # A page of many slices, rendered afresh: a chunk is then one slice. From KEEP_LINES_FROM
    # targets the page is joined from kept lines in chunks of CHUNK_BYTES, several of which
    # can fall in one slice on a fast machine (the clean-clone CI saw the timer at chunk 2).
    for i in range(KEEP_LINES_FROM - 100):
        metrics.observe_probe(probe(f"http-{i}", "http", 0.004, phases={"total": 0.004}))
    loop = asyncio.get_running_loop()
    slices_done = 0
    seen: dict[str, int] = {}
    probes: list[asyncio.Task[None]] = []

    async def a_probe() -> None:  # its first step is where a probe connects
        seen["probe started"] = slices_done

    def timer() -> None:
        seen["timer"] = slices_done
        probes.append(loop.create_task(a_probe()))

    async def scrape() -> None:
        nonlocal slices_done
        async for _chunk in chunks(metrics.series, metrics.others):
            slices_done += 1
            if slices_done == 1:
                # Due at once, as a probe falling due while the slice ran. With
                # `asyncio.sleep(0)` between slices the render resumed first: the timer waited
                # for the second slice, and its probe task for the third.
                loop.call_at(loop.time(), timer)

    await scrape()
    await asyncio.gather(*probes)
    assert slices_done > 3
    assert seen == {"timer": 1, "probe started": 1}


async def test_the_gzip_page_is_the_page_with_isal_and_with_zlib(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    metrics = _one_target()
    page = await render(metrics.series, metrics.others)
    for _ in ("as installed", "zlib"):
        compressor = gzip_compressor()
        packed = compressor.compress(page[:100]) + compressor.compress(page[100:])
        assert gzip.decompress(packed + compressor.flush()) == page
        monkeypatch.setattr(exposition, "_isal", None)


async def test_a_render_cut_short_between_slices_leaves_no_error_behind() -> None:
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    try:
        pause = asyncio.create_task(exposition._after_due_work())  # the pause between slices
        await asyncio.sleep(0)  # it has queued its wake-up
        pause.cancel()  # the scraper hung up: aiohttp cancels the handler, and so the render
        with pytest.raises(asyncio.CancelledError):
            await pause
        for _ in range(3):  # the wake-up, still queued, runs now
            await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(None)
    assert errors == []
