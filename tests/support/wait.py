"""The one bounded wait: poll a condition until it holds, and fail naming what never came."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def wait_until(check: Callable[[], T], timeout: float = 10.0, what: str = "") -> T:
    """Poll `check()` in the event loop until it is truthy (bounded); returns its value."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or check}")
        await asyncio.sleep(0.02)
    return value


def wait_until_sync(
    check: Callable[[], T], timeout: float = 10.0, what: str = "", step: float = 0.1
) -> T:
    """The same outside an event loop (servers in subprocesses, fixtures)."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or check}")
        time.sleep(step)
    return value
