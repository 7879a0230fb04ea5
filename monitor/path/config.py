"""The `path` config section: who owns which addresses, and how hard and how often to trace."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitor.durations import Duration, between
from monitor.vocabulary import Role

OwnerRole = Role  # a hop is owned by one of the roles a target has


class PathOwner(BaseModel):
    """One network and whose it is: `{prefix: 10.20.0.0/16, name: Telkom VPN IP, role: isp}`."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    prefix: str
    name: str = Field(min_length=1, max_length=80)
    role: OwnerRole

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        try:
            return str(ipaddress.IPv4Network(value, strict=False))
        except ValueError:
            raise ValueError(
                f"must be an IPv4 network such as 10.20.0.0/16 (or one address); got {value!r}"
            ) from None


class PathConfig(BaseModel):
    """`path:`: tracing toward the data-center targets (on by default; needs raw sockets)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    enabled: bool = True
    owners: list[PathOwner] = Field(default_factory=list)
    max_ttl: int = Field(default=30, ge=1, le=64)
    probes: int = Field(default=5, ge=1, le=100)  # per hop; loss needs a few to be a ratio
    timeout: Annotated[Duration, between(0.05, 10.0, example="1s")] = 1.0  # the last reply's wait
    baseline_every: Duration = 900.0  # the healthy path, every 15 minutes
    min_gap: Duration = 300.0  # per target, outside link-state changes
    loss_threshold: float = Field(default=0.1, gt=0, le=1)

    @field_validator("min_gap", "baseline_every")
    @classmethod
    def _gap(cls, value: float) -> float:
        if value < 10:
            raise ValueError(f"must be at least 10s (e.g. 5m); got {value:g}s")
        return value
