"""The journal as a PostgreSQL hot standby holds it, for read replicas; and the fence a failover sets.

A `StandbyJournal` reads what streaming replication brings: records, snapshots and request
signatures, on a read-only connection (a standby refuses writes anyway; this adapter never tries).
Nothing can be LISTENed for on a standby (NOTIFY is not replicated), so the replica polls
(`app/replica.py`). `standby_delay_seconds` is how far the standby's replay trails the WAL it
received, from PostgreSQL's own clock. `in_recovery` turns False once PostgreSQL promoted it.
Before the primary's sequencer first opened the journal, the standby has no journal tables: it
reads as an empty journal until they arrive, so a replica may be started first.

`fence_journal` marks a journal database that a failover replaced: it sets `journal_writer.fenced_by`,
after which no sequencer can open or append to it (INV-FENCE-1, `postgres_journal.py`). First it
ends the sessions holding the journal's writer lock: an old sequencer that is still connected
(partitioned, or killed while its COMMIT waited for the synchronous standby that was promoted
meanwhile: such a session waits forever, holding its locks). A waiting COMMIT ends "committed
locally" on the old database only, never acknowledged to a client. The fence commits with
`synchronous_commit = local`: the old primary still names the promoted standby as its
synchronous standby, which no longer follows it, and would otherwise wait for it forever.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Final

import psycopg
from psycopg import sql

from crossmargin.adapters.postgres_journal import (
    CONNECT_TIMEOUT_SECONDS,
    WRITER_LOCK_CLASS,
    PostgresReader,
    connection_kept,
)
from crossmargin.app.ports import HistoryPart, JournalRecord, ReplicaReadOnlyError, RequestSignature

TERMINATE_WAIT_MS: Final = 5_000
"""How long fencing waits for each old writer session it ends to go."""


class StandbyJournal(PostgresReader):
    """A journal schema on a hot standby (or any server), opened to read only."""

    def __init__(self, url: str, *, schema: str | None = None) -> None:
        """Connect without taking the writer lock or migrating anything."""
        self._url = url
        self._schema = schema
        self._connection = self._connect()

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        with connection_kept():
            connection = psycopg.connect(self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)
        try:
            with connection_kept():
                connection.execute("SET default_transaction_read_only = on")
                if self._schema is not None:
                    connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self._schema)))
        except BaseException:
            connection.close()
            raise
        return connection

    @property
    def backend_pid(self) -> int:
        """Return the server process id of the connection (for operators' queries and tests)."""
        return int(self._connection.info.backend_pid)

    def reconnect(self) -> None:
        """Replace the connection (after the standby restarted or the network dropped); raise if it is still away."""
        with contextlib.suppress(Exception):
            self._connection.close()
        self._connection = self._connect()

    def read(self, after_sequence: int = 0) -> Iterator[JournalRecord]:
        """Yield the records after `after_sequence`; none while the journal tables do not exist yet."""
        try:
            yield from super().read(after_sequence)
        except psycopg.errors.UndefinedTable:
            return

    def last_sequence(self) -> int:
        """Return the highest sequence held, 0 while the journal tables do not exist yet."""
        try:
            return super().last_sequence()
        except psycopg.errors.UndefinedTable:
            return 0

    def request_signatures(self, expiring_after_ms: int) -> list[RequestSignature]:
        """Return the stored request signatures expiring after `expiring_after_ms` (none before the tables)."""
        try:
            return super().request_signatures(expiring_after_ms)
        except psycopg.errors.UndefinedTable:
            return []

    def load_latest_snapshot(self) -> tuple[int, str] | None:
        """Return the latest snapshot, None while there is none (or no table yet)."""
        try:
            return super().load_latest_snapshot()
        except psycopg.errors.UndefinedTable:
            return None

    def in_recovery(self) -> bool:
        """Return whether the server is still a standby (False once PostgreSQL promoted it)."""
        with connection_kept():
            row = self._connection.execute("SELECT pg_is_in_recovery()").fetchone()
        return bool(row and row[0])

    def standby_delay_seconds(self) -> float:
        """Return how long the standby's replay trails the WAL it received: 0 when it applied all of it."""
        with connection_kept():
            row = self._connection.execute(
                "SELECT CASE WHEN NOT pg_is_in_recovery() "
                "OR pg_last_wal_receive_lsn() IS NULL OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() "
                "THEN 0 ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END"
            ).fetchone()
        return max(float(str(row[0])), 0.0) if row and row[0] is not None else 0.0

    def append(self, records: Sequence[JournalRecord], signatures: Sequence[RequestSignature] = ()) -> None:  # noqa: ARG002 -- the Journal protocol's signature
        """Refuse: a replica writes nothing."""
        raise ReplicaReadOnlyError("a read replica does not write the journal")

    def forget_request_signatures(self, expired_before_ms: int) -> None:
        """Leave the signatures alone: the primary forgets them, and the standby follows."""

    def save_snapshot(self, sequence: int, state: str, parts: Sequence[HistoryPart] = ()) -> None:  # noqa: ARG002 -- the Journal protocol's signature
        """Refuse: a replica writes nothing."""
        raise ReplicaReadOnlyError("a read replica does not write snapshots")


def fence_journal(url: str, fenced_by: str, *, schema: str | None = None) -> None:
    """Mark the journal at `url` as replaced by a failover, so no sequencer writes it again (INV-FENCE-1)."""
    with (
        connection_kept(),
        psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS) as connection,
    ):
        if schema is not None:
            connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        connection.execute("SET synchronous_commit = local")
        connection.execute(
            "SELECT pg_terminate_backend(pid, %s) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = %s::oid AND objid = hashtext(current_schema())::oid AND objsubid = 2 "
            "AND pid <> pg_backend_pid()",
            (TERMINATE_WAIT_MS, WRITER_LOCK_CLASS),
        )
        connection.execute("UPDATE journal_writer SET fenced_by = %s WHERE id = 1", (fenced_by,))
