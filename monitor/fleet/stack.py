"""The real central engines on 127.0.0.1 for the simulation and the tests: VictoriaMetrics,
vmagent and vmalert as child processes on free ports, each stopped by its own PID."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

RULES = Path(__file__).resolve().parents[2] / "config" / "fleet" / "rules"


class StackError(RuntimeError):
    """A program is missing or did not become ready."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise StackError(f"{name} is not installed: apt-get install -y victoria-metrics")
    return path


def http_get(url: str, timeout: float = 5.0, netns: str | None = None) -> bytes:
    """GET `url`; from inside network namespace `netns` (curl there) when one is given."""
    if netns is not None:
        argv = ["ip", "netns", "exec", netns, "curl", "-sSf", "-m", str(timeout), url]
        result = subprocess.run(argv, capture_output=True, timeout=timeout + 5, check=False)
        if result.returncode != 0:
            raise OSError(result.stderr.decode(errors="replace").strip())
        return result.stdout
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return bytes(response.read())


def _in(netns: str | None) -> list[str]:
    return ["ip", "netns", "exec", netns] if netns else []


@dataclass
class Process:
    """One child program; `stop()` ends it by PID and waits."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)


def start(
    name: str,
    argv: list[str],
    workdir: Path,
    ready_url: str,
    timeout: float = 30,
    netns: str | None = None,
) -> Process:
    """Start `argv` (inside `netns` if given), logging to workdir/<name>.log; wait until
    `ready_url` answers 200."""
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            [*_in(netns), _binary(argv[0]), *argv[1:]],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
    process = Process(name, popen, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise StackError(f"{name} exited: {log.read_text()[-2000:]}")
        try:
            http_get(ready_url, timeout=1, netns=netns)
            return process
        except OSError:
            time.sleep(0.1)
    process.stop()
    raise StackError(f"{name} not ready after {timeout:.0f} s: {log.read_text()[-2000:]}")


@dataclass
class Central:
    """A single-node VictoriaMetrics: the central store the offices' vmagents write to."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: Process | None = None
    netns: str | None = None  # run (and be asked) inside this network namespace
    listen: str = "127.0.0.1"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Central:
        self.process = start(
            "victoria-metrics",
            [
                "victoria-metrics",
                f"-storageDataPath={self.workdir / 'vmdata'}",
                f"-httpListenAddr={self.listen}:{self.port}",
                "-search.latencyOffset=1s",
                "-search.disableCache",
                "-retentionPeriod=100y",
                "-loggerLevel=ERROR",
            ],
            self.workdir,
            f"{self.url}/health",
            netns=self.netns,
        )
        return self

    def stop(self) -> None:
        if self.process:
            self.process.stop()

    def import_lines(self, lines: list[str]) -> None:
        """Write samples (Prometheus text with millisecond timestamps) and make them queryable."""
        data = ("\n".join(lines) + "\n").encode()
        request = urllib.request.Request(f"{self.url}/api/v1/import/prometheus", data=data)
        with urllib.request.urlopen(request, timeout=120):
            pass
        self.flush()

    def import_series(self, series: list[dict[str, Any]]) -> None:
        """Write whole series at once (VictoriaMetrics' JSON line format: `metric`, `values`,
        `timestamps` in ms): 100x smaller than one text line per sample for long runs."""
        data = "\n".join(json.dumps(s, separators=(",", ":")) for s in series).encode()
        request = urllib.request.Request(f"{self.url}/api/v1/import", data=data)
        with urllib.request.urlopen(request, timeout=300):
            pass
        self.flush()

    def flush(self) -> None:
        """Make just-written samples visible to queries (VictoriaMetrics' debug endpoint)."""
        http_get(f"{self.url}/internal/force_flush", netns=self.netns)

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """An instant query; the result vector."""
        params = {"query": expr} | ({"time": f"{at:.3f}"} if at is not None else {})
        query = urllib.parse.urlencode(params)
        body = http_get(f"{self.url}/api/v1/query?{query}", timeout=60, netns=self.netns)
        return list(json.loads(body)["data"]["result"])

    def export(self, selector: str) -> list[dict[str, Any]]:
        """Every raw sample of the matching series (no lookback, no step): to find gaps."""
        query = urllib.parse.urlencode({"match[]": selector})
        body = http_get(f"{self.url}/api/v1/export?{query}", timeout=60, netns=self.netns)
        return [json.loads(line) for line in body.decode().splitlines() if line.strip()]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        """A range query; the result matrix."""
        params = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step}s"}
        query = urllib.parse.urlencode(params)
        body = http_get(f"{self.url}/api/v1/query_range?{query}", timeout=120, netns=self.netns)
        return list(json.loads(body)["data"]["result"])


def replay(
    central: Central,
    workdir: Path,
    start: str,
    end: str,
    rules: Path = RULES,
    interval: str | None = None,
) -> None:
    """Evaluate the national rules over stored data (vmalert -replay), writing recording rules
    and ALERTS back to the center, as the live vmalert would have.

    One vmalert run per rule, in file order, with a flush between: a rule reads the previous
    rule's results, and a single run would have to guess (`-replay.rulesDelay`) when they become
    searchable. `interval` replaces the groups' own (one evaluation per sample block when
    a test packs many independent scenarios into one run).
    """
    for path in sorted(rules.glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for index, rule in enumerate(group["rules"]):
                single = workdir / "replay-rule.yml"
                one = {**group, "rules": [rule]} | ({"interval": interval} if interval else {})
                single.write_text(yaml.safe_dump({"groups": [one]}))
                step = one.get("interval", "1m")
                _replay_one(central, workdir, single, start, end, step, f"{group['name']}[{index}]")


def _replay_one(
    central: Central, workdir: Path, rule: Path, start: str, end: str, step: str, what: str
) -> None:
    log = workdir / "vmalert-replay.log"
    with log.open("ab") as out:
        result = subprocess.run(
            [
                *_in(central.netns),
                _binary("vmalert"),
                f"-rule={rule}",
                f"-datasource.url={central.url}",
                f"-remoteWrite.url={central.url}",
                f"-replay.timeFrom={start}",
                f"-replay.timeTo={end}",
                "-replay.disableProgressBar",
                "-replay.rulesDelay=0s",
                # In replay the query step is this flag, not the group's interval: the default
                # 5m evaluated every 5 minutes (a 20 s outage fell between two evaluations).
                f"-datasource.queryStep={step}",
                "-replay.maxDatapointsPerQuery=10000",
                "-remoteWrite.flushInterval=100ms",
                "-loggerLevel=WARN",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=600,
            check=False,
        )
    if result.returncode != 0:
        raise StackError(f"vmalert replay of {what} failed: {log.read_text()[-3000:]}")
    central.flush()
