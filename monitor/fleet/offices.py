"""514 regency/city offices with province, region code, time zone and ISP (deterministic)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from monitor.regions import PROVINCES

# Regency + city offices per province (sums to 514, as the ministry counts them).
OFFICES_PER_PROVINCE: dict[str, int] = {
    "11": 23, "12": 33, "13": 19, "14": 12, "15": 11, "16": 17, "17": 10, "18": 15, "19": 7,
    "21": 7, "31": 6, "32": 27, "33": 35, "34": 5, "35": 38, "36": 8, "51": 9, "52": 10,
    "53": 22, "61": 14, "62": 14, "63": 13, "64": 10, "65": 5, "71": 15, "72": 13, "73": 24,
    "74": 17, "75": 6, "76": 6, "81": 11, "82": 10, "91": 9, "92": 7, "93": 4, "94": 8,
    "95": 8, "96": 6,
}  # fmt: skip
WITA = {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"}
WIT = {"81", "82", "91", "92", "93", "94", "95", "96"}
# Providers an office may buy its link from, with rough shares; assume nothing else about them.
ISPS: dict[str, float] = {
    "telkom": 0.50,
    "lintasarta": 0.15,
    "icon-plus": 0.13,
    "indosat": 0.10,
    "xl": 0.06,
    "biznet": 0.06,
}


@dataclass(frozen=True, slots=True)
class Office:
    """One office's identity, exactly as its Pantau exports it in pantau_office_info."""

    id: str
    name: str
    province: str
    regency_code: str
    timezone: str
    isp: str


def build_offices(count: int = 514, seed: int = 15) -> list[Office]:
    """`count` offices spread over the provinces as the real ones are (the first `count`)."""
    rng = random.Random(seed)
    isps, weights = list(ISPS), list(ISPS.values())
    offices: list[Office] = []
    for code, number in OFFICES_PER_PROVINCE.items():
        zone = "Asia/Jayapura" if code in WIT else "Asia/Makassar" if code in WITA else None
        for n in range(1, number + 1):
            offices.append(
                Office(
                    id=f"kab-{code}{n:02d}",
                    name=f"Dispendukcapil {PROVINCES[code]} {n:02d}",
                    province=PROVINCES[code],
                    regency_code=f"{code}.{n:02d}",
                    timezone=zone or ("Asia/Pontianak" if code == "61" else "Asia/Jakarta"),
                    isp=rng.choices(isps, weights)[0],
                )
            )
    return offices[:count]
