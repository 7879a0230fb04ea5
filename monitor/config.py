"""The YAML config, validated at the edge: every mistake names its field and says what to write.

Models are frozen and reject unknown keys. Targets are a union discriminated on `kind`, so
adding a protocol is one new class here, one probe file and one line in the probe table.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from monitor.calendar import ServiceHoursConfig
from monitor.durations import Duration, between, format_duration
from monitor.maintenance.config import MaintenanceConfig
from monitor.paging.config import PagesConfig
from monitor.path.config import PathConfig
from monitor.pem import check_ca_file
from monitor.regions import PROVINCES, province_name
from monitor.report.config import ReportConfig
from monitor.uplinks.config import Source, check_uplink
from monitor.vocabulary import KINDS, Language, Role

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_OFFICE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# Bounds on every probe timing (issue 12). Below 100 ms an interval only loads the link and the
# loop (1 ms was accepted); above a day it no longer watches anything; a probe timeout past 60 s
# outlives any interval an office would pick.
Interval = Annotated[Duration, between(0.1, 86400.0)]
ProbeTimeout = Annotated[Duration, between(0.05, 60.0)]
SlowLatency = Annotated[Duration, between(0.001, 60.0)]
EchoSpacing = Annotated[Duration, between(0.01, 10.0)]
WebTimeout = Annotated[Duration, between(0.05, 3600.0, example="10s")]
MAX_TARGETS = 10_000  # the benchmark runs 5,000 on one core
# The size of a probe's per-target cache (a parsed URL, a checked request, an address): every
# target of the largest config, twice over (a reload may bring new keys). An LRU smaller than
# the targets probed in turn never hits: at 5,000 targets a 4,096-entry cache missed on every
# probe, rebuilding what it held, and each new entry lived ~8 s, long enough to reach the
# collector's oldest generation, which then ran a full collection every ~14 s (34-42 ms with
# the loop held).
PER_TARGET_CACHE = 2 * MAX_TARGETS
# A DNS label: letters, digits, '-' and '_' (SRV/DKIM names), 1-63 long, no '-' at either end.
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
# An HTTP header name is an RFC 9110 token.
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_REGENCY_CODE = re.compile(r"^(\d{2})\.(\d{2})$")
_ISP = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class ConfigError(Exception):
    """The config cannot be used; `problems` are one line each, `field.path: what to write`."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


class _Model(BaseModel):
    # defer_build: a model's validator and serializer are built at its first validation, not
    # at import. `pantau run` validates in a child (monitor/cli/isolated.py) and the daemon
    # only reads the models it gets back, so it never builds them: ~1 MB of pydantic-core
    # schemas (issue 18). Every config model in Pantau says the same, for the same reason.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def _check_name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(
            "must start with a letter or digit and use only letters, digits, '.', '_' or '-' "
            f"(at most 63), e.g. dc-siak; got {value!r}"
        )
    return value


def check_dns_name(value: str) -> str:
    """A DNS name as a resolver takes it (ASCII; IDN in its xn-- form); ValueError that teaches."""
    name = value[:-1] if value.endswith(".") and value != "." else value
    if value == "." or (
        0 < len(name) <= 253 and name.isascii() and all(_LABEL.match(p) for p in name.split("."))
    ):
        return value
    raise ValueError(
        "must be a DNS name: labels of letters, digits, '-' or '_' (1-63 each, 253 in all), "
        "separated by dots; an internationalised name in its xn-- form "
        f"(e.g. siak.kemendagri.go.id); got {value!r}"
    )


def _check_host(value: str) -> str:
    if not value or any(c.isspace() for c in value) or "/" in value:
        raise ValueError(f"must be a host name or IP address (e.g. 10.0.0.1); got {value!r}")
    try:
        ipaddress.ip_address(value)
    except ValueError:
        try:
            check_dns_name(value)
        except ValueError:
            raise ValueError(
                f"must be a host name or IP address (e.g. 10.0.0.1 or dc.example.id); got {value!r}"
            ) from None
    return value


