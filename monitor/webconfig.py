"""The web config file in the Prometheus exporter-toolkit format, so one file serves node_exporter
and Pantau: `tls_server_config`, `basic_auth_users` (bcrypt), `http_server_config.headers`,
`rate_limit`. Validated at the edge like pantau.yaml: every mistake is one line naming the field.

The shape follows exporter-toolkit's docs/web-configuration.md; relative file names are read
from the web config file's own directory, as exporter-toolkit does. What Python's ssl cannot do
the way Go does (accept a client certificate without verifying it, several curves) is refused
with a line saying what to write instead, never silently weakened.
"""

from __future__ import annotations

import os
import re
import ssl
import tempfile
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from monitor.config import ConfigError

TLS_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
ClientAuth = Literal[
    "NoClientCert", "RequestClientCert", "RequireAnyClientCert", "RequireClientCert",
    "VerifyClientCertIfGiven", "RequireAndVerifyClientCert",
]  # fmt: skip
VERIFY_MODES = {
    "NoClientCert": ssl.CERT_NONE,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
# Go's names (crypto/tls.CipherSuites) -> OpenSSL's, for TLS 1.2; Go ignores the list for TLS 1.3,
# and so does Pantau.
CIPHERS = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
}
TLS13_CIPHERS = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}
CURVES = {"CurveP256": "prime256v1", "CurveP384": "secp384r1", "CurveP521": "secp521r1",
          "X25519": "X25519"}  # fmt: skip
