"""The path tracer's metrics as plain numbers (issue 18, memory and the scrape at 5,000
targets): the page and the registry show exactly what prometheus_client's Gauge and Counter
children showed, and /metrics writes them in slices."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from monitor import exposition
from monitor.exposition import render
from monitor.metrics import Metrics
from monitor.path.analysis import PathFinding
from monitor.path.metrics import PathMetrics
from monitor.path.trace import Hop, Trace

NAMES = ["dc-1", 'dc "quoted"', "dc\\back", "dc\nnewline", "dc-5"]


class Reference:
    """The path metrics as they were: prometheus_client children, one per label set."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.hops = Gauge(
            "pantau_path_hops_reached", PathMetrics_help("hops"), ["target"], registry=r
        )
        self.loss = Gauge(
            "pantau_path_hop_loss_ratio", PathMetrics_help("loss"), ["target", "ttl"], registry=r
        )
        self.reaches = Gauge(
            "pantau_path_reaches_datacenter", PathMetrics_help("reaches"), ["target"], registry=r
        )
        self.traces = Counter(
            "pantau_path_traces_total",
            PathMetrics_help("traces"),
            ["target", "why", "result"],
            registry=r,
        )
        self.errors = Counter(
            "pantau_path_store_errors_total", PathMetrics_help("errors"), registry=r
        )
        self.ttls: dict[str, set[int]] = {}

    def observe(self, target: str, why: str, trace: Trace, finding: PathFinding) -> None:
        self.traces.labels(target, why, trace.error or "ok").inc()
        if trace.error:
            self.reaches.labels(target).set(-1)
            return
        last = trace.last_answering
        self.hops.labels(target).set(last.ttl if last else 0)
        ttls = set()
        for hop in trace.hops:
            self.loss.labels(target, str(hop.ttl)).set(hop.loss_ratio)
            ttls.add(hop.ttl)
        for stale in self.ttls.get(target, set()) - ttls:
            self.loss.remove(target, str(stale))
        self.ttls[target] = ttls
        reaches = finding.reaches_datacenter
        self.reaches.labels(target).set(-1 if reaches is None else int(reaches))


def PathMetrics_help(which: str) -> str:  # the HELP texts of the real families
    from monitor.path import metrics as m

    return {
        "hops": m.HOPS_REACHED.help,
        "loss": m.HOP_LOSS.help,
        "reaches": m.REACHES_DATACENTER.help,
        "traces": m.TRACES.help,
        "errors": "Traces that could not be kept in the ledger file (full disk, lock); the "
        "outage's evidence still carries them.",
    }[which]


def trace(target: str, answered: list[tuple[int, int]], error: str | None = None) -> Trace:
    hops = tuple(Hop(ttl, f"10.0.0.{ttl}", 5, got) for ttl, got in answered)
    return Trace(target, "10.9.9.9", "icmp", 0, 1_764_590_000.0, hops=hops, error=error)


def finding(target: str, reaches: bool | None) -> PathFinding:
    return PathFinding(target, reaches, "test", None, None)


def rounds() -> list[list[tuple[str, str, Trace, PathFinding]]]:
    first = [
        (name, "baseline", trace(name, [(1, 5), (2, 4), (3, 5)]), finding(name, True))
        for name in NAMES
    ]
    second = [
        # a shorter path: TTLs 2 and 3 must leave the page
        (NAMES[0], "transition", trace(NAMES[0], [(1, 5)]), finding(NAMES[0], False)),
        (NAMES[1], "transition", trace(NAMES[1], [], error="permission"), finding(NAMES[1], None)),
        (NAMES[2], "baseline", trace(NAMES[2], [(1, 0), (2, 1)]), finding(NAMES[2], None)),
        (
            NAMES[3],
            "transition",
            trace(NAMES[3], [(1, 5), (2, 5), (3, 3)]),
            finding(NAMES[3], True),
        ),
    ]
    return [first, second]


def path_lines(text: str) -> list[str]:
    """The path families' lines; no `_created` (the daemon turns them off, this test's
    reference registry does not)."""
    return [line for line in text.splitlines() if "pantau_path_" in line and "_created" not in line]


async def test_the_page_and_the_registry_show_what_prometheus_client_children_did() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    path = PathMetrics(registry)
    metrics.others.extend(path.families)
    ref_registry = CollectorRegistry()
    reference = Reference(ref_registry)
    for observations in rounds():
        for name, why, found, judged in observations:
            path.observe(name, why, found, judged)
            reference.observe(name, why, found, judged)
        path.store_failed()
        reference.errors.inc()
        expected = path_lines(generate_latest(ref_registry).decode())
        assert path_lines((await render(metrics.series, metrics.others)).decode()) == expected
        assert path_lines(generate_latest(registry).decode()) == expected
    assert 'pantau_path_hop_loss_ratio{target="dc-1",ttl="2"}' not in "\n".join(expected)
    assert registry.get_sample_value("pantau_path_reaches_datacenter", {"target": NAMES[1]}) == -1.0
    assert (
        registry.get_sample_value(
            "pantau_path_traces_total", {"target": NAMES[0], "why": "transition", "result": "ok"}
        )
        == 1.0
    )


