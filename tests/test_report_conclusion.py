"""The conclusion and the tickets' "fine" claims, table-driven: never "normal" for a hop the
incident table lists, whatever the seconds say."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from monitor.report.conclusion import Conclusion, conclude, normal_hops
from monitor.report.render import render_text
from tests.test_report_model import report_of

MIN = 60.0


@dataclass(frozen=True)
class Day:
    lost_by_domain: dict[str, float] = field(default_factory=dict)
    slow_by_domain: dict[str, float] = field(default_factory=dict)
    scheduled_seconds: float = 7 * 3600.0
    unmonitored_seconds: float = 0.0
    mostly_unmonitored: bool = False


@dataclass(frozen=True)
class Inc:
    kind: str
    domains: tuple[str, ...]


CASES = [
    # (day, incidents, expected conclusion)
    pytest.param(Day(), [], Conclusion("normal", None, (), (), False), id="quiet day"),
    pytest.param(
        Day({"datacenter": 30 * MIN}),
        [Inc("outage", ("datacenter",))],
        Conclusion("outage", "datacenter", (), ("local", "isp"), False),
        id="data center only: LAN and ISP fine",
    ),
    pytest.param(
        Day({"datacenter": 30 * MIN, "isp": 18.0}),
        [Inc("outage", ("datacenter",)), Inc("outage", ("isp",))],
        Conclusion("outage", "datacenter", (("outage", "isp"),), ("local",), False),
        id="an 18 s ISP outage beside a longer one: ISP never called fine",
    ),
    pytest.param(
        Day({"datacenter": 30 * MIN}),
        [Inc("outage", ("datacenter",)), Inc("outage", ("isp",))],
        Conclusion("outage", "datacenter", (("outage", "isp"),), ("local",), False),
        id="ISP outage outside service hours still in the table",
    ),
    pytest.param(
        Day({"isp": 10 * MIN}, {"datacenter": 5 * MIN}),
        [Inc("outage", ("isp",)), Inc("slow", ("datacenter",))],
        Conclusion("outage", "isp", (("slow", "datacenter"),), ("local",), False),
        id="outage and slow",
    ),
    pytest.param(
        Day({"local": 10 * MIN}),
        [Inc("outage", ("local",))],
        Conclusion("outage", "local", (), (), False),
        id="LAN: nothing before it",
    ),
    pytest.param(
        Day({}, {"datacenter": 10 * MIN}),
        [Inc("slow", ("datacenter", "isp"))],
        Conclusion("slow", "datacenter", (("slow", "isp"),), ("local",), False),
        id="slow whose domain changed",
    ),
    pytest.param(
        Day(unmonitored_seconds=6 * 3600.0, mostly_unmonitored=True),
        [],
        Conclusion("unmonitored", None, (), (), True),
        id="mostly unmonitored: no finding",
    ),
    pytest.param(
        Day(unmonitored_seconds=3600.0),
        [],
        Conclusion("normal", None, (), (), True),
        id="partly unmonitored: normal for the rest, said so",
    ),
    pytest.param(
        Day(scheduled_seconds=0.0),
        [Inc("outage", ("isp",))],
        Conclusion("closed", None, (("outage", "isp"),), (), False),
        id="closed day with an outage",
    ),
]


@pytest.mark.parametrize(("day", "incidents", "expected"), CASES)
def test_conclusion(day: Day, incidents: list[Inc], expected: Conclusion) -> None:
    assert conclude(day, incidents) == expected


@pytest.mark.parametrize(
    ("domain", "incidents", "fine"),
    [
        ("datacenter", [], ("local", "isp")),
        ("datacenter", [Inc("outage", ("isp",))], ("local",)),
        ("datacenter", [Inc("slow", ("local",)), Inc("outage", ("isp",))], ()),
        ("isp", [Inc("outage", ("isp",))], ("local",)),
        ("isp", [Inc("outage", ("local", "isp"))], ()),
    ],
)
def test_ticket_calls_fine_only_what_the_table_does_not_list(
    domain: str, incidents: list[Inc], fine: tuple[str, ...]
) -> None:
    assert normal_hops(domain, incidents) == fine


def test_rendered_conclusion_and_ticket_agree_with_the_table(tmp_path: Path) -> None:
    # The hand-made Friday: ISP and data-center outages, so neither may be called fine.
    r = report_of(tmp_path)
    text = render_text(r, "id")
    conclusion = next(line for line in text.splitlines() if line.startswith("Kesimpulan:"))
    assert "ISP normal" not in text and "jaringan ISP normal" not in text
    assert "Normal: jaringan lokal kantor." in conclusion
    assert "Juga tercatat: pusat data putus dan pusat data lambat." in conclusion
    assert "Pada hari itu jaringan lokal kantor tidak mengalami gangguan." in text
    assert "jaringan lokal dan ISP normal" not in text
