"""The README stays true: every exported metric is documented, the set-up commands are there."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry

from monitor.metrics import Metrics

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_every_metric_is_documented() -> None:
    registry = CollectorRegistry()
    Metrics(registry)
    names = set()
    for family in registry.collect():
        suffix = "_total" if family.type == "counter" else ""
        suffix = (
            "_seconds"
            if family.type == "histogram" and not family.name.endswith("_seconds")
            else suffix
        )
        names.add(family.name + suffix)
    missing = sorted(n for n in names if f"`{n}`" not in README)
    assert not missing, f"document these metrics in README.md: {missing}"


def test_setup_commands_match_ci() -> None:
    assert "bash scripts/install.sh && .venv/bin/pantau demo" in README
    test_command = "bash scripts/install-test-deps.sh && .venv/bin/python -m pytest"
    assert test_command in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash scripts/install-test-deps.sh" in ci and ".venv/bin/python -m pytest" in ci
