"""Pages reach people: a running Pantau, the shipped rules in a real Prometheus, the shipped
Alertmanager config in a real Alertmanager, and the receivers' endpoints in this test.

Only the pages' `for` (30 s shipped) is shortened to FOR, and Pantau probes and Prometheus
scrapes faster, so the run takes a minute or two instead of many. Everything the proof that no
outage is dropped depends on is the shipped value: the rules' keep_firing_for and
Alertmanager's group_wait / group_interval, with every expression, label, route, receiver,
template and inhibition rule. Prometheus resends firing alerts every second
(--rules.alert.resend-delay). Everything listens on 127.0.0.1: e-mail goes to an SMTP sink,
the webhooks to an aiohttp server here.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from aiohttp import web
from aiosmtpd.smtp import SMTP

from monitor.config import parse_config
from monitor.daemon import Daemon
from monitor.sim import SimNetwork, TcpPort
from tests.conftest import require_tool
from tests.conftest_tools import REPO
from tests.daemon_helpers import INTERVAL, TIMEOUT, fast_config, running
from tests.e2e.alertmanager_helpers import alertmanager, alerts
from tests.prometheus_helpers import api, free_port, prometheus
from tests.test_alertmanager import CONFIG as ALERTMANAGER_CONFIG
from tests.test_alertmanager import SECRETS, config_for

pytestmark = pytest.mark.timeout(300)

RULES = sorted((REPO / "config" / "prometheus" / "rules").glob("*.yml"))
PAGES = ("PantauDataCenterDown", "PantauIspDown", "PantauLocalNetworkDown")
OFFICE = "grobogan"
SCRAPE = 1.0  # seconds; also the rule evaluation interval
FOR = 5.0  # the pages' `for` in the test copy of the rules
_AM = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())["route"]
_PAGE_ROUTE = next(r for r in _AM["routes"] if r["matchers"] == ['severity="page"'])
# The shipped values (10s and 5s): the proof depends on them, so they are not shortened.
GROUP_WAIT = float(_PAGE_ROUTE.get("group_wait", _AM["group_wait"]).removesuffix("s"))
GROUP_INTERVAL = float(_PAGE_ROUTE.get("group_interval", _AM["group_interval"]).removesuffix("s"))
KEEP_FIRING = 10.0  # the pages' keep_firing_for, shipped (checked in rules_for_test)
BACK_TO_BACK = 30.0  # issue 11: an outage that starts 30 s after the previous one resolved
DASHBOARD = "https://grafana.grobogan.example.go.id/d/pantau-link/pantau"
DOWN_AFTER, UP_AFTER = 3, 2
LOCAL_DOWN = 'office_role:pantau_targets_down:ratio{role="local"} > 0'
# Pantau's own confirmation: down_after (up_after) probes, the last one may run to its timeout.
CONFIRM_DOWN = DOWN_AFTER * INTERVAL + TIMEOUT
CONFIRM_UP = UP_AFTER * INTERVAL + TIMEOUT
# A fault pages within `for` + three evaluation steps (one to scrape the change, one for the
# rule evaluation to see it, one for `for` to end on an evaluation), after Pantau confirmed it
# and Alertmanager waited group_wait (a new group) or up to group_interval (an existing one).
# The last seconds cover delivery and a loaded machine. Measured: 17 s (budget 19.8 s).
PAGE_BUDGET = CONFIRM_DOWN + FOR + 3 * SCRAPE + max(GROUP_WAIT, GROUP_INTERVAL) + 1.0
# Resolved: Pantau confirms the return, Prometheus sees it, keeps firing keep_firing_for (so a
# short outage spans an Alertmanager flush), and the next flush sends it.
RESOLVE_BUDGET = CONFIRM_UP + 2 * SCRAPE + KEEP_FIRING + SCRAPE + GROUP_INTERVAL + 1.0
RESOLVED_WITHIN = 60.0  # issue 11: resolved within 60 s of the link returning


# --- the receivers: webhooks, Telegram's API and an SMTP sink --------------------------------


@dataclass
class Received:
    at: float  # time.monotonic()
    path: str
    raw: bytes

    @property
    def body(self) -> dict[str, Any]:
        return dict(json.loads(self.raw))


@dataclass
class Receivers:
    """What Alertmanager delivered, in order of arrival."""

    posts: list[Received] = field(default_factory=list)
    mails: list[bytes] = field(default_factory=list)

    def notifications(self, path: str, after: float = 0.0) -> list[Received]:
        """Posts to `path` (or below it) since `after`."""
        return [p for p in self.posts if p.path.startswith(path) and p.at >= after]

    def first(self, path: str, after: float, status: str, alertname: str) -> Received | None:
        """The first webhook notification since `after` with an alert of that name and status."""
        for post in self.notifications(path, after):
            if any(
                a["status"] == status and a["labels"]["alertname"] == alertname
                for a in post.body["alerts"]
            ):
                return post
        return None


RECEIVED = web.AppKey("received", Receivers)


class _SmtpSink:
    def __init__(self, mails: list[bytes]) -> None:
        self.mails = mails

    async def handle_DATA(self, server: SMTP, session: object, envelope: Any) -> str:
        self.mails.append(envelope.content)
        return "250 OK"


async def _record(request: web.Request) -> web.Response:
    received: Receivers = request.app[RECEIVED]
    received.posts.append(Received(time.monotonic(), request.path, await request.read()))
    if request.path.endswith("/sendMessage"):  # Telegram's Bot API answers with the message
        message = {"message_id": len(received.posts), "date": 0, "chat": {"id": 0}}
        return web.json_response({"ok": True, "result": message})
    return web.Response(text="ok")


@asynccontextmanager
async def receivers() -> AsyncIterator[tuple[Receivers, str, str]]:
    """Yields (what arrived, the HTTP base URL, the SMTP host:port), all on 127.0.0.1."""
    received = Receivers()
    app = web.Application()
    app[RECEIVED] = received
    app.router.add_post("/{tail:.*}", _record)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    loop = asyncio.get_running_loop()
    smtp = await loop.create_server(
        lambda: SMTP(_SmtpSink(received.mails), hostname="sink"), "127.0.0.1", 0
    )
    smtp_port = smtp.sockets[0].getsockname()[1]
    try:
        yield received, f"http://127.0.0.1:{port}", f"127.0.0.1:{smtp_port}"
    finally:
        smtp.close()
        await smtp.wait_closed()
        await runner.cleanup()


# --- the test copies of the shipped configs --------------------------------------------------


def rules_for_test(workdir: Path) -> list[str]:
    """The shipped rule files with the pages' `for` shortened to FOR; nothing else changes."""
    paths = []
    for source in RULES:
        data = yaml.safe_load(source.read_text())
        for group in data["groups"]:
            for rule in group["rules"]:
                if rule.get("alert") in PAGES:
                    assert rule["for"] == "30s", "the shipped `for` changed: update the docs"
                    assert rule["keep_firing_for"] == f"{KEEP_FIRING:g}s", "update KEEP_FIRING"
                    rule["for"] = f"{FOR:g}s"
                if rule.get("alert") == "PantauMonitorDown":
                    assert rule["for"] == "1m", "the shipped `for` changed: update the docs"
                    assert rule["keep_firing_for"] == f"{KEEP_FIRING:g}s", "update KEEP_FIRING"
                    rule["for"] = f"{FOR:g}s"
        path = workdir / source.name
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        paths.append(str(path))
    return paths


