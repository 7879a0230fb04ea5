"""/metrics in the Prometheus text format 0.0.4, rendered on the event loop in short slices.

At 5,000 HTTP targets the page is 12.7 MB (25 lines per target; 17 of them the latency
histogram, 8.5 MB). prometheus_client renders it in ~1 s (3.7 s on the shared Xeon VM of issue
18); in a worker thread that still starts probes late, because the render holds the GIL while
the loop waits for it. Here the per-target lines are written straight from the plain numbers in
`SeriesStore`, one bytes %-format per target and family from a template per role and kind
(issue 18; an f-string per line before it): on the shared Xeon VM, median of 7 interleaved
renders, ~100 ms of CPU against ~150-200 ms, the same bytes. In slices of ~1 ms with the loop
free in between; after each slice the render waits until the timers that fell due meanwhile
and the first step of the probes they start have run, so a probe due during a render starts at
most one slice late. The page is not one atomic snapshot: a probe that ends between two slices
may show in one family and not yet in another. A target's lines within one family (a
histogram's buckets, count and sum) are always written together, so they agree.

From KEEP_LINES_FROM targets on, the store keeps each target's rendered lines between scrapes
(the page's size in memory: 2.4 KB per HTTP target). With probes every 10-15 s and a scrape
every 15 s every target has changed by the next scrape, so rendering at the scrape would save
nothing; instead a refresh renders the targets that changed, once a second in 1 ms slices, and
a scrape renders only the last second's changes and joins the rest (a scrape with the loop half
busy at 5,000 targets: ~60 ms against ~220 ms, `python -m bench.scrape_lag`). The cost moves
out of the scrape, not away: each change is rendered once (~22 us per target), about 1.5x the
render of one page per scrape with probes every 10 s and scrapes every 15 s. With no scrape for
KEEP_LINES_IDLE the lines are freed.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from itertools import accumulate, islice
from operator import attrgetter, itemgetter
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
    Collector,
    Family,
    PlainCollector,
    PlainFamily,
    SeriesStore,
    TargetSeries,
)

try:
    from isal import isal_zlib as _isal
except ImportError:  # no wheel for this machine: zlib, same bytes on the wire, ~5.5x the CPU
    _isal = None  # type: ignore[assignment]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SLICE_SECONDS = 0.001  # longest the render holds the loop before it lets others run
BATCH = 32  # targets rendered between two looks at the clock
# 12.7 MB: level 1 -> 0.86 MB in 20 ms; 6 -> 0.69 MB in 52 ms; 9 (gzip's default) -> 0.68 MB
# in 170 ms. Level 1: the scrape is on a LAN, the CPU is the prober's. ISA-L's level 1 (the
# `isal` package) writes the 12 MB page at 5,000 targets in 8.7 ms to zlib's 50.9 ms, and
# smaller (0.59 MB both here, median of 5 on the shared Xeon VM); zlib where it has no wheel.
GZIP_LEVEL = 1
# From this many targets the store keeps each target's rendered lines between scrapes and a
# refresh renders those that changed, once a second: a scrape then joins kept bytes (at 5,000
# targets the render was 30-100 ms of CPU, 0.2-0.4 s of a loop a third busy with probes). Below
# it the page is cheap to render (~20 ms at 1,000 targets), not worth its memory (2.4 KB each).
KEEP_LINES_FROM = 2_000
REFRESH_SECONDS = 1.0
KEEP_LINES_IDLE = 300.0  # no scrape for this long: stop keeping lines
JOIN_BATCH = 128  # kept targets joined between two looks at the clock
# Targets rendered into kept lines between two looks at the clock: ~22 us each, so a slice ends
# within ~0.2 ms of its length (every BATCH, as the joins do, let it run 0.7 ms over).
STALE_BATCH = 8
CHUNK_BYTES = 256 * 1024  # a chunk of kept lines: gzipped and sent while the next is joined
_EXACT_COUNT = 1_000_000  # below it a count's float text is "<int>.0" (Go switches to 1e+06)


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


_HIGH = 1e6  # below it (and above -inf) Go's float text is Python's repr, which `%a` writes
_LOW = float("-inf")


def _lit(text: str) -> bytes:
    """Literal text for a bytes %-template."""
    return text.encode().replace(b"%", b"%%")


def _line(head: str, value: bytes) -> bytes:
    """One line's template: `head` ends in `target="`; the target (`%s`) and `value` follow."""
    return _lit(head) + b'%s"} ' + value + b"\n"


