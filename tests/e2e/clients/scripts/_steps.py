"""What every client script shares: its arguments, and running steps that report failures as data.

A script runs inside its client's own virtual environment (never the project's), so it imports
only the standard library besides its client. It prints one JSON object: for each step either
`{"ok": result}` or `{"error": "ExceptionType: message"}`, so one failing call does not hide the
others, and the test can say exactly which call failed and how.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Arguments:
    """What the test passes: the server's base URL, the subaccount's key pair, and the phase to run."""

    base_url: str
    api_key: str
    api_secret: str
    phase: str


def arguments() -> Arguments:
    if len(sys.argv) != 5:
        sys.exit(f"usage: {sys.argv[0]} BASE_URL API_KEY API_SECRET PHASE")
    base_url, api_key, api_secret, phase = sys.argv[1:]
    return Arguments(base_url.rstrip("/"), api_key, api_secret, phase)


class Steps:
    """Runs named calls and collects their results."""

    def __init__(self) -> None:
        self.results: dict[str, object] = {}

    def run(self, name: str, call: Callable[[], object]) -> object:
        try:
            result = call()
        except Exception as error:  # noqa: BLE001 -- every client failure is reported to the test as data
            self.results[name] = {"error": f"{type(error).__name__}: {error}"}
            return None
        self.results[name] = {"ok": result}
        return result

    def print(self) -> None:
        sys.stdout.write(json.dumps(self.results, default=str, sort_keys=True) + "\n")
