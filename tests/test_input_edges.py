"""Hostile input at the edges (issue 12): dates the calendar cannot handle, formula cells in CSV,
YAML that used to crash the loader, and intervals that used to cost memory per second."""

from __future__ import annotations

import asyncio
import csv
import io
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path

import aiohttp
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor import schedule
from monitor.cli import main
from monitor.config import ConfigError, load_config, parse_config
from monitor.csv_safe import csv_safe, csv_safe_row
from monitor.ledger import Ledger
from monitor.outages import render
from monitor.sim import SimNetwork
from tests.daemon_helpers import fast_config, running

pytestmark = pytest.mark.timeout(60)
FIXTURES = Path(__file__).parent / "fixtures" / "config"
BAD = sorted((FIXTURES / "bad").glob("*.yaml"))
FORMULA = "=cmd|' /C calc'!A0"


def write_config(tmp_path: Path, **extra: object) -> Path:
    data: dict[str, object] = {
        "office": {"name": "Kantor Uji"},
        "storage": {"path": str(tmp_path / "pantau.db")},
        "targets": [{"name": "dc", "role": "datacenter", "kind": "tcp", "host": "127.0.0.1",
                     "port": 1}],
    }  # fmt: skip
    data.update(extra)
    path = tmp_path / "pantau.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


# --- every config mistake: one line, exit 1 ---------------------------------------------------
@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_check_refuses_every_bad_fixture_one_line_per_problem(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "-c", str(path)]) == 1
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines and all(line.startswith(f"{path}: ") for line in lines), err  # one per problem
    assert "Traceback" not in err


def test_run_refuses_the_huge_interval_before_allocating_anything() -> None:
    """`interval: 100000000000h` once passed, and `pantau run` grew to 24 GB; now a real
    `pantau run` process stops at the config with one line and exit 1."""
    path = FIXTURES / "bad" / "interval-too-long.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "run", "-c", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert (
        done.stderr == f"{path}: targets[0].interval: must be at most 744h; got '100000000000h'\n"
    )


