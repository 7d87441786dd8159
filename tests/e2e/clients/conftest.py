"""Real-client tests: the scripts under scripts/ run in the clients' own venvs, never under pytest."""

from __future__ import annotations

# The scripts import ccxt, bpx and backpack_exchange_sdk, which the project's venv does not have:
# keep pytest's doctest collection from importing them.
collect_ignore_glob = ["scripts/*"]
