"""Identifiers: distinct integer types so an account id is never passed where a subaccount id goes."""

from typing import Final, NewType

AccountId = NewType("AccountId", int)
SubaccountId = NewType("SubaccountId", int)
PositionId = NewType("PositionId", int)

INSURANCE_FUND_ID: Final = SubaccountId(0)
"""The insurance fund's subaccount (see `insurance.py`), outside the id counters."""
INSURANCE_ACCOUNT_ID: Final = AccountId(0)
