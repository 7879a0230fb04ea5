"""What one /metrics scrape costs at N HTTP targets, and where: `python -m bench.scrape`.

In-process, no root, no network: the daemon's `Metrics` filled as after a few probes of each
target (the shape the lag section's daemon has), then per family its lines, bytes and the CPU
the renderer spends on it, the whole render (as the daemon streams it, in slices), gzip by zlib
and by ISA-L, and optionally prometheus_client's own renderer for the same state. CPU is
thread time, the median of `--repeat` runs with the range: a noisy machine moves wall time far
more than that.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import statistics
import time
import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest

from monitor import exposition
from monitor.metrics import Metrics
from monitor.path.analysis import PathFinding
from monitor.path.metrics import PathMetrics
from monitor.path.trace import Hop, Trace
from monitor.series import FAMILIES


def filled(count: int, traced: bool = False) -> Metrics:
    """`count` HTTP targets, each probed three times (all successes, as on a healthy link).
    `traced`: each also traced once, 2 hops, as the daemon's data-center targets are within
    its first minute or two (path evidence, on by default): 5 more lines per target."""
    metrics = Metrics(CollectorRegistry())
    path = PathMetrics(metrics.registry) if traced else None
    if path is not None:
        metrics.others.extend(path.families)
    for i in range(count):
        s = metrics.series.get(f"http-{i}")
        s.start_probes("datacenter", "http")
        s.success = 1.0
        s.results["success"] = 3.0
        s.last_timestamp = 1_764_590_000.123456 + i / 7
        for k in range(3):
            s.observe(0.0012 + i * 1e-7 + k * 1e-4)
        s.phases = [None, 0.00031 + i * 1e-8, None, 0.00072 + i * 1e-8, 0.00118 + i * 1e-8]
        s.state = "up"
        if path is not None:
            hops = (Hop(1, "10.77.0.1", 5, 5), Hop(2, "10.77.1.2", 5, 5))
            trace = Trace(f"10.77.1.{i % 250}", "10.77.1.2", "tcp", 443, 1.76e9, hops=hops)
            reached = PathFinding(s.target, True, "reaches_datacenter", hops[-1], None)
            path.observe(s.target, "baseline", trace, reached)
    return metrics


def _cpu_ms(action: Callable[[], object], repeat: int) -> dict[str, float]:
    runs = []
    for _ in range(repeat):
        start = time.thread_time()
        action()
        runs.append((time.thread_time() - start) * 1000)
    return _summary(runs)


def _summary(runs: list[float]) -> dict[str, float]:
    return {"median": statistics.median(runs), "min": min(runs), "max": max(runs)}


def profile(count: int, repeat: int, reference: bool, other: Path | None = None) -> dict[str, Any]:
    metrics = filled(count)
    series = metrics.series.snapshot()
    labels = [exposition.escape(s.target).encode() for s in series]
    families = []
    for family in FAMILIES:
        write = exposition._WRITERS[family.name]
        out: list[bytes] = []
        write(zip(series, labels, strict=True), out)
        text = b"".join(out)
        cpu = _cpu_ms(partial(_write_all, write, series, labels), repeat)
        families.append(
            {"family": family.name, "lines": text.count(b"\n"), "mb": len(text) / 1e6, "cpu": cpu}
        )
    loop = asyncio.new_event_loop()  # one, as the daemon has (a loop per render: 2x the CPU)
    renderers = {"this": exposition.render}
    if other is not None:  # e.g. `git show main:monitor/exposition.py > /tmp/main_exposition.py`
        spec = importlib.util.spec_from_file_location("other_exposition", other)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        renderers["other"] = module.render
    runs: dict[str, list[float]] = {name: [] for name in renderers}
    try:
        page = loop.run_until_complete(exposition.render(metrics.series, metrics.others))
        for _ in range(repeat):  # interleaved, so both see the same neighbours
            for name, render in renderers.items():
                start = time.thread_time()
                loop.run_until_complete(render(metrics.series, metrics.others))
                runs[name].append((time.thread_time() - start) * 1000)
    finally:
        loop.close()
    result: dict[str, Any] = {
        "targets": count,
        "page_mb": len(page) / 1e6,
        "lines": page.count(b"\n"),
        "families": families,
        "render_ms": _summary(runs["this"]),
        "gzip": {},
    }
    if other is not None:
        result["other_render_ms"] = _summary(runs["other"])
        result["other"] = str(other)
    compressors: dict[str, Callable[[], Any]] = {
        "zlib": lambda: zlib.compressobj(exposition.GZIP_LEVEL, zlib.DEFLATED, 31),
        "in use": exposition.gzip_compressor,
    }
    for name, make in compressors.items():
        packed = _gzip(make, page)
        cpu = _cpu_ms(partial(_gzip, make, page), repeat)
        result["gzip"][name] = {"mb": len(packed) / 1e6, "cpu": cpu}
    result["gzip_in_use"] = "isal" if exposition._isal is not None else "zlib"
    if reference:
        result["prometheus_client_ms"] = _cpu_ms(lambda: generate_latest(metrics.registry), 1)
    return result


def _write_all(write: Any, series: list[Any], labels: list[bytes]) -> None:
    write(zip(series, labels, strict=True), [])


def _gzip(make: Callable[[], Any], page: bytes, chunk: int = 256 * 1024) -> bytes:
    compressor = make()
    parts = [compressor.compress(page[i : i + chunk]) for i in range(0, len(page), chunk)]
    return b"".join([*parts, compressor.flush()])


def _ms(cpu: dict[str, float]) -> str:
    return f"{cpu['median']:7.1f} ({cpu['min']:.1f}-{cpu['max']:.1f})"


def report(result: dict[str, Any]) -> str:
    lines = [
        f"/metrics at {result['targets']} HTTP targets: {result['page_mb']:.2f} MB, "
        f"{result['lines']} lines; CPU ms, median (range)",
        f"{'family':45} {'lines':>7} {'MB':>6} {'CPU ms':>18}",
    ]
    for row in result["families"]:
        lines.append(f"{row['family']:45} {row['lines']:7d} {row['mb']:6.2f} {_ms(row['cpu']):>18}")
    lines.append(f"{'whole render, sliced as served':60} {_ms(result['render_ms']):>18}")
    if "other_render_ms" in result:
        label = f"the same by {result['other']}"
        lines.append(f"{label:60} {_ms(result['other_render_ms']):>18}")
    for name, row in result["gzip"].items():
        label = f"gzip level 1, {name}" + (
            f" ({result['gzip_in_use']})" if name == "in use" else ""
        )
        lines.append(f"{label:45} {'':7} {row['mb']:6.2f} {_ms(row['cpu']):>18}")
    if "prometheus_client_ms" in result:
        lines.append(
            f"{'prometheus_client generate_latest':60} {_ms(result['prometheus_client_ms']):>18}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scrape", description=__doc__)
    parser.add_argument("--targets", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--reference", action="store_true", help="also prometheus_client's renderer (slow)"
    )
    parser.add_argument(
        "--other",
        type=Path,
        default=None,
        help="another exposition.py to render the same state, interleaved (an A/B)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = profile(args.targets, args.repeat, args.reference, args.other)
    print(json.dumps(result, indent=1) if args.json else report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
