"""Who may call the HTTP API: bearer tokens with roles, compared in constant time, and a rate limit per token.

``ICRAG_API_TOKENS`` holds ``role:token`` pairs. Roles are ordered: an admin may do what a
curator may, and a curator what a reader may. With no tokens configured the API is open (every
caller is an admin); ``icrag serve`` then binds to loopback only.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass
from typing import Literal, get_args

from pydantic import SecretStr

from index.errors import InputError

Role = Literal["reader", "curator", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
_RANK = {role: rank for rank, role in enumerate(ROLES)}


class ApiError(Exception):
    """A refusal with its HTTP status and a one-line reason for the ``{"error": ...}`` body."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: their role and a key that names their token without revealing it."""

    role: Role
    key: str

    def allowed(self, needed: Role) -> bool:
        """Whether this caller's role includes ``needed``."""
        return _RANK[self.role] >= _RANK[needed]


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def token_pairs(secret: SecretStr | None) -> list[tuple[Role, str]]:
    """(role, token) pairs of ``role:token,role:token``; InputError (never quoting a token) when malformed."""
    pairs: list[tuple[Role, str]] = []
    if secret is None:
        return pairs
    for number, pair in enumerate(secret.get_secret_value().split(","), start=1):
        if not pair.strip():
            continue
        role, sep, token = pair.strip().partition(":")
        if not sep or not token.strip():
            raise InputError("ICRAG_API_TOKENS", f"pair {number} is not role:token")
        if role not in _RANK:  # the role is not quoted: a pair written the wrong way round would show its token
            raise InputError("ICRAG_API_TOKENS", f"pair {number} has an unknown role (use {', '.join(ROLES)})")
        if any(token.strip() == given for _, given in pairs):
            raise InputError("ICRAG_API_TOKENS", f"pair {number} repeats an earlier token; give each token one role")
        pairs.append((role, token.strip()))
    return pairs


def parse_tokens(secret: SecretStr | None) -> dict[bytes, Role]:
    """Token digests and their roles: the server keeps no token itself."""
    return {_digest(token): role for role, token in token_pairs(secret)}


def tokens_by_role(secret: SecretStr | None) -> dict[Role, str]:
    """A token of each configured role (the first given), for clients such as the load bench."""
    found: dict[Role, str] = {}
    for role, token in token_pairs(secret):
        found.setdefault(role, token)
    return found


class Authenticator:
    """Turns an Authorization header into a Caller, or refuses with 401 (who are you?) or 403 (not allowed)."""

    def __init__(self, tokens: dict[bytes, Role]) -> None:
        self.tokens = tokens

    @property
    def open(self) -> bool:
        """Whether no tokens are configured, so every caller is an admin."""
        return not self.tokens

    def caller(self, authorization: str | None) -> Caller:
        """The caller a header names; every configured token is compared, so timing tells nothing."""
        if self.open:
            return Caller("admin", "open")
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "missing bearer token", {"WWW-Authenticate": "Bearer"})
        given = _digest(token.strip())
        found: Role | None = None
        for digest, role in self.tokens.items():
            if hmac.compare_digest(digest, given):
                found = role
        if found is None:
            raise ApiError(401, "unknown token", {"WWW-Authenticate": "Bearer"})
        return Caller(found, given.hex()[:16])

    def require(self, authorization: str | None, needed: Role) -> Caller:
        """The caller if their role includes ``needed``; 401 or 403 otherwise."""
        caller = self.caller(authorization)
        if not caller.allowed(needed):
            raise ApiError(403, f"this needs the {needed} role; the token given is a {caller.role}'s")
        return caller


class RateLimiter:
    """A token bucket per caller: ``rate`` requests a second, bursts of up to twice that (0: unlimited)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, 2 * rate)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Take one request from the caller's bucket; ApiError 429 with Retry-After when it is empty."""
        if self.rate <= 0:
            return
        now = time.monotonic()
        with self._lock:
            level, then = self._buckets.get(key, (self.capacity, now))
            level = min(self.capacity, level + (now - then) * self.rate)
            if level < 1:
                self._buckets[key] = (level, now)
                wait = max(1, round((1 - level) / self.rate))
                message = f"rate limit of {self.rate:g} requests a second reached"
                raise ApiError(429, message, {"Retry-After": str(wait)})
            self._buckets[key] = (level - 1, now)
