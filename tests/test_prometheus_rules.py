"""The shipped Prometheus config and rules load, and `promtool test rules` passes.

The rule behaviour itself (fires, ignores a single failed probe, resolves, carries office /
domain / severity / summary / dashboard, downgrades outside service hours) is specified in
config/prometheus/tests/*_test.yml; this module runs it and guards the contract around it.
"""

from __future__ import annotations

import re

import pytest
import yaml
from prometheus_client import CollectorRegistry

from monitor.metrics import Metrics
from tests.conftest_tools import REPO, require_tool, run_tool

PROM_DIR = REPO / "config" / "prometheus"
RULES = PROM_DIR / "rules" / "pantau.yml"
RULE_TESTS = sorted((PROM_DIR / "tests").glob("*_test.yml"))
ISSUE_ALERTS = {
    "PantauDataCenterDown": "page",
    "PantauIspDown": "page",
    "PantauLocalNetworkDown": "page",
    "PantauDataCenterSlow": "warning",
    "PantauPacketLoss": "warning",
    "PantauTlsCertExpiringSoon": "warning",
    "PantauMonitorDown": "page",
    "PantauWatchdog": "none",
    # issue 12
    "PantauLedgerFailing": "warning",
    "PantauReportMailRejected": "warning",
    "PantauInternalError": "warning",
    "PantauUpOnBackup": "warning",  # issue 16
}


@pytest.fixture(scope="module")
def promtool() -> str:
    return require_tool("promtool", "apt-get install -y prometheus")


def _rules() -> list[dict]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_promtool_check_config(promtool: str) -> None:
    result = run_tool(promtool, "check", "config", str(PROM_DIR / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_check_rules(promtool: str) -> None:
    result = run_tool(promtool, "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_test_rules(promtool: str) -> None:
    result = run_tool(promtool, "test", "rules", *map(str, RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(RULE_TESTS) >= 4


def test_every_alert_of_the_issue_exists_with_its_severity() -> None:
    alerts = {r["alert"]: r for r in _rules() if "alert" in r}
    assert set(alerts) == set(ISSUE_ALERTS)
    for name, severity in ISSUE_ALERTS.items():
        label = alerts[name]["labels"]["severity"]
        if severity == "page":
            # Pages are downgraded outside service hours by a template on the joined value.
            assert "page" in label and "warning" in label, name
            window = "monitor_page_window" if name == "PantauMonitorDown" else "page_window"
            assert f"office:pantau_{window}" in alerts[name]["expr"], name
        else:
            assert label == severity, name


def test_every_alert_is_tested_by_promtool() -> None:
    text = "".join(path.read_text() for path in RULE_TESTS)
    tested = set(re.findall(r"alertname: (\w+)", text))
    assert tested == set(ISSUE_ALERTS)


def test_pages_carry_summary_ticket_and_the_configured_dashboard_link() -> None:
    pages = {"PantauDataCenterDown", "PantauIspDown", "PantauLocalNetworkDown"}
    for rule in _rules():
        if rule.get("alert") in pages:
            annotations = rule["annotations"]
            assert {"language", "summary", "description", "ticket", "dashboard"} <= set(annotations)
            # The office's own Grafana (pages.dashboard_url), never the monitor box itself.
            assert "pantau_page_info" in annotations["dashboard"]
            assert "?var-office={{ $labels.office" in annotations["dashboard"]
    assert "localhost" not in RULES.read_text()


def test_rules_use_only_metrics_pantau_exports() -> None:
    """A renamed metric must break this test, not a silent rule."""
    registry = CollectorRegistry()
    Metrics(registry)
    exported = {family.name for family in registry.collect()}  # a counter: without `_total`
    used = set(re.findall(r"(?<![:\w/])(pantau_\w+)", RULES.read_text()))
    suffixes = ("_total", "_bucket", "_sum", "_count")
    for name in used:
        base = next((name.removesuffix(s) for s in suffixes if name.endswith(s)), name)
        assert name in exported or base in exported, f"{name} is not exported by Metrics"
