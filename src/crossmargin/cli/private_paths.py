"""Keep the paths that hold secrets private: owned by the user who runs the CLI, and open to no one else.

`make_private(path, mode)` looks at one existing path. One owned by another user, or a shared
directory (the sticky bit, as on /tmp), is refused with `NotPrivateError`: it is not ours to
change, and others could read or replace what it holds. One of ours with any other mode is set to
`mode`, and the change is returned so that the caller can say what it fixed. Windows has no such
modes; there it checks nothing.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path


class NotPrivateError(ValueError):
    """A path that the user cannot make private: another user owns it, or it is a shared directory."""


@dataclass(frozen=True, slots=True)
class Repair:
    """One path whose mode was changed to keep others out."""

    path: Path
    was: int
    now: int

    def describe(self) -> str:
        """Return e.g. `/home/me/.config/crossmargin was 0755, now 0700`."""
        return f"{self.path} was {self.was:04o}, now {self.now:04o}"


def make_private(path: Path, mode: int) -> Repair | None:
    """Give an existing path of ours exactly `mode`; return the change, or None if none was needed."""
    if sys.platform == "win32":
        return None
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    if info.st_uid != os.geteuid():
        raise NotPrivateError(
            f"{path} is owned by {_user(info.st_uid)}, not by you: its owner can read or replace the secrets it holds"
        )
    current = stat.S_IMODE(info.st_mode)
    if stat.S_ISDIR(info.st_mode) and current & stat.S_ISVTX:
        raise NotPrivateError(f"{path} is a shared directory (sticky bit, like /tmp): others can add files to it")
    if current == mode:
        return None
    path.chmod(mode)
    return Repair(path, current, mode)


def _user(uid: int) -> str:
    if sys.platform == "win32":
        return f"uid {uid}"
    import pwd  # noqa: PLC0415 -- POSIX only

    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"
