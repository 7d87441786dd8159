"""`crossmargin serve` prints only an admin token it generated; a chosen one is named by its source."""

from __future__ import annotations

import pytest

from crossmargin.cli.admin_token import AdminToken, TokenSource, choose_admin_token

CHOSEN = "operator-chosen-secret"


def test_the_flag_wins_over_the_environment_and_is_named_not_printed() -> None:
    token = choose_admin_token(CHOSEN, {"CROSSMARGIN_ADMIN_TOKEN": "from-environment"})
    assert token == AdminToken(CHOSEN, TokenSource.FLAG)
    assert token.describe() == "Admin token: from --admin-token"
    assert token.curl_header() == "-H 'Authorization: Bearer <your --admin-token>'"


def test_a_token_from_the_environment_is_named_and_the_curl_hint_expands_the_variable() -> None:
    token = choose_admin_token(None, {"CROSSMARGIN_ADMIN_TOKEN": CHOSEN})
    assert token == AdminToken(CHOSEN, TokenSource.ENVIRONMENT)
    assert token.describe() == "Admin token: from CROSSMARGIN_ADMIN_TOKEN"
    assert token.curl_header() == '-H "Authorization: Bearer $CROSSMARGIN_ADMIN_TOKEN"'


def test_without_flag_or_environment_a_fresh_token_is_generated_and_printed() -> None:
    token = choose_admin_token("", {"CROSSMARGIN_ADMIN_TOKEN": ""})
    assert token.source is TokenSource.GENERATED
    assert len(token.value) == 32, "24 random bytes, URL-safe base64"
    assert token.value != choose_admin_token(None, {}).value, "each server start draws a new token"
    assert token.describe() == f"Admin token: {token.value}"
    assert token.curl_header() == f"-H 'Authorization: Bearer {token.value}'"


def test_the_token_value_stays_out_of_its_repr() -> None:
    assert CHOSEN not in repr(AdminToken(CHOSEN, TokenSource.FLAG))


def test_a_generated_token_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pasted after `--admin-token`, a token starting with `-` reads as an option (found as a user on a demo server)."""
    drawn = iter(["-Bg4_L45L6skeM6GaLFSHpN22CxFPqjd", "Bg4_L45L6skeM6GaLFSHpN22CxFPqj-"])
    monkeypatch.setattr("crossmargin.cli.admin_token.secrets.token_urlsafe", lambda _bytes: next(drawn))
    assert choose_admin_token(None, {}).value == "Bg4_L45L6skeM6GaLFSHpN22CxFPqj-"
