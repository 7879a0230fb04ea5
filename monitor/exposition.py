"""/metrics in the Prometheus text format 0.0.4, rendered on the event loop in short slices.

At 5,000 HTTP targets the page is 12.7 MB (25 lines per target). prometheus_client renders it
in ~1 s; in a worker thread that still starts probes late, because the render holds the GIL
while the loop waits for it. Here the per-target lines are written straight from the plain
numbers in `SeriesStore` (each line: a label head shared by all targets of one role and kind,
the target, the value): ~45 ms for the same page, in slices of ~1 ms with the loop free in
between, so a probe due meanwhile starts at most one slice late. The page is not one atomic
snapshot: a probe that ends between two slices may show in one family and not yet in another.
A target's lines within one family (a histogram's buckets, count and sum) are always written
together, so they agree.

No per-target text is cached between scrapes: with probes every 10-15 s and Prometheus
scraping every 15 s nearly every target has changed by the next scrape, so a cache would save
little of those 45 ms and cost the page's size (12.7 MB) in memory for good.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from operator import attrgetter
from typing import Protocol

from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString

from monitor.series import (
    BUCKET_LE,
    DURATION,
    FAMILIES,
    HTTP_PHASES,
    ICMP_LOSS,
    ICMP_RTT,
    LAST_TIMESTAMP,
    PHASE,
    PROBES,
    SKIPPED,
    SUCCESS,
    TARGET_STATE,
    TARGET_STATES,
    TLS_EXPIRY,
    Family,
    SeriesStore,
    TargetSeries,
)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SLICE_SECONDS = 0.001  # longest the render holds the loop before it lets others run
BATCH = 32  # targets rendered between two looks at the clock
# 12.7 MB: level 1 -> 0.86 MB in 20 ms; 6 -> 0.69 MB in 52 ms; 9 (gzip's default) -> 0.68 MB
# in 170 ms. Level 1: the scrape is on a LAN, the CPU is the prober's.
GZIP_LEVEL = 1
_EXACT_COUNT = 1_000_000  # below it a count's float text is "<int>.0" (Go switches to 1e+06)


class Collector(Protocol):
    def collect(self) -> Iterable[Metric]: ...


def escape(value: str) -> str:
    """A label value as the text format writes it (returns `value` itself when nothing to do)."""
    if "\\" in value or "\n" in value or '"' in value:
        return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
    return value


def go_float(value: float) -> str:
    """prometheus_client's floatToGoString, with the common case (a short repr) inline."""
    text = repr(float(value))
    if 0 < text.find(".") <= 6:
        return text
    return str(floatToGoString(value))


def _count(value: int) -> str:
    return f"{value}.0" if value < _EXACT_COUNT else go_float(value)


class _Heads:
    """Label heads of the series that carry role and kind: `name{kind="..",role="..",target="`.
    Labels are in prometheus_client's order (sorted by name), so the pages are alike."""

    def __init__(self, role: str, kind: str) -> None:
        kind, role = escape(kind), escape(role)
        self.success = f'{SUCCESS.name}{{kind="{kind}",role="{role}",target="'
        name = DURATION.name
        self.buckets = tuple(
            f'{name}_bucket{{kind="{kind}",le="{le}",role="{role}",target="' for le in BUCKET_LE
        )
        self.count = f'{name}_count{{kind="{kind}",role="{role}",target="'
        self.sum = f'{name}_sum{{kind="{kind}",role="{role}",target="'
        self._kind, self._role = kind, role
        self._probes: dict[str, str] = {}

    def probes(self, result: str) -> str:
        head = self._probes.get(result)
        if head is None:
            head = self._probes[result] = (
                f'{PROBES.name}_total{{kind="{self._kind}",result="{escape(result)}",'
                f'role="{self._role}",target="'
            )
        return head


_HEADS: dict[tuple[str, str], _Heads] = {}  # roles and kinds are fixed sets: a few entries


def _heads(role: str, kind: str) -> _Heads:
    heads = _HEADS.get((role, kind))
    if heads is None:
        heads = _HEADS[(role, kind)] = _Heads(role, kind)
    return heads


_PHASE_HEADS = tuple(f'{PHASE.name}{{phase="{p}",target="' for p in HTTP_PHASES)
_STATE_HEADS = tuple(f'{TARGET_STATE.name}{{state="{s}",target="' for s in TARGET_STATES)
_ONE_HOT = {
    state: tuple("1.0" if other == state else "0.0" for other in TARGET_STATES)
    for state in TARGET_STATES
}


# One writer per family: appends the target's lines of that family to `out`.
def _success(s: TargetSeries, t: str, out: list[str]) -> None:
    if s.success is not None and s.role is not None and s.kind is not None:
        out.append(f'{_heads(s.role, s.kind).success}{t}"}} {go_float(s.success)}\n')


def _duration(s: TargetSeries, t: str, out: list[str]) -> None:
    buckets = s.buckets
    if buckets is None or s.role is None or s.kind is None:
        return
    heads = _heads(s.role, s.kind)
    total = 0
    for head, count in zip(heads.buckets, buckets, strict=True):
        total += count
        out.append(f'{head}{t}"}} {_count(total)}\n')
    out.append(f'{heads.count}{t}"}} {_count(total)}\n')
    out.append(f'{heads.sum}{t}"}} {go_float(s.sum)}\n')


