"""The daemon's /metrics: the fast text format (Prometheus included), OpenMetrics only for a
client that takes nothing else, gzip when asked."""

from __future__ import annotations

import gzip

import aiohttp
from prometheus_client import CollectorRegistry

from monitor.exposition import render
from monitor.metrics import Metrics
from monitor.sim import SimNetwork
from monitor.web import make_routes
from tests.support.daemon import fast_config, running
from tests.support.factories import result
from tests.support.web import serving


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


PROMETHEUS_2_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)


async def test_a_prometheus_scrape_gets_the_fast_text_streamed_and_gzipped() -> None:
    metrics = Metrics(CollectorRegistry())
    for i in range(2000):  # a page of several slices, so it is streamed in several chunks
        metrics.observe_probe(result(f"t-{i}", kind="http"))
    routes = make_routes(metrics, dict, lambda: None, lambda first, last: {})
    async with serving(routes) as base, aiohttp.ClientSession(auto_decompress=False) as http:
        headers = {"Accept": PROMETHEUS_2_ACCEPT, "Accept-Encoding": "gzip, deflate"}
        async with http.get(f"{base}/metrics", headers=headers) as r:
            assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
            assert r.headers["Content-Encoding"] == "gzip"
            packed = await r.read()
        async with http.get(f"{base}/metrics", headers={"Accept-Encoding": ""}) as r:
            assert "Content-Encoding" not in r.headers
            plain = await r.read()
        only_openmetrics = {"Accept": "application/openmetrics-text; version=1.0.0",
                            "Accept-Encoding": ""}  # fmt: skip
        async with http.get(f"{base}/metrics", headers=only_openmetrics) as r:
            assert r.headers["Content-Type"].startswith("application/openmetrics-text")
            openmetrics = await r.text()
    page = await render(metrics.series, metrics.others)
    assert gzip.decompress(packed) == plain == page
    assert plain.count(b"pantau_probe_duration_seconds_count{") == 2000
    assert openmetrics.endswith("# EOF\n") and "pantau_probes_total{" in openmetrics