def alertmanager_for_test(workdir: Path, hooks: str, smtp: str) -> str:
    """The shipped alertmanager.yml (via config_for) with its sinks on 127.0.0.1; the timings,
    routes, receivers, templates and inhibitions are the shipped ones."""
    secrets = workdir / "secrets"
    secrets.mkdir()
    for name in SECRETS:
        (secrets / name).write_text("test-token\n")
    config = yaml.safe_load(config_for(secrets, workdir))

    # The SMTP sink speaks no STARTTLS (and advertises no AUTH, so none is attempted).
    config["global"]["smtp_smarthost"] = smtp
    config["global"]["smtp_require_tls"] = False
    paths = {"it-staff-page": "/page", "deadmans-switch": "/deadmans"}
    for receiver in config["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = hooks + paths[receiver["name"]]
    return yaml.safe_dump(config, sort_keys=False)


def prometheus_config(pantau_port: int, alertmanager_base: str, rules: list[str]) -> dict:
    return {
        "global": {
            "scrape_interval": f"{SCRAPE:g}s",
            "scrape_timeout": f"{SCRAPE * 900:.0f}ms",
            "evaluation_interval": f"{SCRAPE:g}s",
        },
        "rule_files": rules,
        "alerting": {
            "alertmanagers": [
                {"static_configs": [{"targets": [alertmanager_base.removeprefix("http://")]}]}
            ]
        },
        "scrape_configs": [
            {
                "job_name": "pantau",
                "static_configs": [
                    {"targets": [f"127.0.0.1:{pantau_port}"], "labels": {"office": OFFICE}}
                ],
            }
        ],
    }


@contextmanager
def _logs_on_failure(workdir: Path) -> Iterator[None]:
    """On a failed assertion, show the programs' logs: a silent pipeline is hard to debug."""
    try:
        yield
    except AssertionError as error:
        logs = "\n".join(
            f"--- {p.name} (tail)\n" + "\n".join(p.read_text().splitlines()[-40:])
            for p in sorted(workdir.glob("*/*.log"))
        )
        raise AssertionError(f"{error}\n{logs}") from None


async def _until(
    check: Callable[[], Any], timeout: float, what: str, *, blocking: bool = False
) -> Any:
    """Poll `check` until it returns something truthy, and return that; fail after `timeout` s.

    A `blocking` check (an HTTP call) runs in a thread, so the daemon keeps probing meanwhile.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(check) if blocking else check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.1 if blocking else 0.02)


@asynccontextmanager
async def _started(manager: Any) -> AsyncIterator[str]:
    """Enter a blocking context manager (a process start) off the event loop Pantau runs on."""
    value = await asyncio.to_thread(manager.__enter__)
    try:
        yield value
    finally:
        await asyncio.to_thread(manager.__exit__, None, None, None)


# --- the scenario ------------------------------------------------------------------------------


def _page_window(prom: str) -> list[str]:
    result = api(prom, "/api/v1/query", query="office:pantau_page_window")
    return [sample["value"][1] for sample in result["result"]]


def _page_alert(post: Received, alertname: str) -> dict[str, Any]:
    (alert,) = [a for a in post.body["alerts"] if a["labels"]["alertname"] == alertname]
    return alert


async def test_outage_pages_resolves_and_pages_once_per_root_cause(tmp_path: Path) -> None:
    require_tool("prometheus")
    require_tool("prometheus-alertmanager")
    (tmp_path / "prom").mkdir()
    (tmp_path / "am").mkdir()
    local = TcpPort("127.0.0.1")  # the office router, as the local hop Pantau watches
    await local.start()
    try:
        async with (
            receivers() as (received, hooks, smtp),
            SimNetwork(icmp=False) as net,
        ):
            data = fast_config(net)
            data["office"] = {"name": "Dispendukcapil Grobogan", "id": OFFICE}
            data["pages"] = {"dashboard_url": DASHBOARD}
            data["outage"] |= {"down_after": DOWN_AFTER, "up_after": UP_AFTER}
            data["targets"].insert(
                0, {"name": "office-router", "role": "local", "kind": "tcp",
                    "host": "127.0.0.1", "port": local.port},
            )  # fmt: skip
            am_config = alertmanager_for_test(tmp_path / "am", hooks, smtp)
            rules = rules_for_test(tmp_path / "prom")
            async with (
                running(data) as daemon,
                _started(alertmanager(tmp_path / "am", am_config)) as am,
                _started(
                    prometheus(
                        tmp_path / "prom",
                        prometheus_config(daemon.port, am, rules),
                        # Alerts evaluated before the notifier knows Alertmanager (discovery
                        # settles in ~5 s) are dropped until resent, 1 min later by default.
                        f"--rules.alert.resend-delay={SCRAPE:g}s",
                    )
                ) as prom,
            ):
                with _logs_on_failure(tmp_path):
                    await _scenario(received, net, local, am, prom, daemon)
    finally:
        await local.stop()


async def test_a_dead_daemon_pages_during_service_hours_and_resolves_when_back(
    tmp_path: Path,
) -> None:
    """The daemon stops: Prometheus no longer hears whether the office is open, so it uses the
    service windows the daemon last exported (carried forward by the rules) and pages; the
    daemon starts again: resolved."""
    require_tool("prometheus")
    require_tool("prometheus-alertmanager")
    (tmp_path / "prom").mkdir()
    (tmp_path / "am").mkdir()
    async with receivers() as (received, hooks, smtp), SimNetwork(icmp=False) as net:
        data = fast_config(net)
        data["office"] = {"name": "Dispendukcapil Grobogan", "id": OFFICE}
        data["listen"] = f"127.0.0.1:{free_port()}"  # the same address after the restart
        am_config = alertmanager_for_test(tmp_path / "am", hooks, smtp)
        rules = rules_for_test(tmp_path / "prom")
        daemon = Daemon(parse_config(data))
        await daemon.start()
        try:
            assert daemon.port is not None
            async with (
                _started(alertmanager(tmp_path / "am", am_config)) as am,
                _started(
                    prometheus(
                        tmp_path / "prom",
                        prometheus_config(daemon.port, am, rules),
                        f"--rules.alert.resend-delay={SCRAPE:g}s",
                    )
                ) as prom,
            ):
                with _logs_on_failure(tmp_path):
                    await _until(lambda: received.notifications("/deadmans"), 20, "the watchdog")
                    schedule = "office:pantau_service_open:schedule"
                    await _until(
                        lambda: api(prom, "/api/v1/query", query=schedule)["result"],
                        20, "the service windows to be recorded", blocking=True,
                    )  # fmt: skip
                    stopped = time.monotonic()
                    await daemon.stop()
                    page = await _until(
                        lambda: received.first("/page", stopped, "firing", "PantauMonitorDown"),
                        FOR + 3 * SCRAPE + GROUP_WAIT + 20, "the monitor-down page",
                    )  # fmt: skip
                    alert = _page_alert(page, "PantauMonitorDown")
                    assert alert["labels"]["severity"] == "page"
                    assert alert["annotations"]["summary"].startswith(
                        "Dispendukcapil Grobogan: Pantau (grobogan) tidak menjawab"
                    ), alert["annotations"]
                    # Its series went stale at the first failed scrape: windows carried forward.
                    result = api(prom, "/api/v1/query", query=schedule)["result"]
                    assert [s["value"][1] for s in result] == ["1"], result
                    restarted = time.monotonic()
                    daemon = Daemon(parse_config(data))
                    await daemon.start()
                    await _until(
                        lambda: received.first("/page", restarted, "resolved", "PantauMonitorDown"),
                        RESOLVE_BUDGET + 10, "the monitor-down page to resolve",
                    )  # fmt: skip
                    print(f"\nmonitor-down page {page.at - stopped:.1f}s after the daemon stopped")
        finally:
            await daemon.stop()


def _count(received: Receivers, after: float, until: float, status: str) -> int:
    """Page notifications of PantauDataCenterDown with `status` that arrived in [after, until)."""
    return sum(
        1
        for post in received.notifications("/page", after)
        if post.at < until
        for a in post.body["alerts"]
        if a["status"] == status and a["labels"]["alertname"] == "PantauDataCenterDown"
    )


def _prometheus_firing(prom: str, alertname: str) -> bool:
    alerts = api(prom, "/api/v1/alerts")["alerts"]
    return any(a["labels"]["alertname"] == alertname and a["state"] == "firing" for a in alerts)


async def _outage(
    received: Receivers, net: SimNetwork, prom: str, *, short: bool
) -> tuple[Received, Received, float, float]:
    """One data-center outage: (page, resolved, seconds to the page, seconds to resolved).

    A `short` one ends as soon as Prometheus fires the alert: it outlives `for` by no more
    than Pantau's confirmation of the return, the case Alertmanager used to drop.
    """
    fault = time.monotonic()
    await net.set_mode("datacenter", "down")
    if short:
        await _until(
            lambda: _prometheus_firing(prom, "PantauDataCenterDown"),
            PAGE_BUDGET + 10, "Prometheus to fire PantauDataCenterDown", blocking=True,
        )  # fmt: skip
        repair = time.monotonic()
        await net.set_mode("datacenter", "ok")
    page = await _until(
        lambda: received.first("/page", fault, "firing", "PantauDataCenterDown"),
        PAGE_BUDGET + 10, "the data-center page",
    )  # fmt: skip
    if not short:
        repair = time.monotonic()
        await net.set_mode("datacenter", "ok")
    resolved = await _until(
        lambda: received.first("/page", repair, "resolved", "PantauDataCenterDown"),
        RESOLVED_WITHIN + 5, "the resolved notification",
    )  # fmt: skip
    # Nothing more for this outage: give a duplicate every chance to arrive before counting.
    await asyncio.sleep(GROUP_INTERVAL + 2 * SCRAPE)
    assert _count(received, fault, time.monotonic(), "firing") == 1
    assert _count(received, fault, time.monotonic(), "resolved") == 1
    return page, resolved, page.at - fault, resolved.at - repair


async def _scenario(
    received: Receivers, net: SimNetwork, local: TcpPort, am: str, prom: str, daemon: Daemon
) -> None:
    # The pipeline works end to end before any fault: the watchdog reaches its webhook.
    await _until(lambda: received.notifications("/deadmans"), 20, "the watchdog notification")
    # The office is open (service hours all day), so outages page rather than warn.
    await _until(
        lambda: _page_window(prom) == ["1"], 20, "office:pantau_page_window to be 1", blocking=True
    )
    assert not received.notifications("/page"), "no page while the link is up"

    # 1. The data center stops answering: one page, by webhook and e-mail; it answers again:
    # one resolved notification, within 60 s.
    page, resolved, page_latency, resolve_latency = await _outage(received, net, prom, short=False)
    alert = _page_alert(page, "PantauDataCenterDown")
    assert alert["labels"] == {
        "alertname": "PantauDataCenterDown", "office": OFFICE, "severity": "page",
    }  # fmt: skip
    assert FOR <= page_latency <= PAGE_BUDGET, f"page after {page_latency:.1f}s"
    assert resolve_latency <= RESOLVED_WITHIN, f"resolved after {resolve_latency:.1f}s"
    _check_words(alert["annotations"], daemon)
    # The e-mail, from config/alertmanager/pantau.tmpl: its subject is the page's summary.
    subject = f"Subject: [GANGGUAN] {alert['annotations']['summary']}".encode()
    await _until(
        lambda: any(subject in m.replace(b"\r\n ", b" ") for m in received.mails),
        5, "the page by e-mail",
    )  # fmt: skip

    # 2. Back to back: a short outage starts 30 s after the previous one resolved. With the
    # old group_interval (5m) Alertmanager sent neither its page nor its resolved.
    await asyncio.sleep(max(0.0, resolved.at + BACK_TO_BACK - time.monotonic()))
    _, _, second_page, second_resolve = await _outage(received, net, prom, short=True)
    assert second_resolve <= RESOLVED_WITHIN, f"resolved after {second_resolve:.1f}s"

    # 3. The office router dies, then the data center is unreachable too: Pantau blames the
    # LAN, and both PantauLocalNetworkDown and PantauDataCenterDown fire. The inhibition lets
    # only the local page through.
    # Alertmanager can only inhibit with a source alert it already holds. Alerts that turn
    # firing in the same evaluation reach it in separate POSTs, a few ms apart, and a target
    # whose group already exists is flushed on its next group_interval tick; so, as when a
    # router dies first, the data center fails only after Prometheus has recorded the local
    # target down.
    power_cut = time.monotonic()
    await local.set_mode("down")
    await _until(
        lambda: api(prom, "/api/v1/query", query=LOCAL_DOWN)["result"],
        10, "Prometheus to record the local target down", blocking=True,
    )  # fmt: skip
    await _until(
        lambda: _prometheus_firing(prom, "PantauLocalNetworkDown"),
        PAGE_BUDGET + 10, "Prometheus to fire PantauLocalNetworkDown", blocking=True,
    )  # fmt: skip
    await net.set_mode("datacenter", "down")
    local_page = await _until(
        lambda: received.first("/page", power_cut, "firing", "PantauLocalNetworkDown"),
        PAGE_BUDGET + 10, "the local-network page",
    )  # fmt: skip
    assert _page_alert(local_page, "PantauLocalNetworkDown")["labels"]["severity"] == "page"
    # The data-center alert did fire in Prometheus and reach Alertmanager, which suppressed it.
    inhibited = await _until(
        lambda: [a for a in alerts(am, alertname="PantauDataCenterDown", office=OFFICE)
                 if a["status"]["inhibitedBy"] and a["status"]["state"] == "suppressed"],
        PAGE_BUDGET + 10, "Alertmanager to hold the inhibited data-center alert", blocking=True,
    )  # fmt: skip
    assert inhibited
    # Give a data-center page every chance to slip through before concluding it did not.
    await asyncio.sleep(GROUP_INTERVAL + 2 * SCRAPE + 1)
    after_cut = [
        a["labels"]["alertname"]
        for post in received.notifications("/page", power_cut)
        for a in post.body["alerts"]
        if a["status"] == "firing"
    ]
    assert set(after_cut) == {"PantauLocalNetworkDown"}, after_cut

    print(
        f"\npage {page_latency:.1f}s after the fault (budget {PAGE_BUDGET:.1f}s), "
        f"resolved {resolve_latency:.1f}s after the repair (budget {RESOLVE_BUDGET:.1f}s); "
        f"back to back: page {second_page:.1f}s, resolved {second_resolve:.1f}s; "
        f"local page {local_page.at - power_cut:.1f}s after the power cut"
    )


def _check_words(annotations: dict[str, str], daemon: Daemon) -> None:
    """The page says what IT staff need, in Bahasa Indonesia, from the same facts as the
    ledger: the outage's back-dated start, in the office's zone, to the second."""
    assert daemon.ledger is not None
    (outage,) = [e for e in daemon.ledger.episodes(0, time.time() + 1)
                 if e.kind == "outage"]  # fmt: skip
    start = datetime.fromtimestamp(outage.started_at, ZoneInfo("Asia/Jakarta"))
    stamp = start.strftime("%d-%m-%Y %H:%M:%S") + " WIB"
    assert annotations["language"] == "id"
    assert annotations["summary"] == (
        f"Dispendukcapil Grobogan: layanan e-KTP terputus, koneksi ke pusat data gagal sejak "
        f"{stamp}; gangguan di pusat data Kemendagri (Dukcapil)."
    ), annotations["summary"]
    assert "Titik pertama yang gagal: dc-" in annotations["description"], annotations
    assert "Sudah terputus " in annotations["description"], annotations
    assert annotations["ticket"].startswith(
        f"Kepada Helpdesk Ditjen Dukcapil Kemendagri: sejak {stamp} Dispendukcapil Grobogan"
    ), annotations["ticket"]
    assert annotations["dashboard"] == f"{DASHBOARD}?var-office={OFFICE}"
