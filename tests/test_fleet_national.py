"""The national rules on the real engines: 514 offices' series stored in VictoriaMetrics, the
shipped rules evaluated by vmalert (replay, so no test waits for the wall clock).

- a central outage raises PantauNationalDataCenterDown within 2 minutes of onset, with the
  share of offices the scenario says (stale offices and local faults left out);
- one ISP's regional fault raises PantauRegionalIspDown for that ISP, and not the central alert;
- 1,000 randomized single-office and single-ISP failures (with noise: other offices' own faults,
  offices going stale) never satisfy the central alert's condition, while a planted central
  outage in the same run does.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pytest
import yaml

from monitor.fleet.exporter import history
from monitor.fleet.offices import ISPS, Office, build_offices
from monitor.fleet.scenario import Fault, view
from monitor.fleet.stack import RULES, Central, replay
from tests.conftest_tools import require_tool

pytestmark = pytest.mark.fleet

EPOCH = datetime(2026, 11, 2, 1, 0, tzinfo=UTC).timestamp()  # a Monday, long before "now"
OFFICES = build_offices()
IDS = [o.id for o in OFFICES]
STALE = frozenset(IDS[0:30])  # go stale at 3 min: left out of every count afterwards
LOCAL = frozenset(IDS[30:40])  # their own LAN is down all along: they do not vote
FLAPPING = frozenset(IDS[40:45])  # their ISP link flaps every minute
# Window A: the data center fails at 5 min for 7 min, seen by 60 % of offices.
CENTRAL = Fault("central", 300, 720, share=0.6)
WINDOW_A = [
    Fault("stale", 180, 900, offices=STALE),
    Fault("local", 0, 900, offices=LOCAL),
    Fault("flap", 0, 900, offices=FLAPPING, period=60),
    CENTRAL,
]
# Window B (from 20 min, its own 15 minutes): icon-plus fails regionally at 5 min for 7 min.
B0 = 1200.0
REGIONAL = Fault("isp", 300, 720, isp="icon-plus", share=0.9)
WINDOW_B = [Fault("local", 0, 900, offices=LOCAL), REGIONAL]
# Window C (from 40 min): 1,000 randomized scenarios of 60 s each, then one planted central one.
C0 = 2400.0
SCENARIOS = 1000
BLOCK = 60.0


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(EPOCH + seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def randomized(rng: random.Random) -> list[list[Fault]]:
    """One fault list per block: a single office's or a single ISP's failure, plus noise."""
    blocks = []
    for _ in range(SCENARIOS):
        faults: list[Fault] = []
        if rng.random() < 0.5:
            office = rng.choice(IDS)
            kind = rng.choice(["local", "isp", "central"])
            faults.append(
                Fault("local", -1000, 1000, offices=frozenset([office]), blame=_blame(kind))
            )
        else:
            isp = rng.choice(list(ISPS))
            blame = rng.choice(["isp", "datacenter"])  # the ISP's VPN path to the center fails
            faults.append(
                Fault("isp", -1000, 1000, isp=isp, share=rng.uniform(0.5, 1.0), blame=blame)
            )
        # Noise: a few other offices with their own trouble, a few offices gone quiet.
        for _ in range(rng.randint(0, 6)):
            faults.append(
                Fault(
                    "local",
                    -1000,
                    1000,
                    offices=frozenset([rng.choice(IDS)]),
                    blame=_blame(rng.choice(["local", "isp", "central"])),
                )
            )
        faults.append(
            Fault("stale", -1000, 1000, offices=frozenset(rng.sample(IDS, rng.randint(0, 10))))
        )
        blocks.append(faults)
    blocks.append([Fault("central", -1000, 1000, share=0.6)])  # planted: must be caught
    return blocks


def _blame(kind: str) -> str:
    return {"local": "local", "isp": "isp", "central": "datacenter"}[kind]


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Central]:
    require_tool("victoria-metrics", "apt-get install -y victoria-metrics")
    require_tool("vmalert", "apt-get install -y victoria-metrics")
    workdir = tmp_path_factory.mktemp("fleet-national")
    central = Central(workdir).start()
    try:
        times_a = [15.0 * i for i in range(61)]
        central.import_series(history(OFFICES, times_a, lambda t: (WINDOW_A, t), EPOCH))
        central.import_series(history(OFFICES, times_a, lambda t: (WINDOW_B, t), EPOCH + B0))
        replay(central, workdir, _iso(0), _iso(B0 + 900))

        blocks = randomized(random.Random(1015))
        times_c = [C0 + BLOCK * i for i in range(len(blocks))]
        central.import_series(
            history(OFFICES, times_c, lambda t: (blocks[int((t - C0) // BLOCK)], 0.0), EPOCH)
        )
        replay(central, workdir, _iso(C0), _iso(times_c[-1]), interval=f"{BLOCK:.0f}s")
        yield central
    finally:
        central.stop()


def _firing(
    center: Central, alert: str, start: float, end: float
) -> list[tuple[dict, float, float]]:
    """(labels, first firing, last firing) per firing alert, in seconds from EPOCH."""
    expr = f'ALERTS{{alertname="{alert}",alertstate="firing"}}'
    out = []
    for series in center.query_range(expr, EPOCH + start, EPOCH + end, 15):
        labels = {k: v for k, v in series["metric"].items() if k not in ("__name__", "alertstate")}
        times = [float(t) - EPOCH for t, _ in series["values"]]
        out.append((labels, times[0], times[-1]))
    return out


def _expected_share(
    faults: Sequence[Fault], t: float, offices: Sequence[Office] = OFFICES
) -> float:
    views = [view(o, faults, t) for o in offices]
    voters = [v for v in views if v.reporting and v.domain != "local"]
    return sum(v.domain == "datacenter" for v in voters) / len(voters)


def test_central_outage_raises_the_national_alert_within_two_minutes(center: Central) -> None:
    alerts = _firing(center, "PantauNationalDataCenterDown", 0, 900)
    assert len(alerts) == 1, alerts
    first = alerts[0][1]
    assert CENTRAL.start < first <= CENTRAL.start + 120, first
    # The share the alert carries is the scenario's: offices that see the center down among
    # those that vote (the 30 stale offices and 10 with a dead LAN are not in it).
    share = center.query("fleet:pantau_datacenter_down:ratio", EPOCH + first)
    assert float(share[0]["value"][1]) == pytest.approx(_expected_share(WINDOW_A, first), abs=1e-9)
    voters = center.query("fleet:pantau_voters:count", EPOCH + first)
    assert float(voters[0]["value"][1]) == len(OFFICES) - len(STALE) - len(LOCAL)
    stale = center.query("fleet:pantau_offices_stale:count", EPOCH + first)
    assert float(stale[0]["value"][1]) == len(STALE)


def test_central_alert_resolves_after_the_outage(center: Central) -> None:
    ((_, _, last),) = _firing(center, "PantauNationalDataCenterDown", 0, 900)
    assert CENTRAL.end <= last < CENTRAL.end + 120


def test_regional_isp_fault_raises_the_isp_alert_not_the_central_one(center: Central) -> None:
    isp = _firing(center, "PantauRegionalIspDown", B0, B0 + 900)
    assert [labels["isp"] for labels, _, _ in isp] == ["icon-plus"]
    first = isp[0][1] - B0
    assert REGIONAL.start < first <= REGIONAL.start + 120
    assert _firing(center, "PantauNationalDataCenterDown", B0, B0 + 900) == []


def test_no_regional_alert_during_the_central_outage(center: Central) -> None:
    assert _firing(center, "PantauRegionalIspDown", 0, 900) == []


def test_randomized_single_office_and_isp_failures_never_look_central(center: Central) -> None:
    groups = yaml.safe_load((RULES / "national.yml").read_text())["groups"]
    rule = next(
        r for g in groups for r in g["rules"] if r.get("alert") == "PantauNationalDataCenterDown"
    )
    end = C0 + BLOCK * SCENARIOS
    result = center.query_range(rule["expr"], EPOCH + C0, EPOCH + end, BLOCK)
    hits = [float(t) - EPOCH for s in result for t, _ in s["values"]]
    # Only the planted central outage (the block after the 1,000) satisfies the condition.
    assert hits == [end], hits[:10]


def test_the_randomized_run_really_had_isp_wide_data_center_blame(center: Central) -> None:
    # Guard against a generator that never produced the dangerous case: one whole ISP blaming
    # the data center (telkom alone is ~half the fleet, above the 30 % share).
    shares = center.query_range(
        "fleet:pantau_datacenter_down:ratio",
        EPOCH + C0,
        EPOCH + C0 + BLOCK * (SCENARIOS - 1),
        BLOCK,
    )
    assert max(float(v) for _, v in shares[0]["values"]) >= 0.3
