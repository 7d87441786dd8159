"""The token buckets of `api/rate_limit.py`: never more than the budget in any window, refilled as promised, bounded memory."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crossmargin.api.rate_budgets import Budget, RateLimitSettings
from crossmargin.api.rate_limit import NS_PER_SECOND, RateLimiter, TokenBuckets

budgets = st.builds(
    lambda limit, burst_fraction, window_s: Budget(
        limit, window_s, max(1, min(limit - 1, limit * burst_fraction // 100))
    ),
    st.integers(2, 60),
    st.integers(0, 100),
    st.integers(1, 5),
)
# Gaps between requests, in nanoseconds: many at once, some spread, some long pauses.
gaps = st.lists(
    st.one_of(st.just(0), st.integers(0, 3 * NS_PER_SECOND), st.integers(0, 20 * NS_PER_SECOND)), max_size=300
)


def _allowed_times(budget: Budget, gap_list: list[int]) -> list[int]:
    buckets = TokenBuckets(budget)
    now = 10**12
    allowed = []
    for gap in gap_list:
        now += gap
        if buckets.take("k", now) == 0:
            allowed.append(now)
    return allowed


@given(budgets, gaps)
def test_never_more_than_the_budget_in_any_window(budget: Budget, gap_list: list[int]) -> None:
    allowed = _allowed_times(budget, gap_list)
    window_ns = budget.window_s * NS_PER_SECOND
    refill = budget.limit - budget.burst
    for first in range(len(allowed)):
        for last in range(first, len(allowed)):
            passed = last - first + 1
            span = allowed[last] - allowed[first]
            # At most BURST at once plus the refill over the span; so at most LIMIT within one window.
            assert (passed - budget.burst) * window_ns <= span * refill
            if span <= window_ns:
                assert passed <= budget.limit


@given(budgets, gaps)
def test_a_refused_request_passes_after_the_wait_it_was_told(budget: Budget, gap_list: list[int]) -> None:
    buckets = TokenBuckets(budget)
    now = 10**12
    for gap in gap_list:
        now += gap
        wait = buckets.take("k", now)
        if wait:
            assert buckets.take("k", now + wait - 1) > 0, "not a nanosecond early"
            assert buckets.take("k", now + wait) == 0
            now += wait


@given(budgets)
def test_a_full_bucket_passes_a_burst_then_refills_at_the_budgets_rate(budget: Budget) -> None:
    buckets = TokenBuckets(budget)
    now = 10**12
    assert all(buckets.take("k", now) == 0 for _ in range(budget.burst))
    wait = buckets.take("k", now)
    interval = -(-budget.window_s * NS_PER_SECOND // (budget.limit - budget.burst))
    assert 0 < wait <= interval
    # A window later, LIMIT - BURST requests have come back (the bucket holds at most BURST).
    later = now + budget.window_s * NS_PER_SECOND
    assert sum(buckets.take("k", later) == 0 for _ in range(budget.limit)) == min(
        budget.burst, budget.limit - budget.burst
    )
    # Once it has had time to refill whole, a full burst passes again.
    full = later + -(-budget.burst * budget.window_s * NS_PER_SECOND // (budget.limit - budget.burst))
    assert sum(buckets.take("k", full) == 0 for _ in range(budget.limit)) == budget.burst


def test_keys_have_their_own_buckets() -> None:
    buckets = TokenBuckets(Budget(4, 60, 2))
    assert [buckets.take("a", 0) for _ in range(2)] == [0, 0]
    assert buckets.take("a", 0) > 0
    assert buckets.take("b", 0) == 0


def test_full_buckets_are_forgotten_and_the_table_never_passes_its_cap() -> None:
    buckets = TokenBuckets(Budget(100, 1, 10), entries_max=1_000)
    for number in range(5_000):  # a client rotating keys (or addresses), one request each
        buckets.take(f"key-{number}", 0)
    assert len(buckets) == 1_000
    # Once their buckets are full again they are dropped as newer keys come, two per request.
    later = 10 * NS_PER_SECOND
    for number in range(600):
        buckets.take(f"new-{number}", later)
    assert len(buckets) == 600  # the 1,000 full ones went, the new ones stay


@pytest.mark.parametrize(
    ("text", "budget"),
    [("2000/60", Budget(2000, 60, 200)), ("30/60/5", Budget(30, 60, 5)), (" 5/1 ", Budget(5, 1, 1))],
)
def test_budgets_parse(text: str, budget: Budget) -> None:
    assert Budget.parse(text) == budget
    assert Budget.parse(budget.describe()) == budget


@pytest.mark.parametrize("text", ["", "2000", "2000/60/200/1", "-1/60", "2000/0", "10/60/10", "1/60", "a/b", "1e3/60"])
def test_a_budget_the_bucket_cannot_honour_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="LIMIT"):
        Budget.parse(text)


def _scope(*headers: tuple[bytes, bytes], client: str = "10.0.0.1") -> dict[str, object]:
    return {"type": "http", "headers": list(headers), "client": (client, 5000)}


def test_public_and_signed_requests_draw_on_separate_budgets() -> None:
    settings = RateLimitSettings(public=Budget(3, 60, 2), signed=Budget(5, 60, 3), signed_ip=Budget(9, 60, 4))
    limiter = RateLimiter(settings, "admin", clock=lambda: 0)
    public = _scope()
    assert [limiter.check(public) for _ in range(2)] == [None, None]
    refusal = limiter.check(public)
    assert refusal is not None
    assert refusal.budget_name == "public (per IP)"
    assert refusal.retry_after_s == 60  # 3 - 2 = one request refills per 60 s
    # The same address still has its signed budget, per key and per address.
    assert all(limiter.check(_scope((b"x-api-key", b"k1"))) is None for _ in range(3))
    key_refusal = limiter.check(_scope((b"x-api-key", b"k1")))
    assert key_refusal is not None
    assert key_refusal.budget_name == "signed (per API key)"
    assert limiter.check(_scope((b"x-api-key", b"k2"))) is None  # another key, same address
    ip_refusal = limiter.check(_scope((b"x-api-key", b"k3")))  # the address's fifth signed request in a burst of 4
    assert ip_refusal is not None
    assert ip_refusal.budget_name == "signed (per IP)"
    assert limiter.check(_scope((b"x-api-key", b"k4"), client="10.0.0.2")) is None  # another address


def test_the_operator_is_not_limited_but_a_wrong_token_is() -> None:
    limiter = RateLimiter(RateLimitSettings(public=Budget(2, 60, 1)), "admin", clock=lambda: 0)
    operator = _scope((b"authorization", b"Bearer admin"))
    assert all(limiter.check(operator) is None for _ in range(10))
    guessed = _scope((b"authorization", b"Bearer guess"))
    assert limiter.check(guessed) is None
    assert limiter.check(guessed) is not None


def test_the_refusal_is_backpacks_429_with_retry_after() -> None:
    limiter = RateLimiter(RateLimitSettings(public=Budget(3, 60, 1)), clock=lambda: 0)
    limiter.check(_scope())
    refusal = limiter.check(_scope())
    assert refusal is not None
    response = refusal.response()
    assert response.status_code == 429
    assert response.headers["retry-after"] == "30"
    assert response.body == (
        b'{"code":"TOO_MANY_REQUESTS","message":"Too many requests: the public (per IP) budget allows 3 requests '
        b'in any 60 s, 1 at once; retry after 30 s"}'
    )


def test_the_web_pages_shell_and_files_are_not_counted_but_the_api_is() -> None:
    limiter = RateLimiter(RateLimitSettings(public=Budget(2, 60, 1)), clock=lambda: 0)
    page_load = [{**_scope(), "path": path} for path in ("/lend", "/futures", "/static/js/main.js", "/static/app.css")]
    assert all(limiter.check(scope) is None for scope in page_load * 50)
    api = {**_scope(), "path": "/api/v1/markets"}
    assert limiter.check(api) is None
    assert limiter.check(api) is not None, "the API still has its budget"
    socket = {**_scope(), "type": "websocket", "path": "/ws"}
    assert limiter.check(socket) is not None, "and so do WebSocket connections, on the same public budget"
