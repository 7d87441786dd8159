"""Bodies of `/wapi/v1/apiKeys`: a subaccount's keys, and the key a write registered or revoked."""

from __future__ import annotations

from crossmargin.api.views.common import JsonObject
from crossmargin.core.ids import SubaccountId
from crossmargin.core.state import EngineState


def view_api_keys(state: EngineState, subaccount_id: SubaccountId) -> JsonObject:
    """Return every key that signs for the subaccount, oldest first."""
    return {"subaccountId": subaccount_id, "apiKeys": list(state.subaccounts[subaccount_id].api_keys)}


def view_api_key(subaccount_id: SubaccountId, api_key: str) -> JsonObject:
    """Return the key a write registered or revoked and whom it signed for."""
    return {"subaccountId": subaccount_id, "apiKey": api_key}
