"""StateView: a read-only view of the engine state as of one instant, for views, risk and the CLI.

A view reads exactly as a command's transaction does (the same read methods, so the same answers),
and it can never change the state: its `commit` refuses. What a read helper writes into it (valuing
an insurance fund that does not exist yet, a what-if child of it) stays in the view and is dropped
with it. `engine.preview` hands back its before and after states as views.
"""

from __future__ import annotations

from typing import NoReturn

from crossmargin.core.state import EngineState
from crossmargin.core.transaction import Transaction


class StateView(Transaction):
    """The state (or a transaction) as of `now_ms` (its own time by default), readable and never committed."""

    def __init__(self, base: EngineState | Transaction, now_ms: int | None = None) -> None:
        super().__init__(base, base.now_ms if now_ms is None else now_ms)

    def commit(self) -> NoReturn:
        """Refuse: only `engine.execute` changes the state."""
        msg = "a StateView never changes the state: only engine.execute commits"
        raise AssertionError(msg)