# exporter-toolkit's extraHTTPHeaders: which headers may be set, and the allowed values if fixed.
HEADERS: dict[str, tuple[str, ...]] = {
    "Strict-Transport-Security": (),
    "X-Content-Type-Options": ("nosniff",),
    "X-Frame-Options": ("deny", "sameorigin"),
    "X-XSS-Protection": (),
    "Content-Security-Policy": (),
}
_BCRYPT = re.compile(r"^\$2[abxy]?\$(\d\d)\$[./A-Za-z0-9]{53}$")
_GO_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$|^0$")
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class TlsServerConfig(_Model):
    cert: str | None = None
    key: str | None = None
    client_ca: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    client_auth_type: ClientAuth | None = None
    client_ca_file: str | None = None
    client_allowed_sans: tuple[str, ...] | None = None
    min_version: Literal["TLS10", "TLS11", "TLS12", "TLS13"] = "TLS12"
    max_version: Literal["TLS10", "TLS11", "TLS12", "TLS13"] = "TLS13"
    cipher_suites: tuple[str, ...] | None = None
    prefer_server_cipher_suites: bool = True
    curve_preferences: tuple[str, ...] | None = None

    @field_validator("client_auth_type")
    @classmethod
    def _client_auth(cls, value: str | None) -> str | None:
        if value is not None and value not in VERIFY_MODES:
            raise ValueError(
                f"{value} accepts a client certificate without checking it, which Python's ssl "
                "cannot do (and exporter-toolkit calls insecure): write RequireAndVerifyClientCert "
                "with client_ca_file, or NoClientCert"
            )
        return value

    @field_validator("cipher_suites")
    @classmethod
    def _ciphers(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for name in value or ():
            if name not in CIPHERS and name not in TLS13_CIPHERS:
                raise ValueError(
                    f"unknown cipher suite {name!r}: write Go names such as "
                    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
                )
        return value

    @field_validator("curve_preferences")
    @classmethod
    def _curves(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for name in value or ():
            if name not in CURVES:
                raise ValueError(f"unknown curve {name!r}: write one of {', '.join(CURVES)}")
        if value is not None and len(value) > 1:
            raise ValueError(
                "Python's ssl can pin one curve, not a preference list: list one "
                "(e.g. [X25519]) or remove the key"
            )
        return value

    def enabled(self) -> bool:
        """exporter-toolkit's IsEnabled: any TLS field set turns TLS on (and must be complete)."""
        return any(
            v is not None
            for v in (
                self.cert,
                self.key,
                self.cert_file,
                self.key_file,
                self.client_ca,
                self.client_ca_file,
                self.client_auth_type,
            )
        )


class HttpServerConfig(_Model):
    http2: bool = True  # accepted for node_exporter's sake; aiohttp speaks HTTP/1.1 only
    headers: dict[str, str] | None = None

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for name, text in (value or {}).items():
            if name not in HEADERS:
                raise ValueError(
                    f"HTTP header {name!r} can not be configured: use one of {', '.join(HEADERS)}"
                )
            allowed = HEADERS[name]
            if allowed and text not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {text!r}")
            if any(c in text for c in "\r\n\0"):
                raise ValueError(f"{name} must be one line (no CR, LF or NUL)")
        return value


class RateLimitConfig(_Model):
    interval: str = "0s"
    burst: int = 0

    @field_validator("interval", mode="before")
    @classmethod
    def _interval(cls, value: object) -> str:
        if not isinstance(value, str) or not _GO_DURATION.match(value.strip()):
            raise ValueError(f'must be a duration such as "1s" or "100ms" (0 turns it off); '
                             f"got {value!r}")  # fmt: skip
        return value.strip()

    @property
    def seconds(self) -> float:
        parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", self.interval)
        return sum(float(number) * _GO_UNITS[unit] for number, unit in parts)


class WebConfigFile(_Model):
    tls_server_config: TlsServerConfig | None = None
    http_server_config: HttpServerConfig | None = None
    basic_auth_users: dict[str, str] | None = None
    rate_limit: RateLimitConfig | None = None

    @field_validator("basic_auth_users")
    @classmethod
    def _users(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for user, hashed in (value or {}).items():
            if not isinstance(user, str) or ":" in user or not user:
                raise ValueError(f"user name {user!r} must be non-empty and have no ':'")
            match = _BCRYPT.match(hashed if isinstance(hashed, str) else "")
            if match is None or not 4 <= int(match.group(1)) <= 31:
                raise ValueError(
                    f"{user}: must be a bcrypt hash such as $2y$10$... (make one with "
                    "htpasswd -nBC 10 \"\" | tr -d ':\\n'), never the password itself"
                )
        return value


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """Resolved TLS settings: file paths absolute, inline PEM kept as text."""

    cert_file: Path | None
    key_file: Path | None
    cert: str | None
    key: str | None
    client_ca_file: Path | None
    client_ca: str | None
    verify_mode: ssl.VerifyMode
    allowed_sans: tuple[str, ...]
    min_version: ssl.TLSVersion
    max_version: ssl.TLSVersion
    ciphers: tuple[str, ...]
    prefer_server_ciphers: bool
    curve: str | None

    def files(self) -> tuple[Path, ...]:
        """The files whose change means new certificates."""
        return tuple(p for p in (self.cert_file, self.key_file, self.client_ca_file) if p)


@dataclass(frozen=True, slots=True)
class WebConfig:
    """What the server applies from the file; `users` maps a name to its bcrypt hash."""

    path: Path | None = None
    tls: TlsSettings | None = None
    users: dict[str, bytes] = field(default_factory=dict)
    headers: tuple[tuple[str, str], ...] = ()
    rate_interval: float = 0.0
    rate_burst: int = 0


def describe(config: WebConfig) -> str:
    """One line for `pantau check`: what the web config turns on."""
    tls = "TLS off"
    if config.tls is not None:
        mode = {
            ssl.CERT_NONE: "",
            ssl.CERT_OPTIONAL: ", client certificates checked if given",
            ssl.CERT_REQUIRED: ", client certificates required",
        }[config.tls.verify_mode]
        tls = f"TLS on{mode}"
    users = f"{len(config.users)} basic-auth users" if config.users else "no basic auth"
    return f"{tls}, {users}, {len(config.headers)} extra headers"


def build_ssl_context(tls: TlsSettings) -> ssl.SSLContext:
    """A server SSLContext from the settings; ssl.SSLError/OSError if the files are wrong."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = tls.min_version
    context.maximum_version = tls.max_version
    if tls.cert_file is not None and tls.key_file is not None:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    else:
        _load_inline_chain(context, tls.cert or "", tls.key or "")
    context.verify_mode = tls.verify_mode
    if tls.client_ca_file is not None:
        context.load_verify_locations(cafile=tls.client_ca_file)
    elif tls.client_ca is not None:
        context.load_verify_locations(cadata=tls.client_ca)
    if tls.ciphers:
        context.set_ciphers(":".join(tls.ciphers))
    if tls.prefer_server_ciphers:
        context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    if tls.curve is not None:
        context.set_ecdh_curve(tls.curve)
    return context


def _load_inline_chain(context: ssl.SSLContext, cert: str, key: str) -> None:
    # ssl loads a chain from files only: a private directory, removed at once.
    with tempfile.TemporaryDirectory(prefix="pantau-tls-") as folder:
        cert_path, key_path = Path(folder, "cert.pem"), Path(folder, "key.pem")
        for path, text in ((cert_path, cert), (key_path, key)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
        context.load_cert_chain(cert_path, key_path)


@lru_cache(maxsize=1)
def _strict_loader() -> Any:
    """A SafeLoader that refuses a key given twice, as Go's yaml.UnmarshalStrict (two hashes
    for one user). Built on first use: without a web config file the daemon needs no YAML."""
    import yaml

    class StrictLoader(yaml.SafeLoader):
        pass

    def no_duplicates(loader: StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
        seen = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice; keep one", key_node.start_mark
                )
            seen.add(key)
        return loader.construct_mapping(node, deep=deep)

    StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, no_duplicates)
    return StrictLoader


def load_web_config(path: str | Path) -> WebConfig:
    """Read, validate and resolve a web config file; ConfigError (one line per mistake)."""
    source = str(path)
    try:
        raw = Path(path).read_bytes()
        text = raw.decode("utf-8")
    except OSError as exc:
        raise ConfigError(source, [f"cannot read the web config file: {exc.strerror}; "
                                   "fix web.config_file in pantau.yaml"]) from None  # fmt: skip
    except UnicodeDecodeError:
        raise ConfigError(source, ["the web config file is not UTF-8 text (YAML)"]) from None
    import yaml

    try:
        data = yaml.load(text, Loader=_strict_loader())  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, [f"{where}not valid YAML ({problem})"]) from None
    except RecursionError:
        raise ConfigError(source, ["the YAML is nested too deeply"]) from None
    if data is None:
        data = {}  # an empty file is valid for exporter-toolkit too: no TLS, no users
    if not isinstance(data, dict):
        raise ConfigError(source, ["the file must be a YAML mapping (tls_server_config:, "
                                   "basic_auth_users:, http_server_config:)"])  # fmt: skip
    try:
        model = WebConfigFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, [_problem(e) for e in exc.errors()]) from None
    return _resolve(model, Path(path), source)


def _problem(error: Any) -> str:
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]).lstrip(".")
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown key; remove it or check its spelling"
    text = error["msg"].removeprefix("Value error, ")
    if error["type"] == "literal_error":
        text = text[0].lower() + text[1:]
    if error["type"] != "value_error" and isinstance(error.get("input"), str | int | float | bool):
        text += f"; got {error['input']!r}"
    return f"{where}: {text}" if where else text


def _resolve(model: WebConfigFile, path: Path, source: str) -> WebConfig:
    problems: list[str] = []
    tls = None
    if model.tls_server_config is not None and model.tls_server_config.enabled():
        tls = _resolve_tls(model.tls_server_config, path.parent, problems)
    if problems:
        raise ConfigError(source, problems)
    headers = model.http_server_config.headers if model.http_server_config else None
    rate = model.rate_limit
    return WebConfig(
        path=path,
        tls=tls,
        users={u: h.encode() for u, h in (model.basic_auth_users or {}).items()},
        headers=tuple((headers or {}).items()),
        rate_interval=rate.seconds if rate else 0.0,
        rate_burst=rate.burst if rate else 0,
    )


def _resolve_tls(c: TlsServerConfig, folder: Path, problems: list[str]) -> TlsSettings | None:
    pre = "tls_server_config"
    pairs = (("cert", "cert_file"), ("key", "key_file"), ("client_ca", "client_ca_file"))
    for inline, named in pairs:
        if getattr(c, inline) is not None and getattr(c, named) is not None:
            problems.append(f"{pre}.{inline}: give {inline} or {named}, not both")
    if c.cert is None and c.cert_file is None:
        problems.append(f"{pre}.cert_file: is required when TLS is on (a PEM certificate)")
    if c.key is None and c.key_file is None:
        problems.append(f"{pre}.key_file: is required when TLS is on (its PEM private key)")
    mode = VERIFY_MODES[c.client_auth_type or "NoClientCert"]
    has_ca = c.client_ca is not None or c.client_ca_file is not None
    if has_ca and mode == ssl.CERT_NONE:
        problems.append(f"{pre}.client_auth_type: a client CA is set, so write "
                        "RequireAndVerifyClientCert (or remove client_ca_file)")  # fmt: skip
    if mode != ssl.CERT_NONE and not has_ca:
        problems.append(f"{pre}.client_ca_file: {c.client_auth_type} needs the CA that signs "
                        "the client certificates")  # fmt: skip
    if c.client_allowed_sans and mode != ssl.CERT_REQUIRED:
        problems.append(f"{pre}.client_allowed_sans: needs client_auth_type: "
                        "RequireAndVerifyClientCert")  # fmt: skip
    if TLS_VERSIONS[c.min_version] > TLS_VERSIONS[c.max_version]:
        problems.append(f"{pre}.min_version: {c.min_version} is above max_version "
                        f"{c.max_version}")  # fmt: skip
    if problems:
        return None

    def where(name: str | None) -> Path | None:
        return None if name is None else folder / Path(name).expanduser()

    tls = TlsSettings(
        cert_file=where(c.cert_file), key_file=where(c.key_file), cert=c.cert, key=c.key,
        client_ca_file=where(c.client_ca_file), client_ca=c.client_ca, verify_mode=mode,
        allowed_sans=c.client_allowed_sans or (), min_version=TLS_VERSIONS[c.min_version],
        max_version=TLS_VERSIONS[c.max_version],
        ciphers=tuple(CIPHERS[n] for n in c.cipher_suites or () if n in CIPHERS),
        prefer_server_ciphers=c.prefer_server_cipher_suites,
        curve=CURVES[c.curve_preferences[0]] if c.curve_preferences else None,
    )  # fmt: skip
    files = (("cert_file", tls.cert_file), ("key_file", tls.key_file),
             ("client_ca_file", tls.client_ca_file))  # fmt: skip
    for name, path in files:
        if path is not None and not os.access(path, os.R_OK):
            why = "no such file" if not path.exists() else "not readable by this user"
            problems.append(f"{pre}.{name}: cannot read {str(path)!r} ({why})")
    if problems:
        return None
    # Each part on its own, so the line names the file that is wrong.
    no_ca = replace(tls, client_ca_file=None, client_ca=None, verify_mode=ssl.CERT_NONE)
    for name, settings in (("cert_file", no_ca), ("client_ca_file", tls)):
        try:
            build_ssl_context(settings)
        except (ssl.SSLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or str(exc)
            hint = (
                "check that key_file is the key of cert_file, both PEM"
                if name == "cert_file"
                else "it must hold PEM CA certificates"
            )
            problems.append(f"{pre}.{name}: does not load ({reason}); {hint}")
            return None
    return tls