def _phase(s: TargetSeries, t: str, out: list[str]) -> None:
    if s.phases is not None:
        for head, seconds in zip(_PHASE_HEADS, s.phases, strict=True):
            if seconds is not None:
                out.append(f'{head}{t}"}} {go_float(seconds)}\n')


def _probes(s: TargetSeries, t: str, out: list[str]) -> None:
    if s.results and s.role is not None and s.kind is not None:
        heads = _heads(s.role, s.kind)
        for result, count in s.results.items():
            out.append(f'{heads.probes(result)}{t}"}} {go_float(count)}\n')


def _single(family: Family, attribute: str) -> Callable[[TargetSeries, str, list[str]], None]:
    head = f'{family.name}{"_total" if family.type == "counter" else ""}{{target="'
    get = attrgetter(attribute)

    def write(s: TargetSeries, t: str, out: list[str]) -> None:
        value = get(s)
        if value is not None:
            out.append(f'{head}{t}"}} {go_float(value)}\n')

    return write


def _icmp_rtt(s: TargetSeries, t: str, out: list[str]) -> None:
    if s.icmp_rtt is not None:
        for stat, seconds in s.icmp_rtt.items():
            head = f'{ICMP_RTT.name}{{stat="{escape(stat)}",target="'
            out.append(f'{head}{t}"}} {go_float(seconds)}\n')


def _target_state(s: TargetSeries, t: str, out: list[str]) -> None:
    if s.state is not None:
        for head, value in zip(_STATE_HEADS, _ONE_HOT[s.state], strict=True):
            out.append(f'{head}{t}"}} {value}\n')


_WRITERS: dict[str, Callable[[TargetSeries, str, list[str]], None]] = {
    SUCCESS.name: _success,
    DURATION.name: _duration,
    PHASE.name: _phase,
    PROBES.name: _probes,
    SKIPPED.name: _single(SKIPPED, "skipped"),
    LAST_TIMESTAMP.name: _single(LAST_TIMESTAMP, "last_timestamp"),
    ICMP_LOSS.name: _single(ICMP_LOSS, "icmp_loss"),
    ICMP_RTT.name: _icmp_rtt,
    TLS_EXPIRY.name: _single(TLS_EXPIRY, "tls_expiry"),
    TARGET_STATE.name: _target_state,
}
assert set(_WRITERS) == {f.name for f in FAMILIES}


def _header(family: Family) -> str:
    name = f"{family.name}_total" if family.type == "counter" else family.name
    text = family.help.replace("\\", r"\\").replace("\n", r"\n")
    return f"# HELP {name} {text}\n# TYPE {name} {family.type}\n"


_HEADERS = {f.name: _header(f) for f in FAMILIES}


class _Collectors:
    def __init__(self, collectors: Iterable[Collector]) -> None:
        self._collectors = list(collectors)

    def collect(self) -> Iterator[Metric]:
        for collector in self._collectors:
            yield from collector.collect()


async def chunks(store: SeriesStore, others: Iterable[Collector]) -> AsyncIterator[bytes]:
    """The page, one chunk per slice: the store's families (each family's lines together, as
    the format requires), then the `others` (a few dozen series) by prometheus_client.

    A chunk is what one slice wrote (a few hundred KB), so a scrape streamed out chunk by chunk
    never holds the whole page (12 MB at 5,000 targets) in memory.
    """
    # `uplink` sorts after `target`, the last label of every line: it rides on the value.
    targets = [
        (s, escape(s.target) + (f'",uplink="{escape(s.uplink)}' if s.uplink else ""))
        for s in store.snapshot()
    ]
    lines: list[str] = []
    deadline = time.perf_counter() + SLICE_SECONDS
    for family in FAMILIES:
        write = _WRITERS[family.name]
        lines.append(_HEADERS[family.name])
        for start in range(0, len(targets), BATCH):
            for s, t in targets[start : start + BATCH]:
                write(s, t, lines)
            if time.perf_counter() >= deadline:
                yield "".join(lines).encode()
                lines = []
                await asyncio.sleep(0)  # let due probes start; the rest of the page can wait
                deadline = time.perf_counter() + SLICE_SECONDS
    lines.append(generate_latest(_Collectors(others)).decode())
    yield "".join(lines).encode()


async def render(store: SeriesStore, others: Iterable[Collector]) -> bytes:
    """The whole page at once (for tests and small pages)."""
    return b"".join([chunk async for chunk in chunks(store, others)])


def gzip_compressor() -> zlib._Compress:
    """A streaming gzip compressor; zlib releases the GIL, so it may run in a worker thread."""
    return zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: gzip header and trailer


def wants_openmetrics_only(accept: str) -> bool:
    """True when the client takes OpenMetrics and neither the text format nor anything.

    Prometheus 2.x asks for OpenMetrics first but also lists `text/plain;version=0.0.4` and
    `*/*`: it gets the text format, as from blackbox_exporter and other Go exporters, which
    carries every series Pantau has (no exemplars, no `_created`).
    """
    openmetrics = False
    for item in accept.split(","):
        media, *params = (part.strip().lower() for part in item.split(";"))
        if any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params):
            continue
        if media in ("text/plain", "text/*", "*/*"):
            return False
        if media == "application/openmetrics-text":
            openmetrics = True
    return openmetrics
