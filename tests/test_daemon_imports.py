"""What the long-lived daemon imports (issue 18's memory): libraries it does not use stay out of
its process. Each check runs in a fresh interpreter, since this one has imported everything."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.calendar import ServiceCalendar
from monitor.cli.isolated import load_isolated
from monitor.config import ConfigError, load_config

# The daemon's start: its modules, the command line, and every probe kind's module.
DAEMON = (
    "import monitor.daemon, monitor.cli, monitor.cli.run; from monitor import probes; "
    "probes.load({'http', 'tcp', 'icmp', 'dns'}); "
)


def _top_modules(code: str) -> set[str]:
    listing = "import json, sys; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    out = subprocess.run(
        [sys.executable, "-c", code + listing], capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout))


def test_the_daemon_carries_no_aiohttp() -> None:
    """aiohttp with yarl, multidict, frozenlist, aiosignal and attrs is ~10 MB of RSS; the
    daemon's server and probes have their own HTTP/1.1 (h11)."""
    loaded = _top_modules(DAEMON)
    assert "h11" in loaded and "monitor" in loaded  # the check sees the daemon's imports
    assert not loaded & {"aiohttp", "yarl", "multidict", "frozenlist", "aiosignal", "attr"}


def test_yaml_and_holidays_come_only_with_their_first_use() -> None:
    """`pantau run` reads its config in a child (below); the daemon's own imports need neither
    the YAML parser (only a web config file or a central schedule does) nor holidays."""
    loaded = _top_modules(DAEMON)
    assert "yaml" not in loaded and "holidays" not in loaded and "dateutil" not in loaded
    web = DAEMON + "from monitor.webconfig import load_web_config as l; l('/dev/null'); "
    assert "yaml" in _top_modules(web)


def test_re2_comes_with_the_first_body_regex_only() -> None:
    assert "re2" not in _top_modules(DAEMON)
    compiled = DAEMON + "from monitor.body_match import compile_body_regex as c; c('SIAK OK'); "
    assert "re2" in _top_modules(compiled)


CONFIG = """\
office: {name: Kantor Uji, timezone: Asia/Jakarta}
listen: 127.0.0.1:0
storage: {path: %s}
targets:
  - {name: dc, role: datacenter, kind: tcp, host: 127.0.0.1, port: 9}
"""


