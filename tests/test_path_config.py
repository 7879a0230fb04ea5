"""Every `path:` validation rule names the field and says what to write."""

from __future__ import annotations

import pytest

from monitor.config import ConfigError, parse_config

BASE = {
    "office": {"name": "Grobogan"},
    "targets": [
        {"name": "dc", "role": "datacenter", "kind": "tcp", "host": "10.0.0.5", "port": 443}
    ],
}


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ({"owners": [{"prefix": "10.20.0.0/33", "name": "Telkom", "role": "isp"}]},
         "path.owners[0].prefix: must be an IPv4 network such as 10.20.0.0/16"),
        ({"owners": [{"prefix": "10.20.0.0/16", "name": "Telkom", "role": "carrier"}]},
         "path.owners[0].role: input should be 'local', 'isp', 'internet' or 'datacenter'"),
        ({"owners": [{"prefix": "10.20.0.0/16", "role": "isp"}]},
         "path.owners[0].name: is required"),
        ({"max_ttl": 65}, "path.max_ttl: Input should be less than or equal to 64"),
        ({"probes": 0}, "path.probes: Input should be greater than or equal to 1"),
        ({"timeout": "20s"}, "path.timeout: must be between 50ms and 10s (e.g. 1s)"),
        ({"min_gap": "5s"}, "path.min_gap: must be at least 10s (e.g. 5m)"),
        ({"baseline_every": "1s"}, "path.baseline_every: must be at least 10s (e.g. 5m)"),
        ({"trace": True}, "path.trace: unknown key; remove it or check its spelling"),
    ],
)  # fmt: skip
def test_path_mistakes(path: dict, problem: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError) as caught:
        parse_config({**BASE, "path": path})
    (found,) = caught.value.problems
    assert found.startswith(problem), found


def test_defaults_and_owners() -> None:
    config = parse_config({**BASE, "path": {"owners": [
        {"prefix": "10.20.3.7/16", "name": "Telkom VPN IP", "role": "isp"}]}})  # fmt: skip
    path = config.path
    assert (path.enabled, path.max_ttl, path.probes, path.timeout) == (True, 30, 5, 1.0)
    assert (path.baseline_every, path.min_gap) == (900.0, 300.0)
    assert path.owners[0].prefix == "10.20.0.0/16"  # a host address inside is accepted as its net
