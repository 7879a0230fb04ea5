"""One REAL office for the fleet simulation: the Pantau daemon probing its own simulated network
(monitor.sim), whose servers fail when the fleet scenario says this office's path fails.

    python -m monitor.fleet.real --office real-1 --isp telkom --province "Jawa Tengah" \
        --regency-code 33.15 --listen 127.0.0.1:9470 --start <unix time> --duration 8m

Nothing here decides a verdict: the scenario only switches servers (the data center refuses, the
ISP's resolver and anchor go silent), and Pantau's probes, states and verdict do the rest.
`python -m monitor.fleet --real N` runs N of these, each in its own network namespace.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path

from monitor.config import parse_config
from monitor.daemon import Daemon
from monitor.durations import parse_duration
from monitor.fleet.offices import Office, build_offices
from monitor.fleet.scenario import Fault, view

# Server modes per blamed domain (as the verdict tests break the simulated path).
MODES = {
    None: {"datacenter": "ok", "anchor": "ok", "dns": "ok"},
    "datacenter": {"datacenter": "down", "anchor": "ok", "dns": "ok"},
    "isp": {"datacenter": "hang", "anchor": "down", "dns": "silent"},
}


async def run(args: argparse.Namespace, faults: list[Fault]) -> int:
    from monitor.sim import SimNetwork

    office = Office(args.office, args.office, args.province, args.regency_code,
                    "Asia/Jakarta", args.isp)  # fmt: skip
    logging.getLogger("pantau").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="pantau-real-") as workdir:
        async with SimNetwork(workdir=workdir, icmp=False) as network:
            data = network.config(listen=args.listen, interval="5s", timeout="2s")
            data["office"] = {
                "name": f"Kantor nyata {args.office}", "id": args.office,
                "province": args.province, "regency_code": args.regency_code, "isp": args.isp,
            }  # fmt: skip
            data["storage"] = {"path": str(Path(workdir) / "pantau.db")}
            if args.fleet_url:
                data["fleet"] = {"url": args.fleet_url, "timeout": "2s", "every": "10s"}
            data["targets"] = [t for t in data["targets"] if t["kind"] != "icmp"]
            every_day = {
                d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
            }
            data["service_hours"] = {"weekly": every_day, "holidays": None}
            async with Daemon(parse_config(data, "real office")):
                shown: str | None = "start"
                while time.time() < args.start + args.duration:
                    t = time.time() - args.start
                    # The scenario without its confirmation delay: Pantau confirms by itself.
                    domain = view(office, faults, t, interval=0.0).domain
                    domain = domain if domain in MODES else None
                    if domain != shown:
                        for server, mode in MODES[domain].items():
                            await network.set_mode(server, mode)
                        print(f"{args.office} t={t:.0f}s path: {domain or 'ok'}", flush=True)
                        shown = domain
                    await asyncio.sleep(1)
    return 0


def main(argv: list[str] | None = None) -> int:
    from monitor.fleet.__main__ import scenario  # the same story as the simulated offices

    parser = argparse.ArgumentParser(prog="python -m monitor.fleet.real")
    parser.add_argument("--office", required=True)
    parser.add_argument("--isp", required=True)
    parser.add_argument("--province", required=True)
    parser.add_argument("--regency-code", required=True)
    parser.add_argument("--listen", default="127.0.0.1:9470")
    parser.add_argument("--start", type=float, default=time.time())
    parser.add_argument("--duration", type=parse_duration, default=parse_duration("11m"))
    parser.add_argument("--fleet-url", default="", help="the center, for fleet confirmation")
    parser.add_argument("--simulated", type=int, default=514, help="simulated offices beside")
    args = parser.parse_args(argv)
    faults = scenario([o.id for o in build_offices(args.simulated)])
    return asyncio.run(run(args, faults))


if __name__ == "__main__":
    sys.exit(main())