def test_pantau_run_validates_in_a_child_and_never_imports_holidays(tmp_path: Path) -> None:
    """The config and the holiday tables come from a short-lived child; the daemon's process
    gets a config equal to an in-process load and the same holidays, without the package."""
    path = tmp_path / "pantau.yaml"
    path.write_text(CONFIG % (tmp_path / "pantau.db"))
    year = date.today().year
    first_day = date(year - 1, 1, 1)
    count = (date(year + 2, 1, 1) - first_day).days  # the three years the child computed
    code = DAEMON + (
        "import json, sys; from datetime import date, timedelta; "
        "from monitor.cli.isolated import load_isolated; "
        "from monitor.calendar import ServiceCalendar; "
        f"config = load_isolated({str(path)!r}); "
        "calendar = ServiceCalendar(config.service_hours, config.office.zone); "
        f"first = date.fromisoformat({first_day.isoformat()!r}); "
        f"names = [calendar.holiday(first + timedelta(n)) for n in range({count})]; "
        "print(json.dumps({'names': names, 'holidays': 'holidays' in sys.modules})); "
        "from monitor.config import load_config; "
        f"print(json.dumps(load_config({str(path)!r}) == config)); "
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    first, equal = out.stdout.splitlines()
    seen = json.loads(first)
    assert seen["holidays"] is False  # read before the in-process load of the comparison
    config = load_config(path)  # here, in this process, with the package
    here = ServiceCalendar(config.service_hours, config.office.zone)
    assert seen["names"] == [here.holiday(first_day + timedelta(n)) for n in range(count)]
    assert seen["names"][(date(year, 12, 25) - first_day).days] == "Hari Raya Natal"
    assert json.loads(equal) is True


RUN_AND_LOOK = """
import asyncio, json, sys
from monitor.cli.isolated import load_isolated
from monitor.daemon import Daemon

async def main():
    async with Daemon(load_isolated(sys.argv[1])) as daemon:
        await asyncio.sleep(1.0)  # probes, the first flush, the status board
        reader, writer = await asyncio.open_connection("127.0.0.1", daemon.port)
        writer.write(b"GET / HTTP/1.0\\r\\n\\r\\n")
        page = await reader.read()
        writer.close()
    loaded = sorted({name.split(".")[0] for name in sys.modules})
    import monitor.config as c
    models = ("Config", "Office", "HttpTarget", "TcpTarget", "DnsTarget", "IcmpTarget")
    built = [name for name in models if getattr(c, name).__pydantic_complete__]
    head = page.split(b"\\r\\n", 1)[0].decode()
    print(json.dumps({"page": head, "loaded": loaded, "built": built}))

asyncio.run(main())
"""


def _run_and_look(tmp_path: Path, more_yaml: str = "") -> dict[str, Any]:
    """What a daemon on CONFIG (plus `more_yaml`) answered at `/` and had imported, a second
    after it started, in a process of its own."""
    path = tmp_path / "pantau.yaml"
    path.write_text((CONFIG % (tmp_path / "pantau.db")) + more_yaml)
    out = subprocess.run(
        [sys.executable, "-c", RUN_AND_LOOK, str(path)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    seen: dict[str, Any] = json.loads(out.stdout.splitlines()[-1])
    return seen


def test_a_running_daemon_loads_neither_holidays_nor_yaml(tmp_path: Path) -> None:
    """The whole start (the calendar, the status page rendered once, probes, the ledger),
    not only the config: nothing in it may ask the package for a holiday again."""
    seen = _run_and_look(tmp_path)
    assert seen["page"] == "HTTP/1.1 200 OK"
    assert "monitor" in seen["loaded"] and "jinja2" in seen["loaded"]  # the page was rendered
    assert not {"holidays", "dateutil", "yaml", "aiohttp"} & set(seen["loaded"])


def test_the_daemon_builds_no_validator_for_the_config_it_only_reads(tmp_path: Path) -> None:
    """The child validated the config; the daemon only reads the models it got back, so their
    validators and serializers are never built here (`defer_build`): ~1 MB of pydantic-core
    schemas. A model the daemon does validate (a web config, a central schedule) is built
    at that first use."""
    http = "  - {name: siak, role: datacenter, kind: http, url: 'http://127.0.0.1:9/'}\n"
    seen = _run_and_look(tmp_path, http)
    assert seen["page"] == "HTTP/1.1 200 OK"  # the daemon ran, its status page too
    assert seen["built"] == []


def test_a_daemon_that_asks_the_fleet_loads_aiohttp_at_start(tmp_path: Path) -> None:
    """Not at the fleet's first question, which comes as an outage begins."""
    fleet = "fleet: {url: 'http://127.0.0.1:9'}\n"  # nothing listens: no answer needed
    assert "aiohttp" in _run_and_look(tmp_path, fleet)["loaded"]


def test_a_daemon_with_a_body_regex_compiles_it_at_start(tmp_path: Path) -> None:
    """The child validated it; the daemon compiles it again before probing, not at the first
    body it reads (here none: the port refuses)."""
    http = (
        "  - {name: siak, role: datacenter, kind: http, url: 'http://127.0.0.1:9/',"
        " body_regex: 'SIAK OK'}\n"
    )
    assert "re2" in _run_and_look(tmp_path, http)["loaded"]


def test_a_config_mistake_through_the_child_reads_as_in_process(tmp_path: Path) -> None:
    path = tmp_path / "pantau.yaml"
    path.write_text(
        (CONFIG % (tmp_path / "pantau.db")) + "service_hours:\n  holidays:\n    country: XX\n"
    )
    with pytest.raises(ConfigError) as direct:
        load_config(path)
    with pytest.raises(ConfigError) as isolated:
        load_isolated(path)
    assert isolated.value.problems == direct.value.problems
    assert "unknown country" in str(isolated.value) and isolated.value.source == str(path)


def test_without_a_fork_the_config_loads_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "pantau.yaml"
    path.write_text(CONFIG % (tmp_path / "pantau.db"))

    def no_fork() -> int:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr("os.fork", no_fork)
    assert load_isolated(path) == load_config(path)
