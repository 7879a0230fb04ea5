"""Config validation: the issue's example validates; each rule has a fixture that must fail."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import ConfigError, HttpTarget, IcmpTarget, load_config, parse_config
from monitor.durations import format_duration, parse_duration

FIXTURES = Path(__file__).parent / "fixtures" / "config"
BAD = sorted((FIXTURES / "bad").glob("*.yaml"))


def expected(path: Path) -> str:
    first = path.read_bytes().splitlines()[0].decode()  # some fixtures are not UTF-8 on purpose
    match = re.match(r"# expect: (.*)", first)
    assert match, f"{path.name} must start with '# expect: <message>'"
    return match.group(1)


def test_issue_example_validates() -> None:
    config = load_config(FIXTURES / "good-issue.yaml")
    assert config.office.name == "Dispendukcapil Grobogan"
    assert config.office.office_id == "dispendukcapil-grobogan"
    assert [t.name for t in config.targets] == [
        "office-router", "isp-dns", "public-anchor", "dc-siak", "dc-vpn",
    ]  # fmt: skip
    assert config.interval_of(config.targets[4]) == 10.0
    assert config.timeout_of(config.targets[4]) == 2.0
    assert config.interval_of(config.targets[0]) == 15.0
    router = config.targets[0]
    assert isinstance(router, IcmpTarget) and router.count == 5
    siak = config.targets[3]
    assert isinstance(siak, HttpTarget)
    assert siak.expect_status == (200, 302) and siak.tls_verify is False


def test_shipped_example_is_the_issue_example() -> None:
    shipped = Path(__file__).parents[1] / "config" / "pantau.yaml"
    assert load_config(shipped) == load_config(FIXTURES / "good-issue.yaml")


def test_there_is_a_fixture_per_rule() -> None:
    assert len(BAD) >= 10


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_config_names_the_field(path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert expected(path) in text, text
    assert "Traceback" not in text


@pytest.mark.parametrize("path", BAD[:3], ids=[p.stem for p in BAD[:3]])
def test_check_command_exits_1_with_the_message(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "-c", str(path)]) == 1
    err = capsys.readouterr().err
    assert expected(path) in err
    assert "Traceback" not in err


def test_check_command_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "-c", str(FIXTURES / "good-issue.yaml")]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "5 targets" in out and out.count("\n") == 1


def test_run_refuses_a_bad_config_before_starting(capsys: pytest.CaptureFixture[str]) -> None:
    path = FIXTURES / "bad" / "timeout-not-below-interval.yaml"
    assert main(["run", "-c", str(path)]) == 1
    assert "targets[2].timeout: must be shorter than interval" in capsys.readouterr().err


def test_missing_file_is_a_message(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["check", "-c", str(tmp_path / "nope.yaml")]) == 1
    assert "cannot read the file" in capsys.readouterr().err


def test_every_problem_is_reported_at_once() -> None:
    data = {
        "office": {"name": "X", "timezone": "Mars/Olympus"},
        "targets": [{"name": "a", "role": "wan", "kind": "tcp", "host": "h", "port": 1}],
    }
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    assert len(info.value.problems) == 2


@pytest.mark.parametrize(
    ("text", "seconds"), [("500ms", 0.5), ("10s", 10), ("2m", 120), ("1h", 3600), ("1m30s", 90)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("text", ["10", "10 sec", "", "0s", "-1s", "s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match=r"unit|zero"):
        parse_duration(text)


def test_office_id_must_be_a_slug() -> None:
    with pytest.raises(ConfigError, match=r"office\.id: must be lower-case"):
        parse_config({"office": {"name": "X", "id": "Grobogan Kab"}, "targets": []})
