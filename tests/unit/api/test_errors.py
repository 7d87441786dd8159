"""Every engine refusal maps to a code of Backpack's published ApiErrorCode enum."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from crossmargin.api.errors import ApiError, api_error_code, from_rejection, unauthorized
from crossmargin.core.rejections import RejectReason

SPEC = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "backpack-openapi.yml"


@pytest.mark.parametrize("reason", list(RejectReason))
def test_every_reason_maps_to_a_client_error(reason: RejectReason) -> None:
    status, code = api_error_code(reason)
    assert 400 <= status < 500
    assert code.isupper()


def test_codes_come_from_the_published_enum() -> None:
    if not SPEC.exists():
        pytest.skip(f"Backpack's spec is not beside the repository ({SPEC}); clone with ../shared to check codes")
    enum = set(yaml.safe_load(SPEC.read_text(encoding="utf-8"))["components"]["schemas"]["ApiErrorCode"]["enum"])
    unknown = {api_error_code(reason)[1] for reason in RejectReason} - enum
    assert not unknown


def test_the_issue_names_map_as_backpack_clients_expect() -> None:
    assert api_error_code(RejectReason.MARGIN_INSUFFICIENT)[1] == "INSUFFICIENT_MARGIN"
    assert api_error_code(RejectReason.BORROW_LIMIT_EXCEEDED)[1] == "BORROW_LIMIT"
    assert api_error_code(RejectReason.BALANCE_INSUFFICIENT)[1] == "INSUFFICIENT_FUNDS"
    error = from_rejection(RejectReason.MARGIN_INSUFFICIENT, "Borrow would exceed your available margin")
    assert error.body() == {"code": "INSUFFICIENT_MARGIN", "message": "Borrow would exceed your available margin"}


def test_one_api_error_takes_its_status_from_its_code_unless_given() -> None:
    assert ApiError("quantity is required").status == 400
    assert ApiError("No open BTC_USDC order with orderId 7", "RESOURCE_NOT_FOUND").status == 404
    assert ApiError("Unknown market 'X'", "INVALID_MARKET").status == 400
    signature = unauthorized("Invalid signature")
    assert (signature.status, signature.body()) == (401, {"code": "UNAUTHORIZED", "message": "Invalid signature"})
    refusal = from_rejection(RejectReason.ORDER_NOT_FOUND, "No such order")
    assert (refusal.status, refusal.code) == (404, "RESOURCE_NOT_FOUND")
