"""The probes' per-target caches hold every target of the largest config (issue 18).

Probed in turn, N targets through an LRU of fewer than N entries never hit: at 5,000 HTTP
targets a 4,096-entry cache rebuilt each probe's URL and request, and its churn fed full
collections of the garbage collector every ~14 s (docs/performance.md).
"""

from __future__ import annotations

from monitor.config import MAX_TARGETS
from monitor.probes import http11, tcp


def test_every_target_of_the_largest_config_stays_in_the_request_cache() -> None:
    urls = [f"http://10.1.{i // 250}.{i % 250}:8080/health?n={i}" for i in range(MAX_TARGETS)]
    http11._request.cache_clear()
    for _ in range(2):  # two rounds, in the same order, as the scheduler probes them
        for url in urls:
            http11._request("GET", url, ())
    assert http11._request.cache_info().hits == MAX_TARGETS


def test_every_tcp_target_of_the_largest_config_stays_in_the_address_cache() -> None:
    tcp.literal_address.cache_clear()
    for _ in range(2):
        for i in range(MAX_TARGETS):
            tcp.literal_address(f"10.2.{i // 250}.{i % 250}", 443)
    assert tcp.literal_address.cache_info().hits == MAX_TARGETS
