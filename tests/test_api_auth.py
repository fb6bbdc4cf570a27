"""Tokens, roles and the rate limit of the HTTP API, as pure functions."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from app.api_auth import ApiError, Authenticator, RateLimiter, parse_tokens, tokens_by_role
from index.errors import InputError
from index.network import is_loopback

TOKENS = SecretStr("reader:r1,curator:c1,admin:a1,reader:r2")


def test_tokens_are_kept_as_digests_with_their_roles() -> None:
    tokens = parse_tokens(TOKENS)
    assert sorted(tokens.values()) == ["admin", "curator", "reader", "reader"]
    assert all(len(digest) == 32 for digest in tokens)
    assert tokens_by_role(TOKENS) == {"reader": "r1", "curator": "c1", "admin": "a1"}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("reader", "pair 1 is not role:token"),
        ("reader:abc,owner:xyz", "pair 2 has an unknown role"),
        ("xyz:reader", "pair 1 has an unknown role"),
        ("reader:xyz,curator:xyz", "pair 2 repeats an earlier token"),
    ],
)
def test_malformed_tokens_are_named_by_position_never_quoted(value: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem) as caught:
        parse_tokens(SecretStr(value))
    assert "xyz" not in str(caught.value)


@pytest.mark.parametrize(
    ("header", "needed", "status"),
    [
        (None, "reader", 401),
        ("Basic r1", "reader", 401),
        ("Bearer nope", "reader", 401),
        ("Bearer r2", "curator", 403),
        ("Bearer c1", "admin", 403),
    ],
)
def test_refusals(header: str | None, needed: str, status: int) -> None:
    with pytest.raises(ApiError) as caught:
        Authenticator(parse_tokens(TOKENS)).require(header, needed)  # type: ignore[arg-type]
    assert caught.value.status == status
    assert "nope" not in caught.value.message


@pytest.mark.parametrize(
    ("header", "role"), [("Bearer r2", "reader"), ("bearer c1", "curator"), ("Bearer a1", "admin")]
)
def test_higher_roles_include_lower_ones(header: str, role: str) -> None:
    caller = Authenticator(parse_tokens(TOKENS)).require(header, "reader")
    assert caller.role == role
    assert len(caller.key) == 16
    assert header.split()[1] not in caller.key


def test_with_no_tokens_every_caller_is_an_admin() -> None:
    assert Authenticator({}).require(None, "admin").role == "admin"


def test_rate_limit_refuses_past_the_burst_then_recovers(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr("app.api_auth.time.monotonic", lambda: clock[0])
    limiter = RateLimiter(rate=2)
    for _ in range(4):  # a burst of twice the rate
        limiter.check("a")
    with pytest.raises(ApiError) as caught:
        limiter.check("a")
    assert caught.value.status == 429
    assert caught.value.headers["Retry-After"] == "1"
    limiter.check("b")  # another token has its own bucket
    clock[0] += 0.5
    limiter.check("a")
    RateLimiter(rate=0).check("a")


@pytest.mark.parametrize(
    ("host", "loopback"), [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True),
                           ("0.0.0.0", False), ("192.168.1.5", False), ("example.org", False)],
)  # fmt: skip
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
