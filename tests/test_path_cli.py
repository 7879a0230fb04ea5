"""`pantau trace TARGET`: one line per hop with the owner's name; mistakes are one line."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from monitor.cli import main
from tests.conftest import require_root


@pytest.fixture
def listener() -> Iterator[int]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


def write_config(tmp_path: Path, port: int) -> Path:
    target = {"name": "dc-app", "role": "datacenter", "kind": "tcp", "host": "127.0.0.1"}
    owner = {"prefix": "127.0.0.0/8", "name": "Loopback DC", "role": "datacenter"}
    data = {
        "office": {"name": "Grobogan"},
        "storage": {"path": str(tmp_path / "pantau.db")},
        "targets": [{**target, "port": port}],
        "path": {"owners": [owner], "probes": 2, "timeout": "200ms"},
    }
    path = tmp_path / "pantau.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_trace_a_config_target_names_owners(
    tmp_path: Path, listener: int, capsys: pytest.CaptureFixture[str]
) -> None:
    require_root("raw sockets")
    config = write_config(tmp_path, listener)
    assert main(["trace", "dc-app", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert "trace dc-app: tcp to 127.0.0.1:" in out
    assert " 1  127.0.0.1" in out and "Loopback DC [datacenter]" in out
    # The demand trace is in the ledger's file; JSON carries the finding.
    assert main(["trace", "dc-app", "-c", str(config), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["reached"] and data["finding"]["cause"] == "destination_answers"


def test_trace_a_url_needs_no_config(listener: int, capsys: pytest.CaptureFixture[str]) -> None:
    require_root("raw sockets")
    assert main(["trace", f"tcp://127.0.0.1:{listener}", "-c", "/nonexistent.yaml"]) == 0
    assert "the destination 127.0.0.1 answers" in capsys.readouterr().out


def test_unknown_target_is_one_line(
    tmp_path: Path, listener: int, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, listener)
    assert main(["trace", "dc-ap", "-c", str(config)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "'dc-ap' is not a target in the config (dc-app)" in err


def test_bad_owner_prefix_names_the_field(tmp_path: Path, listener: int) -> None:
    from monitor.config import ConfigError, parse_config

    data = yaml.safe_load(write_config(tmp_path, listener).read_text())
    data["path"]["owners"][0]["prefix"] = "10.20.0.0/33"
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    (problem,) = caught.value.problems
    assert problem.startswith("path.owners[0].prefix: must be an IPv4 network such as 10.20.0.0/16")
