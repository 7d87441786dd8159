"""JSON responses with msgspec: fast, and amounts stay the decimal strings the views made them."""

from __future__ import annotations

from typing import Final

import msgspec
from starlette.responses import Response

JSON_MEDIA_TYPE = "application/json; charset=utf-8"
NO_CACHE: Final = {"Cache-Control": "no-store"}
"""The header of answers that change with the next order, price or clock step: never cache them."""
_encoder = msgspec.json.Encoder()


def encode_json(payload: object) -> bytes:
    """Return a payload as JSON bytes, as every response here encodes it."""
    return _encoder.encode(payload)


def json_response(payload: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Return a JSON response."""
    return Response(_encoder.encode(payload), status_code=status, media_type=JSON_MEDIA_TYPE, headers=headers)


def error_response(status: int, code: str, message: str) -> Response:
    """Return Backpack's error shape."""
    return json_response({"code": code, "message": message}, status)
