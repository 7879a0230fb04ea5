"""The bench's own little lab: a network namespace with the targets, and the processes it starts.

Everything started here is stopped here, by PID; the namespace is removed on the way out.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# A /30 that exists only inside our veth pair; PANTAU_BENCH_NET=10.77.N gives a run at the same
# time as another (a long soak beside a CPU run) its own.
_NET = os.environ.get("PANTAU_BENCH_NET", "10.77.0")
HOST_ADDR, NS_ADDR = f"{_NET}.1", f"{_NET}.2"
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


class Namespace:
    """`ip netns` with a veth to the host: the targets live at NS_ADDR, the probers at HOST_ADDR."""

    def __init__(self) -> None:
        tag = f"{os.getpid() % 100000}"
        self.name = f"pbench{tag}"
        self.host_if = f"pbh{tag}"
        self.ns_if = f"pbn{tag}"

    def __enter__(self) -> Namespace:
        run("ip", "netns", "add", self.name)
        try:
            run("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
            run("ip", "link", "set", self.ns_if, "netns", self.name)
            run("ip", "addr", "add", f"{HOST_ADDR}/30", "dev", self.host_if)
            run("ip", "link", "set", self.host_if, "up")
            self.exec("ip", "addr", "add", f"{NS_ADDR}/30", "dev", self.ns_if)
            self.exec("ip", "link", "set", self.ns_if, "up")
            self.exec("ip", "link", "set", "lo", "up")
            self.exec("sysctl", "-qw", "net.core.somaxconn=8192")
            self.exec("sysctl", "-qw", "net.ipv4.tcp_max_syn_backlog=8192")
        except BaseException:
            self.__exit__()
            raise
        return self

    def exec(self, *cmd: str) -> None:
        run("ip", "netns", "exec", self.name, *cmd)

    def prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.name]

    def __exit__(self, *exc: object) -> None:
        subprocess.run(["ip", "link", "del", self.host_if], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


class Proc:
    """A process we started; stopped by its own PID (SIGTERM, then SIGKILL after 5 s)."""

    def __init__(
        self,
        cmd: list[str],
        *,
        core: int | None,
        env: dict[str, str] | None = None,
        log: Path | None = None,
        prefix: list[str] | None = None,
    ) -> None:
        full = list(prefix or [])
        if core is not None:
            full += ["taskset", "-c", str(core)]
        full += cmd
        out = open(log, "wb") if log else subprocess.DEVNULL
        self.popen = subprocess.Popen(
            full,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=REPO,
        )
        self.pid = self.popen.pid  # `ip netns exec` and taskset exec, so this is the process

    def alive(self) -> bool:
        return self.popen.poll() is None

    def cpu_seconds(self) -> float:
        """utime + stime from /proc/<pid>/stat (all threads)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def rss_mb(self) -> float:
        pages = int(Path(f"/proc/{self.pid}/statm").read_text().split()[1])
        return pages * PAGE / 1e6

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.popen.wait(5)


@contextlib.contextmanager
def started(proc: Proc) -> Iterator[Proc]:
    try:
        yield proc
    finally:
        proc.stop()


def wait_port(host: str, port: int, proc: Proc, timeout: float = 30.0) -> None:
    """Until something accepts on host:port; fail early if `proc` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.popen.args} exited with {proc.popen.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {host}:{port} after {timeout:g}s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def python() -> str:
    return sys.executable


def wait_file(path: Path, proc: Proc, timeout: float = 10.0) -> None:
    """Until `path` exists (a capture has started); fail early if `proc` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.popen.args} exited with {proc.popen.returncode}")
        if path.exists():
            time.sleep(0.3)
            return
        time.sleep(0.05)
    raise RuntimeError(f"{path} did not appear in {timeout:g}s")
