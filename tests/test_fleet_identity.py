"""Office identity for the national view: province, regency code and ISP, validated at the edge
and exported once as labels of pantau_office_info (joined centrally, never on every series)."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from monitor.cli import main
from monitor.config import ConfigError, parse_config
from monitor.metrics import Metrics

TARGETS = [{"name": "dc", "role": "datacenter", "kind": "tcp", "host": "127.0.0.1", "port": 1}]
pytestmark = pytest.mark.fleet

OFFICE = {
    "name": "Dispendukcapil Grobogan",
    "id": "grobogan",
    "province": "jawa  tengah",
    "regency_code": "33.15",
    "isp": "telkom",
}


def test_identity_is_validated_and_normalised() -> None:
    office = parse_config({"office": OFFICE, "targets": TARGETS}).office
    assert (office.province, office.regency_code, office.isp) == (
        "Jawa Tengah",
        "33.15",
        "telkom",
    )


def test_identity_is_optional() -> None:
    office = parse_config({"office": {"name": "X"}, "targets": TARGETS}).office
    assert (office.province, office.regency_code, office.isp) == (None, None, None)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("province", "Jawa Tenggara", r"office\.province: must be one of Indonesia's 38 provinces"),
        ("regency_code", "3315", r"office\.regency_code: .*e\.g\. 33\.15"),
        ("regency_code", "99.01", r"office\.regency_code: must be the ministry's"),
        ("isp", "Telkom Indonesia", r"office\.isp: must be lower-case"),
    ],
)
def test_a_wrong_identity_field_is_one_line_naming_it(field: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_config({"office": {**OFFICE, field: value}, "targets": TARGETS})
    assert len(info.value.problems) == 1
    assert "\n" not in info.value.problems[0]


def test_regency_code_must_lie_in_the_province() -> None:
    with pytest.raises(ConfigError, match=r"office: .*33\.15 is in Jawa Tengah, not in Bali"):
        parse_config({"office": {**OFFICE, "province": "Bali"}, "targets": TARGETS})


def test_check_prints_the_field_not_a_traceback(
    tmp_path: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pantau.yaml"  # type: ignore[operator]
    path.write_text(
        "office: {name: X, isp: 'Telkom Indonesia'}\n"
        "targets: [{name: dc, role: datacenter, kind: tcp, host: 127.0.0.1, port: 1}]\n"
    )
    assert main(["check", "-c", str(path)]) == 1
    err = capsys.readouterr().err
    assert "office.isp: must be lower-case" in err and "Traceback" not in err


def test_info_metric_carries_the_identity_once() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    metrics.set_office(
        "grobogan", "Dispendukcapil Grobogan", "Asia/Jakarta", "Jawa Tengah", "33.15", "telkom"
    )
    labels = {
        "office": "grobogan",
        "name": "Dispendukcapil Grobogan",
        "timezone": "Asia/Jakarta",
        "province": "Jawa Tengah",
        "regency_code": "33.15",
        "isp": "telkom",
    }
    assert registry.get_sample_value("pantau_office_info", labels) == 1
    text = generate_latest(registry).decode()
    # Only the info metric carries identity: no other series repeats the ISP or the province.
    assert [line for line in text.splitlines() if "telkom" in line] == [
        line for line in text.splitlines() if line.startswith("pantau_office_info{")
    ]


@pytest.mark.parametrize(
    ("fleet", "message"),
    [
        ({"url": "pantau-pusat:8428"}, r"fleet\.url: must be the central store's base URL"),
        ({"url": "http://127.0.0.1:8428", "timeout": "30s"}, r"fleet: timeout must be shorter"),
    ],
)
def test_fleet_section_mistakes_are_one_line(fleet: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_config({"office": OFFICE, "targets": TARGETS, "fleet": fleet})
    assert len(info.value.problems) == 1


def test_fleet_section_is_optional_with_defaults() -> None:
    assert parse_config({"office": OFFICE, "targets": TARGETS}).fleet is None
    fleet = parse_config(
        {"office": OFFICE, "targets": TARGETS, "fleet": {"url": "http://127.0.0.1:8428"}}
    ).fleet
    assert fleet is not None and (fleet.timeout, fleet.every) == (2.0, 30.0)
