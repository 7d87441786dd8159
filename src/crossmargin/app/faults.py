"""Journal faults: what the service does when its journal cannot be written, and what it tells people.

When an append fails, the batch it carried was already applied to the state in memory, which is
now ahead of the journal. From that moment until the fault is over the service is in
*maintenance*: it refuses commands and reads that depend on the engine state with
`ServiceUnavailableError` (HTTP 503 `MAINTENANCE`), and `/api/v1/status` reports Maintenance with
the fault's message. Each episode is logged once when it starts and once when it ends.

- `JOURNAL_UNAVAILABLE`: the database went away (PostgreSQL restarted or stopped). The sequencer
  reopens the journal with backoff, rebuilds the state from it (snapshot + replay), checks that
  nothing acknowledged is missing, re-seeds the replay guard, and resumes without a restart.
- `JOURNAL_FAILED`: the journal cannot be written by this process (a full disk under SQLite, a
  schema from another release, another writer). `JOURNAL_BEHIND`: after reconnecting, the journal
  ends before the last command acknowledged to a client (a database restored from an older copy).
  `INTERNAL_ERROR`: a bug stopped the sequencer. These are *fatal*: the service stays in
  maintenance, and `crossmargin serve` exits with a status of its own so a supervisor restarts it.

A request refused because of a fault says whether it was executed: `executed=False` when it never
reached the journal, None when its batch's commit failed and the outcome is unknown until the
journal is read again (a retry of the same signed request is then refused as a duplicate if it
was executed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

FAULT_RETRY_SECONDS: Final = 0.5
"""How long a background worker waits before trying the service again during a journal fault."""


class FaultKind(StrEnum):
    """Why the service is in maintenance."""

    JOURNAL_UNAVAILABLE = "journal_unavailable"
    JOURNAL_FAILED = "journal_failed"
    JOURNAL_BEHIND = "journal_behind"
    INTERNAL_ERROR = "internal_error"


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault episode: its kind, what to tell people, and when it started (monotonic seconds)."""

    kind: FaultKind
    message: str
    started_at: float = field(default_factory=time.monotonic)

    @property
    def fatal(self) -> bool:
        """Return whether only a restart of the process ends this fault."""
        return self.kind is not FaultKind.JOURNAL_UNAVAILABLE


class ServiceUnavailableError(RuntimeError):
    """The service refuses commands and state reads for now: a journal fault (HTTP 503 MAINTENANCE).

    `executed` is False when the refused command certainly did not run, None when it is unknown.
    """

    def __init__(self, message: str, *, executed: bool | None = False) -> None:
        super().__init__(message)
        self.message = message
        self.executed = executed


class ServiceFailedError(ServiceUnavailableError):
    """The service stopped after a fault it cannot recover from in this process; it must be restarted."""


class JournalBehindError(RuntimeError):
    """The journal ends before the last sequence acknowledged to a client: acknowledged commands are missing."""


def describe(kind: FaultKind, error: BaseException) -> str:
    """Return the message `/api/v1/status` and every refused request carry during a fault."""
    cause = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    match kind:
        case FaultKind.JOURNAL_UNAVAILABLE:
            return (
                f"The journal cannot be written ({cause}). Writes and account reads are paused and resume by "
                "themselves once the database is back; the server is reconnecting."
            )
        case FaultKind.JOURNAL_FAILED:
            return (
                f"The journal cannot be written ({cause}). The server is stopping and must be restarted once the "
                "cause is fixed (free disk space, check the database, stop any other writer)."
            )
        case FaultKind.JOURNAL_BEHIND:
            return (
                f"The journal lost acknowledged commands ({cause}). The server is stopping: restore the journal "
                "that holds every acknowledged command before restarting it."
            )
        case FaultKind.INTERNAL_ERROR:
            return (
                f"An internal error stopped the exchange ({type(error).__name__}: {cause}). The server is stopping "
                "and must be restarted; the operator's log has the details."
            )


def refusal(fault: Fault, *, executed: bool | None) -> ServiceUnavailableError:
    """Return the error a request refused during `fault` gets, saying whether it was executed."""
    if executed is None:
        outcome = (
            " Whether this request was executed is unknown until the journal is read again: sending the same "
            "signed request again is refused as a duplicate if it was."
        )
    else:
        outcome = " This request was not executed."
    error_type = ServiceFailedError if fault.fatal else ServiceUnavailableError
    return error_type(fault.message + outcome, executed=executed)
