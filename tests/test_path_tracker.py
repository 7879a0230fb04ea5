"""The tracker keeps the trace with the outage, and a path that dies inside the ISP turns the
first guess (`datacenter`) into `isp` in place: the outage never shows a `datacenter` stretch."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry

from monitor.calendar import ServiceCalendar
from monitor.config import parse_config
from monitor.ledger import Ledger
from monitor.metrics import Metrics
from monitor.path.analysis import Owner, judge_path
from monitor.path.config import PathOwner
from monitor.path.trace import Hop, Trace
from monitor.path.watch import annotated
from monitor.tracker import LinkTracker
from tests.factories import result

ALL_DAY = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
OWNERS = [Owner.of(PathOwner(prefix="10.20.0.0/16", name="Telkom VPN IP", role="isp"))]
DEST = "10.30.0.9"
T0 = 1_796_000_000.0


def tracker(tmp_path: Path) -> LinkTracker:
    config = parse_config({
        "office": {"name": "Grobogan"},
        "storage": {"path": str(tmp_path / "p.db")},
        "outage": {"down_after": 1, "up_after": 1},
        "service_hours": {"weekly": ALL_DAY, "holidays": None},
        "targets": [
            {"name": "anchor", "role": "internet", "kind": "tcp", "host": "10.9.0.1", "port": 443},
            {"name": "dc", "role": "datacenter", "kind": "tcp", "host": DEST, "port": 443},
        ],
    })  # fmt: skip
    calendar = ServiceCalendar(config.service_hours, config.office.zone)
    ledger = Ledger(config.storage.path, "grobogan")
    return LinkTracker(config, calendar, ledger, Metrics(CollectorRegistry()))


def test_path_dying_in_the_isp_replaces_the_first_guess(tmp_path: Path) -> None:
    t = tracker(tmp_path)
    t.observe(result("anchor", T0, role="internet"))
    t.observe(result("dc", T0))
    t.observe(result("dc", T0 + 15, ok=False))
    assert (t.verdict.domain, t.verdict.confirmed) == ("datacenter", False)  # no trace yet
    assert t.episode is not None and t.episode.evidence["path"]["confirmed"] is False
    healthy = (Hop(1, "10.20.0.1", 3, 3), Hop(2, "10.20.3.1", 3, 3), Hop(3, DEST, 3, 3))
    baseline = Trace("dc", DEST, "tcp", 443, T0, healthy)
    now = Trace("dc", DEST, "tcp", 443, T0 + 17, (Hop(1, "10.20.0.1", 3, 3), Hop(2, None, 3, 0)))
    finding = judge_path(now, baseline, OWNERS)
    evidence = {**finding.as_dict(), "trace": annotated(now, OWNERS), "baseline": None}
    # The trace finishes 40 s after the back-dated start: more than one probe interval.
    t.on_path("dc", finding, evidence, T0 + 55)
    assert (t.verdict.domain, t.verdict.confirmed, t.verdict.cause) == (
        "isp", True, "ends_before_handoff",
    )  # fmt: skip
    episode = t.episode
    assert episode is not None and episode.domains == [(T0 + 15, "isp")]
    path = episode.evidence["path"]
    assert path["confirmed"] is True and path["cause"] == "ends_before_handoff"
    stored = path["targets"]["dc"]
    assert stored["last_hop"] == {"ttl": 1, "address": "10.20.0.1"}
    assert stored["trace"]["hops"][0]["owner"] == {"name": "Telkom VPN IP", "role": "isp"}
    # The ledger has it (written when the finding arrived, not only at the next flush).
    (saved,) = t.ledger.open_episodes()
    assert saved.domains == [(T0 + 15, "isp")] and saved.evidence["path"]["confirmed"] is True
    # A new transition of the target drops its finding: the next verdict waits for a new trace.
    t.observe(result("dc", T0 + 60))
    t.observe(result("dc", T0 + 75, ok=False))
    assert (t.verdict.domain, t.verdict.confirmed) == ("datacenter", False)
    t.ledger.close()