def _number(value: float) -> bytes:
    """A sample value as the text format writes it."""
    if type(value) is float and _LOW < value < _HIGH:
        return b"%a" % value  # repr: the common case, no string work
    return go_float(value).encode()


class _Heads:
    """Templates of the lines that carry role and kind: `name{kind="..",role="..",target="%s"}`.
    Labels are in prometheus_client's order (sorted by name), so the pages are alike. One
    bytes %-format per target and family: each line costs a few hundred ns less than an
    f-string per line, and 85,000 histogram lines at 5,000 targets make that the page's cost."""

    def __init__(self, role: str, kind: str) -> None:
        kind, role = escape(kind), escape(role)
        self.success = _line(f'{SUCCESS.name}{{kind="{kind}",role="{role}",target="', b"%s")
        name = DURATION.name
        self.bucket_heads = tuple(
            f'{name}_bucket{{kind="{kind}",le="{le}",role="{role}",target="' for le in BUCKET_LE
        )
        self.count_head = f'{name}_count{{kind="{kind}",role="{role}",target="'
        self.sum_head = f'{name}_sum{{kind="{kind}",role="{role}",target="'
        # Every bucket and the count as `<int>.0`, the sum as its repr: the common case.
        self.duration = (
            b"".join(_line(head, b"%d.0") for head in self.bucket_heads)
            + _line(self.count_head, b"%d.0")
            + _line(self.sum_head, b"%a")
        )
        self.slots = 2 * (len(BUCKET_LE) + 2)
        self._kind, self._role = kind, role
        self._probes: dict[str, bytes] = {}

    def probes(self, result: str) -> bytes:
        line = self._probes.get(result)
        if line is None:
            line = self._probes[result] = _line(
                f'{PROBES.sample}{{kind="{self._kind}",result="{escape(result)}",'
                f'role="{self._role}",target="',
                b"%s",
            )
        return line


_HEADS: dict[tuple[str, str], _Heads] = {}  # roles and kinds are fixed sets: a few entries


def _heads(role: str, kind: str) -> _Heads:
    heads = _HEADS.get((role, kind))
    if heads is None:
        heads = _HEADS[(role, kind)] = _Heads(role, kind)
    return heads


_PHASE_LINES = tuple(_line(f'{PHASE.name}{{phase="{p}",target="', b"%s") for p in HTTP_PHASES)
_ONE_HOT = {True: b"1.0", False: b"0.0"}
_STATE_LINES = {
    state: b"".join(
        _line(f'{TARGET_STATE.name}{{state="{other}",target="', _ONE_HOT[other == state])
        for other in TARGET_STATES
    )
    for state in TARGET_STATES
}


Batch = Iterable[tuple[TargetSeries, bytes]]  # targets and their label value, escaped, encoded


# One writer per family: appends the lines of that family of a batch of targets to `out`. The
# loop over the batch is inside, so a target costs no call per family.
def _success(batch: Batch, out: list[bytes]) -> None:
    for s, t in batch:
        if s.success is not None and s.role is not None and s.kind is not None:
            out.append(_heads(s.role, s.kind).success % (t, _number(s.success)))


def _duration(batch: Batch, out: list[bytes]) -> None:
    for s, t in batch:
        buckets = s.buckets
        if buckets is None or s.role is None or s.kind is None:
            continue
        heads = _heads(s.role, s.kind)
        counts = list(accumulate(buckets))
        total, probe_sum = counts[-1], s.sum
        if total < _EXACT_COUNT and type(probe_sum) is float and _LOW < probe_sum < _HIGH:
            args: list[object] = [t] * heads.slots
            args[1:-4:2] = counts
            args[-3], args[-1] = total, probe_sum
            out.append(heads.duration % tuple(args))
        else:  # past a million probes: Go's exponent form
            _duration_slowly(heads, counts, probe_sum, t, out)


def _duration_slowly(
    heads: _Heads, counts: list[int], probe_sum: float, t: bytes, out: list[bytes]
) -> None:
    values = [_count(c).encode() for c in counts]
    for head, value in zip(heads.bucket_heads, values, strict=True):
        out.append(_line(head, b"%s") % (t, value))
    out.append(_line(heads.count_head, b"%s") % (t, values[-1]))
    out.append(_line(heads.sum_head, b"%s") % (t, _number(probe_sum)))


_Shape = tuple[bytes | None, Callable[[list[float | None]], tuple[float, ...]]]
_PHASE_SHAPES: dict[tuple[type, ...], _Shape] = {}  # the values' types -> template, getter
_REPR_PHASE = tuple(_line(f'{PHASE.name}{{phase="{p}",target="', b"%a") for p in HTTP_PHASES)


