"""Start a real Prometheus (Debian package) on 127.0.0.1 for a test, and stop it by its PID."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from tests.support.tools import require_tool


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def ready_server(name: str, argv: list[str], base: str, log_path: Path) -> Iterator[str]:
    """Run one of the Prometheus-family servers we started; yield `base` once /-/ready is 200.

    Stopped by its own PID (terminate, then kill), whatever the test did.
    """
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/-/ready", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{name} did not start: {log_path.read_text()}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def prometheus(workdir: Path, config: dict[str, Any], *extra: str) -> Iterator[str]:
    """Run prometheus with `config`; yields its base URL once it is ready."""
    binary = require_tool("prometheus")
    port = free_port()
    path = workdir / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    argv = [binary, f"--config.file={path}", f"--storage.tsdb.path={workdir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn", *extra]  # fmt: skip
    with ready_server(
        "prometheus", argv, f"http://127.0.0.1:{port}", workdir / "prometheus.log"
    ) as base:
        yield base


def api(base: str, path: str, **params: str) -> Any:
    url = f"{base}{path}?{urllib.parse.urlencode(params)}" if params else f"{base}{path}"
    with urllib.request.urlopen(url, timeout=5) as r:
        body = json.load(r)
    assert body["status"] == "success", body
    return body["data"]
