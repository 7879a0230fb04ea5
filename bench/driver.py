"""Drives blackbox_exporter's /probe like Prometheus: each target at its interval, spread evenly.

Bounded: stops after `--duration` seconds, then waits at most the timeout for answers in flight.
Writes one row per probe: [done_at, ok, started_at, reported seconds, target index], where
`reported` is what blackbox says the measured phase took (TCP connect, HTTP TTFB, ICMP RTT,
DNS query round trip).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from urllib.parse import quote

import aiohttp

_SAMPLE = re.compile(r"^(\w+)(\{[^}]*\})? (\S+)$", re.M)


def reported(kind: str, text: str) -> tuple[bool, float]:
    """probe_success and the phase comparable with the wire, from a /probe answer."""
    values: dict[str, float] = {}
    for name, labels, value in _SAMPLE.findall(text):
        values[name + (labels or "")] = float(value)
    ok = values.get("probe_success") == 1.0
    if kind == "http":
        phase = values.get('probe_http_duration_seconds{phase="processing"}', 0.0)
    elif kind == "tcp":  # the tcp prober has no phase metric: the whole probe less the lookup
        phase = values.get("probe_duration_seconds", 0.0) - values.get(
            "probe_dns_lookup_time_seconds", 0.0
        )
    elif kind == "dns":  # the query's round trip, without resolving the server's name
        phase = values.get('probe_dns_duration_seconds{phase="request"}', 0.0)
    else:
        phase = values.get('probe_icmp_duration_seconds{phase="rtt"}', 0.0)
    return ok, phase


async def drive(args: argparse.Namespace) -> list[list[float]]:
    items = json.load(open(args.targets))  # noqa: ASYNC230
    base = f"http://127.0.0.1:{args.port}/probe"
    urls = [f"{base}?module={kind}&target={quote(address, safe='')}" for kind, address in items]
    # blackbox takes its --timeout-offset (0.5 s) off the scrape timeout Prometheus announces.
    headers = {"X-Prometheus-Scrape-Timeout-Seconds": str(args.timeout + 0.5)}
    rows: list[list[float]] = []
    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(index: int) -> None:
            started = time.time()
            try:
                async with session.get(urls[index], headers=headers) as response:
                    text = await response.text()
                ok, phase = reported(items[index][0], text)
            except aiohttp.ClientError:
                ok, phase = False, 0.0
            rows.append([time.time(), float(ok), started, phase, float(index)])

        tasks: set[asyncio.Task[None]] = set()
        step = args.interval / len(urls)
        t0 = loop.time() + 0.2
        end = t0 + args.duration
        n = 0
        while True:
            due = t0 + n * step
            if due >= end:
                break
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(n % len(urls)))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            n += 1
        if tasks:
            await asyncio.wait(tasks, timeout=args.timeout + 1)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--targets", required=True)
    parser.add_argument("--interval", type=float, required=True)
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    rows = asyncio.run(drive(args))
    with open(args.out, "w") as out:
        json.dump(rows, out)


if __name__ == "__main__":
    main()
