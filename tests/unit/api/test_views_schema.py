"""Every view's output validates against the 200 response schema of its path in Backpack's spec.

The spec (`../shared/reference/backpack-openapi.yml`) is OpenAPI 3.0; its schemas are checked with
JSON Schema 2020-12, `$ref`s resolved inside the spec. Two checks go beyond the spec's letter:
`format: decimal` strings must be plain canonical decimals (no exponent, NaN, sign '+', leading or
trailing zeros), times must parse in their declared format, integers must fit their declared
width; and no object may carry a field the schema does not declare (`unevaluatedProperties`), so a
misspelt name fails even where the spec leaves extra fields open. crossmargin's own extra fields
on Backpack's schemas are declared once, in `scripts/build_openapi.py` (`EXTENDED_FIELDS`, which
also puts them in our OpenAPI description), and only those are let through. Without the spec beside
the repository these tests are skipped, saying why.
"""

from __future__ import annotations

import copy
import importlib.util
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any, Final

import pytest
import yaml
from engine_driver import HOUR_MS, MINUTE_MS, Driver
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from crossmargin.api.errors import ApiError
from crossmargin.api.views import (
    JsonValue,
    page,
    view_account,
    view_assets,
    view_borrow_lend_history,
    view_borrow_lend_markets,
    view_borrow_lend_markets_history,
    view_borrow_lend_position_history,
    view_borrow_lend_positions,
    view_capital,
    view_capital_collateral,
    view_collateral,
    view_deposits,
    view_interest_history,
    view_mark_prices,
    view_market,
    view_markets,
    view_max_borrow,
    view_max_withdrawal,
    view_securities,
    view_status,
    view_ticker,
    view_tickers,
    view_time,
    view_withdrawals,
)
from crossmargin.api.views.capital_extras import (
    view_apy,
    view_deposit_address,
    view_dust_history,
    view_max_order,
    view_wallets,
    view_withdrawal_delay,
)
from crossmargin.api.views.position_history import view_position_history
from crossmargin.core.commands import ConvertDust, PlaceOrder, SetWithdrawalDelay
from crossmargin.core.ids import SubaccountId
from crossmargin.core.numbers import WAD
from crossmargin.core.orders import OrderFlags, OrderSide, OrderType
from crossmargin.core.state import EngineState

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = ROOT.parent / "shared" / "reference"
SPEC_PATH = REFERENCE / "backpack-openapi.yml"
BUILD_SCRIPT = ROOT / "scripts" / "build_openapi.py"

pytestmark = pytest.mark.skipif(
    not SPEC_PATH.exists(),
    reason=f"Backpack's published spec is not at {SPEC_PATH} (../shared/reference is missing beside the "
    "repository), so responses cannot be checked against it",
)

DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?")
NAIVE_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3})?")
INTEGER_RANGES: Final = {
    "uint8": (0, 2**8 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
}
PAGED_PATHS: Final = (
    "/wapi/v1/history/borrowLend",
    "/wapi/v1/history/interest",
    "/wapi/v1/history/borrowLend/positions",
)

Spec = dict[str, Any]
View = Callable[[EngineState, SubaccountId], JsonValue]


def format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("decimal")
    def is_decimal(instance: object) -> bool:
        return not isinstance(instance, str) or DECIMAL.fullmatch(instance) is not None

    @checker.checks("naive-date-time", raises=ValueError)
    def is_naive_date_time(instance: object) -> bool:
        if not isinstance(instance, str):
            return True
        return NAIVE_DATE_TIME.fullmatch(instance) is not None and datetime.fromisoformat(instance).tzinfo is None

    @checker.checks("date-time", raises=ValueError)
    def is_date_time(instance: object) -> bool:
        if not isinstance(instance, str):
            return True
        naive = instance.removesuffix("Z")
        return instance.endswith("Z") and is_naive_date_time(naive)

    for name, (low, high) in INTEGER_RANGES.items():

        def in_range(instance: object, low: int = low, high: int = high) -> bool:
            return not isinstance(instance, int) or low <= instance <= high

        checker.checks(name)(in_range)
    return checker


def closed(schema: Any) -> Any:
    """Return the schema where every object used as a value refuses fields nobody declared."""
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: closed(value) for key, value in schema.items()}
    if isinstance(result.get("properties"), dict):
        result["properties"] = {name: _refuse_extra(value) for name, value in result["properties"].items()}
    for key in ("items", "additionalProperties"):
        if isinstance(result.get(key), dict):
            result[key] = _refuse_extra(result[key])
    return result


def _refuse_extra(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "unevaluatedProperties": False}


