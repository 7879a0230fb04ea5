"""The shipped fleet configs (config/fleet/) load in the real programs that run them.

vmagent and vmalert dry-run with the exact flags of their systemd units, the units pass
`systemd-analyze verify`, the central VictoriaMetrics accepts its flags, the national rules pass
`promtool check rules` and `promtool test rules`, and the national Alertmanager routes each alert
to the right receiver (amtool, as Debian 12's Alertmanager 0.25 runs it).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from tests.conftest_tools import REPO, require_tool, run_tool

pytestmark = pytest.mark.fleet

FLEET = REPO / "config" / "fleet"
RULES = FLEET / "rules" / "national.yml"
VM_HINT = "apt-get install -y victoria-metrics"


def _exec_start(unit: Path) -> list[str]:
    """The ExecStart command line of a unit, continuation lines joined."""
    text = unit.read_text().replace("\\\n", " ")
    line = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart="))


def test_national_rules_pass_promtool_check_and_unit_tests() -> None:
    promtool = require_tool("promtool", "apt-get install -y prometheus")
    check = run_tool(promtool, "check", "rules", str(RULES))
    assert check.returncode == 0, check.stdout + check.stderr
    tests = sorted((FLEET / "tests").glob("*_test.yml"))
    result = run_tool(promtool, "test", "rules", *map(str, tests))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(tests) >= 1


def test_every_national_alert_is_unit_tested() -> None:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    alerts = {r["alert"] for g in groups for r in g["rules"] if "alert" in r}
    assert alerts == {
        "PantauNationalDataCenterDown",
        "PantauRegionalIspDown",
        "PantauOfficeUnmonitored",
    }
    text = "".join(p.read_text() for p in (FLEET / "tests").glob("*_test.yml"))
    assert set(re.findall(r"alertname: (\w+)", text)) == alerts


def test_rules_use_the_renamed_service_gauge_and_join_identity() -> None:
    text = RULES.read_text()
    assert "pantau_service_open" in text and "pantau_in_service_hours" not in text
    # Identity is joined from the info metric, never expected on every series.
    assert "group_left (isp)" in text and "pantau_office_info" in text


def test_vmalert_dry_runs_the_unit_with_the_national_rules() -> None:
    require_tool("vmalert", VM_HINT)
    argv = _exec_start(FLEET / "central" / "vmalert.service")
    argv = [f"-rule={RULES}" if a.startswith("-rule=") else a for a in argv]
    result = run_tool(*argv, "-dryRun", "-loggerLevel=ERROR")
    assert result.returncode == 0, result.stdout + result.stderr


def test_vmalert_dry_run_rejects_a_broken_rule(tmp_path: Path) -> None:
    vmalert = require_tool("vmalert", VM_HINT)
    bad = tmp_path / "bad.yml"
    bad.write_text(RULES.read_text().replace("present_over_time(", "present_over_time((", 1))
    result = run_tool(vmalert, "-dryRun", f"-rule={bad}", "-loggerLevel=ERROR")
    assert result.returncode != 0


def test_vmagent_dry_runs_the_unit_with_the_office_scrape_config() -> None:
    require_tool("vmagent", VM_HINT)
    argv = _exec_start(FLEET / "office" / "vmagent.service")
    assert "-remoteWrite.maxDiskUsagePerURL=1GiB" in argv
    argv = [
        f"-promscrape.config={FLEET / 'office' / 'scrape.yml'}"
        if a.startswith("-promscrape.config=")
        else a
        for a in argv
    ]
    result = run_tool(*argv, "-promscrape.config.dryRun")
    assert result.returncode == 0, result.stdout + result.stderr
    scrape = yaml.safe_load((FLEET / "office" / "scrape.yml").read_text())
    labels = scrape["scrape_configs"][0]["static_configs"][0]["labels"]
    assert set(labels) == {"office"}, "identity beyond `office` belongs in pantau_office_info"


def test_central_victoria_metrics_accepts_its_flags() -> None:
    binary = require_tool("victoria-metrics", VM_HINT)
    text = (FLEET / "central" / "victoria-metrics.default").read_text()
    args = shlex.split(re.search(r'^ARGS="(.*)"$', text, re.M).group(1))  # type: ignore[union-attr]
    result = run_tool(binary, *args, "-version")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "-search.latencyOffset=5s" in args


@pytest.mark.parametrize("unit", ["office/vmagent.service", "central/vmalert.service"])
def test_systemd_units_verify(unit: str, tmp_path: Path) -> None:
    analyze = require_tool("systemd-analyze", "apt-get install -y systemd")
    require_tool("vmagent", VM_HINT)
    copy = tmp_path / Path(unit).name
    copy.write_text((FLEET / unit).read_text())
    result = run_tool(analyze, "verify", str(copy))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def amtool() -> str:
    return require_tool("amtool", "apt-get install -y prometheus-alertmanager")


def test_national_alertmanager_config_checks(amtool: str) -> None:
    result = run_tool(amtool, "check-config", str(FLEET / "central" / "alertmanager.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (
            "alertname=PantauNationalDataCenterDown team=national scope=central",
            "national-datacenter-page",
        ),
        (
            "alertname=PantauRegionalIspDown team=national scope=isp isp=telkom",
            "national-desk-page",
        ),
        ("alertname=PantauOfficeUnmonitored team=national scope=office office=x", "national-email"),
    ],
)
def test_national_routes(amtool: str, labels: str, receiver: str) -> None:
    config = FLEET / "central" / "alertmanager.yml"
    result = run_tool(
        amtool, "config", "routes", "test", f"--config.file={config}", *labels.split()
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receiver
