"""`pantau demo`: the real daemon against a simulated office network on 127.0.0.1.

The network (monitor.sim) plays a scripted fault timeline that repeats every two minutes, so a
newcomer sees outages open and close, with a verdict, within the first minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from monitor.config import parse_config
from monitor.daemon import Daemon, describe_event
from monitor.outages import render


def demo_config(network: Any, listen: str, db: str) -> dict[str, Any]:
    """The sim's config, with fast probes and an office that is open around the clock."""
    data = network.config(listen=listen, interval="1s", timeout="800ms")
    data["storage"] = {"path": db}
    data["outage"] = {"down_after": 3, "up_after": 2, "slow_latency": "500ms"}
    every_day = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    data["service_hours"] = {"weekly": every_day, "holidays": None}
    for target in data["targets"]:
        if target["kind"] == "icmp":
            target["count"] = 2
    return data


def say(text: str) -> None:
    print(text, flush=True)


async def run_demo(duration: float | None, listen: str, db: str | None) -> int:
    from monitor.sim import SimNetwork
    from monitor.sim.timeline import Step, play

    # The demo prints each state change itself; the daemon's copy of it in the log is noise.
    logging.getLogger("pantau").setLevel(logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="pantau-demo-") as workdir:
        db_path = db or str(Path(workdir) / "pantau.db")
        async with SimNetwork(workdir=workdir) as network:
            config = parse_config(demo_config(network, listen, db_path), "demo config")

            def on_event(kind: str, data: dict[str, Any]) -> None:
                say(describe_event(kind, data, config))

            notes: set[tuple[float, str]] = set()

            def announce(at: float, step: Step) -> None:
                if (at, step.note) not in notes:  # one line per fault, not per server
                    notes.add((at, step.note))
                    say(f"  [sim +{at:.0f}s] {step.note}")

            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            async with Daemon(config, on_event=on_event) as daemon:
                say(f"Pantau demo: office {config.office.name!r}, {len(config.targets)} targets")
                for target in config.targets:
                    say(f"  {target.name:14} {target.role:10} {target.kind:4} {target.address}")
                say(f"Metrics:  http://127.0.0.1:{daemon.port}/metrics")
                say(f"Status:   http://127.0.0.1:{daemon.port}/api/status")
                say(f"Screen:   http://127.0.0.1:{daemon.port}/  (the front-desk status page)")
                say("Faults repeat every 2 minutes. " + ("Ctrl-C stops." if not duration else
                    f"Stopping after {duration:g}s."))  # fmt: skip
                player = asyncio.create_task(play(network, on_step=announce))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), duration)
                player.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await player
                summary = daemon.outages(*_today_span(daemon))
            say("\nOutage ledger of this demo:")
            say(render(summary, "table").rstrip())
    return 0


def _today_span(daemon: Daemon) -> tuple[Any, Any]:
    today = daemon.clock.now().astimezone(daemon.config.office.zone).date()
    return today, today


if __name__ == "__main__":
    sys.exit(asyncio.run(run_demo(60.0, "127.0.0.1:9470", None)))