def build_script() -> ModuleType:
    """Return `scripts/build_openapi.py` as a module: it declares crossmargin's extension fields."""
    loaded = importlib.util.spec_from_file_location("build_openapi", BUILD_SCRIPT)
    assert loaded is not None
    assert loaded.loader is not None
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    return module


def with_extensions(components: Any) -> Any:
    """Return the spec's components with crossmargin's declared extension fields added to their schemas."""
    script = build_script()
    schemas = {name: script.with_extensions(name, schema) for name, schema in components["schemas"].items()}
    return {**components, "schemas": schemas}


@pytest.fixture(scope="module")
def spec() -> Spec:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loaded: Spec = yaml.load(SPEC_PATH.read_text(encoding="utf-8"), Loader=loader)
    return loaded


@pytest.fixture(scope="module")
def validators(spec: Spec) -> Callable[[str], Draft202012Validator]:
    components = closed(with_extensions(spec["components"]))
    checker = format_checker()
    cache: dict[str, Draft202012Validator] = {}

    def for_path(path: str) -> Draft202012Validator:
        if path not in cache:
            (body,) = spec["paths"][path]["get"]["responses"]["200"]["content"].values()
            schema = {**_refuse_extra(copy.deepcopy(body["schema"])), "components": components}
            Draft202012Validator.check_schema(schema)
            cache[path] = Draft202012Validator(schema, format_checker=checker)
        return cache[path]

    return for_path


def assert_valid(validator: Draft202012Validator, body: JsonValue) -> None:
    errors = sorted(validator.iter_errors(body), key=lambda error: list(error.absolute_path))
    assert not errors, "\n".join(f"{list(error.absolute_path)}: {error.message}" for error in errors[:10])


@pytest.fixture(scope="module")
def scenario() -> tuple[EngineState, dict[str, SubaccountId]]:
    """A state that exercises every view: lends, borrows, repays, auto-lend, withdrawals, hours."""
    driver = Driver()
    driver.prices(USDC="1", USDT="1", BTC="60000", ETH="3000", SOL="150")
    lender = driver.lender(USDC="100000", SOL="1000", BTC="2")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.deposit(borrower, "USDT", "5000")
    driver.at(50 * MINUTE_MS).borrow(borrower, "USDC", "2000")
    driver.borrow(borrower, "SOL", "12.5")
    driver.tick(HOUR_MS)
    driver.at(HOUR_MS + 250).lend(borrower, "SOL", "12.5")  # partial repay
    driver.at(2 * HOUR_MS + 7).accept(driver.withdraw(borrower, "USDC", "2500", auto_borrow=True))
    saver = driver.account()
    driver.settings(saver, auto_lend=True)
    driver.at(3 * HOUR_MS).deposit(saver, "USDC", "750.5")
    closer = driver.account()
    driver.deposit(closer, "ETH", "10")
    driver.borrow(closer, "BTC", "0.01")
    driver.tick(4 * HOUR_MS)
    debt = driver.holding(closer, "BTC").debt_atoms
    driver.deposit(closer, "BTC", "0.001")
    driver.lend(closer, "BTC", driver.text("BTC", debt))  # closes the position
    driver.tick(6 * HOUR_MS + 30 * MINUTE_MS)
    empty = driver.account()
    return driver.state, {"lender": lender, "borrower": borrower, "saver": saver, "closer": closer, "empty": empty}


PRIVATE_VIEWS: Final[dict[str, View]] = {
    "/api/v1/account": view_account,
    "/api/v1/account/limits/borrow": lambda state, sub: view_max_borrow(state, sub, "USDC"),
    "/api/v1/account/limits/withdrawal": lambda state, sub: view_max_withdrawal(
        state, sub, "SOL", auto_borrow=True, auto_lend_redeem=True
    ),
    "/api/v1/borrowLend/positions": view_borrow_lend_positions,
    "/api/v1/capital": view_capital,
    "/api/v1/capital/collateral": view_capital_collateral,
    "/wapi/v1/capital/deposits": view_deposits,
    "/wapi/v1/capital/withdrawals": view_withdrawals,
    "/wapi/v1/history/borrowLend": view_borrow_lend_history,
    "/wapi/v1/history/interest": view_interest_history,
    "/wapi/v1/history/borrowLend/positions": view_borrow_lend_position_history,
    "/wapi/v1/capital/deposit/address": lambda state, sub: view_deposit_address(state, sub, "Solana"),
    "/api/v1/account/limits/order": lambda state, sub: view_max_order(
        state,
        PlaceOrder(
            sub, "BTC_USDC", OrderSide.BID, OrderType.LIMIT, 1, 50_000 * WAD, flags=OrderFlags(auto_borrow=True)
        ),
    ),
    "/wapi/v1/history/position": view_position_history,
    "/wapi/v1/history/dust": view_dust_history,
}