async def test_the_page_writes_the_path_families_in_slices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a slice of no length every batch of lines is a chunk of its own, and what fell due
    meanwhile runs between chunks: the render never holds the loop for the whole family."""
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    path = PathMetrics(registry)
    metrics.others.extend(path.families)
    for i in range(3 * exposition.JOIN_BATCH):
        name = f"dc-{i}"
        path.observe(name, "baseline", trace(name, [(1, 5), (2, 5)]), finding(name, True))
    whole = await render(metrics.series, metrics.others)
    monkeypatch.setattr(exposition, "SLICE_SECONDS", 0.0)
    ran: list[int] = []
    parts: list[tuple[bytes, int]] = []  # each chunk, and how many callbacks had run by then
    async for part in exposition.chunks(metrics.series, metrics.others):
        parts.append((part, len(ran)))
        asyncio.get_running_loop().call_soon(ran.append, len(parts))
    assert b"".join(part for part, _ in parts) == whole
    path_chunks = [
        (i, ran_before) for i, (part, ran_before) in enumerate(parts) if b"pantau_path_" in part
    ]
    assert len(path_chunks) >= 4  # 4 families, 384-768 lines each, a chunk per batch
    for i, ran_before in path_chunks[1:]:
        assert ran_before == i  # the loop ran what was queued before this chunk was written


async def test_a_value_changed_during_a_render_is_not_kept_stale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A trace that ends between two slices of a render changes a value the render has not
    written yet: the line written (and kept until the next change) must carry the new value."""
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    path = PathMetrics(registry)
    metrics.others.extend(path.families)
    names = [f"dc-{i}" for i in range(3 * exposition.JOIN_BATCH)]
    for name in names:
        path.observe(name, "baseline", trace(name, [(1, 5), (2, 5)]), finding(name, True))
    monkeypatch.setattr(exposition, "SLICE_SECONDS", 0.0)
    monkeypatch.setattr(exposition, "KEEP_LINES_FROM", 0)  # lines kept, as from 2,000 targets
    last = names[-1]
    async for part in exposition.chunks(metrics.series, metrics.others):
        if b"pantau_path_hops_reached" in part and f'"{last}"'.encode() not in part:
            path.observe(last, "transition", trace(last, [(1, 5)]), finding(last, False))
    assert path.hops_reached.lines  # the render kept lines: a stale one would show below
    page = (await render(metrics.series, metrics.others)).decode()
    assert f'pantau_path_hops_reached{{target="{last}"}} 1.0' in page
    assert f'pantau_path_reaches_datacenter{{target="{last}"}} 0.0' in page
    assert f'pantau_path_hop_loss_ratio{{target="{last}",ttl="2"}}' not in page


async def test_lines_are_kept_only_while_the_store_keeps_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Below KEEP_LINES_FROM targets a path line is written anew at each scrape (~130 B a line
    saved: ~0.5 MB at 1,000 traced targets); from it on, while scraped, it is kept until it
    changes; when the store stops keeping (nobody scrapes), they are freed with its own."""
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    path = PathMetrics(registry)
    metrics.others.extend(path.families)
    for name in ("dc-1", "dc-2"):
        path.observe(name, "baseline", trace(name, [(1, 5), (2, 5)]), finding(name, True))
    plain = [path.hops_reached, path.hop_loss, path.reaches_datacenter, path.traces]
    small = await render(metrics.series, metrics.others)
    assert b'pantau_path_hop_loss_ratio{target="dc-2",ttl="2"} 0.0' in small
    assert not any(family.lines for family in plain)
    monkeypatch.setattr(exposition, "KEEP_LINES_FROM", 0)
    assert await render(metrics.series, metrics.others) == small
    assert metrics.series.keep_lines
    assert all(len(family.lines) == len(family.values) for family in plain)
    assert await render(metrics.series, metrics.others) == small  # joined from kept lines
    metrics.series.drop_lines()  # what a store with no scrape for KEEP_LINES_IDLE does
    assert not any(family.lines for family in plain)  # freed now, not at the next page
    monkeypatch.setattr(exposition, "KEEP_LINES_FROM", 10)
    assert await render(metrics.series, metrics.others) == small
    assert not any(family.lines for family in plain)
    assert not metrics.series.kept_beside