def _phase_shape(phases: list[float | None]) -> _Shape:
    """The phases measured (not None): a template of their lines (None unless all are floats,
    written by repr) and a getter of their values."""
    present = [i for i, seconds in enumerate(phases) if seconds is not None]
    floats = all(type(phases[i]) is float for i in present)
    template = b"".join(_REPR_PHASE[i] for i in present) if floats else None
    getter = itemgetter(*present) if len(present) > 1 else None
    shape = (template, getter or (lambda values: tuple(values[i] for i in present)))
    return _PHASE_SHAPES.setdefault(tuple(map(type, phases)), shape)


def _phase(batch: Batch, out: list[bytes]) -> None:
    for s, t in batch:
        phases = s.phases
        if phases is None:
            continue
        shape = _PHASE_SHAPES.get(tuple(map(type, phases)))  # which phases were measured
        template, measured = shape if shape is not None else _phase_shape(phases)
        values = measured(phases)
        if template is not None and sum(map(abs, values)) < _HIGH:  # NaN and inf fail it too
            args: list[object] = [t] * (2 * len(values))
            args[1::2] = values
            out.append(template % tuple(args))
            continue
        for line, seconds in zip(_PHASE_LINES, phases, strict=True):
            if seconds is not None:
                out.append(line % (t, _number(seconds)))


def _probes(batch: Batch, out: list[bytes]) -> None:
    for s, t in batch:
        if s.results and s.role is not None and s.kind is not None:
            heads = _heads(s.role, s.kind)
            for result, count in s.results.items():
                out.append(heads.probes(result) % (t, _number(count)))


def _single(
    family: Family, attribute: str, number: Callable[[float], bytes]
) -> Callable[[Batch, list[bytes]], None]:
    line = _line(f'{family.sample}{{target="', b"%s")
    get = attrgetter(attribute)

    def write(batch: Batch, out: list[bytes]) -> None:
        for s, t in batch:
            value = get(s)
            if value is not None:
                out.append(line % (t, number(value)))

    return write


def _stamp(value: float) -> bytes:
    """A Unix time as the text format writes it: Go's `1.764590000123456e+09`."""
    if type(value) is float and 1e9 <= value < 1e10:  # until 2286: repr has 10 digits, a dot
        text = b"%a" % value
        return (text[:1] + b"." + text[1:10] + text[11:]).rstrip(b"0.") + b"e+09"
    return _number(value)


def _icmp_rtt(batch: Batch, out: list[bytes]) -> None:
    for s, t in batch:
        if s.icmp_rtt is not None:
            for stat, seconds in s.icmp_rtt.items():
                line = _line(f'{ICMP_RTT.name}{{stat="{escape(stat)}",target="', b"%s")
                out.append(line % (t, _number(seconds)))


def _target_state(batch: Batch, out: list[bytes]) -> None:
    for s, t in batch:
        if s.state is not None:
            out.append(_STATE_LINES[s.state] % ((t,) * len(TARGET_STATES)))


_WRITERS: dict[str, Callable[[Batch, list[bytes]], None]] = {
    SUCCESS.name: _success,
    DURATION.name: _duration,
    PHASE.name: _phase,
    PROBES.name: _probes,
    SKIPPED.name: _single(SKIPPED, "skipped", _number),
    LAST_TIMESTAMP.name: _single(LAST_TIMESTAMP, "last_timestamp", _stamp),
    ICMP_LOSS.name: _single(ICMP_LOSS, "icmp_loss", _number),
    ICMP_RTT.name: _icmp_rtt,
    TLS_EXPIRY.name: _single(TLS_EXPIRY, "tls_expiry", _stamp),
    TARGET_STATE.name: _target_state,
}
assert set(_WRITERS) == {f.name for f in FAMILIES}


def _header(family: Family) -> str:
    text = family.help.replace("\\", r"\\").replace("\n", r"\n")
    return f"# HELP {family.sample} {text}\n# TYPE {family.sample} {family.type}\n"


