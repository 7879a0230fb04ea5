"""The example Alertmanager config: valid, routes by severity, and pages once per root cause.

Routing is checked offline with `amtool config routes test`; inhibition needs a running
Alertmanager, so one is started on 127.0.0.1 and fed alerts through its API.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest_tools import REPO, require_tool, run_tool

CONFIG = REPO / "config" / "alertmanager" / "alertmanager.yml"

# Alertmanager 0.26 added bot_token_file and url_file. Debian bookworm ships 0.25: there the
# same config is checked with those two keys inlined (routing and inhibition are unchanged).
_FILE_ONLY_KEYS = {
    "bot_token_file": ("bot_token", "0:placeholder-for-alertmanager-0.25"),
    "url_file": ("url", "http://127.0.0.1:9/placeholder-for-alertmanager-0.25"),
}


def config_for(version: tuple[int, int], secrets_dir: Path) -> str:
    """The shipped config, readable by Alertmanager `version`, with secrets under secrets_dir."""
    text = CONFIG.read_text().replace("/etc/alertmanager/secrets", str(secrets_dir))
    if version < (0, 26):
        for key, (inline, value) in _FILE_ONLY_KEYS.items():
            text = re.sub(rf"\b{key}: \S+", f'{inline}: "{value}"', text)
    return text


def tool_version(binary: str) -> tuple[int, int]:
    """(major, minor) of an Alertmanager binary or amtool."""
    out = run_tool(binary, "--version").stdout + run_tool(binary, "--version").stderr
    match = re.search(r"version (\d+)\.(\d+)", out)
    assert match, out
    return int(match[1]), int(match[2])


@pytest.fixture(scope="module")
def amtool() -> str:
    return require_tool("amtool", "apt-get install -y prometheus-alertmanager")


@pytest.fixture(scope="module")
def checked_config(amtool: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("alertmanager")
    for name in ("smtp_password", "telegram_bot_token", "page_webhook_url", "deadmans_switch_url"):
        (directory / name).write_text("secret\n")
    path = directory / "alertmanager.yml"
    path.write_text(config_for(tool_version(amtool), directory))
    return path


def test_amtool_check_config(amtool: str, checked_config: Path) -> None:
    result = run_tool(amtool, "check-config", str(checked_config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_no_secret_is_inline() -> None:
    text = CONFIG.read_text()
    for key in ("bot_token:", "auth_password:", "smtp_auth_password:", "url:"):
        assert not re.search(rf"^\s*-?\s*{key}", text, re.M), f"{key} must be read from a file"


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        ({"alertname": "PantauDataCenterDown", "severity": "page"}, "it-staff-page"),
        ({"alertname": "PantauIspDown", "severity": "page"}, "it-staff-page"),
        ({"alertname": "PantauLocalNetworkDown", "severity": "page"}, "it-staff-page"),
        # The same outage outside service hours is downgraded by the rules: e-mail only.
        ({"alertname": "PantauDataCenterDown", "severity": "warning"}, "it-staff-email"),
        ({"alertname": "PantauPacketLoss", "severity": "warning"}, "it-staff-email"),
        ({"alertname": "PantauMonitorDown", "severity": "warning"}, "it-staff-email"),
        ({"alertname": "PantauWatchdog", "severity": "none"}, "deadmans-switch"),
        ({"alertname": "SomethingElse"}, "it-staff-email"),
    ],
)
def test_routes(amtool: str, checked_config: Path, labels: dict[str, str], receiver: str) -> None:
    args = [f"{k}={v}" for k, v in {"office": "grobogan", **labels}.items()]
    result = run_tool(
        amtool,
        "config",
        "routes",
        "test",
        f"--config.file={checked_config}",
        f"--verify.receivers={receiver}",
        *args,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receiver


# --- inhibition, against a running Alertmanager -------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _api(base: str, path: str, body: object | None = None) -> object:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base + path, data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


@pytest.fixture(scope="module")
def alertmanager(checked_config: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = require_tool("prometheus-alertmanager", "apt-get install -y prometheus-alertmanager")
    port = _free_port()
    storage = tmp_path_factory.mktemp("am-data")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={checked_config}",
            f"--storage.path={storage}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(base + "/-/ready", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("alertmanager did not become ready")
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def _inhibited_after_posting(base: str, office: str, names: list[str]) -> dict[str, bool]:
    """Post page alerts for one office; return alertname -> inhibited."""
    _api(
        base,
        "/api/v2/alerts",
        [{"labels": {"alertname": n, "office": office, "severity": "page"}} for n in names],
    )
    deadline = time.monotonic() + 5
    while True:
        alerts = _api(base, f"/api/v2/alerts?filter=office%3D%22{office}%22")
        assert isinstance(alerts, list)
        state = {
            a["labels"]["alertname"]: a["status"]["state"] == "suppressed"
            and bool(a["status"]["inhibitedBy"])
            for a in alerts
        }
        # Inhibition is evaluated on read; wait only until every alert is visible.
        if set(state) == set(names) or time.monotonic() > deadline:
            return state
        time.sleep(0.05)


def test_local_outage_inhibits_isp_and_datacenter_pages(alertmanager: str) -> None:
    names = ["PantauLocalNetworkDown", "PantauIspDown", "PantauDataCenterDown"]
    assert _inhibited_after_posting(alertmanager, "grobogan", names) == {
        "PantauLocalNetworkDown": False,
        "PantauIspDown": True,
        "PantauDataCenterDown": True,
    }


def test_isp_outage_inhibits_datacenter_page_only_in_its_office(alertmanager: str) -> None:
    assert _inhibited_after_posting(
        alertmanager, "blora", ["PantauIspDown", "PantauDataCenterDown"]
    ) == {"PantauIspDown": False, "PantauDataCenterDown": True}
    # Another office's data-center outage is its own root cause: not inhibited.
    assert _inhibited_after_posting(alertmanager, "kudus", ["PantauDataCenterDown"]) == {
        "PantauDataCenterDown": False
    }
