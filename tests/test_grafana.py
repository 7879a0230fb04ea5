"""The Grafana dashboard: regenerated from the typed models, Grafana's shape, valid PromQL.

That every panel also returns data from a Prometheus scraping a running Pantau is the end-to-end
test's job (tests/e2e/); it reuses `panel_queries()` and `expand()` from the generator.
"""

from __future__ import annotations

import importlib.util
import json
import re
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from types import ModuleType

import pytest
import yaml
from prometheus_client import CollectorRegistry

from monitor.metrics import Metrics
from tests.conftest_tools import REPO, require_tool

GENERATOR = REPO / "scripts" / "grafana" / "build_dashboards.py"
DASHBOARD = REPO / "grafana" / "dashboards" / "pantau-link.json"
PROVISIONING = REPO / "grafana" / "provisioning"
RULES = REPO / "config" / "prometheus" / "rules" / "pantau.yml"


def load_generator() -> ModuleType:
    """scripts/grafana/build_dashboards.py as a module (skip without the SDK)."""
    pytest.importorskip("grafana_foundation_sdk", reason="pip install grafana-foundation-sdk")
    spec = importlib.util.spec_from_file_location("build_dashboards", GENERATOR)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    return load_generator()


@pytest.fixture(scope="module")
def board() -> dict:
    return json.loads(DASHBOARD.read_text())


def test_committed_json_is_what_the_generator_builds(generator: ModuleType) -> None:
    assert DASHBOARD.read_text() == generator.render(), (
        "grafana/dashboards/pantau-link.json is stale: run scripts/grafana/build_dashboards.py"
    )


def test_sdk_is_pinned_to_the_grafana_11_6_line() -> None:
    pyproject = (REPO / "pyproject.toml").read_text()
    assert re.search(r'"grafana-foundation-sdk==\d+!11\.6\.\d+"', pyproject)


def test_identity(board: dict) -> None:
    assert board["title"] == "Pantau — link to the data center"
    assert board["uid"] == "pantau-link"  # the alerts' dashboard links point here


def test_variables(board: dict) -> None:
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for name in ("office", "target"):
        assert variables[name]["type"] == "query"
        assert variables[name]["datasource"]["uid"] == "${datasource}"
        assert variables[name]["includeAll"] and variables[name]["allValue"] == ".*"


def test_every_panel_has_queries_on_the_datasource_variable(board: dict) -> None:
    panels = [p for p in board["panels"] if p["type"] != "row"]
    assert len(panels) >= 12
    for panel in panels:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            # Every query is scoped to the selected offices: nothing assumes a single office.
            assert 'office=~"$office"' in target["expr"], panel["title"]


def test_panels_fit_the_grid_without_overlap(board: dict) -> None:
    taken: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        cells = {
            (x, y)
            for x in range(pos["x"], pos["x"] + pos["w"])
            for y in range(pos["y"], pos["y"] + pos["h"])
        }
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells


def test_issue_panels_are_present(board: dict) -> None:
    titles = " | ".join(p["title"] for p in board["panels"]).lower()
    for words in (
        "link to the data center now",
        "fault domain now",
        "lost service time today",
        "7 days",
        "30 days",
        "this month",
        "outages this month",
        "availability during service hours",
        "latency per hop (p50, p95)",
        "icmp packet loss",
        "http phases",
        "by fault domain",
        "tls certificate expiry",
    ):
        assert words in titles, words


def test_queries_use_only_exported_or_recorded_series(generator: ModuleType, board: dict) -> None:
    registry = CollectorRegistry()
    Metrics(registry)
    exported = {family.name for family in registry.collect()}  # a counter: without `_total`
    recorded = set(re.findall(r"record: (\S+)", RULES.read_text()))
    for title, expr in generator.panel_queries(board):
        for name in re.findall(r"[\w:]*pantau_[\w:]+", expr):
            base = re.sub(r"_(total|bucket|sum|count)$", "", name)
            assert name in recorded or base in exported, f"{title}: {name} is not defined"


def test_provisioning_points_at_the_dashboard_folder() -> None:
    datasources = yaml.safe_load((PROVISIONING / "datasources" / "pantau.yml").read_text())
    assert datasources["datasources"][0]["type"] == "prometheus"
    providers = yaml.safe_load((PROVISIONING / "dashboards" / "pantau.yml").read_text())
    assert providers["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards/pantau"
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    volumes = compose["services"]["grafana"]["volumes"]
    assert "./grafana/dashboards:/var/lib/grafana/dashboards/pantau:ro" in volumes
    assert "./grafana/provisioning:/etc/grafana/provisioning:ro" in volumes


# --- every panel query is valid PromQL for a real Prometheus with the shipped rules --------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def prometheus_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = require_tool("prometheus", "apt-get install -y prometheus")
    directory = tmp_path_factory.mktemp("prometheus")
    config = directory / "prometheus.yml"
    config.write_text(yaml.safe_dump({"rule_files": [str(RULES)], "scrape_configs": []}))
    port = _free_port()
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(url + "/-/ready", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("prometheus did not become ready")
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_every_panel_query_parses(generator: ModuleType, board: dict, prometheus_url: str) -> None:
    for title, expr in generator.panel_queries(board):
        query = urllib.parse.urlencode({"query": generator.expand(expr)})
        try:
            with urllib.request.urlopen(f"{prometheus_url}/api/v1/query?{query}", timeout=5) as r:
                status = json.load(r)["status"]
        except urllib.error.HTTPError as error:
            pytest.fail(f"{title}: {expr}\n{error.read().decode()}")
        assert status == "success", title
