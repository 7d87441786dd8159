"""The operator's admin token for `crossmargin serve`: where it came from, and how to show it without leaking it.

A token the operator chose (`--admin-token` or `CROSSMARGIN_ADMIN_TOKEN`) is a secret the operator
already has, so the server names its source and never prints it: server output often ends up in
logs. Only a token the server generated is printed, since nobody could learn it otherwise.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Final

ENVIRONMENT_VARIABLE: Final = "CROSSMARGIN_ADMIN_TOKEN"
GENERATED_BYTES: Final = 24


class TokenSource(Enum):
    """Where the admin token came from."""

    FLAG = "--admin-token"
    ENVIRONMENT = ENVIRONMENT_VARIABLE
    GENERATED = "generated"


@dataclass(frozen=True, slots=True)
class AdminToken:
    """The admin token and its source; the value stays out of `repr`."""

    value: str = field(repr=False)
    source: TokenSource

    def describe(self) -> str:
        """Return the `Admin token:` line: the token itself only when the server generated it."""
        if self.source is TokenSource.GENERATED:
            return f"Admin token: {self.value}"
        return f"Admin token: from {self.source.value}"

    def curl_header(self) -> str:
        """Return curl's `-H` option that sends the token, without spelling out a token the operator chose."""
        if self.source is TokenSource.GENERATED:
            return f"-H 'Authorization: Bearer {self.value}'"
        if self.source is TokenSource.ENVIRONMENT:
            return f'-H "Authorization: Bearer ${ENVIRONMENT_VARIABLE}"'
        return "-H 'Authorization: Bearer <your --admin-token>'"


def choose_admin_token(flag: str | None, environment: Mapping[str, str]) -> AdminToken:
    """Return `--admin-token` if given, else `CROSSMARGIN_ADMIN_TOKEN` if set, else a new random token."""
    if flag:
        return AdminToken(flag, TokenSource.FLAG)
    from_environment = environment.get(ENVIRONMENT_VARIABLE)
    if from_environment:
        return AdminToken(from_environment, TokenSource.ENVIRONMENT)
    return AdminToken(generate_token(), TokenSource.GENERATED)


def generate_token() -> str:
    """Return a fresh URL-safe token that does not start with `-`.

    One in 64 drawn tokens did, and pasted after `--admin-token` it read as an option: `crossmargin
    deposit BTC 1 --admin-token -Bg4...` failed with "expected one argument".
    """
    while True:
        token = secrets.token_urlsafe(GENERATED_BYTES)
        if not token.startswith("-"):
            return token
