"""The tracer's failures are data: no privilege, IPv6, and a real loopback trace (as root)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

from monitor.path.tracer import TraceSettings, trace
from tests.conftest import require_root, require_tool

SCRIPT = (
    "import asyncio, json; from monitor.path.tracer import trace; "
    "t = asyncio.run(trace('127.0.0.1', 'tcp', 80)); print(json.dumps(t.as_dict()))"
)


def test_without_raw_sockets_the_trace_says_how_to_fix_it() -> None:
    require_root("drops to the nobody user to show the unprivileged case")
    setpriv = require_tool("setpriv", "apt-get install util-linux")
    done = subprocess.run(
        [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", SCRIPT],
        capture_output=True, text=True, timeout=60, check=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )  # fmt: skip
    data = json.loads(done.stdout)
    assert data["error"] == "permission" and "CAP_NET_RAW" in data["message"]
    assert data["hops"] == []


async def test_ipv6_is_said_not_guessed() -> None:
    found = await trace("::1", "icmp")
    assert found.error == "unsupported" and "IPv6" in found.message


async def test_loopback_trace_matches_every_probe() -> None:
    require_root("raw sockets")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        found = await trace("127.0.0.1", "tcp", port, TraceSettings(max_ttl=4, probes=4))
    assert found.error is None and found.reached
    (hop,) = found.hops  # the destination answers at TTL 1: nothing beyond it is kept
    assert (hop.sent, hop.received, hop.loss_ratio) == (4, 4, 0.0)
    assert hop.rtt is not None and hop.rtt > 0
