"""The dashboard generator (scripts/grafana/build_dashboards.py), loaded as a module."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest

from tests.support.tools import REPO

GENERATOR = REPO / "scripts" / "grafana" / "build_dashboards.py"


def load_generator() -> ModuleType:
    """scripts/grafana/build_dashboards.py as a module (skip without the SDK)."""
    pytest.importorskip("grafana_foundation_sdk", reason="pip install grafana-foundation-sdk")
    spec = importlib.util.spec_from_file_location("build_dashboards", GENERATOR)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