PUBLIC_VIEWS: Final[dict[str, Callable[[EngineState], JsonValue]]] = {
    "/api/v1/assets": view_assets,
    "/api/v1/collateral": view_collateral,
    "/api/v1/borrowLend/markets": view_borrow_lend_markets,
    "/api/v1/borrowLend/markets/history": lambda state: view_borrow_lend_markets_history(state, "1w"),
    "/api/v1/markPrices": view_mark_prices,
    "/api/v1/markets": view_markets,
    "/api/v1/market": lambda state: view_market(state, "BTC_USDC"),
    "/api/v1/ticker": lambda state: view_ticker(state, "SOL_USDC", "1w"),
    "/api/v1/tickers": view_tickers,
    "/api/v1/time": lambda state: view_time(state.now_ms),
    "/api/v1/status": lambda _: view_status(),
    "/api/v1/borrowLend/apy": view_apy,
    "/api/v1/wallets": view_wallets,
}


@pytest.mark.parametrize("path", sorted(PUBLIC_VIEWS))
def test_public_view_matches_the_spec(
    path: str,
    scenario: tuple[EngineState, dict[str, SubaccountId]],
    validators: Callable[[str], Draft202012Validator],
) -> None:
    state, _ = scenario

    body = PUBLIC_VIEWS[path](state)

    assert body not in ([], {}, None), "the scenario fills every public view"
    assert_valid(validators(path), body)


def test_the_empty_securities_list_matches_the_spec(
    scenario: tuple[EngineState, dict[str, SubaccountId]],
    validators: Callable[[str], Draft202012Validator],
) -> None:
    state, _ = scenario

    body = view_securities(state)

    assert body == [], "crossmargin lists no tokenized stocks"
    assert_valid(validators("/api/v1/securities"), body)


@pytest.mark.parametrize("who", ["lender", "borrower", "saver", "closer", "empty"])
@pytest.mark.parametrize("path", sorted(PRIVATE_VIEWS))
def test_private_view_matches_the_spec(
    path: str,
    who: str,
    scenario: tuple[EngineState, dict[str, SubaccountId]],
    validators: Callable[[str], Draft202012Validator],
) -> None:
    state, subaccounts = scenario

    body = PRIVATE_VIEWS[path](state, subaccounts[who])

    assert_valid(validators(path), body)


def test_the_scenario_reaches_every_kind_of_row(scenario: tuple[EngineState, dict[str, SubaccountId]]) -> None:
    state, subs = scenario

    sources = {str(row["source"]) for row in _rows(view_borrow_lend_history(state, subs["borrower"]))}
    sources |= {str(row["source"]) for row in _rows(view_borrow_lend_history(state, subs["saver"]))}
    kinds = {str(row["paymentType"]) for row in _rows(view_interest_history(state, subs["borrower"]))}
    kinds |= {str(row["paymentType"]) for row in _rows(view_interest_history(state, subs["lender"]))}
    states = {str(row["quantity"]) == "0" for row in _rows(view_borrow_lend_position_history(state, subs["closer"]))}
    times = {str(row["timestamp"]) for row in _rows(view_borrow_lend_history(state, subs["borrower"]))}

    assert sources == {"Manual", "Withdrawal", "AutoLend"}
    assert kinds == {"EntryFee", "Borrow", "Lend"}
    assert states == {True}, "the closer's position closed"
    assert any("." in time for time in times), "a movement at a millisecond shows its fraction"
    assert _rows(view_withdrawals(state, subs["borrower"])), "a withdrawal exists"
    assert "marginFraction" in _object(view_capital_collateral(state, subs["borrower"]))


def test_the_checks_refuse_what_backpack_clients_could_not_parse(
    validators: Callable[[str], Draft202012Validator],
) -> None:
    status = validators("/api/v1/status")
    max_borrow = validators("/api/v1/account/limits/borrow")
    deposits = validators("/wapi/v1/capital/deposits")
    deposit = {"id": 0, "source": "administrator", "status": "confirmed", "symbol": "USDC", "quantity": "1"}

    for quantity in ("1e3", "NaN", "+1", "1.50", "01", "1.", ".5", 1):
        with pytest.raises(ValidationError):
            max_borrow.validate({"maxBorrowQuantity": quantity, "symbol": "USDC"})
    for created in ("2026-01-01 00:50:00", "2026-01-01T00:50:00Z", "2026-13-01T00:50:00", 1767228600000):
        with pytest.raises(ValidationError):
            deposits.validate([{**deposit, "createdAt": created}])
    with pytest.raises(ValidationError):
        deposits.validate([{**deposit, "createdAt": "2026-01-01T00:50:00", "id": 2**31}])
    with pytest.raises(ValidationError, match="Unevaluated properties"):
        status.validate({"status": "Ok", "stauts": "Ok"})
    with pytest.raises(ValidationError):
        status.validate({"message": "up"})
    deposits.validate([{**deposit, "createdAt": "2026-01-01T00:50:00.250"}])


