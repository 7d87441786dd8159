"""Parsing `/wapi/v1/apiKeys`' body: the ED25519 public key to register or revoke, into its command."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Final

from crossmargin.api import inputs
from crossmargin.api.errors import ApiError
from crossmargin.core.commands import AddApiKey, RevokeApiKey
from crossmargin.core.ids import SubaccountId

PUBLIC_KEY_BYTES: Final = 32
PUBLIC_KEY_CHARS_MAX: Final = 64


def public_key(values: Mapping[str, object]) -> str:
    """Return `publicKey` if it is the base64 of a 32-byte ED25519 public key, as `X-API-Key` carries it."""
    text = inputs.text(values, "publicKey", max_chars=PUBLIC_KEY_CHARS_MAX)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError("publicKey must be a base64 ED25519 public key") from None
    if len(raw) != PUBLIC_KEY_BYTES:
        raise ApiError(f"publicKey must be a base64 ED25519 public key of {PUBLIC_KEY_BYTES} bytes, not {len(raw)}")
    return text


def add_api_key(subaccount_id: SubaccountId, values: Mapping[str, object]) -> AddApiKey:
    """Return the command registering `publicKey` for the calling subaccount."""
    return AddApiKey(subaccount_id, public_key(values))


def revoke_api_key(subaccount_id: SubaccountId, values: Mapping[str, object]) -> RevokeApiKey:
    """Return the command revoking `publicKey` of the calling subaccount."""
    return RevokeApiKey(subaccount_id, public_key(values))
