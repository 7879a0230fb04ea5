"""The daemon's /metrics: rendered off the loop, text or OpenMetrics, gzip when asked."""

from __future__ import annotations

import aiohttp

from monitor.sim import SimNetwork
from tests.daemon_helpers import fast_config, running


async def test_metrics_negotiates_openmetrics_and_gzip() -> None:
    async with SimNetwork(icmp=False) as net, running(fast_config(net)) as daemon:
        url = f"http://127.0.0.1:{daemon.port}/metrics"
        async with aiohttp.ClientSession(auto_decompress=True) as http:
            async with http.get(url, headers={"Accept-Encoding": "identity"}) as r:
                plain_type, plain = r.headers["Content-Type"], await r.text()
                assert "Content-Encoding" not in r.headers
            accept = {"Accept": "application/openmetrics-text; version=1.0.0"}
            async with http.get(url, headers=accept) as r:
                open_type, open_text = r.headers["Content-Type"], await r.text()
            async with http.get(url, headers={"Accept-Encoding": "gzip"}) as r:
                assert r.headers["Content-Encoding"] == "gzip"
                assert "pantau_link_state" in await r.text()
    assert plain_type.startswith("text/plain") and "pantau_probe_success" in plain
    assert open_type.startswith("application/openmetrics-text")
    assert open_text.rstrip().endswith("# EOF")