_HEADERS = {f.name: _header(f).encode() for f in FAMILIES}


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
    never holds the whole page (12 MB at 5,000 targets) in memory, unless the store keeps the
    targets' lines (from KEEP_LINES_FROM targets on): then the page is mostly joined from them.
    """
    store.last_scrape = time.monotonic()
    series = store.snapshot()
    if not store.keep_lines and len(series) >= KEEP_LINES_FROM:
        store.keep_lines = True
        _refresh_later(store)
    if store.keep_lines:
        async for chunk in _kept_chunks(store, series):
            yield chunk
    else:
        async for chunk in _fresh_chunks(series):
            yield chunk
    others = list(others)
    for collector in others:
        if isinstance(collector, PlainCollector):  # the path tracer's: a few lines per target
            async for chunk in _plain_chunks(collector.families, store):
                yield chunk
    await _after_due_work()  # prometheus_client's part holds the loop ~1.5 ms: a slice of its own
    yield generate_latest(_Collectors(o for o in others if not isinstance(o, PlainCollector)))


async def _plain_chunks(families: list[PlainFamily], store: SeriesStore) -> AsyncIterator[bytes]:
    """Plain families' lines, in slices (25,000 at 5,000 traced targets, which prometheus_client's
    generate_latest took ~0.4 s to write in one go). A line is one bytes %-format from a
    template per family, with each label value escaped and encoded once per page.

    While the store keeps the targets' lines (from KEEP_LINES_FROM targets on, while scraped)
    a series' line is kept until it changes (PlainFamily.lines), and freed with the store's
    (SeriesStore.drop_lines). Below that they are written anew: at 1,000 traced targets ~5,000
    lines, a few ms of slices a scrape, against ~0.5 MB of kept lines (issue 18's memory)."""
    keep = store.keep_lines
    lines: list[bytes] = []
    encoded: dict[str, bytes] = {}  # label value -> escaped bytes (a target is on ~5 lines)
    deadline = time.perf_counter() + SLICE_SECONDS
    for plain in families:
        family = plain.family
        lines.append(_header(family).encode())
        # Labels sorted by name, as prometheus_client writes them.
        order = sorted(range(len(family.labels)), key=family.labels.__getitem__)
        pairs = ",".join(f'{family.labels[i]}="' + "\x00" + '"' for i in order)
        template = _lit(f"{family.sample}{{{pairs}}} ").replace(b"\x00", b"%s") + b"%s\n"
        values, kept = plain.values, plain.lines
        if keep and not any(kept is other for other in store.kept_beside):
            store.kept_beside.append(kept)
        keys = list(values)
        for start in range(0, len(keys), JOIN_BATCH):
            for labels in keys[start : start + JOIN_BATCH]:
                line = kept.get(labels)
                if line is None:  # new or changed since the last page
                    # The value now, not when the render began: a trace that ended during an
                    # earlier slice changed it, and the line is kept until the next change.
                    value = values.get(labels)
                    if value is None:
                        continue  # removed meanwhile (a shorter path)
                    args = []
                    for i in order:
                        text = encoded.get(labels[i])
                        if text is None:
                            text = encoded[labels[i]] = escape(labels[i]).encode()
                        args.append(text)
                    args.append(_number(value))
                    line = template % tuple(args)
                    if keep:
                        kept[labels] = line
                lines.append(line)
            if time.perf_counter() >= deadline:
                yield b"".join(lines)
                lines = []
                await _after_due_work()
                deadline = time.perf_counter() + SLICE_SECONDS
    yield b"".join(lines)


async def _fresh_chunks(series: list[TargetSeries]) -> AsyncIterator[bytes]:
    """Every line rendered now, family by family."""
    # Bytes, which the garbage collector does not track: 5,000 (series, label) tuples kept for
    # the whole render would set off collections of the daemon's heap meanwhile.
    labels: list[bytes] = []
    lines: list[bytes] = []
    deadline = time.perf_counter() + SLICE_SECONDS
    for start in range(0, len(series), BATCH):  # 5,000 labels take ~3 ms: sliced too
        labels += [_label(s) for s in series[start : start + BATCH]]
        if time.perf_counter() >= deadline:
            await _after_due_work()
            deadline = time.perf_counter() + SLICE_SECONDS
    for family in FAMILIES:
        write = _WRITERS[family.name]
        lines.append(_HEADERS[family.name])
        for start in range(0, len(series), BATCH):
            end = start + BATCH
            write(zip(series[start:end], labels[start:end], strict=True), lines)
            if time.perf_counter() >= deadline:
                yield b"".join(lines)
                lines = []
                await _after_due_work()  # due probes start first; the page can wait
                deadline = time.perf_counter() + SLICE_SECONDS
    yield b"".join(lines)


async def _kept_chunks(store: SeriesStore, series: list[TargetSeries]) -> AsyncIterator[bytes]:
    """The targets' kept lines, those changed since the last refresh rendered first; chunks of
    about CHUNK_BYTES (joining a whole family at once would hold the loop for milliseconds)."""
    await _render_stale(store, series)
    lines: list[bytes] = []
    size = 0
    deadline = time.perf_counter() + SLICE_SECONDS
    for index, family in enumerate(FAMILIES):
        lines.append(_HEADERS[family.name])
        get = itemgetter(index)
        for start in range(0, len(series), JOIN_BATCH):
            # A target changed during an earlier slice has no lines now: render it here.
            part = [get(s.lines or _keep(store, s)) for s in series[start : start + JOIN_BATCH]]
            lines += part
            size += sum(map(len, part))
            if size >= CHUNK_BYTES:
                yield b"".join(lines)
                lines, size = [], 0
            if time.perf_counter() >= deadline:
                await _after_due_work()
                deadline = time.perf_counter() + SLICE_SECONDS
    yield b"".join(lines)


def _keep(store: SeriesStore, s: TargetSeries) -> tuple[bytes, ...]:
    """Render a target's lines, family by family, and keep them."""
    label = ((s, _label(s)),)
    lines = []
    for family in FAMILIES:
        out: list[bytes] = []
        _WRITERS[family.name](label, out)
        lines.append(b"".join(out))
    s.lines = kept = tuple(lines)
    store.stale.pop(s, None)
    return kept


async def _render_stale(store: SeriesStore, series: list[TargetSeries]) -> None:
    """Render the targets without lines (changed since the last refresh, or new), in slices."""
    deadline = time.perf_counter() + SLICE_SECONDS
    rendered = 0
    for s in series:
        if s.lines is not None:
            continue
        _keep(store, s)
        rendered += 1
        if rendered % STALE_BATCH == 0 and time.perf_counter() >= deadline:
            await _after_due_work()
            deadline = time.perf_counter() + SLICE_SECONDS


def _refresh_later(store: SeriesStore) -> None:
    asyncio.get_running_loop().call_later(REFRESH_SECONDS, _refresh, store)


def _refresh(store: SeriesStore) -> None:
    """Between scrapes, render what changed, a slice at a time, so that a scrape finds little
    to render. With no scrape for KEEP_LINES_IDLE the store stops keeping lines (and frees
    them): nobody is reading them."""
    if not store.keep_lines:
        return
    if time.monotonic() - store.last_scrape > KEEP_LINES_IDLE:
        store.drop_lines()
        return
    deadline = time.perf_counter() + SLICE_SECONDS
    stale = store.stale
    while stale and time.perf_counter() < deadline:
        for s in list(islice(stale, STALE_BATCH)):
            _keep(store, s)
    if stale:  # more to do: after what falls due meanwhile, as a scrape's slices do
        loop = asyncio.get_running_loop()
        loop.call_soon(loop.call_soon, _refresh, store)
    else:
        _refresh_later(store)


def _label(s: TargetSeries) -> bytes:
    """The target's label value as every line ends it, escaped and encoded. `uplink` sorts after
    `target`, the last label of every line: it rides on the value."""
    if s.uplink:
        return f'{escape(s.target)}",uplink="{escape(s.uplink)}'.encode()
    return escape(s.target).encode()


async def _after_due_work() -> None:
    """Resume only after what fell due meanwhile has run: the timers and the first step of
    the probe tasks they start (their connect). `asyncio.sleep(0)` would resume first, since
    the loop runs what was ready before the due timers, so a probe due during a slice would
    wait for the next one too; this costs two empty loop turns per slice."""
    loop = asyncio.get_running_loop()
    resumed = loop.create_future()
    # Turn 1 runs the due timers (which queue their tasks), then queues turn 2's set_result;
    # the tasks' first steps run in turn 2 before this coroutine's wake-up, queued there.
    loop.call_soon(loop.call_soon, _wake, resumed)
    await resumed


def _wake(resumed: asyncio.Future[None]) -> None:
    if not resumed.done():  # a scrape cut short cancelled it: nothing to wake, nothing to log
        resumed.set_result(None)


async def render(store: SeriesStore, others: Iterable[Collector]) -> bytes:
    """The whole page at once (for tests and small pages)."""
    return b"".join([chunk async for chunk in chunks(store, others)])


class Compressor(Protocol):
    def compress(self, data: bytes, /) -> bytes: ...
    def flush(self) -> bytes: ...


def gzip_compressor() -> Compressor:
    """A streaming gzip compressor (ISA-L's, else zlib's); both release the GIL, so it may run
    in a worker thread."""
    if _isal is not None:
        return _isal.compressobj(GZIP_LEVEL, _isal.DEFLATED, 31)  # 31: gzip header and trailer
    return zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)


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
