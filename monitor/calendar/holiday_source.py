"""The `holidays` package's table for one country, without importing the other ~250.

`holidays.country_holidays("ID")` imports `holidays.countries.indonesia`, and importing that
runs `holidays/countries/__init__.py`, which imports every country the package knows: ~250
modules, 8.3 MB RSS that the daemon carries for its whole life (measured 2026-12-01, holidays
0.109). Here the package object is created without running its `__init__`, and the one
country's module is imported under it. The first time anything asks that package for a name it
does not have yet (`from holidays.countries import Germany`, `holidays.countries.germany`), the
real `__init__` runs in it, so every other use sees the whole package as before. The entity and
its answers are the package's own: only when the other countries are imported differs.

The package itself (and dateutil under it) is imported on first use, not with this module:
`pantau run` validates its config and computes the holiday tables it needs in a short-lived
child (monitor/cli/isolated.py) and hands them to `seed`, so the long-lived daemon never
imports it at all (-4.3 MB RSS, measured 2026-12-02).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import holidays

PACKAGE = "holidays.countries"
_lock = threading.RLock()


def module_of(country: str) -> str | None:
    """`holidays.countries.<module>` that defines `country` (a code or class name), or None."""
    from holidays.registry import COUNTRIES

    for module, names in COUNTRIES.items():
        if country in names:
            return f"{PACKAGE}.{module}"
    return None


def load_country(country: str) -> None:
    """Import the module of `country` alone; a no-op if it (or the whole package) is loaded."""
    name = module_of(country)
    if name is None or name in sys.modules:
        return
    with _lock:
        if PACKAGE not in sys.modules:
            _bare_package()
        importlib.import_module(name)


def _bare_package() -> None:
    """`holidays.countries` with its `__init__` (every country) deferred to the first lookup."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.loader is None:  # pragma: no cover - the package is a dependency
        return
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader

    started: list[bool] = []

    def complete(attribute: str) -> Any:
        with _lock:  # another thread asking meanwhile waits for the whole package
            if not started:  # once; a lookup from inside the __init__ itself finds it started
                started.append(True)
                loader.exec_module(package)  # the real __init__: all countries, as it has them
                del vars(package)["__getattr__"]
        try:
            return vars(package)[attribute]
        except KeyError:
            raise AttributeError(f"module {PACKAGE!r} has no attribute {attribute!r}") from None

    vars(package)["__getattr__"] = complete  # PEP 562: a module's fallback for missing names
    sys.modules[PACKAGE] = package
    vars(sys.modules["holidays"])["countries"] = package  # imported by find_spec above


def country_holidays(
    country: str,
    years: int | Iterable[int] | None = None,
    **options: Any,
) -> holidays.HolidayBase:
    """`holidays.country_holidays`, importing only the country asked for."""
    import holidays

    load_country(country)
    return holidays.country_holidays(country, years=years, **options)


TableKey = tuple[str, bool, str, int]  # country, cuti bersama, language, year
_seeded: dict[TableKey, Mapping[date, str]] = {}


def holiday_table(country: str, cuti_bersama: bool, language: str, year: int) -> Mapping[date, str]:
    """The holidays of one year as an immutable {date: name}: seeded, or computed here."""
    seeded = _seeded.get((country, cuti_bersama, language, year))
    return seeded if seeded is not None else _computed(country, cuti_bersama, language, year)


@lru_cache(maxsize=64)
def _computed(country: str, cuti_bersama: bool, language: str, year: int) -> Mapping[date, str]:
    import holidays

    # One immutable mapping per year: the package's own objects grow on lookup.
    categories = (holidays.PUBLIC, holidays.GOVERNMENT) if cuti_bersama else (holidays.PUBLIC,)
    found = country_holidays(country, years=year, categories=categories, language=language)
    return MappingProxyType(dict(found))


def tables(keys: Iterable[TableKey]) -> dict[TableKey, dict[date, str]]:
    """Plain tables for `keys` (to hand to another process's `seed`)."""
    return {key: dict(holiday_table(*key)) for key in keys}


def seed(computed: Mapping[TableKey, Mapping[date, str]]) -> None:
    """Use these tables instead of computing them (a year not among them is computed here)."""
    for key, table in computed.items():
        _seeded[key] = MappingProxyType(dict(table))
