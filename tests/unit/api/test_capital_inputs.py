"""The edge parsers read the input's shape only; the engine's own rules stay the engine's.

`capital_inputs.withdraw` is the one reader of a withdrawal, and a quantity off an asset's step
reaches the engine from every borrow-lend route, to be refused there in the engine's words
(`QUANTITY_MUST_BE_MULTIPLE_OF_STEP`) rather than by a second copy of the rule at the edge.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from crossmargin.api import borrow_lend_inputs, capital_inputs
from crossmargin.api.errors import ApiError
from crossmargin.asset_config import load_asset_specs
from crossmargin.core.commands import BorrowLendSide, ExecuteBorrowLend, Withdraw
from crossmargin.core.ids import SubaccountId

SPECS = {spec.symbol: spec for spec in load_asset_specs()}
SUBACCOUNT = SubaccountId(7)


def test_a_withdrawal_is_read_into_one_withdraw() -> None:
    values: dict[str, object] = {
        "symbol": "USDC",
        "quantity": "12.5",
        "address": "0xabc",
        "blockchain": "Solana",
        "autoBorrow": "true",
        "clientId": 42,
    }
    assert capital_inputs.withdraw(SUBACCOUNT, values, SPECS) == Withdraw(
        SUBACCOUNT,
        "USDC",
        12_500_000,
        auto_borrow=True,
        auto_lend_redeem=False,
        address="0xabc",
        blockchain="Solana",
        client_id="42",
    )


def test_a_withdrawal_on_an_unknown_chain_names_the_field() -> None:
    values: dict[str, object] = {"symbol": "USDC", "quantity": "1", "address": "0xabc", "blockchain": "Moon"}
    with pytest.raises(ApiError, match=r"^blockchain 'Moon' must be one of"):
        capital_inputs.withdraw(SUBACCOUNT, values, SPECS)


def test_a_quantity_off_the_step_is_left_to_the_engine() -> None:
    specs = {**SPECS, "BTC": replace(SPECS["BTC"], step_atoms=1_000)}
    values: dict[str, object] = {"symbol": "BTC", "side": "Borrow", "quantity": "0.00000001"}
    command = borrow_lend_inputs.execute_borrow_lend(SUBACCOUNT, values, specs)
    assert command == ExecuteBorrowLend(SUBACCOUNT, "BTC", BorrowLendSide.BORROW, 1)
