"""A real Prometheus scrapes a running daemon; the exposition passes promtool."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import aiohttp

from monitor.sim import SimNetwork
from tests.conftest import require_tool
from tests.daemon_helpers import fast_config, running
from tests.prometheus_helpers import api, prometheus


async def test_prometheus_scrapes_the_daemon_and_promtool_accepts_it(tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    async with SimNetwork(icmp=False) as net, running(fast_config(net)) as daemon:
        target = f"127.0.0.1:{daemon.port}"
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "900ms"},
            "scrape_configs": [{
                "job_name": "pantau",
                "static_configs": [{"targets": [target], "labels": {"office": "grobogan"}}],
            }],
        }  # fmt: skip
        with prometheus(tmp_path, config) as base:
            deadline = time.monotonic() + 30
            while True:
                targets = await asyncio.to_thread(api, base, "/api/v1/targets")
                health = [t["health"] for t in targets["activeTargets"]]
                if health == ["up"]:
                    break
                assert time.monotonic() < deadline, targets
                await asyncio.sleep(0.3)
            result = await asyncio.to_thread(
                api, base, "/api/v1/query", query='pantau_probe_success{target="dc-siak"}'
            )
            (sample,) = result["result"]
            assert sample["metric"]["office"] == "grobogan"
            assert sample["value"][1] == "1"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://{target}/metrics") as response:
                exposition = await response.read()
    check = await asyncio.to_thread(
        subprocess.run,
        [promtool, "check", "metrics"],
        input=exposition,
        capture_output=True,
        timeout=30,
    )
    findings = {
        line.strip() for line in (check.stdout + check.stderr).decode().splitlines() if line.strip()
    }
    # No finding at all: promtool once flagged `pantau_in_service_hours` ("hours" read as a unit).
    assert check.returncode == 0 and not findings, findings
    assert b"pantau_probe_duration_seconds_bucket" in exposition
