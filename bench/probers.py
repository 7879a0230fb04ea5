"""The two probers under test, started the same way: pinned to core 0, same targets, same rate.

Pantau is the real daemon (`pantau run -c generated.yaml`, from this checkout); blackbox_exporter
is driven through `/probe` by bench.driver, the way Prometheus drives it.
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.lab import NS_ADDR, REPO, Proc, free_port, python, wait_port

HTTP_PORTS = range(18000, 18200)  # targets spread over ports: no 4-tuple reuse, no TIME_WAIT pile
TCP_PORTS = range(19000, 19200)
SLOW_HTTP_PORTS = range(20000, 20200)  # these answer after SLOW_HTTP_DELAY: a TTFB to measure
SLOW_HTTP_DELAY = 0.005
DNS_PORTS = range(21000, 21200)  # UDP resolvers answering after SLOW_HTTP_DELAY (timing truth)
DNS_NAME = "bench.pantau.test"
ROLE = {"http": "datacenter", "tcp": "internet", "icmp": "local", "dns": "isp"}
# The prober's core. PANTAU_BENCH_PROBER_CORE=1 moves a long soak's daemon off core 0, where
# another run's prober measures CPU and timing: the soak measures memory, which sharing a core
# with that run's servers does not change (it can only raise it: probes overlap more).
PROBER_CORE = int(os.environ.get("PANTAU_BENCH_PROBER_CORE", "0"))


@dataclass(frozen=True)
class Target:
    name: str
    kind: str
    address: str  # URL, host:port or host

    def pantau(self) -> dict[str, object]:
        entry: dict[str, object] = {"name": self.name, "role": ROLE[self.kind], "kind": self.kind}
        if self.kind == "http":
            entry["url"] = self.address
        elif self.kind == "tcp":
            host, port = self.address.rsplit(":", 1)
            entry.update(host=host, port=int(port))
        elif self.kind == "dns":
            entry.update(server=self.address, query=DNS_NAME, record="A")
        else:
            entry.update(host=self.address, count=1)  # one echo, as blackbox sends
        return entry


def targets(kind: str, count: int, slow: bool = False) -> list[Target]:
    """`count` targets of one kind on the namespace's servers, spread over their ports."""
    out = []
    http_ports = SLOW_HTTP_PORTS if slow else HTTP_PORTS
    for i in range(count):
        if kind == "http":
            address = f"http://{NS_ADDR}:{http_ports[i % len(http_ports)]}/t{i}"
        elif kind == "tcp":
            address = f"{NS_ADDR}:{TCP_PORTS[i % len(TCP_PORTS)]}"
        elif kind == "dns":
            address = f"{NS_ADDR}:{DNS_PORTS[i % len(DNS_PORTS)]}"
        else:
            address = NS_ADDR
        out.append(Target(f"{kind}-{i}", kind, address))
    return out


def pantau_config(workdir: Path, items: list[Target], interval: float, timeout: float) -> Path:
    port = free_port()
    config = {
        "office": {"name": "Bench", "timezone": "UTC"},
        "listen": f"127.0.0.1:{port}",
        "storage": {"path": str(workdir / "pantau.db")},
        "defaults": {"interval": f"{interval * 1000:g}ms", "timeout": f"{timeout * 1000:g}ms"},
        "targets": [t.pantau() for t in items],
    }
    path = workdir / "pantau.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