class Office(_Model):
    name: str = Field(min_length=1, max_length=120)
    id: str | None = None
    timezone: str = "Asia/Jakarta"
    # Identity for the national view (issue 15): labels of pantau_office_info, set once.
    province: str | None = None
    regency_code: str | None = None
    isp: str | None = None

    @field_validator("province")
    @classmethod
    def _province(cls, value: str | None) -> str | None:
        if value is None:
            return None
        name = province_name(value)
        if name is None:
            raise ValueError(
                f"must be one of Indonesia's 38 provinces (e.g. Jawa Tengah); got {value!r}"
            )
        return name

    @field_validator("regency_code")
    @classmethod
    def _regency_code(cls, value: str | None) -> str | None:
        if value is None:
            return None
        match = _REGENCY_CODE.match(value)
        if not match or match.group(1) not in PROVINCES or match.group(2) == "00":
            raise ValueError(
                "must be the ministry's regency/city code, province.regency "
                f"(e.g. 33.15 for Grobogan); got {value!r}"
            )
        return value

    @field_validator("isp")
    @classmethod
    def _isp(cls, value: str | None) -> str | None:
        if value is not None and not _ISP.match(value):
            raise ValueError(
                f"must be lower-case letters, digits and '-' (e.g. telkom); got {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _code_in_province(self) -> Office:
        if self.province and self.regency_code:
            code = self.regency_code[:2]
            if PROVINCES[code] != self.province:
                raise ValueError(
                    f"regency_code {self.regency_code} is in {PROVINCES[code]}, not in "
                    f"{self.province}: fix one of them"
                )
        return self

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        if value is not None and not _OFFICE_ID.match(value):
            raise ValueError(
                f"must be lower-case letters, digits and '-' (e.g. grobogan); got {value!r}"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            hint = "Asia/Jakarta (WIB), Asia/Makassar (WITA) or Asia/Jayapura (WIT)"
            raise ValueError(f"must be an IANA time zone such as {hint}; got {value!r}") from None
        if value not in available_timezones() and value != "UTC":
            raise ValueError(f"must be an IANA time zone; got {value!r}")
        return value

    @property
    def office_id(self) -> str:
        """Stable identity used in metrics and, later, in a national view."""
        if self.id:
            return self.id
        slug = re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")
        return slug[:63] or "office"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Storage(_Model):
    path: Path = Path("./pantau.db")


class Defaults(_Model):
    interval: Interval = 15.0
    timeout: ProbeTimeout = 5.0

    @model_validator(mode="after")
    def _timeout_shorter(self) -> Defaults:
        _require_timeout_below_interval(self.timeout, self.interval)
        return self


class OutageSettings(_Model):
    """How probe results become target states (confirmation, slowness)."""

    down_after: int = Field(default=3, ge=1, le=100)
    up_after: int = Field(default=2, ge=1, le=100)
    slow_latency: SlowLatency = 2.0
    slow_loss: float = Field(default=0.2, gt=0, le=1)


def _require_timeout_below_interval(timeout: float, interval: float) -> None:
    if timeout >= interval:
        raise ValueError(
            "timeout: must be shorter than interval "
            f"(got {format_duration(timeout)} >= {format_duration(interval)})"
        )


class _Target(_Model):
    name: str
    role: Role
    interval: Interval | None = None
    timeout: ProbeTimeout | None = None
    slow_latency: SlowLatency | None = None
    uplink: str | None = None
    """The uplink this target is probed through (issue 16); None: the machine's default route."""
    source: Source | None = None
    """Bind the probe to a local address or an interface (issue 16)."""

    _name = field_validator("name")(classmethod(lambda cls, v: _check_name(v)))
    _uplink = field_validator("uplink")(classmethod(lambda cls, v: check_uplink(v)))

    @property
    def address(self) -> str:
        """What the target points at, for logs and tables."""
        raise NotImplementedError


DEFAULT_EXPECT_STATUS = tuple(range(200, 400))  # 2xx and 3xx: redirects are not followed


class HttpTarget(_Target):
    kind: Literal["http"]
    url: str
    method: Literal["GET", "HEAD"] = "GET"
    # A tuple, and one shared default: a fresh list(range(200, 400)) per target cost ~6 KB
    # each (the ints above 256 are not cached), 6 MB per 1,000 targets.
    expect_status: tuple[Annotated[int, Field(ge=100, le=599)], ...] = Field(
        default=DEFAULT_EXPECT_STATUS, min_length=1, max_length=500
    )
    body_regex: str | None = Field(None, min_length=1, max_length=4096)
    tls_verify: bool = True
    tls_ca_file: Path | None = None
    headers: dict[str, str] = Field(default_factory=dict, max_length=50)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"must be an http:// or https:// URL with a host (e.g. https://10.0.0.5/); "
                f"got {value!r}"
            )
        if any(c in value for c in "\r\n\0\t ") or not value.isascii():
            raise ValueError(
                "must not contain spaces, tabs, line breaks or non-ASCII characters "
                f"(percent-encode them, e.g. %20); got {value!r}"
            )
        try:
            _check_host(parts.hostname)
        except ValueError:
            raise ValueError(
                f"has an invalid host {parts.hostname!r}: write an IP address or a DNS name "
                "(e.g. https://siak.kemendagri.go.id/)"
            ) from None
        try:
            _ = parts.port
        except ValueError:
            raise ValueError(f"has a port outside 1-65535: {value!r}") from None
        return value

    @field_validator("body_regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            from monitor.body_match import RegexRefused, compile_body_regex

            try:
                compile_body_regex(value)
            except RegexRefused as exc:
                raise ValueError(str(exc)) from None
        return value

    _ca_file = field_validator("tls_ca_file")(classmethod(lambda cls, v: check_ca_file(v)))

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(
                    f"header name {name!r} must be letters, digits and '-' (e.g. X-Office)"
                )
            if any((ord(c) < 32 and c != "\t") or ord(c) == 127 for c in text):
                raise ValueError(
                    f"header {name!r}: the value must be one line, without CR, LF, NUL or "
                    f"other control characters; got {text!r}"
                )
        return value

    @property
    def address(self) -> str:
        return self.url


class TcpTarget(_Target):
    kind: Literal["tcp"]
    host: str
    port: int = Field(ge=1, le=65535)

    _host = field_validator("host")(classmethod(lambda cls, v: _check_host(v)))

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class IcmpTarget(_Target):
    kind: Literal["icmp"]
    host: str
    count: int = Field(3, ge=1, le=100)
    spacing: EchoSpacing = 0.2

    _host = field_validator("host")(classmethod(lambda cls, v: _check_host(v)))

    @property
    def address(self) -> str:
        return self.host


DnsRecord = Literal["A", "AAAA", "CNAME", "MX", "NS", "TXT", "SOA", "PTR", "SRV"]


class DnsTarget(_Target):
    kind: Literal["dns"]
    server: str
    query: str = Field(min_length=1, max_length=253)
    record: DnsRecord = "A"
    transport: Literal["udp", "tcp"] = "udp"
    expect: list[str] | None = Field(None, max_length=100)

    @field_validator("server")
    @classmethod
    def _server(cls, value: str) -> str:
        split_host_port(value, default_port=53)
        return value

    _query = field_validator("query")(classmethod(lambda cls, v: check_dns_name(v)))

    @property
    def server_host(self) -> str:
        return split_host_port(self.server, default_port=53)[0]

    @property
    def server_port(self) -> int:
        return split_host_port(self.server, default_port=53)[1]

    @property
    def address(self) -> str:
        return f"{self.server}/{self.query}"


Target = Annotated[HttpTarget | TcpTarget | IcmpTarget | DnsTarget, Field(discriminator="kind")]


def split_host_port(
    value: str, default_port: int | None = None, allow_zero: bool = False
) -> tuple[str, int]:
    """`host:port`, `[v6]:port` or (with a default) a bare host; ValueError that teaches."""
    hint = f"must be host:port (e.g. 127.0.0.1:9470 or [::1]:53); got {value!r}"
    host, port_text = value, None
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            raise ValueError(hint)
        host, rest = value[1:end], value[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise ValueError(hint)
            port_text = rest[1:]
    elif value.count(":") == 1:
        host, port_text = value.split(":")
    elif value.count(":") > 1:
        try:
            ipaddress.IPv6Address(value)
        except ValueError:
            raise ValueError(hint) from None
    if port_text is None:
        if default_port is None:
            raise ValueError(hint)
        return _check_host(host), default_port
    lowest = 0 if allow_zero else 1
    if not port_text.isdigit() or not lowest <= int(port_text) <= 65535:
        raise ValueError(f"port must be {lowest}-65535; got {value!r}")
    return _check_host(host), int(port_text)


# Paths a status screen on the office LAN reads without credentials (issue 13's page and its
# assets, and /healthz for load balancers); /metrics and /api/* always need them when users are set.
DEFAULT_PUBLIC_PATHS = (
    "/", "/status", "/status.json", "/status/events", "/status/static/*", "/healthz",
)  # fmt: skip


class WebSettings(_Model):
    """`web:` the daemon's HTTP server: an exporter-toolkit web config file, public paths, and
    how long a connection may idle or dribble (docs/reliability.md, "The web server")."""

    config_file: Path | None = None
    public_paths: tuple[str, ...] = DEFAULT_PUBLIC_PATHS
    header_timeout: WebTimeout = 10.0
    idle_timeout: WebTimeout = 75.0
    write_timeout: WebTimeout = 30.0
    # Sockets are shared with the probes: a flood of connections must not starve them of file
    # descriptors (a failed probe would be a false outage).
    max_connections: int = Field(default=256, ge=1, le=10000)

    @field_validator("public_paths")
    @classmethod
    def _paths(cls, paths: tuple[str, ...]) -> tuple[str, ...]:
        for path in paths:
            bad_star = "*" in path and (not path.endswith("/*") or path.count("*") > 1)
            if not path.startswith("/") or any(c.isspace() or c in "?#" for c in path) or bad_star:
                raise ValueError(
                    "each entry must be a path such as /status, or a prefix ending in /* such as "
                    f"/status/static/*; got {path!r}"
                )
        return paths


class StatusPage(_Model):
    """The front-desk status page at `/` (issue 13): what a citizen in the waiting room reads."""

    enabled: bool = True
    language: Language = "id"
    title: str | None = Field(default=None, min_length=1, max_length=120)
    """The page's heading; default: the words list's title and the office name."""
    notice: str | None = Field(default=None, min_length=1, max_length=300)
    """A line the office writes, e.g. what citizens can still do while the service is down."""
    show_targets: bool = False
    """Show each target's name and state (off: a public page names no internal hosts)."""
    kiosk: bool = False
    """Kiosk layout (no mouse cursor) on every screen; per screen: `?kiosk=1`. Full screen is
    the browser's part: `chromium --kiosk URL`."""


class FleetSettings(_Model):
    """The central store that confirms a verdict (issue 15); optional."""

    url: str
    timeout: Duration = 2.0
    every: Duration = 30.0

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                "must be the central store's base URL, e.g. https://pantau-pusat.example.go.id; "
                f"got {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _timeout_shorter(self) -> FleetSettings:
        if self.timeout >= self.every:
            raise ValueError("timeout must be shorter than every (e.g. timeout: 2s, every: 30s)")
        return self


class Config(_Model):
    office: Office
    listen: str = "127.0.0.1:9470"
    storage: Storage = Storage()
    defaults: Defaults = Defaults()
    outage: OutageSettings = OutageSettings()
    service_hours: ServiceHoursConfig = Field(default_factory=ServiceHoursConfig)
    targets: list[Target] = Field(min_length=1, max_length=MAX_TARGETS)
    report: ReportConfig | None = None
    pages: PagesConfig = Field(default_factory=PagesConfig)
    web: WebSettings = WebSettings()
    status_page: StatusPage = StatusPage()
    maintenance: MaintenanceConfig = MaintenanceConfig()
    path: PathConfig = Field(default_factory=PathConfig)
    fleet: FleetSettings | None = None

    @field_validator("listen", mode="before")
    @classmethod
    def _listen(cls, value: object) -> str:
        split_host_port(str(value), allow_zero=True)  # port 0: any free port (tests, labs)
        return str(value)

    @field_validator("targets")
    @classmethod
    def _unique_names(cls, targets: list[Target]) -> list[Target]:
        seen: set[str] = set()
        for target in targets:
            if target.name in seen:
                raise ValueError(f"duplicate target name {target.name!r}: names must be unique")
            seen.add(target.name)
        return targets

    def interval_of(self, target: _Target) -> float:
        return target.interval or self.defaults.interval

    def timeout_of(self, target: _Target) -> float:
        return target.timeout or self.defaults.timeout

    def slow_latency_of(self, target: _Target) -> float:
        return target.slow_latency or self.outage.slow_latency

    @property
    def uplinks(self) -> tuple[str, ...]:
        """Uplink names in config order (the first is the primary); () without uplinks."""
        return tuple(dict.fromkeys(t.uplink for t in self.targets if t.uplink))

    @property
    def listen_host_port(self) -> tuple[str, int]:
        return split_host_port(self.listen, allow_zero=True)


def _per_target_rules(config: Config) -> list[str]:
    """Rules that need the defaults merged in; reported with the target's index."""
    problems = []
    for index, target in enumerate(config.targets):
        interval, timeout = config.interval_of(target), config.timeout_of(target)
        try:
            _require_timeout_below_interval(timeout, interval)
        except ValueError as exc:
            problems.append(f"targets[{index}].{exc}")
        if isinstance(target, IcmpTarget) and target.count * target.spacing >= timeout:
            problems.append(
                f"targets[{index}].count: {target.count} echoes {format_duration(target.spacing)} "
                f"apart do not fit in the timeout ({format_duration(timeout)}); "
                "lower count or spacing, or raise timeout"
            )
    return problems


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in KINDS and out.endswith("]"):
            continue  # the union tag pydantic inserts; the user never wrote it
        else:
            out += f".{part}" if out else str(part)
    return out


def _message(error: ErrorDetails) -> str:
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        return "unknown key; remove it or check its spelling"
    if kind == "missing":
        return "is required"
    if kind == "union_tag_invalid":
        return f"kind must be one of {', '.join(KINDS)}; got {error['input'].get('kind')!r}"
    if kind == "union_tag_not_found":
        return f"kind is required: one of {', '.join(KINDS)}"
    if kind == "literal_error":
        return f"{msg[0].lower()}{msg[1:]}; got {error['input']!r}"
    text = msg.removeprefix("Value error, ")
    if kind != "value_error" and isinstance(error.get("input"), str | int | float | bool):
        text += f"; got {error['input']!r}"
    return text


def parse_config(data: object, source: str = "<config>") -> Config:
    """A Config from parsed YAML; ConfigError lists every problem found."""
    if not isinstance(data, dict):
        raise ConfigError(source, ["the file must be a YAML mapping with office: and targets:"])
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = _location(error["loc"])
            message = _message(error)
            if message.startswith("timeout: ") and where:
                problems.append(f"{where}.{message}")  # a rule on two fields names the field
            else:
                problems.append(f"{where}: {message}" if where else message)
        raise ConfigError(source, problems) from None
    problems = _per_target_rules(config)
    if problems:
        raise ConfigError(source, problems)
    return config


def load_config(path: str | Path) -> Config:
    """Read and validate a YAML config file; ConfigError on anything the user must fix."""
    from monitor.config_yaml import YamlProblem, read_yaml  # `pantau run` reads in a child

    source = str(path)
    try:
        data = read_yaml(path)
    except OSError as exc:
        raise ConfigError(source, [f"cannot read the file: {exc.strerror}"]) from None
    except YamlProblem as exc:
        raise ConfigError(source, [str(exc)]) from None
    return parse_config(data, source)
