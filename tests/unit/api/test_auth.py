"""Backpack request signing: accepted variants, and every way a request is refused."""

from __future__ import annotations

import base64

import pytest
from nacl.signing import SigningKey

from crossmargin.api.auth import (
    AuthError,
    ReplayGuard,
    SignedHeaders,
    authenticate,
    parse_signed_headers,
    signing_texts,
)

NOW_MS = 1_767_225_600_000


def sign(key: SigningKey, text: str) -> bytes:
    return key.sign(text.encode()).signature


def headers_for(key: SigningKey, text: str, timestamp_ms: int = NOW_MS, window_ms: int = 5000) -> SignedHeaders:
    public = base64.b64encode(bytes(key.verify_key)).decode()
    return SignedHeaders(public, sign(key, text), timestamp_ms, window_ms)


def test_the_signed_text_sorts_parameters_between_instruction_and_time() -> None:
    texts = signing_texts("borrowLendExecute", {"symbol": "USDC", "side": "Borrow", "quantity": "10"}, NOW_MS, 5000)
    assert texts[0] == (
        f"instruction=borrowLendExecute&quantity=10&side=Borrow&symbol=USDC&timestamp={NOW_MS}&window=5000"
    )


def test_a_correct_signature_is_accepted_once_and_a_replay_is_refused() -> None:
    key = SigningKey.generate()
    text = f"instruction=accountQuery&timestamp={NOW_MS}&window=5000"
    headers = headers_for(key, text)
    guard = ReplayGuard()
    authenticate(headers, signing_texts("accountQuery", {}, NOW_MS, 5000), guard, now_ms=NOW_MS + 10)
    with pytest.raises(AuthError, match="already used"):
        authenticate(headers, signing_texts("accountQuery", {}, NOW_MS, 5000), guard, now_ms=NOW_MS + 20)


@pytest.mark.parametrize("printed", ["True", "true"])
def test_booleans_signed_as_true_or_True_are_both_accepted(printed: str) -> None:
    key = SigningKey.generate()
    text = f"instruction=maxWithdrawalQuantity&autoBorrow={printed}&symbol=BTC&timestamp={NOW_MS}&window=5000"
    parameters = {"autoBorrow": True, "symbol": "BTC"}
    authenticate(
        headers_for(key, text),
        signing_texts("maxWithdrawalQuantity", parameters, NOW_MS, 5000),
        ReplayGuard(),
        now_ms=NOW_MS,
    )


def test_percent_encoded_values_are_accepted() -> None:
    key = SigningKey.generate()
    text = f"instruction=interestHistoryQueryAll&from=2026-01-01%2000%3A00&timestamp={NOW_MS}&window=5000"
    parameters = {"from": "2026-01-01 00:00"}
    authenticate(
        headers_for(key, text),
        signing_texts("interestHistoryQueryAll", parameters, NOW_MS, 5000),
        ReplayGuard(),
        now_ms=NOW_MS,
    )


def test_a_query_boolean_sent_as_True_verifies_a_signature_over_true() -> None:
    # bpx-py and backpack-exchange-sdk sign `autoBorrow=true` but pass the bool to requests,
    # which puts `autoBorrow=True` in the query string: the server sees the text "True".
    key = SigningKey.generate()
    text = f"instruction=maxWithdrawalQuantity&autoBorrow=true&autoLendRedeem=false&symbol=BTC&timestamp={NOW_MS}&window=5000"
    parameters = {"autoBorrow": "True", "autoLendRedeem": "False", "symbol": "BTC"}
    authenticate(
        headers_for(key, text),
        signing_texts("maxWithdrawalQuantity", parameters, NOW_MS, 5000),
        ReplayGuard(),
        now_ms=NOW_MS,
    )


def test_a_comma_list_signed_percent_encoded_as_ccxt_does_is_accepted() -> None:
    # ccxt signs its urlencoded query: `sources=Manual%2CAutoLend`, while the server decodes a comma.
    key = SigningKey.generate()
    text = f"instruction=borrowHistoryQueryAll&limit=10&sources=Manual%2CAutoLend&timestamp={NOW_MS}&window=5000"
    parameters = {"limit": "10", "sources": "Manual,AutoLend"}
    authenticate(
        headers_for(key, text),
        signing_texts("borrowHistoryQueryAll", parameters, NOW_MS, 5000),
        ReplayGuard(),
        now_ms=NOW_MS,
    )


def test_a_signature_over_other_parameters_is_refused() -> None:
    key = SigningKey.generate()
    text = f"instruction=borrowLendExecute&quantity=1&side=Borrow&symbol=USDC&timestamp={NOW_MS}&window=5000"
    tampered = {"quantity": "1000", "side": "Borrow", "symbol": "USDC"}
    with pytest.raises(AuthError, match="Invalid signature"):
        authenticate(
            headers_for(key, text),
            signing_texts("borrowLendExecute", tampered, NOW_MS, 5000),
            ReplayGuard(),
            now_ms=NOW_MS,
        )


def test_an_expired_or_future_request_is_refused() -> None:
    key = SigningKey.generate()
    text = f"instruction=accountQuery&timestamp={NOW_MS}&window=5000"
    texts = signing_texts("accountQuery", {}, NOW_MS, 5000)
    with pytest.raises(AuthError, match="expired"):
        authenticate(headers_for(key, text), texts, ReplayGuard(), now_ms=NOW_MS + 5001)
    with pytest.raises(AuthError, match="future"):
        authenticate(headers_for(key, text), texts, ReplayGuard(), now_ms=NOW_MS - 2000)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"X-Signature": "AA==", "X-Timestamp": "1"}, "Missing header X-API-KEY"),
        ({"X-API-Key": "k", "X-Signature": "not base64!", "X-Timestamp": "1"}, "X-Signature is not valid base64"),
        (
            {"X-API-Key": "k", "X-Signature": base64.b64encode(bytes(64)).decode(), "X-Timestamp": "1e3"},
            "X-Timestamp must be",
        ),
        (
            {
                "X-API-Key": "k",
                "X-Signature": base64.b64encode(bytes(64)).decode(),
                "X-Timestamp": "1",
                "X-Window": "60001",
            },
            "X-Window must be between 1 and 60000",
        ),
    ],
)
def test_malformed_headers_are_refused_naming_the_header(headers: dict[str, str], message: str) -> None:
    with pytest.raises(AuthError, match=message):
        parse_signed_headers(headers)


def test_headers_are_case_insensitive_and_window_defaults_to_5000() -> None:
    signature = base64.b64encode(bytes(64)).decode()
    parsed = parse_signed_headers({"x-api-key": "key", "x-signature": signature, "x-timestamp": "42"})
    assert (parsed.api_key, parsed.timestamp_ms, parsed.window_ms) == ("key", 42, 5000)


def test_an_api_key_that_is_not_a_32_byte_key_is_refused() -> None:
    headers = SignedHeaders(base64.b64encode(b"short").decode(), bytes(64), NOW_MS, 5000)
    with pytest.raises(AuthError, match="32 bytes"):
        authenticate(headers, ["x"], ReplayGuard(), now_ms=NOW_MS)
