"""Basic auth against the bcrypt hashes in `basic_auth_users`: cached, and run off the loop.

bcrypt is slow on purpose: one check at cost 10 takes 86 ms of CPU on this project's machine.
So a result is cached (a scrape every 15 s costs one check, then none; a cached check 16 µs),
the checks run one at a time in their own thread (`bcrypt` >= 4.1 releases the GIL while it
hashes: during three 350 ms checks at cost 12 the main thread was never held up more than 66 ms,
on a machine at load 4), and when several checks already wait, a new unknown password is refused at
once instead of queueing: a flood of wrong passwords costs one core at most and never delays
a scrape whose credentials are cached.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import os
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import bcrypt

# exporter-toolkit's stand-in for an unknown user (bcrypt of "fakepassword"), so the time an
# answer takes does not tell which user names exist.
UNKNOWN_USER_HASH = b"$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"
CACHE_SIZE = 1024  # results kept; each entry is a 32-byte digest and a bool
MAX_WAITING = 4  # unknown credentials waiting for the bcrypt thread before new ones are refused


class BasicAuth:
    """`await auth.check(users, authorization_header)` -> True if the credentials are good."""

    def __init__(self, cache_size: int = CACHE_SIZE, max_waiting: int = MAX_WAITING) -> None:
        # A per-process key: the cache holds digests, never a password or something that
        # could be tried offline against the hashes.
        self._key = os.urandom(32)
        self._cache: OrderedDict[bytes, bool] = OrderedDict()
        self._cache_size = cache_size
        self._max_waiting = max_waiting
        self._waiting = 0
        self._executor: ThreadPoolExecutor | None = None
        self.bcrypt_checks = 0  # how many hashes were computed (tests and docs read it)
        self.refused_busy = 0  # unknown credentials refused because the thread was busy

    @property
    def waiting(self) -> int:
        """Unknown credentials waiting for (or in) the bcrypt thread now."""
        return self._waiting

    async def check(self, users: Mapping[str, bytes], header: str | None) -> bool:
        credentials = _parse(header)
        if credentials is None:
            return False
        user, password = credentials
        hashed = users.get(user)
        known = hashed is not None
        hashed = hashed if hashed is not None else UNKNOWN_USER_HASH
        digest = hmac.new(self._key, b"\0".join((user.encode(), hashed, password)),
                          hashlib.sha256).digest()  # fmt: skip
        cached = self._cache.get(digest)
        if cached is not None:
            self._cache.move_to_end(digest)
            return cached
        if self._waiting >= self._max_waiting:
            self.refused_busy += 1
            return False
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="pantau-bcrypt")
        self._waiting += 1
        try:
            loop = asyncio.get_running_loop()
            good = await loop.run_in_executor(self._executor, _verify, password, hashed)
        finally:
            self._waiting -= 1
        self.bcrypt_checks += 1
        ok = good and known
        self._cache[digest] = ok
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return ok

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


def _verify(password: bytes, hashed: bytes) -> bool:
    try:
        return bcrypt.checkpw(password, hashed)
    except ValueError:  # a hash bcrypt cannot read; the web config check refuses these
        return False


def _parse(header: str | None) -> tuple[str, bytes] | None:
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or len(encoded) > 4096:
        return None
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, colon, password = raw.partition(b":")
    if not colon:
        return None
    try:
        return user.decode("utf-8"), password
    except UnicodeDecodeError:
        return None