class Pantau:
    """The daemon under test; `probes()` reads pantau_probes_total from its own /metrics."""

    name = "pantau"

    def __init__(
        self,
        workdir: Path,
        items: list[Target],
        interval: float,
        timeout: float,
        env: dict[str, str] | None = None,
    ) -> None:
        for stale in workdir.glob("pantau.db*"):
            stale.unlink()
        config = pantau_config(workdir, items, interval, timeout)
        # As installed: pip compiles every module at install. The daemon runs from this tree,
        # where PYTHONDONTWRITEBYTECODE (set on the project's machines) would have it compile
        # its ~130 modules from source at each start (start-up CPU; ~1 MB more RSS in a bare
        # import, none left in the daemon after its malloc_trim: idle 65.6-65.9 MB either way).
        compileall.compile_dir(REPO / "monitor", quiet=1)
        self.port = yaml.safe_load(config.read_text())["listen"].rsplit(":", 1)[1]
        cmd = [
            python(),
            "-c",
            "import sys; from monitor.cli import main; sys.exit(main())",
            "run",
            "-c",
            str(config),
        ]
        env = {"PYTHONPATH": ".", **(env or {})}
        self.proc = Proc(cmd, core=PROBER_CORE, env=env, log=workdir / "pantau.log")
        wait_port("127.0.0.1", int(self.port), self.proc, timeout=120)

    def metrics(self) -> str:
        url = f"http://127.0.0.1:{self.port}/metrics"
        with urllib.request.urlopen(url, timeout=30) as response:
            return str(response.read().decode())

    def counters(self) -> tuple[float, float]:
        """(probes succeeded, probes skipped) so far."""
        done = skipped = 0.0
        for line in self.metrics().splitlines():
            if line.startswith("pantau_probes_total{") and 'result="success"' in line:
                done += float(line.rsplit(" ", 1)[1])
            elif line.startswith("pantau_probes_skipped_total{"):
                skipped += float(line.rsplit(" ", 1)[1])
        return done, skipped

    def stop(self) -> None:
        self.proc.stop()


BLACKBOX_CONFIG = {
    "modules": {
        "http": {
            "prober": "http",
            "timeout": "5s",
            "http": {
                "preferred_ip_protocol": "ip4",
                "follow_redirects": False,
                "valid_status_codes": [200],
            },
        },
        "tcp": {"prober": "tcp", "timeout": "5s", "tcp": {"preferred_ip_protocol": "ip4"}},
        "icmp": {"prober": "icmp", "timeout": "5s", "icmp": {"preferred_ip_protocol": "ip4"}},
        "dns": {
            "prober": "dns",
            "timeout": "5s",
            "dns": {
                "preferred_ip_protocol": "ip4",
                "transport_protocol": "udp",
                "query_name": DNS_NAME,
                "query_type": "A",
            },
        },
    }
}


def blackbox_binary() -> str | None:
    return shutil.which("prometheus-blackbox-exporter") or shutil.which("blackbox_exporter")


class Blackbox:
    """blackbox_exporter on 127.0.0.1, pinned to core 0."""

    name = "blackbox"

    def __init__(self, workdir: Path) -> None:
        binary = blackbox_binary()
        if binary is None:
            raise RuntimeError(
                "blackbox_exporter missing: apt-get install prometheus-blackbox-exporter"
            )
        config = workdir / "blackbox.yml"
        config.write_text(yaml.safe_dump(BLACKBOX_CONFIG))
        self.port = free_port()
        cmd = [
            binary,
            f"--config.file={config}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=error",
        ]
        self.proc = Proc(cmd, core=0, log=workdir / "blackbox.log")
        wait_port("127.0.0.1", self.port, self.proc)

    def stop(self) -> None:
        self.proc.stop()


class DriverStalled(RuntimeError):
    """bench.driver did not finish in its time: the host starved it (on this shared VM, its
    core's steal reached half the core while it ran). The run has no figures; the section goes
    on without it."""


class Driver:
    """bench.driver on core 1: sends /probe requests at the rate, as Prometheus would."""

    def __init__(
        self,
        workdir: Path,
        blackbox: Blackbox,
        items: list[Target],
        interval: float,
        duration: float,
        timeout: float,
    ) -> None:
        spec = workdir / "driver-targets.json"
        spec.write_text(json.dumps([[t.kind, t.address] for t in items]))
        self.out = workdir / "driver-out.json"
        self.out.unlink(missing_ok=True)
        cmd = [
            python(),
            "-m",
            "bench.driver",
            "--port",
            str(blackbox.port),
            "--targets",
            str(spec),
            "--interval",
            str(interval),
            "--duration",
            str(duration),
            "--timeout",
            str(timeout),
            "--out",
            str(self.out),
        ]
        self.proc = Proc(cmd, core=1, log=workdir / "driver.log")

    def wait(self, timeout: float) -> list[list[float]]:
        """Rows [done_at, ok, started_at, reported, target index] once the driver is done;
        DriverStalled (the driver stopped) if it is not done in `timeout` s."""
        try:
            self.proc.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.stop()
            raise DriverStalled(
                f"bench.driver was not done {timeout:.1f} s after it started (a stalled host?)"
            ) from None
        return list(json.loads(self.out.read_text()))

    def stop(self) -> None:
        self.proc.stop()
