"""The per-target series store exports, through the registry, what prometheus_client did: text,
OpenMetrics and `get_sample_value` (reference and scenario: tests/metrics_reference.py)."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.openmetrics import exposition as openmetrics
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)

from tests.support.metrics_reference import (
    NAMES,
    apply,
    daemon_and_reference,
    families,
    lines,
    reference_text,
    round_one,
    round_two,
    rounds,
    sample_key,
)


def test_the_registry_exports_what_prometheus_client_did() -> None:
    metrics, reference, ref_registry = daemon_and_reference()
    for results, states, skips in rounds():
        apply(metrics, reference, results, states, skips)
        ours = generate_latest(metrics.registry).decode()
        expected = reference_text(metrics, ref_registry)
        assert families(ours) == families(expected)
        assert lines(ours) == lines(expected)


def test_the_registry_still_serves_openmetrics_and_sample_lookups() -> None:
    metrics, reference, ref_registry = daemon_and_reference()
    apply(metrics, reference, round_one() + round_two(), {NAMES[0]: "down"}, [NAMES[1]])
    ours = parse_openmetrics(openmetrics.generate_latest(metrics.registry).decode())
    theirs = parse_openmetrics(openmetrics.generate_latest(ref_registry).decode())
    by_name = {f.name: f for f in ours}
    for family in theirs:
        got = by_name[family.name]
        assert (got.type, got.documentation) == (family.type, family.documentation)
        want = [s for s in family.samples if not s.name.endswith("_created")]
        assert sorted(map(sample_key, got.samples)) == sorted(map(sample_key, want)), family.name
    labels = {"target": NAMES[0], "role": "datacenter", "kind": "http", "result": "timeout"}
    assert metrics.registry.get_sample_value("pantau_probes_total", labels) == 1.0
