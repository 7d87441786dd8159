"""What every client command runs with: where the server is, who signs, and where output goes.

A command's *context* is resolved once from its options, the environment and the saved profiles,
each setting from the first source that has it:

- server URL: `--url`, `CROSSMARGIN_URL`, the URL saved in the chosen profile, http://127.0.0.1:8080;
- operator token: `--admin-token`, `CROSSMARGIN_ADMIN_TOKEN`;
- subaccount credentials: `--api-key` with `--api-secret`, `--profile NAME`, `CROSSMARGIN_API_KEY`
  with `CROSSMARGIN_API_SECRET`, `CROSSMARGIN_PROFILE`, the profile named `default` if saved.

Output is either for people (rich tables on stdout, notes and errors on stderr) or, with `--json`,
the JSON bodies alone on stdout for scripts. A command that cannot go on raises `CommandError`;
the runner prints it as `error: message` (or `error CODE: message` for the server's refusals).
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, field

from rich.console import Console, RenderableType

from crossmargin.cli.client import DEFAULT_URL, Client, Credentials
from crossmargin.cli.profiles import DEFAULT_PROFILE, Profile, load_profile, profile_exists


class CommandError(Exception):
    """A command refused to go on; the message says why and what to do instead."""


@dataclass(frozen=True, slots=True)
class Output:
    """Where a command writes: rich renderables for people, or JSON for scripts."""

    console: Console
    errors: Console
    as_json: bool

    def data(self, value: object) -> None:
        """Print a JSON value on stdout (only in --json mode)."""
        if self.as_json:
            self.console.file.write(json.dumps(value, indent=2) + "\n")

    def show(self, *renderables: RenderableType) -> None:
        """Print tables, or plain text (never read as markup), for people (not in --json mode)."""
        if not self.as_json:
            text = isinstance(renderables[0], str)
            self.console.print(*renderables, soft_wrap=text, markup=not text)

    def note(self, text: str) -> None:
        """Tell people something on the side: on stdout normally, on stderr in --json mode."""
        (self.errors if self.as_json else self.console).print(text, soft_wrap=True, markup=False)


@dataclass(frozen=True, slots=True)
class Settings:
    """The resolved URL, operator token and subaccount credentials (each may be missing)."""

    url: str
    admin_token: str | None
    credentials: Credentials | None
    profile: Profile | None = field(default=None)


def _option(arguments: argparse.Namespace, name: str) -> str | None:
    value = getattr(arguments, name, None)
    return str(value) if value else None


def _chosen_profile(arguments: argparse.Namespace) -> Profile | None:
    named = _option(arguments, "profile")
    if named:
        return load_profile(named)
    if _option(arguments, "api_key") or os.environ.get("CROSSMARGIN_API_KEY"):
        return None
    from_env = os.environ.get("CROSSMARGIN_PROFILE")
    if from_env:
        return load_profile(from_env)
    return load_profile(DEFAULT_PROFILE) if profile_exists(DEFAULT_PROFILE) else None


def _credentials(arguments: argparse.Namespace, profile: Profile | None) -> Credentials | None:
    key, secret = _option(arguments, "api_key"), _option(arguments, "api_secret")
    if key or secret:
        if not (key and secret):
            raise CommandError("--api-key and --api-secret go together: give both")
        return Credentials(key, secret)
    if profile is not None:
        return profile.credentials
    key, secret = os.environ.get("CROSSMARGIN_API_KEY"), os.environ.get("CROSSMARGIN_API_SECRET")
    if key or secret:
        if not (key and secret):
            raise CommandError("CROSSMARGIN_API_KEY and CROSSMARGIN_API_SECRET go together: set both")
        return Credentials(key, secret)
    return None


def resolve_settings(arguments: argparse.Namespace) -> Settings:
    """Resolve URL, token and credentials from options, environment and profiles."""
    profile = _chosen_profile(arguments)
    credentials = _credentials(arguments, profile)
    if profile is not None and credentials != profile.credentials:
        profile = None
    url = (
        _option(arguments, "url")
        or os.environ.get("CROSSMARGIN_URL")
        or (profile.url if profile is not None else None)
        or DEFAULT_URL
    )
    token = _option(arguments, "admin_token") or os.environ.get("CROSSMARGIN_ADMIN_TOKEN") or None
    return Settings(url, token, credentials, profile)


@dataclass(slots=True)
class Context:
    """A running command: its options, settings, HTTP client and output."""

    arguments: argparse.Namespace
    settings: Settings
    client: Client
    out: Output

    def require_admin(self) -> None:
        """Refuse to go on without the operator token."""
        if self.settings.admin_token is None:
            raise CommandError(
                "this is an operator command: pass --admin-token or set CROSSMARGIN_ADMIN_TOKEN "
                "(`crossmargin serve` prints the token when it starts)"
            )

    def require_credentials(self) -> None:
        """Refuse to go on without a subaccount's credentials."""
        if self.settings.credentials is None:
            raise CommandError(
                "this command signs as a subaccount: save one with `crossmargin account create --save`, "
                "or pass --profile NAME, or --api-key and --api-secret "
                "(or set CROSSMARGIN_API_KEY and CROSSMARGIN_API_SECRET)"
            )

    def subaccount_id(self) -> int:
        """Return the subaccount an operator command acts on: --subaccount, else the profile's."""
        given = getattr(self.arguments, "subaccount", None)
        if given is not None:
            return int(given)
        if self.settings.profile is not None:
            return self.settings.profile.subaccount_id
        raise CommandError("which subaccount? pass --subaccount ID, or --profile NAME of a saved one")
