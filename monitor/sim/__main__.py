"""`python -m monitor.sim`: the simulated servers in one process, switched over HTTP.

    python -m monitor.sim --http 0.0.0.0:8443 --tcp 0.0.0.0:1194 --dns 0.0.0.0:5353 \
        --control 127.0.0.1:9480 --ca-out /tmp/sim-ca.pem
    curl -X POST '127.0.0.1:9480/mode?server=http&mode=hang'

Prints one JSON line with the bound ports (and the control URL) once everything listens,
then runs until SIGINT/SIGTERM. Port 0 picks a free port.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path

from aiohttp import web

from monitor.config import split_host_port
from monitor.sim.control import control_app, status_of
from monitor.sim.datacenter import DataCenterApp
from monitor.sim.dnsserver import DEFAULT_ZONE, DnsResponder
from monitor.sim.network import SimServer
from monitor.sim.tcpport import TcpPort
from monitor.sim.tls import TlsMaterial


def host_port(value: str) -> tuple[str, int]:
    """`host:port` or `[v6]:port`; port 0 allowed (ephemeral)."""
    try:
        return split_host_port(value, allow_zero=True)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def zone_entry(value: str) -> tuple[str, str]:
    name, sep, address = value.partition("=")
    if not sep or not name or not address:
        raise argparse.ArgumentTypeError(
            f"must be name=address (e.g. siak.local=10.0.0.5); got {value!r}"
        )
    return name, address


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m monitor.sim", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--http", type=host_port, help="HTTPS data-center app (server name: http)")
    parser.add_argument("--plain-http", type=host_port, help="plain HTTP app (server: plain-http)")
    parser.add_argument("--tcp", type=host_port, help="VPN-like TCP port (server: tcp)")
    parser.add_argument("--dns", type=host_port, help="DNS responder, UDP and TCP (server: dns)")
    parser.add_argument(
        "--zone", type=zone_entry, action="append", help="DNS A record name=address (repeatable)"
    )
    parser.add_argument("--control", type=host_port, required=True, help="control API host:port")
    parser.add_argument("--ca-out", type=Path, help="write the CA certificate (PEM) here")
    parser.add_argument("--delay", type=float, default=2.0, help="answer delay in slow mode (s)")
    args = parser.parse_args(argv)
    if not (args.http or args.plain_http or args.tcp or args.dns):
        parser.error("give at least one of --http, --plain-http, --tcp, --dns")
    return args


def build_servers(args: argparse.Namespace) -> tuple[dict[str, SimServer], TlsMaterial]:
    tls = TlsMaterial()
    servers: dict[str, SimServer] = {}
    if args.http:
        servers["http"] = DataCenterApp(*args.http, tls=tls, delay=args.delay)
    if args.plain_http:
        servers["plain-http"] = DataCenterApp(*args.plain_http, delay=args.delay)
    if args.tcp:
        servers["tcp"] = TcpPort(*args.tcp)
    if args.dns:
        zone = dict(DEFAULT_ZONE)
        for name, address in args.zone or []:
            zone[name] = [address]
        host, port = args.dns
        servers["dns"] = DnsResponder(host, port, zone, tcp=True)
    return servers, tls


async def serve(args: argparse.Namespace) -> None:
    servers, tls = build_servers(args)
    if args.ca_out:
        tls.write_ca(args.ca_out)
    runner = web.AppRunner(control_app(servers), handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, *args.control)
        await site.start()
        control_port = runner.addresses[0][1]
        ready = status_of(servers) | {"control": f"http://{args.control[0]}:{control_port}/"}
        print(json.dumps(ready), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        asyncio.run(serve(args))
    except OSError as exc:
        print(f"monitor.sim: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
