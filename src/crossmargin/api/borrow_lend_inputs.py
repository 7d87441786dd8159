"""Parse the borrow-lend commands at the edge: one parser per command, shared by every route that takes it.

Backpack's `BorrowLendExecutePayload` (`symbol`, `side`, `quantity`) reaches the engine from three
routes: the body of `POST /api/v1/borrowLend`, the query of its preview
`GET /api/v1/borrowLend/preview`, and the base64 `borrow` parameter of
`GET /api/v1/borrowLend/position/liquidationPrice`. All three read it with `execute_borrow_lend`,
so a payload one of them accepts the others accept too, as the same `ExecuteBorrowLend`.

One field is ours: `wholePosition` (boolean, crossmargin extension; Backpack's payload requires
`quantity` and has no such field). `{"symbol": "USDC", "side": "Lend", "wholePosition": true}` in
place of a quantity repays the whole USDC borrow, interest to the hour the command runs, exact to
the atom, in one command: a client that reads the debt and then sends it can be an hour of
interest short on a wall clock. Which position the side nets against, and what is refused (a
quantity off the asset's step, no position, too little balance), is the engine's to say; giving
both `quantity` and `wholePosition` is refused here.
`PATCH /api/v1/account` is read by `update_settings`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Final

from crossmargin.api import inputs
from crossmargin.api.errors import ApiError
from crossmargin.api.json_body import JsonInputError, decode_json
from crossmargin.core.assets import AssetSpec
from crossmargin.core.commands import BorrowLendSide, ExecuteBorrowLend, UpdateSettings
from crossmargin.core.ids import SubaccountId
from crossmargin.core.numbers import AMOUNT_ATOMS_MAX

SIDES: Final = (BorrowLendSide.BORROW.value, BorrowLendSide.LEND.value)
SETTINGS: Final = ("autoBorrowSettlements", "autoLend", "autoRepayBorrows", "leverageLimit")
"""The fields of `PATCH /api/v1/account`, as Backpack's `AccountUpdatePayload` names them."""
WHOLE_POSITION: Final = "wholePosition"
"""The crossmargin extension to `BorrowLendExecutePayload`: a boolean that stands in for `quantity`."""
BORROW_CHARS_MAX: Final = 1024
"""The longest `borrow` parameter: base64 of a three-field payload is about 100 characters."""


def execute_borrow_lend(
    subaccount_id: SubaccountId, values: Mapping[str, object], specs: Mapping[str, AssetSpec]
) -> ExecuteBorrowLend:
    """Return the borrow or lend a `BorrowLendExecutePayload` asks for: a listed symbol, a side, a quantity.

    Instead of `quantity`, `wholePosition: true` (a crossmargin extension) asks for the whole
    position the side nets against, measured by the engine when it runs the command.
    """
    spec = inputs.asset(values, "symbol", specs)
    side = inputs.text(values, "side")
    if side not in SIDES:
        raise ApiError(f"side {side!r} must be Borrow or Lend")
    if inputs.optional_bool(values, WHOLE_POSITION):
        if values.get("quantity") is not None:
            raise ApiError(f"Give quantity or {WHOLE_POSITION}, not both")
        # The engine measures the position when the command runs, so the quantity is not read.
        return ExecuteBorrowLend(
            subaccount_id,
            spec.symbol,
            BorrowLendSide(side),
            AMOUNT_ATOMS_MAX,  # no bound: the whole position, whatever it has grown to
            whole_position=True,
        )
    return ExecuteBorrowLend(
        subaccount_id, spec.symbol, BorrowLendSide(side), inputs.quantity(values, "quantity", spec)
    )


def update_settings(subaccount_id: SubaccountId, values: Mapping[str, object]) -> UpdateSettings:
    """Return the settings change an `AccountUpdatePayload` asks for; a field it leaves out stays as it is."""
    unknown = sorted(set(values) - set(SETTINGS))
    if unknown:
        raise ApiError(f"{unknown[0]} is not an account setting; settings are {', '.join(SETTINGS)}")
    return UpdateSettings(
        subaccount_id,
        leverage_limit=inputs.optional_ratio(values, "leverageLimit"),
        auto_lend=inputs.optional_bool(values, "autoLend"),
        auto_repay_borrows=inputs.optional_bool(values, "autoRepayBorrows"),
        auto_borrow_settlements=inputs.optional_bool(values, "autoBorrowSettlements"),
    )


def decode_borrow(encoded: str) -> dict[str, object]:
    """Return the `borrow` parameter's JSON object, or refuse it naming what is wrong."""
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError("borrow must be standard base64 of a JSON object") from None
    try:
        decoded = decode_json(raw)
    except JsonInputError:
        raise ApiError('borrow must encode JSON such as {"quantity":"1","side":"Borrow","symbol":"BTC"}') from None
    if not isinstance(decoded, dict):
        raise ApiError("borrow must encode a JSON object with quantity, side and symbol")
    return decoded


def planned_borrow_lend(
    subaccount_id: SubaccountId, parameters: dict[str, object], specs: dict[str, AssetSpec]
) -> ExecuteBorrowLend:
    """Return the borrow or lend a liquidation-price query plans: its `borrow` payload, read as the POST's body."""
    asked = parameters.get("subaccountId")
    if asked is not None and inputs.integer(parameters, "subaccountId") != subaccount_id:
        message = f"subaccountId {asked} is not this API key's subaccount ({subaccount_id}): sign with that key"
        raise ApiError(message)
    borrow = decode_borrow(inputs.text(parameters, "borrow", max_chars=BORROW_CHARS_MAX))
    # This route's refusal of a side has always listed the choices ("must be one of Borrow, Lend"),
    # so the side is checked here first, after the symbol as the POST checks; the rest is its parser.
    inputs.asset(borrow, "symbol", specs)
    inputs.choice(borrow, "side", SIDES)
    return execute_borrow_lend(subaccount_id, borrow, specs)
