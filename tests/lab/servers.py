"""The lab's servers, one process per namespace, switched over a Unix-socket control API.

    ip netns exec plab1-dc python -m tests.lab.servers --control /tmp/x/dc.sock \
        --https 10.251.3.2:8443 --cert-name siak.kemendagri.go.id --ca-out /tmp/x/ca.pem \
        --tcp vpn=10.251.3.2:1194 --dns 10.251.3.2:53 --zone siak.kemendagri.go.id=10.251.3.2

Built from monitor.sim (DataCenterApp, TcpPort, DnsResponder, control_app), with two lab
needs the `python -m monitor.sim` command does not cover: a certificate for the data center's
name and lab address, and a control API on a Unix socket. A Unix socket lives in the file
system, not in a network namespace, so the test (in the root namespace, which has no route
into the lab) reaches it directly; no lab traffic is needed to switch a fault.

`--bulk host:port` adds a TCP port that streams zeros to whoever connects: the load that fills
a capped link (see faults.BandwidthCap). Prints one JSON line when everything listens.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from aiohttp import web

from monitor.sim import DataCenterApp, DnsResponder, TcpPort, TlsMaterial, control_app
from monitor.sim.__main__ import host_port, zone_entry
from monitor.sim.control import status_of
from monitor.sim.network import SimServer

CHUNK = b"\0" * 65536


def _named(value: str) -> tuple[str, tuple[str, int]]:
    name, sep, address = value.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(
            f"must be name=host:port (e.g. vpn=10.0.0.2:1194); got {value!r}"
        )
    return name, host_port(address)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.lab.servers")
    parser.add_argument("--control", type=Path, required=True, help="Unix socket for the API")
    parser.add_argument("--https", type=host_port, help="the data-center app (server: http)")
    parser.add_argument("--cert-name", action="append", default=[], help="name in the leaf")
    parser.add_argument("--ca-out", type=Path, help="write the CA certificate (PEM) here")
    parser.add_argument("--tcp", type=_named, action="append", default=[], help="name=host:port")
    parser.add_argument("--dns", type=host_port, help="DNS responder (server: dns)")
    parser.add_argument("--zone", type=zone_entry, action="append", default=[])
    parser.add_argument("--bulk", type=host_port, help="TCP port streaming zeros (load)")
    return parser.parse_args(argv)


async def _stream_zeros(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    # Loss-based congestion control fills the window it is given; BBR (this kernel's default)
    # would pace to keep the queue nearly empty, and the standing queue is the point here.
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"reno")
    try:
        while True:  # until the receiver goes away: the load generator owns the duration
            writer.write(CHUNK)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def serve(args: argparse.Namespace) -> None:
    servers: dict[str, SimServer] = {}
    if args.https:
        host = args.https[0]
        tls = TlsMaterial(identities=(*args.cert_name, host))
        if args.ca_out:
            tls.write_ca(args.ca_out)
        servers["http"] = DataCenterApp(*args.https, tls=tls)
    for name, address in args.tcp:
        servers[name] = TcpPort(*address)
    if args.dns:
        zone = {name: [address] for name, address in args.zone}
        servers["dns"] = DnsResponder(*args.dns, zone=zone, tcp=True)
    runner = web.AppRunner(control_app(servers), handle_signals=False, access_log=None)
    await runner.setup()
    bulk = await asyncio.start_server(_stream_zeros, *args.bulk) if args.bulk else None
    try:
        args.control.unlink(missing_ok=True)
        await web.UnixSite(runner, str(args.control)).start()
        print(json.dumps(status_of(servers)), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        if bulk is not None:
            bulk.close()
        await runner.cleanup()
        args.control.unlink(missing_ok=True)


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("lab", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def control(path: str | Path, method: str, query: str, timeout: float = 5.0) -> dict[str, Any]:
    """Call the control API on its Unix socket, e.g. `POST /mode?server=dns&mode=silent`."""
    conn = _UnixConnection(str(path), timeout)
    try:
        conn.request(method, query)
        response = conn.getresponse()
        body = response.read().decode()
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"{method} {query}: HTTP {response.status}: {body.strip()}")
    return json.loads(body)


def main(argv: list[str] | None = None) -> int:
    try:
        asyncio.run(serve(parse_args(argv)))
    except OSError as exc:
        print(f"tests.lab.servers: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
