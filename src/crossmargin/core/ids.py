"""Identifiers: distinct integer types so an account id is never passed where a subaccount id goes."""

from typing import NewType

AccountId = NewType("AccountId", int)
SubaccountId = NewType("SubaccountId", int)
PositionId = NewType("PositionId", int)
