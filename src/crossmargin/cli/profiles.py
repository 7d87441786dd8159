r"""Profiles: a subaccount's credentials saved on disk, so later commands can sign without flags.

A *profile* is one JSON file, `<config dir>/profiles/<name>.json`, holding what
`POST /admin/v1/accounts` returned (`accountId`, `subaccountId`, `apiKey`, `apiSecret`) and the
server URL it was created on. The API secret is a private key: the file is created with mode
0600 in a directory of mode 0700, and never written anywhere else. The config directory is
`CROSSMARGIN_CONFIG_DIR` when set, else `$XDG_CONFIG_HOME/crossmargin` (`~/.config/crossmargin`),
or `%APPDATA%\\crossmargin` on Windows. A profile named `default` is used when no other is chosen.

Before a profile is read or written, the config directory, its `profiles` directory and the file
must be the user's own: one that others may read or write is set to 0700 (0600 for the file) with
one line on stderr saying so; one owned by another user, or a shared directory like /tmp, is
refused (`ProfileError`), since its owner could read the secret or swap in other credentials.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from crossmargin.cli.client import Credentials
from crossmargin.cli.private_paths import NotPrivateError, Repair, make_private

DEFAULT_PROFILE: Final = "default"
NAME_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
FILE_MODE: Final = 0o600
DIRECTORY_MODE: Final = 0o700


class ProfileError(ValueError):
    """A profile name that is not allowed, a profile that does not exist, or a file that is not a profile."""


@dataclass(frozen=True, slots=True)
class Profile:
    """One saved subaccount: its ids, its credentials and the server it lives on."""

    name: str
    account_id: int
    subaccount_id: int
    credentials: Credentials
    url: str | None

    def as_json(self) -> dict[str, object]:
        """Return the file's content."""
        return {
            "accountId": self.account_id,
            "subaccountId": self.subaccount_id,
            "apiKey": self.credentials.api_key,
            "apiSecret": self.credentials.api_secret,
            "url": self.url,
        }


def config_dir() -> Path:
    """Return the directory the CLI keeps its files in (it may not exist yet)."""
    override = os.environ.get("CROSSMARGIN_CONFIG_DIR")
    if override:
        return Path(override)
    if os.name == "nt" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "crossmargin"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "crossmargin"


def profile_path(name: str) -> Path:
    """Return where the profile `name` is stored, refusing names that are not plain file names."""
    if not NAME_PATTERN.fullmatch(name):
        raise ProfileError(f"profile name {name!r} must be letters, digits, '.', '_' or '-' (at most 64)")
    return config_dir() / "profiles" / f"{name}.json"


def ensure_private(path: Path) -> None:
    """Refuse a profile location that others own; make one of ours private, saying on stderr what changed."""
    wanted = ((config_dir(), DIRECTORY_MODE), (path.parent, DIRECTORY_MODE), (path, FILE_MODE))
    repairs: list[Repair] = []
    try:
        for location, mode in wanted:
            repair = make_private(location, mode)
            if repair is not None:
                repairs.append(repair)
    except NotPrivateError as error:
        raise ProfileError(
            f"{error}. Keep profiles in a directory of your own: set CROSSMARGIN_CONFIG_DIR to one."
        ) from None
    if repairs:
        changes = "; ".join(repair.describe() for repair in repairs)
        sys.stderr.write(f"Made your profiles readable by you only (they hold API secrets): {changes}.\n")


def save_profile(profile: Profile) -> Path:
    """Write a profile readable by its owner only; return its path."""
    path = profile_path(profile.name)
    config_dir().mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    ensure_private(path)  # before the secret is written, and before creating anything inside
    path.parent.mkdir(mode=DIRECTORY_MODE, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(profile.as_json(), file, indent=2)
        file.write("\n")
    path.chmod(FILE_MODE)  # exactly 0600, whatever the umask
    return path


def profile_exists(name: str) -> bool:
    """Return whether a profile of that name is saved."""
    return profile_path(name).is_file()


def load_profile(name: str) -> Profile:
    """Read a saved profile."""
    path = profile_path(name)
    ensure_private(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(
            f"no profile {name!r} in {path.parent}: create one with `crossmargin account create --save {name}`"
        ) from None
    except json.JSONDecodeError as error:
        raise ProfileError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{path} must hold a JSON object")
    try:
        url = data.get("url")
        return Profile(
            name=name,
            account_id=int(data["accountId"]),
            subaccount_id=int(data["subaccountId"]),
            credentials=Credentials(str(data["apiKey"]), str(data["apiSecret"])),
            url=str(url) if url else None,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ProfileError(f"{path} lacks a valid field: {error}") from None
