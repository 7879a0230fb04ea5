"""The national Grafana dashboard: regenerated from the typed models, and every panel's query
runs on a real VictoriaMetrics holding a replayed central outage (the records and alert state
the dashboard reads are the national rules' own)."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from types import ModuleType

import pytest

from monitor.fleet.exporter import history
from monitor.fleet.offices import build_offices
from monitor.fleet.scenario import Fault
from monitor.fleet.stack import Central, replay
from tests.conftest_tools import REPO, require_tool

pytestmark = pytest.mark.fleet

GENERATOR = REPO / "scripts" / "grafana" / "build_national_dashboard.py"
DASHBOARD = REPO / "grafana" / "dashboards" / "pantau-national.json"
EPOCH = datetime(2026, 11, 9, 1, 0, tzinfo=UTC).timestamp()
OFFICES = build_offices(120)
FAULTS = [
    Fault("stale", 120, 900, offices=frozenset(o.id for o in OFFICES[:10])),
    Fault("central", 300, 900, share=0.7),
]
# Panels that show nothing by design in this data: no lost-seconds counter is simulated, and the
# link state is not part of the rule series the simulation stores.
SYNTAX_ONLY = {"Lost service hours by office (time range)", "Offices by link state now"}


def load_generator() -> ModuleType:
    pytest.importorskip("grafana_foundation_sdk", reason="pip install grafana-foundation-sdk")
    spec = importlib.util.spec_from_file_location("build_national_dashboard", GENERATOR)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_json_is_what_the_generator_builds() -> None:
    assert DASHBOARD.read_text() == load_generator().render(), (
        "grafana/dashboards/pantau-national.json is stale: "
        "run scripts/grafana/build_national_dashboard.py"
    )


def _queries() -> list[tuple[str, str]]:
    board = json.loads(DASHBOARD.read_text())
    found = []
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            found.append((panel["title"], target["expr"]))
    return found


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Central]:
    require_tool("victoria-metrics", "apt-get install -y victoria-metrics")
    require_tool("vmalert", "apt-get install -y victoria-metrics")
    workdir = tmp_path_factory.mktemp("fleet-dashboard")
    central = Central(workdir).start()
    try:
        times = [15.0 * i for i in range(61)]
        central.import_series(history(OFFICES, times, lambda t: (FAULTS, t), EPOCH))
        iso = lambda s: datetime.fromtimestamp(EPOCH + s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
        replay(central, workdir, iso(0), iso(900))
        yield central
    finally:
        central.stop()


@pytest.mark.parametrize(("title", "expr"), _queries(), ids=[t for t, _ in _queries()])
def test_every_panel_query_runs_and_shows_the_outage(
    center: Central, title: str, expr: str
) -> None:
    concrete = expr.replace("$isp", ".*").replace("$province", ".*").replace("$__range", "15m")
    result = center.query(concrete, EPOCH + 600)  # during the central outage
    if title not in SYNTAX_ONLY:
        assert result, f"{title}: no data for {concrete}"