def test_a_merge_key_may_override_what_it_merges(tmp_path: Path) -> None:
    """Duplicate keys are refused, but `<<: *base` then a key of one's own is not a duplicate."""
    path = tmp_path / "pantau.yaml"
    path.write_text(
        "office: {name: X}\n"
        "base: &base {role: datacenter, kind: tcp, host: 127.0.0.1, port: 443}\n"
        "targets:\n  - {<<: *base, name: a, port: 1194}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems == ["base: unknown key; remove it or check its spelling"]


def test_a_one_ms_interval_and_a_huge_one_are_refused() -> None:
    target = {"name": "t", "role": "isp", "kind": "tcp", "host": "127.0.0.1", "port": 1}
    for interval, message in (("1ms", "between 100ms and 24h"), ("1000000h", "at most 744h")):
        with pytest.raises(ConfigError, match=message):
            parse_config({"office": {"name": "X"}, "defaults": {"interval": interval},
                          "targets": [target]})  # fmt: skip


@pytest.mark.parametrize(
    ("field", "count", "message"),
    [
        ("targets", 10_001, "targets: List should have at most 10000 items"),
        ("headers", 51, "targets[0].headers: Dictionary should have at most 50 items"),
        ("expect", 101, "targets[0].expect: List should have at most 100 items"),
    ],
)
def test_counts_have_bounds(field: str, count: int, message: str) -> None:
    dns = {"name": "t", "role": "isp", "kind": "dns", "server": "127.0.0.1", "query": "a.id"}
    http = {"name": "t", "role": "isp", "kind": "http", "url": "http://127.0.0.1/"}
    if field == "targets":
        targets = [{**dns, "name": f"t{i}"} for i in range(count)]
    elif field == "headers":
        targets = [{**http, "headers": {f"X-H{i}": "v" for i in range(count)}}]
    else:
        targets = [{**dns, "expect": [f"10.0.0.{i % 250}" for i in range(count)]}]
    with pytest.raises(ConfigError) as info:
        parse_config({"office": {"name": "X"}, "targets": targets})
    assert any(p.startswith(message) for p in info.value.problems), info.value.problems


# --- nothing allocates in proportion to an interval ------------------------------------------
def test_a_long_interval_costs_no_memory_per_second_of_it() -> None:
    """`interval: 1000h` built 3.6 million slot lists (320 MB) before the first probe."""
    tracemalloc.start()
    try:
        length, count, members = schedule.slots(1000 * 3600.0, [0.0, 1800.0, 3_599_999.0])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 3_600_000 and length == 1.0
    assert members == {0: [0], 1800: [1], 3_599_999: [2]}
    assert peak < 64 * 1024, peak


async def test_a_day_long_interval_still_fires_its_targets_at_once() -> None:
    targets = [
        {"name": f"t{i}", "role": "isp", "kind": "tcp", "host": "127.0.0.1", "port": 1}
        for i in range(3)
    ]
    config = parse_config(
        {"office": {"name": "X"}, "defaults": {"interval": "24h", "timeout": "1s"},
         "targets": targets}
    )  # fmt: skip
    from prometheus_client import CollectorRegistry

    from monitor.clock import Clock
    from monitor.metrics import Metrics
    from monitor.probes.context import ProbeContext

    fired: list[str] = []
    sched = schedule.ProbeScheduler(
        config, ProbeContext(), Clock(), Metrics(CollectorRegistry()), lambda r: None
    )
    sched._fire = lambda group, member, planned: fired.append(group.targets[member].name)  # type: ignore[method-assign]
    sched.start()
    try:
        for _ in range(500):  # bounded: at most ~10 s on a loaded machine
            if fired:
                break
            await asyncio.sleep(0.02)
    finally:
        sched.shutdown()
        await asyncio.sleep(0)
    assert fired == ["t0"]  # the first target at once; the others 8 h and 16 h later


# --- dates the calendar cannot handle: one line, exit 1; the API answers 400 ----------------
@pytest.mark.parametrize(
    "args",
    [
        ["outages", "--from", "9999-12-31"],
        ["outages", "--from", "2026-12-01", "--to", "9999-12-31"],
        ["calendar", "--from", "0001-01-01"],
        ["report", "daily", "--date", "9999-12-31"],
        ["report", "range", "--from", "2026-12-01", "--to", "9999-12-31"],
        ["outages", "--from", "2026-02-30"],
    ],
)
def test_a_date_the_calendar_cannot_handle_is_one_line(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path)
    assert main([*args, "-c", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "between 2000-01-01 and 2199-12-31" in err, err
    assert err.startswith(f"pantau: {args[-2]}: must be a date as YYYY-MM-DD")


@pytest.mark.parametrize(
    "args",
    [["probe", "tcp://127.0.0.1:1", "--timeout", "100000000000h"], ["demo", "--duration", "10"]],
)
def test_a_bad_duration_option_is_one_line(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"pantau: {args[-2]}: "), err


def test_python_m_monitor_cli_reports_a_report_date_in_one_line(tmp_path: Path) -> None:
    """Run as __main__, monitor.cli and monitor.report.cli once had two UsageError classes."""
    path = write_config(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "report", "daily", "--date", "9999-12-31",
         "-c", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "--date: must be a date" in done.stderr


async def test_the_api_answers_400_for_a_date_it_cannot_handle() -> None:
    async with SimNetwork(icmp=False) as net, running(fast_config(net)) as daemon:
        base = f"http://127.0.0.1:{daemon.port}/api/outages"
        async with aiohttp.ClientSession() as http:
            for query in ({"from": "9999-12-31"}, {"from": "2026-12-01", "to": "9999-12-31"}):
                async with http.get(base, params=query) as r:
                    assert r.status == 400
                    error = (await r.json())["error"]
                    assert "between 2000-01-01 and 2199-12-31" in error
            async with http.get(base, params={"from": "2199-12-31"}) as r:
                assert r.status == 200  # the last day it takes still works


# --- CSV cells a spreadsheet would run -------------------------------------------------------
@pytest.mark.parametrize("cell", [FORMULA, "+1+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "=1"])
def test_a_cell_that_could_start_a_formula_is_neutralized(cell: str) -> None:
    assert csv_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["-3", "+1.5", "2026-12-01", "dc[datacenter]: timeout x3", "", 7])
def test_plain_cells_are_left_alone(cell: object) -> None:
    assert csv_safe(cell) == cell
    assert csv_safe_row([cell]) == [cell]


def test_outages_csv_neutralizes_every_cell() -> None:
    gap = {"start_local": "2026-12-01T08:00:00+07:00", "end_local": "2026-12-01T09:00:00+07:00",
           "duration_seconds": 3600.0, "reason": FORMULA}  # fmt: skip
    data = {"office": {"name": "X"}, "timezone": "Asia/Jakarta", "from": "", "to": "",
            "outages": [], "unmonitored": [gap]}  # fmt: skip
    (row,) = csv.DictReader(io.StringIO(render(data, "csv")))
    assert row["evidence"] == "'" + FORMULA
    assert row["duration_seconds"] == "3600"


def test_report_range_csv_neutralizes_a_calendar_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's case: a period named like a formula reached `report range --format csv`."""
    weekly = {"mon": ["08:00-12:00"]}
    period = {"name": FORMULA, "from": "2026-12-01", "to": "2026-12-02", "weekly": weekly}
    path = write_config(tmp_path, service_hours={"periods": [period], "holidays": None})
    Ledger(tmp_path / "pantau.db", "kantor-uji").close()
    args = ["report", "range", "--from", "2026-12-01", "--to", "2026-12-02", "--format", "csv"]
    assert main([*args, "-c", str(path)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [row["note"] for row in rows] == ["'" + FORMULA] * 2


# --- whatever the file holds: a config, or one line per problem ------------------------------
YAMLISH = st.text(alphabet="{}[]:-,&*!|>?<% \n\tab0'\"#@`\\\x07\x00é", max_size=200)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=200), YAMLISH.map(str.encode)))
def test_no_file_content_gives_a_traceback(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "pantau.yaml"
        path.write_bytes(content)
        try:
            load_config(path)
        except ConfigError as exc:
            assert exc.problems and all("\n" not in p and p for p in exc.problems), exc.problems


ANY_VALUE = st.one_of(
    st.text(max_size=40), st.integers(), st.floats(), st.none(), st.booleans(),
    st.lists(st.text(max_size=5), max_size=3),
)  # fmt: skip
FIELDS = (
    "url", "host", "port", "query", "server", "interval", "timeout", "count", "spacing",
    "body_regex", "headers", "expect", "tls_ca_file", "expect_status", "slow_latency",
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(("http", "tcp", "icmp", "dns")),
    st.dictionaries(st.sampled_from(FIELDS), ANY_VALUE, max_size=4),
)
def test_no_field_value_gives_a_traceback(kind: str, fields: dict[str, object]) -> None:
    target = {"name": "t", "role": "datacenter", "kind": kind, **fields}
    try:
        parse_config({"office": {"name": "X"}, "targets": [target]})
    except ConfigError as exc:
        assert exc.problems and all("\n" not in p and p for p in exc.problems), exc.problems
