"""Backpack request signing: accepted variants, bounded work, and every way a request is refused."""

from __future__ import annotations

import base64

import pytest
from nacl.signing import SigningKey, VerifyKey

from crossmargin.api import auth
from crossmargin.api.auth import (
    VERIFICATIONS_MAX,
    ReplayGuard,
    SignedHeaders,
    authenticate,
    batch_signing_texts,
    parse_signed_headers,
    signing_texts,
)
from crossmargin.api.errors import ApiError

NOW_MS = 1_767_225_600_000


def sign(key: SigningKey, text: str) -> bytes:
    return key.sign(text.encode()).signature


def headers_for(key: SigningKey, text: str, timestamp_ms: int = NOW_MS, window_ms: int = 5000) -> SignedHeaders:
    public = base64.b64encode(bytes(key.verify_key)).decode()
    return SignedHeaders(public, sign(key, text), timestamp_ms, window_ms)


def test_the_signed_text_sorts_parameters_between_instruction_and_time() -> None:
    texts = list(
        signing_texts("borrowLendExecute", {"symbol": "USDC", "side": "Borrow", "quantity": "10"}, NOW_MS, 5000)
    )
    assert texts[0] == (
        f"instruction=borrowLendExecute&quantity=10&side=Borrow&symbol=USDC&timestamp={NOW_MS}&window=5000"
    )


def test_a_correct_signature_is_accepted_once_and_a_replay_is_refused() -> None:
    key = SigningKey.generate()
    text = f"instruction=accountQuery&timestamp={NOW_MS}&window=5000"
    headers = headers_for(key, text)
    guard = ReplayGuard()
    authenticate(headers, signing_texts("accountQuery", {}, NOW_MS, 5000), guard, now_ms=NOW_MS + 10)
    with pytest.raises(ApiError, match="already used"):
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
    with pytest.raises(ApiError, match="Invalid signature"):
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
    with pytest.raises(ApiError, match="expired"):
        authenticate(headers_for(key, text), texts, ReplayGuard(), now_ms=NOW_MS + 5001)
    with pytest.raises(ApiError, match="future"):
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
    with pytest.raises(ApiError, match=message):
        parse_signed_headers(headers)


def test_headers_are_case_insensitive_and_window_defaults_to_5000() -> None:
    signature = base64.b64encode(bytes(64)).decode()
    parsed = parse_signed_headers({"x-api-key": "key", "x-signature": signature, "x-timestamp": "42"})
    assert (parsed.api_key, parsed.timestamp_ms, parsed.window_ms) == ("key", 42, 5000)


def test_an_api_key_that_is_not_a_32_byte_key_is_refused() -> None:
    headers = SignedHeaders(base64.b64encode(b"short").decode(), bytes(64), NOW_MS, 5000)
    with pytest.raises(ApiError, match="32 bytes"):
        authenticate(headers, ["x"], ReplayGuard(), now_ms=NOW_MS)


def test_a_ccxt_query_with_a_boolean_and_an_encoded_value_is_accepted() -> None:
    # ccxt prints booleans as `true` and percent-encodes every value of the same text.
    key = SigningKey.generate()
    text = (
        f"instruction=interestHistoryQueryAll&autoBorrow=true&from=2026-01-01%2000%3A00&timestamp={NOW_MS}&window=5000"
    )
    parameters = {"autoBorrow": "True", "from": "2026-01-01 00:00"}
    authenticate(
        headers_for(key, text),
        signing_texts("interestHistoryQueryAll", parameters, NOW_MS, 5000),
        ReplayGuard(),
        now_ms=NOW_MS,
    )


def test_a_batch_signed_with_booleans_as_True_is_accepted() -> None:
    key = SigningKey.generate()
    runs = "instruction=orderExecute&postOnly=True&side=Bid&instruction=orderExecute&postOnly=False&side=Ask"
    items = [{"postOnly": True, "side": "Bid"}, {"postOnly": False, "side": "Ask"}]
    authenticate(
        headers_for(key, f"{runs}&timestamp={NOW_MS}&window=5000"),
        batch_signing_texts("orderExecute", items, NOW_MS, 5000),
        ReplayGuard(),
        now_ms=NOW_MS,
    )


