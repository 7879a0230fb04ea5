"""HTTP client alternatives for the probe, measured before choosing one (issue 18).

`python -m bench.http_client` starts the bench's HTTP target server on 127.0.0.1 (core 1) and,
for each candidate, a prober process pinned to core 0 that GETs the targets at a fixed rate,
each request on a fresh connection (as the probe does), and reports CPU ms per request
(utime+stime of the whole process / requests completed). The candidates run interleaved,
`--repeat` times each; the table gives the median and the range.

- `aiohttp`: Pantau's own probe today (`monitor.probes.http.probe`: aiohttp with the trace
  hooks, the kernel-stamped TTFB, the connect RTT), through the runner.
- `h11`: the sans-IO parser `h11` on a plain asyncio protocol over the same stamping socket
  (public asyncio API only: `sock_connect`, `create_connection(sock=...)`), through the
  runner, with the same phases and the connect RTT.
- `floor`: the same socket and protocol, parsing only the status line and the header end:
  what any client must pay (connect, a task, the transport), the floor for a rewrite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PORTS = (21000, 21199)
_LINGER_RESET = struct.pack("ii", 1, 0)


class _Proto(asyncio.Protocol):
    """Feeds what arrives to h11 (or, for `floor`, just looks for the end of the headers)."""

    def __init__(self, done: asyncio.Future[tuple[int, bytes]], parse: bool, clock: Any) -> None:
        import h11

        self._h11 = h11
        self.conn = h11.Connection(h11.CLIENT) if parse else None
        self.done = done
        self.clock = clock
        self.status = 0
        self.body: list[bytes] = []
        self.raw = b""

    def data_received(self, data: bytes) -> None:
        clock = self.clock
        if clock.first_byte_ns is None:
            clock.first_byte_ns = clock.last_rx_ns or 0
        if self.done.done():
            return
        if self.conn is None:
            self.raw += data
            if b"\r\n\r\n" in self.raw:
                self.done.set_result((int(self.raw[9:12]), b""))
            return
        h11 = self._h11
        self.conn.receive_data(data)
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Response):
                self.status = event.status_code
            elif isinstance(event, h11.Data):
                self.body.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                self.done.set_result((self.status, b"".join(self.body)))
                return

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(exc or ConnectionResetError("closed before the answer"))


async def _get(host: str, port: int, path: str, parse: bool) -> Any:
    """One GET on a fresh connection; the phases the probe reports."""
    from monitor.probes.result import Observation
    from monitor.probes.tcp import kernel_connect_rtt
    from monitor.probes.wire_clock import SO_TIMESTAMPNS, StampingSocket, WireClock

    loop = asyncio.get_running_loop()
    start = time.monotonic()
    clock = WireClock()
    sock = StampingSocket(socket.AF_INET, socket.SOCK_STREAM)
    sock.clock = clock
    sock.setblocking(False)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    try:
        await loop.sock_connect(sock, (host, port))
    except BaseException:
        sock.close()
        raise
    connected = time.monotonic()
    rtt = kernel_connect_rtt(sock)
    done: asyncio.Future[tuple[int, bytes]] = loop.create_future()
    proto = _Proto(done, parse, clock)
    transport, _ = await loop.create_connection(lambda: proto, sock=sock)
    try:
        clock.armed = True
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: pantau\r\n"
            "Accept-Encoding: gzip, deflate\r\nConnection: close\r\n\r\n"
        ).encode()
        sent = time.monotonic()
        transport.write(request)
        status, _body = await done
        end = time.monotonic()
    finally:
        transport.close()
    setup = connected - start
    ttfb = clock.ttfb()
    phases = {
        "dns": 0.0,
        "connect": min(rtt, setup) if rtt is not None else setup,
        "tls": 0.0,
        "ttfb": ttfb if ttfb is not None and 0 <= ttfb <= end - start else end - sent,
        "total": end - start,
    }
    return Observation(phases=phases, detail=f"HTTP {status}")


async def _drive(variant: str, rate: float, seconds: float, host: str) -> tuple[int, int, float]:
    """Requests at `rate` for `seconds`, round-robin over the ports: (ok, failed, CPU s)."""
    from monitor.clock import Clock
    from monitor.config import HttpTarget
    from monitor.probes import PROBES
    from monitor.probes.context import ProbeContext
    from monitor.runner import run_probe

    ctx = ProbeContext()
    if variant != "aiohttp":
        parse = variant == "h11"

        async def probe(target: Any, timeout: float, ctx: Any) -> Any:
            return await _get(host, int(target.url.rsplit(":", 1)[1].split("/")[0]), "/", parse)

        PROBES["http"] = probe  # type: ignore[assignment]
    targets = [
        HttpTarget(name=f"h{p}", role="datacenter", kind="http", url=f"http://{host}:{p}/")
        for p in range(PORTS[0], PORTS[1] + 1)
    ]
    clock = Clock()
    loop = asyncio.get_running_loop()
    results: list[Any] = []
    tasks: set[asyncio.Task[None]] = set()

    async def one(target: Any) -> None:
        results.append(await run_probe(target, 2.0, ctx, clock))

    warm, count = int(rate), int(rate * seconds)
    begin = loop.time() + 0.1
    cpu0 = 0.0
    for i in range(warm + count):
        await asyncio.sleep(max(0.0, begin + i / rate - loop.time()))
        if i == warm:
            results.clear()
            cpu0 = _cpu()
        task = loop.create_task(one(targets[i % len(targets)]))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    cpu = _cpu() - cpu0
    await ctx.close()
    ok = sum(1 for r in results if r.reason is None)
    return ok, len(results) - ok, cpu


def _cpu() -> float:
    times = os.times()
    return times.user + times.system


def _child(args: argparse.Namespace) -> None:
    ok, failed, cpu = asyncio.run(_drive(args.variant, args.rate, args.seconds, args.host))
    print(f"{ok} {failed} {cpu:.6f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http_client", description=__doc__)
    parser.add_argument("--variants", default="aiohttp,h11,floor")
    parser.add_argument("--rates", default="200,1000")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args)
        return 0
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    server = subprocess.Popen(
        ["taskset", "-c", "1", sys.executable, "-m", "bench.server", "--host", args.host,
         "--http", f"{PORTS[0]}-{PORTS[1]}", "--lifetime", "1800"],
        env=env,
    )  # fmt: skip
    table: dict[tuple[str, float], list[float]] = {}
    try:
        time.sleep(1.5)
        for rate in [float(r) for r in args.rates.split(",")]:
            for _ in range(args.repeat):
                for variant in args.variants.split(","):
                    out = subprocess.run(
                        ["taskset", "-c", "0", sys.executable, "-m", "bench.http_client",
                         "--child", "1", "--variant", variant, "--rate", str(rate),
                         "--seconds", str(args.seconds), "--host", args.host],
                        env=env, capture_output=True, text=True, timeout=args.seconds + 60,
                    )  # fmt: skip
                    ok, failed, cpu = out.stdout.split()
                    per = float(cpu) / max(int(ok), 1) * 1000
                    table.setdefault((variant, rate), []).append(per)
                    print(f"{variant:8} {rate:6.0f}/s ok {ok} failed {failed} {per:.3f} ms CPU "
                          "per request", flush=True)  # fmt: skip
    finally:
        server.terminate()
        server.wait(10)
    print("\nCPU ms per request (median, range)")
    for (variant, rate), values in table.items():
        print(f"{variant:8} {rate:6.0f}/s {statistics.median(values):.3f} "
              f"({min(values):.3f}-{max(values):.3f})")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
