"""The operator API's own bodies (`/admin/v1`): new credentials, the subaccount list, the audit, the echoes.

The insurance fund's view is `insurance_fund.py`. A deposit, a transfer and a price change answer
with what was asked, as it was sent (the quantity and prices as the operator wrote them, not
reformatted); the clock answers with its time in milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence

from crossmargin.api.views.common import JsonObject, JsonValue
from crossmargin.core.audit import Check
from crossmargin.core.commands import Deposit, Transfer
from crossmargin.core.events import AccountCreated, Event, SubaccountCreated
from crossmargin.core.ids import AccountId, SubaccountId
from crossmargin.core.insurance import INSURANCE_FUND_ID
from crossmargin.core.state import EngineState


def view_new_key(account_id: AccountId, subaccount_id: SubaccountId, api_key: str, api_secret: str) -> JsonObject:
    """Return a new key pair and whom it signs for; the secret is shown this once and never stored."""
    return {"accountId": account_id, "subaccountId": subaccount_id, "apiKey": api_key, "apiSecret": api_secret}


def view_created_key(events: Sequence[Event], api_key: str, api_secret: str) -> JsonObject:
    """Return the new key pair of the account or subaccount that `events` report created."""
    created = next(event for event in events if isinstance(event, AccountCreated | SubaccountCreated))
    return view_new_key(created.account_id, created.subaccount_id, api_key, api_secret)


def view_deposit(command: Deposit, quantity: str) -> JsonObject:
    """Return the operator's deposit as asked: whose, which asset, the quantity as sent."""
    return {"subaccountId": command.subaccount_id, "symbol": command.symbol, "quantity": quantity}


def view_transfer(command: Transfer, quantity: str) -> JsonObject:
    """Return the operator's transfer as asked: which asset, the quantity as sent."""
    return {"symbol": command.symbol, "quantity": quantity}


def view_prices_set(prices: object) -> JsonObject:
    """Return the prices the operator set, as sent: symbol to decimal string, in the order given.

    `prices` is the request's field, already read by `admin_inputs.set_mark_prices`.
    """
    assert isinstance(prices, dict), "the prices were parsed as an object before they are echoed"
    return {"prices": {str(symbol): str(price) for symbol, price in prices.items()}}


def view_clock(now_ms: int) -> JsonObject:
    """Return the exchange's time in milliseconds since the epoch."""
    return {"now": now_ms}


def view_subaccounts(state: EngineState) -> list[JsonValue]:
    """Return every subaccount but the insurance fund, by id: its account, how many keys sign for it, liquidating.

    `liquidating` is the engine's flag (a liquidation under way), as the risk monitor sets it.
    """
    return [
        {
            "subaccountId": subaccount.subaccount_id,
            "accountId": subaccount.account_id,
            "apiKeyCount": len(subaccount.api_keys),
            "liquidating": subaccount.liquidating,
        }
        for subaccount_id, subaccount in sorted(state.subaccounts.items())
        if subaccount_id != INSURANCE_FUND_ID
    ]


def view_audit(checks: Sequence[Check]) -> JsonObject:
    """Return the invariant checks of the live state and whether all of them hold."""
    return {
        "ok": all(check.ok for check in checks),
        "checks": [{"invariant": check.invariant, "ok": check.ok, "detail": check.detail} for check in checks],
    }
