"""`python -m monitor.fleet`: 514 offices feeding one central VictoriaMetrics, live.

Starts the real central engines on 127.0.0.1 (VictoriaMetrics, vmalert with the shipped national
rules, vmagent scraping every simulated office with its own `office` label and remote-writing),
plays a scenario (local faults, flapping, stale offices, one ISP's regional fault, a central
outage) and prints, every scrape interval, what the offices see and what the center concludes,
with every alert vmalert sends. Ends with the central store's own figures (CPU, memory, disk,
active series): the sizing in docs/fleet.md was measured this way.

Offices are SIMULATED unless `--real N` (root): then N of the 514 are REAL Pantau daemons
(monitor.fleet.real), each in its own network namespace with its own vmagent and WAN link (a
veth pair) to the center's namespace, on different ISPs; the scenario switches their simulated
servers, their own probes reach the verdict, and real-1's WAN is cut from 200 s to 420 s (it goes
stale, then its vmagent backfills). The first line says which offices are which.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import yaml
from aiohttp import web

from monitor.durations import parse_duration
from monitor.fleet.exporter import make_app, monotonic_since, scrape_config
from monitor.fleet.netns import Wan
from monitor.fleet.offices import build_offices
from monitor.fleet.scenario import Fault, affected
from monitor.fleet.stack import RULES, Central, Process, free_port, http_get, start


def scenario(ids: list[str], seed: int = 15) -> list[Fault]:
    """The default story, in seconds from start (each step a few minutes, to watch it live)."""
    rng = random.Random(seed)
    pick = rng.sample(ids, 30)
    return [
        Fault("local", 30, 600, offices=frozenset(pick[0:5])),  # a cut LAN cable, a dead router
        Fault("flap", 0, 900, offices=frozenset(pick[5:8]), period=45),  # a flaky ISP link
        Fault("stale", 90, 900, offices=frozenset(pick[8:18])),  # power cut: nothing sent
        Fault("isp", 120, 300, isp="icon-plus", share=0.9),  # one ISP's regional fault
        Fault("central", 360, 600, share=0.6),  # the data center for most of the country
        # real-2's own ISP link fails alone ("hanya kantor ini"), when real offices run.
        Fault("local", 60, 180, offices=frozenset({"real-2"}), blame="isp"),
    ]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _disk_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


async def run(args: argparse.Namespace, wan: Wan | None = None) -> int:
    offices = build_offices(args.offices - args.real)
    faults = scenario([o.id for o in offices])
    now = monotonic_since()
    alerts: list[str] = []

    seen: dict[str, str] = {}

    async def notified(request: web.Request) -> web.Response:
        # vmalert re-sends firing alerts at every evaluation: print changes only.
        for alert in await request.json():
            labels = alert.get("labels", {})
            key = labels.get("alertname", "?") + "".join(
                f" {k}={labels[k]}" for k in ("isp", "office") if k in labels
            )
            ends = datetime.fromisoformat(alert.get("endsAt", "9999-01-01T00:00:00Z"))
            state = "resolved" if ends.timestamp() <= time.time() else "firing"
            if seen.get(key) != state:
                seen[key] = state
                summary = " ".join(alert.get("annotations", {}).get("summary", "").split())
                alerts.append(f"t={now():4.0f}s {state.upper()} {key}: {summary}")
        return web.json_response({})

    app = make_app(offices, lambda: faults, now)
    app.router.add_post("/api/v2/alerts", notified)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()

    workdir = Path(tempfile.mkdtemp(prefix="pantau-fleet-"))
    (workdir / "scrape.yml").write_text(
        yaml.safe_dump(scrape_config(offices, f"127.0.0.1:{port}", args.scrape))
    )
    central = Central(workdir, listen="0.0.0.0" if wan else "127.0.0.1").start()
    processes: list[Process] = []
    started = time.time()
    try:
        if wan is not None:
            start_real_offices(args, wan, central, workdir, started, len(offices), processes)
        agent_port, alert_port = free_port(), free_port()
        processes.append(start("vmagent", [
            "vmagent", f"-promscrape.config={workdir / 'scrape.yml'}",
            f"-remoteWrite.url={central.url}/api/v1/write",
            f"-remoteWrite.tmpDataPath={workdir / 'buffer'}", "-remoteWrite.flushInterval=1s",
            f"-httpListenAddr=127.0.0.1:{agent_port}", "-loggerLevel=ERROR",
        ], workdir, f"http://127.0.0.1:{agent_port}/health"))  # fmt: skip
        processes.append(start("vmalert", [
            "vmalert", f"-rule={RULES}/*.yml", f"-datasource.url={central.url}",
            f"-remoteWrite.url={central.url}", f"-notifier.url=http://127.0.0.1:{port}",
            "-evaluationInterval=15s", "-datasource.queryStep=30s", "-remoteWrite.flushInterval=1s",
            f"-httpListenAddr=127.0.0.1:{alert_port}", "-loggerLevel=ERROR",
        ], workdir, f"http://127.0.0.1:{alert_port}/health"))  # fmt: skip
        print(
            f"{len(offices) + args.real} offices: {args.real} REAL Pantau daemons"
            + (
                f" (real-1..real-{args.real}, each in its own network namespace with its own"
                " vmagent and WAN link, ISPs " + ", ".join(REAL_ISPS[: args.real]) + ")"
                if args.real
                else ""
            )
            + f", {len(offices)} SIMULATED "
            f"(Pantau's series from monitor.fleet.exporter at http://127.0.0.1:{port}/office/<id>/metrics),"
            f" scraped every {args.scrape} by one vmagent; center {central.url}; files {workdir}"
        )
        for fault in faults:
            who = fault.isp or (f"{len(fault.offices)} offices" if fault.offices else "all")
            print(f"  scenario: {fault.kind:<8} {who:<12} {fault.start:>4.0f}-{fault.end:.0f} s")
        cpu0, t0 = _cpu_seconds(central.process.popen.pid), time.monotonic()  # type: ignore[union-attr]
        step = parse_duration(args.scrape)
        cut = False
        while now() < args.duration:
            await asyncio.sleep(step)
            if wan is not None and (WAN_CUT[0] <= now() < WAN_CUT[1]) != cut:
                cut = not cut
                await asyncio.to_thread(wan.cut, 1, cut)
                print(f"t={now():4.0f}s real-1's WAN {'CUT' if cut else 'restored'}")
            truth = affected(offices, faults, now())
            # Blocking HTTP in a thread: this loop also serves the simulated offices' pages.
            said = await asyncio.to_thread(central.query, "fleet:pantau_datacenter_down:ratio")
            share = f"{float(said[0]['value'][1]):.0%}" if said else "-"
            print(
                f"t={now():4.0f}s offices {json.dumps(truth, sort_keys=True)}"
                f"  center: data center down for {share}"
            )
            if wan is not None:
                print("  real: " + await asyncio.to_thread(real_line, central, wan, args.real))
            while alerts:
                print("  ALERT " + alerts.pop(0))
        pid = central.process.popen.pid  # type: ignore[union-attr]
        elapsed = time.monotonic() - t0
        cpu = (_cpu_seconds(pid) - cpu0) / elapsed
        central.flush()
        series = central.query('count({__name__=~".+"})')
        samples = len(offices) and central.query(
            'sum(count_over_time({__name__=~"pantau_.+"}[1m]))'
        )
        disk = _disk_bytes(workdir / "vmdata")
        print(
            f"central VictoriaMetrics over {elapsed:.0f} s: CPU {cpu:.1%} of one core, "
            f"RSS {_rss_mb(pid):.0f} MB, {float(series[0]['value'][1]):.0f} active series, "
            f"{float(samples[0]['value'][1]) / 60 if samples else 0:.0f} samples/s, "
            f"data dir {disk / 1e6:.1f} MB"
        )
    finally:
        for process in reversed(processes):
            process.stop()
        central.stop()
        await runner.cleanup()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


REAL_ISPS = ("telkom", "lintasarta", "icon-plus", "indosat", "xl", "biznet")
WAN_CUT = (200.0, 420.0)  # real-1's WAN is cut: stale after 2 min, then its vmagent backfills


def real_line(central: Central, wan: Wan, count: int) -> str:
    """The real offices as the center sees them, and their own fleet confirmation."""
    fresh = {r["metric"]["office"] for r in central.query('office:pantau_fresh{office=~"real-.*"}')}
    down = {
        r["metric"]["office"]: r["metric"]["domain"]
        for r in central.query(
            'max by (office, domain) (pantau_outage_active{office=~"real-.*"}) == 1'
        )
    }
    parts = []
    for n in range(1, count + 1):
        office = f"real-{n}"
        seen = down.get(office, "up") if office in fresh else "stale"
        try:
            status = json.loads(http_get("http://127.0.0.1:9470/api/status", 2, wan.office_ns(n)))
            fleet = status["link"].get("fleet")
        except (OSError, ValueError, KeyError):
            fleet = None
        if fleet and fleet["state"] == "confirmed":
            seen += f" (dikonfirmasi: {fleet['offices']} dari {fleet['of']} kantor)"
        elif fleet and fleet["state"] == "only_this_office":
            seen += " (hanya kantor ini)"
        elif fleet:
            seen += " (belum dikonfirmasi)"
        parts.append(f"{office} {seen}")
    return ", ".join(parts)


def start_real_offices(
    args: argparse.Namespace,
    wan: Wan,
    central: Central,
    workdir: Path,
    started: float,
    sims: int,
    processes: list[Process],
) -> None:
    """One real Pantau (monitor.fleet.real) and one vmagent per office namespace, added to
    `processes` as each starts (so a failure half-way still stops those already running)."""
    for n in range(1, args.real + 1):
        office, ns = f"real-{n}", wan.office_ns(n)
        processes.append(start(office, [
            sys.executable, "-m", "monitor.fleet.real", "--office", office,
            "--isp", REAL_ISPS[(n - 1) % len(REAL_ISPS)], "--province", "Jawa Tengah",
            "--regency-code", f"33.{70 + n:02d}", "--start", str(started),
            "--duration", f"{args.duration:.0f}s", "--simulated", str(sims),
            "--fleet-url", f"http://{wan.center_addr(n)}:{central.port}",
        ], workdir, "http://127.0.0.1:9470/healthz", netns=ns))  # fmt: skip
        scrape = workdir / f"{office}.yml"
        scrape.write_text(yaml.safe_dump({
            "global": {"scrape_interval": args.scrape},
            "scrape_configs": [{"job_name": "pantau", "static_configs": [
                {"targets": ["127.0.0.1:9470"], "labels": {"office": office}}]}],
        }))  # fmt: skip
        processes.append(start(f"vmagent-{office}", [
            "vmagent", f"-promscrape.config={scrape}",
            f"-remoteWrite.url=http://{wan.center_addr(n)}:{central.port}/api/v1/write",
            f"-remoteWrite.tmpDataPath={workdir / ('buffer-' + office)}",
            "-remoteWrite.maxDiskUsagePerURL=1GiB", "-remoteWrite.flushInterval=1s",
            "-httpListenAddr=127.0.0.1:8429", "-loggerLevel=ERROR",
        ], workdir, "http://127.0.0.1:8429/health", netns=ns))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m monitor.fleet", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--duration", type=parse_duration, default=parse_duration("11m"))
    parser.add_argument("--offices", type=int, default=514)
    parser.add_argument("--scrape", default="15s", help="vmagent scrape interval")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument(
        "--real", type=int, default=0,
        help="real Pantau daemons among the offices, each in a network namespace (root)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # a line as it happens
    if args.real <= 0:
        return asyncio.run(run(args))
    if os.geteuid() != 0:
        print("--real: network namespaces need root (or leave --real out)", file=sys.stderr)
        return 1
    wan = Wan()
    try:
        wan.up(args.real)
        wan.enter_center()  # this process (and all it starts) lives in the center's namespace
        return asyncio.run(run(args, wan))
    finally:
        wan.down()


if __name__ == "__main__":
    sys.exit(main())
