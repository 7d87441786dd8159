"""Parse the capital commands at the edge: one parser per command, shared by every route that takes it.

A withdrawal (`POST /wapi/v1/capital/withdrawals`, Backpack's `AccountWithdrawalPayload`) becomes a
`Withdraw`; the operator's deposit and transfer (`POST /admin/v1/deposits`,
`POST /admin/v1/transfers`) become a `Deposit` and a `Transfer`. What is checked here is only the
input's shape: a listed symbol, a positive quantity in whole atoms of the asset, the field bounds.
Whether the money is there and the subaccounts exist is the engine's to say.
"""

from __future__ import annotations

from collections.abc import Mapping

from crossmargin.api import inputs
from crossmargin.core.assets import AssetSpec
from crossmargin.core.commands import ConvertDust, Deposit, SetWithdrawalDelay, Transfer, Withdraw
from crossmargin.core.ids import SubaccountId


def withdraw(subaccount_id: SubaccountId, values: Mapping[str, object], specs: Mapping[str, AssetSpec]) -> Withdraw:
    """Return the `Withdraw` an `AccountWithdrawalPayload` asks for."""
    spec = inputs.asset(values, "symbol", specs)
    return Withdraw(
        subaccount_id,
        spec.symbol,
        inputs.quantity(values, "quantity", spec),
        auto_borrow=bool(inputs.optional_bool(values, "autoBorrow")),
        auto_lend_redeem=bool(inputs.optional_bool(values, "autoLendRedeem")),
        address=inputs.text(values, "address", max_chars=inputs.ADDRESS_CHARS_MAX),
        blockchain=inputs.choice(values, "blockchain", inputs.BLOCKCHAINS),
        client_id=inputs.optional_text(values, "clientId", max_chars=inputs.WITHDRAWAL_CLIENT_ID_CHARS_MAX) or "",
    )


def deposit(values: Mapping[str, object], specs: Mapping[str, AssetSpec]) -> Deposit:
    """Return the `Deposit` an operator's deposit asks for (`symbol`, `quantity`, `subaccountId`).

    Subaccount 0 is the insurance fund: the operator may top it up, so 0 is accepted here.
    """
    spec = inputs.asset(values, "symbol", specs)
    atoms = inputs.quantity(values, "quantity", spec)
    return Deposit(SubaccountId(inputs.integer(values, "subaccountId", minimum=0)), spec.symbol, atoms)


def transfer(values: Mapping[str, object], specs: Mapping[str, AssetSpec]) -> Transfer:
    """Return the `Transfer` an operator asks for: `fromSubaccountId`, `toSubaccountId`, `symbol`, `quantity`."""
    spec = inputs.asset(values, "symbol", specs)
    return Transfer(
        SubaccountId(inputs.integer(values, "fromSubaccountId", minimum=1)),
        SubaccountId(inputs.integer(values, "toSubaccountId", minimum=1)),
        spec.symbol,
        inputs.quantity(values, "quantity", spec),
    )


def convert_dust(subaccount_id: SubaccountId, values: Mapping[str, object]) -> ConvertDust:
    """Return the `ConvertDust` an `AccountConvertDustPayload` asks for (no symbol: every dust balance)."""
    return ConvertDust(subaccount_id, inputs.optional_text(values, "symbol"))


UINT32_MAX = 2**32 - 1


def set_withdrawal_delay(
    subaccount_id: SubaccountId, values: Mapping[str, object], *, create: bool
) -> SetWithdrawalDelay:
    """Return the `SetWithdrawalDelay` a `CreateWithdrawalDelayRequest` or `UpdateWithdrawalDelayRequest` asks for.

    `twoFactorToken` is required, as in Backpack's schema, and bounded; crossmargin has no second
    factor to check it against, so any token is taken.
    """
    hours = inputs.integer(
        values, "withdrawalDelayHours", maximum=UINT32_MAX, maximum_is=" (an unsigned 32-bit integer)"
    )
    inputs.text(values, "twoFactorToken")
    return SetWithdrawalDelay(subaccount_id, hours, create=create)
