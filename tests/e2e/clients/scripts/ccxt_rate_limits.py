"""ccxt's `backpack` class against a rate-limited crossmargin server: 429s, ccxt's throttle, its retries, a bot's backoff.

Usage (inside .venv-ccxt): ccxt_rate_limits.py BASE_URL API_KEY API_SECRET throttled|bot|retry|burst.

- throttled: ccxt's own throttle (`enableRateLimit`, `rateLimit` in ms) set below the server's
  budget: no request is refused.
- bot: a bot's loop with the throttle off: on `ccxt.RateLimitExceeded` it waits the server's
  `Retry-After` (doubling a short wait if there is none) and tries again; every call succeeds.
- retry: ccxt's own retries (`maxRetriesOnFailure`, `maxRetriesOnFailureDelay`), throttle off.
- burst: the throttle off and no retries: signed, then public calls until the server refuses one;
  the exception's class is what ccxt maps Backpack's 429 `TOO_MANY_REQUESTS` to.
"""

from __future__ import annotations

import time

import ccxt
from _steps import Steps, arguments

CALLS = 8
BURST_CALLS_MAX = 60
BOT_TRIES_MAX = 100


def _exchange(base_url: str, api_key: str, api_secret: str, **settings: object) -> ccxt.backpack:
    return ccxt.backpack(
        {
            "apiKey": api_key,
            "secret": api_secret,
            "urls": {"api": {"public": base_url, "private": base_url}},
            **settings,
        }
    )


def _throttled(exchange: ccxt.backpack) -> dict[str, object]:
    exchange.load_markets()
    started = time.monotonic()
    balances = [isinstance(exchange.fetch_balance(), dict) for _ in range(CALLS)]
    return {"calls": len(balances), "seconds": round(time.monotonic() - started, 2)}


def _bot(exchange: ccxt.backpack) -> dict[str, object]:
    exchange.load_markets()
    succeeded = refused = 0
    waits: list[float] = []
    backoff = 0.25
    for _ in range(BOT_TRIES_MAX):
        if succeeded == CALLS:
            break
        try:
            exchange.fetch_balance()
        except ccxt.RateLimitExceeded:
            refused += 1
            retry_after = (exchange.last_response_headers or {}).get("Retry-After")
            wait = float(retry_after) if retry_after else backoff
            backoff = min(backoff * 2, 8.0)
            waits.append(wait)
            time.sleep(wait)
            continue
        succeeded += 1
        backoff = 0.25
    return {"succeeded": succeeded, "refused": refused, "waits": waits}


def _retry(exchange: ccxt.backpack) -> dict[str, object]:
    exchange.load_markets()
    balances = [isinstance(exchange.fetch_balance(), dict) for _ in range(CALLS)]
    return {"calls": len(balances), "all_answered": all(balances)}


def _until_refused(call: object) -> dict[str, object]:
    for number in range(BURST_CALLS_MAX):
        try:
            call()  # type: ignore[operator]
        except Exception as error:  # noqa: BLE001 -- the class is what the test checks
            return {
                "passed": number,
                "class": type(error).__name__,
                "rate_limit_exceeded": isinstance(error, ccxt.RateLimitExceeded),
                "network_error": isinstance(error, ccxt.NetworkError),
                "message": str(error),
            }
    return {"passed": BURST_CALLS_MAX, "class": None}


def main() -> None:
    args = arguments()
    steps = Steps()
    if args.phase == "throttled":
        exchange = _exchange(args.base_url, args.api_key, args.api_secret, enableRateLimit=True, rateLimit=500)
        steps.run("throttled", lambda: _throttled(exchange))
    elif args.phase == "bot":
        exchange = _exchange(args.base_url, args.api_key, args.api_secret, enableRateLimit=False)
        steps.run("bot", lambda: _bot(exchange))
    elif args.phase == "retry":
        options = {"maxRetriesOnFailure": 10, "maxRetriesOnFailureDelay": 1000}
        exchange = _exchange(args.base_url, args.api_key, args.api_secret, enableRateLimit=False, options=options)
        steps.run("retry", lambda: _retry(exchange))
    elif args.phase == "burst":
        exchange = _exchange(args.base_url, args.api_key, args.api_secret, enableRateLimit=False)
        exchange.load_markets()
        steps.run("signed", lambda: _until_refused(exchange.fetch_balance))
        steps.run("public", lambda: _until_refused(exchange.fetch_time))
    steps.print()


if __name__ == "__main__":
    main()
