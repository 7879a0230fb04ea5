"""The example Alertmanager config: loads in Debian's 0.25 as shipped, routes by severity,
pages once per root cause, never drops a short outage, and renders its pages' templates.

Routing is checked offline with `amtool config routes test`, the templates with `amtool
template render`; inhibition needs a running Alertmanager, so one is started on 127.0.0.1 and
fed alerts through its API.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest_tools import REPO, require_tool, run_tool

CONFIG = REPO / "config" / "alertmanager" / "alertmanager.yml"
TEMPLATES = sorted(CONFIG.parent.glob("*.tmpl"))
RULES = REPO / "config" / "prometheus" / "rules" / "pantau.yml"
PROMETHEUS = REPO / "config" / "prometheus" / "prometheus.yml"
SECRETS = ("smtp_password", "page_webhook_token", "deadmans_switch_token")
OUTAGE_ALERTS = ("PantauDataCenterDown", "PantauIspDown", "PantauLocalNetworkDown")


def config_for(secrets_dir: Path, directory: Path | None = None) -> str:
    """The shipped config with its secrets under secrets_dir, exactly as shipped otherwise.

    Its templates are copied to `directory` (where the config will be written): Alertmanager
    reads them relative to the config file.
    """
    for template in TEMPLATES:
        shutil.copy(template, (directory or secrets_dir) / template.name)
    return CONFIG.read_text().replace("/etc/alertmanager/secrets", str(secrets_dir))


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
    for name in SECRETS:
        (directory / name).write_text("secret\n")
    path = directory / "alertmanager.yml"
    path.write_text(config_for(directory))
    return path


def test_amtool_check_config(amtool: str, checked_config: Path) -> None:
    # The file as shipped (only the secrets' directory moved), in the Alertmanager the README
    # installs: Debian 12's 0.25 has no url_file / bot_token_file.
    assert tool_version(amtool) >= (0, 25)
    result = run_tool(amtool, "check-config", str(checked_config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
    assert f"{len(TEMPLATES)} templates" in result.stdout, result.stdout


def test_no_secret_is_inline() -> None:
    text = CONFIG.read_text()
    for key in ("bot_token:", "auth_password:", "smtp_auth_password:", "credentials:"):
        assert not re.search(rf"^\s*-?\s*{key}", text, re.M), f"{key} must be read from a file"
    for url in re.findall(r"^\s*-?\s*url:\s*(\S+)", text, re.M):
        assert "@" not in url and "?" not in url, f"{url}: the token goes in credentials_file"


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
        # A dead daemon in service hours pages (issue 11).
        ({"alertname": "PantauMonitorDown", "severity": "page"}, "it-staff-page"),
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


# --- never drop an outage: the rules' and Alertmanager's timings fit together ---------------


def _seconds(text: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    match = re.fullmatch(r"(\d+)(ms|s|m|h)", text)
    assert match, text
    return int(match[1]) * units[match[2]]


def test_every_alert_that_fires_spans_a_flush() -> None:
    """Alertmanager notifies a group only when it flushes: group_wait after the group's first
    alert, then every group_interval. An alert that fires and resolves between two flushes is
    never sent (issue 11: a 75 s outage that fired for 35 s was lost with group_interval 5m).
    So every alert that pages or warns of an outage must stay firing longer than both."""
    config = yaml.safe_load(CONFIG.read_text())
    evaluation = _seconds(yaml.safe_load(PROMETHEUS.read_text())["global"]["evaluation_interval"])
    root = config["route"]
    routes = [r for r in root["routes"] if "PantauWatchdog" not in str(r["matchers"])]
    rules = {
        rule["alert"]: rule
        for group in yaml.safe_load(RULES.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    for name in (*OUTAGE_ALERTS, "PantauMonitorDown"):
        # Firing for at least keep_firing_for plus the evaluation that saw the condition end.
        firing = _seconds(rules[name]["keep_firing_for"]) + evaluation
        for route in (root, *routes):
            wait = _seconds(route.get("group_wait", root["group_wait"]))
            interval = _seconds(route.get("group_interval", root["group_interval"]))
            assert firing > max(wait, interval), (name, route.get("matchers"), firing)
    # Resolved within 60 s of the link's return (issue 11) needs a short flush as well.
    assert _seconds(root["group_interval"]) <= 10


# --- the pages' templates, rendered by amtool -----------------------------------------------


def _alert(status: str, annotations: dict[str, str]) -> dict[str, object]:
    return {
        "status": status,
        "labels": {"alertname": "PantauDataCenterDown", "office": "grobogan", "severity": "page"},
        "annotations": annotations,
        "startsAt": "2026-12-01T03:02:03Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-12-01T03:20:00Z",
        "generatorURL": "",
        "fingerprint": "1",
    }


PAGE_ID = {
    "language": "id",
    "summary": "Dispendukcapil Grobogan: layanan e-KTP terputus sejak 01-12-2026 10:02:03 WIB",
    "description": "Sudah terputus 3 menit 5 detik. Titik pertama yang gagal: dc-siak.",
    "ticket": "Kepada Helpdesk Ditjen Dukcapil Kemendagri: sejak 01-12-2026 10:02:03 WIB ...",
    "dashboard": "https://grafana.grobogan.example.go.id/d/pantau-link/pantau?var-office=grobogan",
}


def _render(amtool: str, tmp_path: Path, status: str, page: dict[str, str], text: str) -> str:
    data = {
        "receiver": "it-staff-page",
        "status": status,
        "alerts": [_alert(status, page)],
        "groupLabels": {"office": "grobogan", "alertname": "PantauDataCenterDown"},
        "commonLabels": {"office": "grobogan"},
        "commonAnnotations": page,
        "externalURL": "http://alertmanager.example.go.id",
    }
    path = tmp_path / f"data-{status}.json"
    path.write_text(json.dumps(data))
    result = run_tool(
        amtool, "template", "render", f"--template.glob={CONFIG.parent}/*.tmpl",
        f"--template.text={text}", f"--template.data={path}",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_page_templates_render_in_the_rules_language(amtool: str, tmp_path: Path) -> None:
    subject = '{{ template "pantau.subject" . }}'
    body = '{{ template "pantau.text" . }}'
    firing = _render(amtool, tmp_path, "firing", PAGE_ID, subject)
    assert firing.strip() == f"[GANGGUAN] {PAGE_ID['summary']}"
    text = _render(amtool, tmp_path, "firing", PAGE_ID, body)
    assert f"Teks tiket: {PAGE_ID['ticket']}" in text
    assert f"Dasbor: {PAGE_ID['dashboard']}" in text
    assert "Sudah terputus 3 menit 5 detik" in text
    resolved = _render(amtool, tmp_path, "resolved", PAGE_ID, subject)
    assert resolved.strip().startswith("[PULIH] ")
    english = {**PAGE_ID, "language": "en", "summary": "Office: the link is down"}
    assert _render(amtool, tmp_path, "resolved", english, subject).strip() == (
        "[RESOLVED] Office: the link is down"
    )
    html = _render(amtool, tmp_path, "firing", {**PAGE_ID, "dashboard": ""},
                   '{{ template "pantau.html" . }}')  # fmt: skip
    assert '<html lang="id">' in html and "Buka dasbor" not in html
    for word in ("DOWN", "RESOLVED", "Ticket", "Dashboard", "Open the"):
        assert word not in text + html, word
