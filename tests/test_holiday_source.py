"""The holiday table of one country, loaded without the package's other ~250 countries."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import holidays

from monitor.calendar.holiday_source import country_holidays, module_of

GOV = (holidays.PUBLIC, holidays.GOVERNMENT)


def test_same_days_and_names_as_the_package() -> None:
    for language in ("id", "en_US"):
        ours = country_holidays("ID", years=2026, categories=GOV, language=language)
        theirs = holidays.country_holidays("ID", years=2026, categories=GOV, language=language)
        assert dict(ours) == dict(theirs)
        assert len(ours) == 25  # 17 national holidays + 8 cuti bersama (CONTEXT.md)


def test_module_of_knows_codes_and_class_names() -> None:
    assert module_of("ID") == module_of("IDN") == module_of("Indonesia")
    assert module_of("ID") == "holidays.countries.indonesia"
    assert module_of("XX") is None


def test_only_the_country_asked_for_is_imported() -> None:
    # A fresh interpreter: this test process may have imported every country already.
    code = textwrap.dedent(
        """
        import sys
        from monitor.calendar.holiday_source import country_holidays
        found = country_holidays("ID", years=2026, language="id")
        countries = [m for m in sys.modules if m.startswith("holidays.countries.")]
        assert countries == ["holidays.countries.indonesia"], countries
        import holidays.countries
        assert holidays.countries.indonesia.ID is type(found)
        from holidays.countries import Germany  # the rest of the package on first ask
        assert len(Germany(years=2026)) > 0
        assert len(holidays.country_holidays("FR", years=2026)) > 0
        assert "holidays.countries.zambia" in sys.modules
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