def _awkward_parameters(count: int) -> dict[str, object]:
    """Parameters whose every value could be printed several ways (encoded or not, true or True)."""
    values: tuple[object, ...] = ("a b", "True", True, "x,y")
    return {f"p{index:02d}": values[index % len(values)] for index in range(count)}


def test_the_signing_texts_stay_a_handful_however_many_parameters() -> None:
    few = list(signing_texts("withdraw", _awkward_parameters(4), NOW_MS, 5000))
    many = list(signing_texts("withdraw", _awkward_parameters(64), NOW_MS, 5000))
    assert len(few) == len(many) == VERIFICATIONS_MAX == 4, "one text per signing variant, not per combination"


def test_a_request_signed_as_sent_prints_one_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """The forms are printed lazily: the first verifies, the other variants are never printed."""
    printed: list[str] = []
    original = auth._run

    def counting(instruction: str, parameters: auth.Parameters, print_value: auth.PrintValue) -> str:
        printed.append(instruction)
        return original(instruction, parameters, print_value)

    monkeypatch.setattr(auth, "_run", counting)
    parameters = {"symbol": "USDC", "side": "Borrow", "quantity": "10"}
    key = SigningKey.generate()
    text = f"instruction=borrowLendExecute&quantity=10&side=Borrow&symbol=USDC&timestamp={NOW_MS}&window=5000"
    authenticate(headers_for(key, text), signing_texts("borrowLendExecute", parameters, NOW_MS, 5000), None, NOW_MS)
    assert printed == ["borrowLendExecute"]


@pytest.mark.parametrize("count", [1, 19, 64])
def test_a_wrong_signature_costs_at_most_four_verifications_for_any_parameter_count(
    monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    verified: list[str] = []
    original = auth.signature_verifies

    def counting(key: VerifyKey, text: str, signature: bytes) -> bool:
        verified.append(text)
        return original(key, text, signature)

    monkeypatch.setattr(auth, "signature_verifies", counting)
    headers = headers_for(SigningKey.generate(), "instruction=somethingElse&timestamp=1&window=5000")
    texts = signing_texts("withdraw", _awkward_parameters(count), NOW_MS, 5000)
    with pytest.raises(ApiError, match="Invalid signature"):
        authenticate(headers, texts, ReplayGuard(), now_ms=NOW_MS)
    assert 1 <= len(verified) <= VERIFICATIONS_MAX


def test_authenticate_tries_no_more_than_the_bound_even_when_given_more_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    verified: list[str] = []

    def refusing(_key: VerifyKey, text: str, _signature: bytes) -> bool:
        verified.append(text)
        return False

    monkeypatch.setattr(auth, "signature_verifies", refusing)
    headers = headers_for(SigningKey.generate(), "anything")
    with pytest.raises(ApiError, match="Invalid signature"):
        authenticate(headers, (f"text {index}" for index in range(1000)), None, now_ms=NOW_MS)
    assert len(verified) == VERIFICATIONS_MAX


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("X-Timestamp", "1" + "0" * 5000, "X-Timestamp must be a whole number of milliseconds, at most 16 digits"),
        ("X-Window", "1" + "0" * 5000, "X-Window must be a whole number of milliseconds, at most 16 digits"),
        ("X-API-Key", "A" * 65, "X-API-Key must be a base64 ED25519 public key of at most 64 characters"),
        ("X-Signature", "A" * 132, "X-Signature must be a base64 ED25519 signature of at most 128 characters"),
    ],
)
def test_an_over_long_signature_header_is_refused_naming_its_limit(name: str, value: str, message: str) -> None:
    headers = {"X-API-Key": "k", "X-Signature": base64.b64encode(bytes(64)).decode(), "X-Timestamp": "1", name: value}
    with pytest.raises(ApiError, match=message):
        parse_signed_headers(headers)
