"""The operator API's own bodies (`/admin/v1`): new credentials, the subaccount list, the audit.

The insurance fund's view is `insurance_fund.py`; the rest of the operator answers echo what was
asked (a deposit, a transfer, prices, the clock) and are built where they are answered.
"""

from __future__ import annotations

from collections.abc import Sequence

from crossmargin.api.views.common import JsonObject, JsonValue
from crossmargin.core.audit import Check
from crossmargin.core.ids import AccountId, SubaccountId
from crossmargin.core.insurance import INSURANCE_FUND_ID
from crossmargin.core.state import EngineState


def view_new_key(account_id: AccountId, subaccount_id: SubaccountId, api_key: str, api_secret: str) -> JsonObject:
    """Return a new key pair and whom it signs for; the secret is shown this once and never stored."""
    return {"accountId": account_id, "subaccountId": subaccount_id, "apiKey": api_key, "apiSecret": api_secret}


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
