"""Kept lines (issue 18, the scrape at 5,000 targets): from KEEP_LINES_FROM targets on, the store
keeps each target's rendered lines, a refresh renders what changed between scrapes, and the page
stays exactly what prometheus_client writes after every change."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from monitor import exposition
from monitor.exposition import render
from monitor.metrics import Metrics
from tests.support.metrics_reference import (
    NAMES,
    apply,
    daemon_and_reference,
    families,
    lines,
    probe,
    reference_text,
    rounds,
)


@pytest.fixture
def keep_from_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep lines from the first target on (the daemon does from 2,000)."""
    monkeypatch.setattr(exposition, "KEEP_LINES_FROM", 1)


async def text(metrics: Metrics) -> str:
    return (await render(metrics.series, metrics.others)).decode()


@pytest.mark.usefixtures("keep_from_one")
async def test_kept_lines_follow_every_change() -> None:
    """Each round changes results, states, skips and adds targets after lines were kept: a
    change that did not drop a target's lines would leave the old text on the page."""
    metrics, reference, ref_registry = daemon_and_reference()
    for results, states, skips in rounds():
        apply(metrics, reference, results, states, skips)
        page = await text(metrics)
        assert metrics.series.keep_lines
        assert all(s.lines is not None for s in metrics.series.targets.values())
        assert lines(page) == lines(reference_text(metrics, ref_registry))
        assert families(page) == families(generate_latest(metrics.registry).decode())
    # A second scrape with nothing changed in between: the same page, from kept lines only.
    assert await text(metrics) == page


@pytest.mark.usefixtures("keep_from_one")
async def test_a_new_uplink_label_reaches_kept_lines() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    metrics.observe_probe(probe("dc-fiber", "tcp", 0.004))
    assert 'target="dc-fiber"}' in await text(metrics)
    metrics.set_uplinks(("fiber",), {"dc-fiber": "fiber"})
    page = await text(metrics)
    assert lines(page) == lines(generate_latest(registry).decode())
    assert 'kind="tcp",role="datacenter",target="dc-fiber",uplink="fiber"} 1.0' in page


async def test_the_refresh_renders_changes_between_scrapes(
    keep_from_one: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exposition, "REFRESH_SECONDS", 0.01)
    metrics, reference, ref_registry = daemon_and_reference()
    first, *later = rounds()
    apply(metrics, reference, *first)
    await text(metrics)  # the first scrape: keeps every target's lines, starts the refresh
    store = metrics.series
    for results, states, skips in later:
        apply(metrics, reference, results, states, skips)
        changed = set(store.stale)
        assert {s.target for s in changed} >= {r.target for r in results if r.target in NAMES}
        assert all(s.lines is None for s in changed)
        for _ in range(100):  # no scrape in between: only the refresh can render them
            await asyncio.sleep(0.01)
            if not store.stale:
                break
        assert not store.stale
        assert all(s.lines is not None for s in changed)
        assert lines(await text(metrics)) == lines(reference_text(metrics, ref_registry))


async def test_lines_are_freed_when_nobody_scrapes(
    keep_from_one: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exposition, "REFRESH_SECONDS", 0.01)
    monkeypatch.setattr(exposition, "KEEP_LINES_IDLE", 0.05)
    metrics, reference, ref_registry = daemon_and_reference()
    apply(metrics, reference, *rounds()[0])
    await text(metrics)
    store = metrics.series
    assert store.keep_lines
    for _ in range(100):
        await asyncio.sleep(0.01)
        if not store.keep_lines:
            break
    assert not store.keep_lines
    assert all(s.lines is None for s in store.targets.values())
    apply(metrics, reference, *rounds()[1])
    assert not store.stale  # changes are not tracked while nothing is kept
    # The next scrape keeps lines again, and they are right.
    assert lines(await text(metrics)) == lines(reference_text(metrics, ref_registry))
    assert store.keep_lines


async def test_a_small_store_keeps_no_lines() -> None:
    metrics, reference, ref_registry = daemon_and_reference()
    for results, states, skips in rounds():
        apply(metrics, reference, results, states, skips)
        assert lines(await text(metrics)) == lines(reference_text(metrics, ref_registry))
    assert len(metrics.series.targets) < exposition.KEEP_LINES_FROM
    assert not metrics.series.keep_lines
    assert all(s.lines is None for s in metrics.series.targets.values())


async def test_kept_lines_are_served_in_bounded_chunks() -> None:
    """Joining a whole family at once would hold the loop for milliseconds at 5,000 targets."""
    metrics = Metrics(CollectorRegistry())
    count = exposition.KEEP_LINES_FROM
    for i in range(count):
        metrics.observe_probe(probe(f"http-{i}", "http", 0.004, phases={"total": 0.004}))
    await text(metrics)  # keeps them
    assert metrics.series.keep_lines
    sizes = [len(c) async for c in exposition.chunks(metrics.series, metrics.others)]
    assert sum(sizes) > 4 * exposition.CHUNK_BYTES
    # A chunk ends at the first batch of targets that takes it past CHUNK_BYTES.
    assert max(sizes) < exposition.CHUNK_BYTES + exposition.JOIN_BATCH * 2048