def test_paged_endpoints_declare_the_headers_page_sends(spec: Spec) -> None:
    headers = set(page([]).headers())

    for path in PAGED_PATHS:
        declared = set(spec["paths"][path]["get"]["responses"]["200"]["headers"])
        assert headers <= declared, path


def test_query_errors_use_backpacks_error_codes(
    spec: Spec, scenario: tuple[EngineState, dict[str, SubaccountId]]
) -> None:
    state, subs = scenario
    codes = set(spec["components"]["schemas"]["ApiErrorCode"]["enum"])
    refusals: list[Callable[[], object]] = [
        lambda: view_account(state, SubaccountId(9999)),
        lambda: view_max_borrow(state, subs["borrower"], "DOGE"),
        lambda: view_borrow_lend_markets_history(state, "1h"),
        lambda: view_borrow_lend_markets_history(state, "1d", "DOGE"),
        lambda: view_borrow_lend_history(state, subs["borrower"], sources="Magic"),
        lambda: view_interest_history(state, subs["borrower"], sort_direction="up"),
        lambda: page([], limit=0),
        lambda: view_market(state, "DOGE_USDC"),
        lambda: view_ticker(state, "BTC_USDC", "1h"),
        lambda: view_markets(state, ["FUTURES"]),
    ]

    for refuse in refusals:
        with pytest.raises(ApiError) as refused:
            refuse()
        assert refused.value.code in codes
        assert refused.value.message


def _rows(value: JsonValue) -> list[dict[str, JsonValue]]:
    assert isinstance(value, list)
    return [_object(item) for item in value]


def _object(value: JsonValue) -> dict[str, JsonValue]:
    assert isinstance(value, dict)
    return value


def test_position_history_of_open_and_closed_perp_positions_matches_the_spec(
    validators: Callable[[str], Draft202012Validator],
) -> None:
    driver = Driver()
    driver.prices(USDC="1", USDT="1", BTC="60000", ETH="3000", SOL="150")
    driver.maker("BTC_USDC_PERP", "60000", "5", "2")
    trader = driver.account()
    driver.deposit(trader, "USDC", "10000")
    driver.accept(driver.order(trader, "BTC_USDC_PERP", "buy", "0.1"))
    driver.accept(driver.order(trader, "BTC_USDC_PERP", "sell", "0.1"))
    driver.accept(driver.order(trader, "BTC_USDC_PERP", "sell", "0.05"))

    body = view_position_history(driver.state, trader)

    assert [row["state"] for row in _rows(body)] == ["Open", "Closed"]
    assert_valid(validators("/wapi/v1/history/position"), body)


def test_dust_history_and_withdrawal_delay_and_a_pending_withdrawal_match_the_spec(
    validators: Callable[[str], Draft202012Validator],
) -> None:
    driver = Driver()
    driver.prices(USDC="1", USDT="1", BTC="60000", ETH="3000", SOL="150")
    sub = driver.account()
    driver.deposit(sub, "SOL", "0.005")
    driver.deposit(sub, "USDC", "100")
    driver.accept(ConvertDust(sub, "SOL"))
    driver.accept(SetWithdrawalDelay(sub, 24, create=True))
    driver.accept(driver.withdraw(sub, "USDC", "10"))
    driver.accept(SetWithdrawalDelay(sub, 2, create=False))

    dust = view_dust_history(driver.state, sub)
    delay = view_withdrawal_delay(driver.state, sub)
    withdrawals = view_withdrawals(driver.state, sub)

    assert_valid(validators("/wapi/v1/history/dust"), dust)
    assert _rows(dust)[0]["usdcReceived"] == "0.75"
    assert delay is not None
    assert_valid(validators("/wapi/v1/capital/withdrawals/delay"), delay)
    assert (delay["currentWithdrawalDelayHours"], delay["pendingWithdrawalDelayHours"]) == (24, 2)
    assert_valid(validators("/wapi/v1/capital/withdrawals"), withdrawals)
    assert _rows(withdrawals)[0]["status"] == "pending"
    assert view_withdrawal_delay(driver.state, driver.account()) is None
