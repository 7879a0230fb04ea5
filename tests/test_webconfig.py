"""The exporter-toolkit web config file: every mistake is one line naming the field, for
`pantau check` and `pantau run` alike; the good shapes load."""

from __future__ import annotations

import shutil
import ssl
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import ConfigError, parse_config
from monitor.webconfig import load_web_config
from tests.webtls_helpers import HASH, write_certs

FIXTURES = Path(__file__).parent / "fixtures" / "webconfig"
BAD = sorted((FIXTURES / "bad").glob("*.yml"))
SHIPPED = Path(__file__).parents[1] / "config" / "web-config.yml"


def expected(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: ")
    return first.removeprefix("# expect: ")


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("certs")
    write_certs(folder)
    return folder


def _beside_certs(path: Path, certs: Path, tmp_path: Path) -> Path:
    for pem in certs.glob("*.pem"):
        shutil.copy(pem, tmp_path / pem.name)
    return Path(shutil.copy(path, tmp_path / path.name))


def test_there_is_a_fixture_per_rule() -> None:
    assert len(BAD) >= 15


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_web_config_names_the_field(path: Path, certs: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_web_config(_beside_certs(path, certs, tmp_path))
    text = str(info.value)
    assert expected(path) in text, text
    assert len(info.value.problems) == 1, text
    assert "Traceback" not in text


def _pantau_yaml(tmp_path: Path, web_config: Path) -> Path:
    path = tmp_path / "pantau.yaml"
    path.write_text(
        "office: {name: Kantor Uji}\nlisten: 127.0.0.1:0\n"
        f"storage: {{path: {tmp_path / 'pantau.db'}}}\n"
        "targets: [{name: dc, role: datacenter, kind: tcp, host: 127.0.0.1, port: 9}]\n"
        f"web: {{config_file: {web_config}}}\n"
    )
    return path


@pytest.mark.parametrize("command", ["check", "run"])
def test_check_and_run_refuse_a_bad_web_config_in_one_line(
    command: str, certs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    web = _beside_certs(FIXTURES / "bad" / "plain-password.yml", certs, tmp_path)
    assert main([command, "-c", str(_pantau_yaml(tmp_path, web))]) == 1
    err = capsys.readouterr().err.strip()
    assert (
        err == f"{web}: basic_auth_users: prom: must be a bcrypt hash such as $2y$10$... "
        "(make one with htpasswd -nBC 10 \"\" | tr -d ':\\n'), never the password itself"
    )


def test_check_summarizes_a_good_web_config(
    certs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    web = tmp_path / "web.yml"
    web.write_text(
        f"tls_server_config:\n  cert_file: {certs / 'cert.pem'}\n  key_file: {certs / 'key.pem'}\n"
        f"  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {certs / 'ca.pem'}\n"
        f"basic_auth_users:\n  prometheus: '{HASH}'\n"
        "http_server_config:\n  http2: false\n  headers: {X-Content-Type-Options: nosniff}\n"
    )
    assert main(["check", "-c", str(_pantau_yaml(tmp_path, web))]) == 0
    out = capsys.readouterr().out.splitlines()
    assert (
        out[1] == f"{web}: OK — TLS on, client certificates required, 1 basic-auth users, "
        "1 extra headers"
    )


def test_relative_files_are_read_beside_the_web_config(certs: Path, tmp_path: Path) -> None:
    """As in exporter-toolkit: `cert_file: cert.pem` is next to web.yml, wherever pantau runs."""
    for pem in certs.glob("*.pem"):
        shutil.copy(pem, tmp_path / pem.name)
    (tmp_path / "web.yml").write_text(
        "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  min_version: TLS13\n"
        "  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n"
        "  curve_preferences: [X25519]\n"
    )
    config = load_web_config(tmp_path / "web.yml")
    assert config.tls is not None
    assert config.tls.cert_file == tmp_path / "cert.pem"
    assert config.tls.min_version == ssl.TLSVersion.TLSv1_3


def test_inline_pem_loads(certs: Path, tmp_path: Path) -> None:
    cert = (certs / "cert.pem").read_text()
    key = (certs / "key.pem").read_text()
    web = tmp_path / "web.yml"
    web.write_text("tls_server_config:\n  cert: |\n" + _indent(cert) + "  key: |\n" + _indent(key))
    config = load_web_config(web)
    assert config.tls is not None and config.tls.cert == cert


def _indent(text: str) -> str:
    return "".join(f"    {line}\n" for line in text.splitlines())


def test_an_empty_web_config_turns_nothing_on(tmp_path: Path) -> None:
    (tmp_path / "web.yml").write_text("")
    config = load_web_config(tmp_path / "web.yml")
    assert config.tls is None and not config.users and config.headers == ()


def test_the_shipped_web_config_loads() -> None:
    config = load_web_config(SHIPPED)
    assert config.tls is None  # its TLS lines are commented out: they name files of the office
    assert set(config.users) == {"prometheus"}
    assert dict(config.headers)["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("web", "problem"),
    [
        ({"public_paths": ["status"]}, "web.public_paths: each entry must be a path"),
        ({"public_paths": ["/status/*/x"]}, "web.public_paths: each entry must be a path"),
        ({"header_timeout": "10ms"}, "web.header_timeout: must be between 50ms and 1h"),
        ({"idle_timeout": "2h"}, "web.idle_timeout: must be between 50ms and 1h"),
        ({"tls": True}, "web.tls: unknown key"),
    ],
)
def test_web_section_mistakes(web: dict[str, object], problem: str) -> None:
    data = {
        "office": {"name": "Kantor Uji"},
        "targets": [{"name": "dc", "role": "datacenter", "kind": "tcp", "host": "h", "port": 1}],
        "web": web,
    }
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    assert problem in str(info.value)
