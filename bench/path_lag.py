"""Probe scheduling lag while the path tracer runs (issue 14), as root:

    python -m bench.path_lag [--targets 200] [--interval 1] [--seconds 10]

Builds the path lab (tests/lab/path_topology.py) with the data center's edge dropping
everything, so every trace is the worst case: 30 TTLs x 5 probes, all but three hops silent,
each trace waiting out its reply timeout. Inside the office namespace the real daemon probes
`--targets` TCP listeners on 127.0.0.1 every `--interval`; for `--seconds` nothing else runs,
then for `--seconds` traces run back to back, two at a time (the daemon's limit). Prints the lag
(planned -> actual probe start, from the scheduler's own trace file) of both windows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

from bench.timing import quantile


def _figures(lags: list[float]) -> dict[str, float]:
    return {
        "probes": len(lags),
        "p50_ms": round(quantile(lags, 0.5) * 1000, 3),
        "p99_ms": round(quantile(lags, 0.99) * 1000, 3),
        "max_ms": round(max(lags, default=float("nan")) * 1000, 3),
    }


async def inside(count: int, interval: float, seconds: float) -> dict[str, object]:
    """In the office namespace: the daemon, a quiet window, then a window of traces."""
    import os

    from monitor.config import parse_config
    from monitor.daemon import Daemon
    from monitor.path.tracer import TraceSettings, trace
    from tests.lab.path_topology import DC, DC_PORT

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    port = listener.getsockname()[1]
    work = Path(tempfile.mkdtemp(prefix="pantau-path-lag-"))
    trace_file = work / "probes.txt"
    os.environ["PANTAU_PROBE_TRACE"] = str(trace_file)
    config = parse_config({
        "office": {"name": "Bench"},
        "listen": "127.0.0.1:0",
        "storage": {"path": str(work / "pantau.db")},
        "defaults": {"interval": f"{interval}s", "timeout": f"{interval / 2}s"},
        "path": {"enabled": False},  # the bench drives the traces itself, on a timetable
        "targets": [
            {"name": f"t{i}", "role": "internet", "kind": "tcp", "host": "127.0.0.1", "port": port}
            for i in range(count)
        ],
    })  # fmt: skip
    traces: list[float] = []
    async with Daemon(config):
        await asyncio.sleep(interval * 2)  # start-up is not steady state
        quiet = (time.time(), time.time() + seconds)
        await asyncio.sleep(seconds)
        busy_from = time.time()
        stop = busy_from + seconds

        async def tracer() -> None:
            while time.time() < stop:
                t0 = time.monotonic()
                await trace(DC, "tcp", DC_PORT, TraceSettings())
                traces.append(time.monotonic() - t0)

        await asyncio.gather(tracer(), tracer())
        busy = (busy_from, time.time())
    listener.close()
    lags: dict[str, list[float]] = {"quiet": [], "tracing": []}
    lines = trace_file.read_text().splitlines()
    shutil.rmtree(work, ignore_errors=True)
    for line in lines:
        _name, planned, started, *_ = line.split()
        for label, (start, end) in (("quiet", quiet), ("tracing", busy)):
            if start <= float(planned) < end:
                lags[label].append(float(started) - float(planned))
    return {
        "targets": count,
        "interval_s": interval,
        "traces": len(traces),
        "trace_seconds_p50": round(quantile(traces, 0.5), 3),
        "quiet": _figures(lags["quiet"]),
        "tracing": _figures(lags["tracing"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        print(json.dumps(asyncio.run(inside(args.targets, args.interval, args.seconds))))
        return
    from tests.lab.path_topology import PathLab, edge_drops

    lab = PathLab(prefix=f"pbench{__import__('os').getpid()}")
    try:
        lab.build()
        with edge_drops(lab):
            out = lab.run(
                "office", sys.executable, "-m", "bench.path_lag", "--inside",
                "--targets", str(args.targets), "--interval", str(args.interval),
                "--seconds", str(args.seconds),
            )  # fmt: skip
    finally:
        lab.teardown()
    print(json.dumps(json.loads(out.strip().splitlines()[-1]), indent=2))


if __name__ == "__main__":
    main()
