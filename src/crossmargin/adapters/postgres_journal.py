"""The journal in PostgreSQL, selected by a `postgresql://` database URL (psycopg 3).

A batch is written with one `COPY` in one transaction. The session keeps the server's
`synchronous_commit` unless it is `off` or `local`, which it raises to `on`: COMMIT returns only
once the batch is flushed to the server's WAL, and, where the server names synchronous standbys
with `remote_apply` (docs/REPLICATION.md), only once they applied it, so a read replica already
holds what the primary acknowledged.
The tables live in one schema (the connection's `search_path`, or `schema=`), so several
journals can share a database. A session-level advisory lock on the schema keeps a second writer
out; opening waits for it, which also waits out the session of a killed process: its last COMMIT,
if it was in flight, lands or is rolled back before anything is read.

The writer's term fences every other writer for good (INV-FENCE-1). Opening claims the next term
in the one-row table `journal_writer`, and every append (and snapshot) first reads that row
`FOR SHARE` in its own transaction: a writer whose term was replaced, or whose database a
failover marked `fenced_by` (`postgres_replica.fence_journal`), is refused with
`JournalFencedError` and commits nothing. The row lock orders the check against a takeover: an
append either commits before the new term does, or sees it.

A lost connection (the server restarted or stopped, the network dropped) surfaces as
`JournalUnavailableError`, from opening as from any call: the service then pauses and reopens the
journal until the database is back. Whether an append whose connection broke was committed is
unknown, so the service rebuilds its state from what the journal holds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Final

import psycopg
from psycopg import sql

from crossmargin.adapters.migrations import HISTORY_PART_ENDS, migrate_postgres
from crossmargin.app.ports import (
    HistoryPart,
    JournalConflictError,
    JournalFencedError,
    JournalLockedError,
    JournalRecord,
    JournalUnavailableError,
    RequestSignature,
)

READ_PAGE_ROWS: Final = 10_000
# COPY's text format gives these characters a meaning; escaped, they arrive as written.
COPY_TEXT_ESCAPES: Final = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})
SNAPSHOTS_KEPT: Final = 2
# The advisory lock that marks the journal's one writer (an arbitrary, fixed lock class).
WRITER_LOCK_CLASS: Final = 0x636E
WRITER_LOCK_WAIT_MS: Final = 15_000
CONNECT_TIMEOUT_SECONDS: Final = 10


@contextmanager
def connection_kept() -> Iterator[None]:
    """Turn a lost or refused connection into `JournalUnavailableError`, which the service waits out."""
    try:
        yield
    except psycopg.OperationalError as error:
        if isinstance(error, psycopg.errors.LockNotAvailable):
            raise
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise JournalUnavailableError(f"PostgreSQL is unreachable: {first_line}") from error


class PostgresReader:
    """Reads of a journal schema, on a primary or a hot standby: records, snapshots, request signatures."""

    _connection: psycopg.Connection[tuple[object, ...]]

    def read(self, after_sequence: int = 0) -> Iterator[JournalRecord]:
        """Yield every record after `after_sequence`, in order, a page at a time."""
        last = after_sequence
        while True:
            with connection_kept():
                rows = self._connection.execute(
                    "SELECT sequence, recorded_at_ms, command FROM journal_entry "
                    "WHERE sequence > %s ORDER BY sequence LIMIT %s",
                    (last, READ_PAGE_ROWS),
                ).fetchall()
            for sequence, recorded_at_ms, command in rows:
                assert isinstance(sequence, int), "sequences are integers"
                assert isinstance(recorded_at_ms, int), "times are integers"
                assert isinstance(command, str), "commands are JSON text"
                yield JournalRecord(sequence, recorded_at_ms, command)
                last = sequence
            if len(rows) < READ_PAGE_ROWS:
                return

    def last_sequence(self) -> int:
        """Return the highest journaled sequence, 0 when empty."""
        with connection_kept():
            row = self._connection.execute("SELECT coalesce(max(sequence), 0) FROM journal_entry").fetchone()
        assert row is not None, "an aggregate returns a row"
        assert isinstance(row[0], int), "sequences are integers"
        return row[0]

    def request_signatures(self, expiring_after_ms: int) -> list[RequestSignature]:
        """Return every stored request signature that expires after `expiring_after_ms`."""
        with connection_kept():
            rows = self._connection.execute(
                "SELECT signature, expires_at_ms, sequence FROM request_signature WHERE expires_at_ms > %s",
                (expiring_after_ms,),
            ).fetchall()
        found = []
        for signature, expires_at_ms, sequence in rows:
            assert isinstance(signature, bytes), "signatures are bytes"
            assert isinstance(expires_at_ms, int), "times are integers"
            assert sequence is None or isinstance(sequence, int), "sequences are integers"
            found.append(RequestSignature(signature, expires_at_ms, sequence))
        return found

    def load_latest_snapshot(self) -> tuple[int, str] | None:
        """Return the latest snapshot as (sequence, state text), or None."""
        with connection_kept():
            row = self._connection.execute(
                "SELECT sequence, state FROM snapshot ORDER BY sequence DESC LIMIT 1"
            ).fetchone()
        if row is None:
            return None
        sequence, state = row
        assert isinstance(sequence, int), "snapshot sequences are integers"
        assert isinstance(state, str), "snapshots are JSON text"
        return sequence, state

    def history_part_ends(self) -> dict[str, int]:
        """Return how many records of each history list the stored parts hold."""
        with connection_kept():
            rows = self._connection.execute(HISTORY_PART_ENDS).fetchall()
        return {str(name): _integer(stop) for name, stop in rows}

    def load_history_parts(self, name: str, stop: int) -> list[HistoryPart]:
        """Return the stored parts of one history list that start before `stop`, in order."""
        with connection_kept():
            rows = self._connection.execute(
                "SELECT start, stop, items FROM history_part WHERE name = %s AND start < %s ORDER BY start",
                (name, stop),
            ).fetchall()
        return [HistoryPart(name, _integer(start), _integer(end), str(items)) for start, end, items in rows]

    def close(self) -> None:
        """Close the connection (a writer's lock goes with it); closing twice is harmless."""
        self._connection.close()


class PostgresJournal(PostgresReader):
    """Journal and snapshots in one PostgreSQL schema, written by the one writer that holds the lock and the term."""

    def __init__(self, url: str, *, schema: str | None = None, lock_wait_ms: int = WRITER_LOCK_WAIT_MS) -> None:
        """Connect, take the writer lock (waiting up to `lock_wait_ms`), and migrate the schema."""
        with connection_kept():
            self._connection: psycopg.Connection[tuple[object, ...]] = psycopg.connect(
                url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
            )
        try:
            connection = self._connection
            _keep_commits_durable(connection)
            if schema is not None:
                connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
                connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            connection.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(f"{max(int(lock_wait_ms), 1)}ms")))
            try:
                connection.execute("SELECT pg_advisory_lock(%s, hashtext(current_schema()))", (WRITER_LOCK_CLASS,))
            except psycopg.errors.LockNotAvailable as error:
                raise JournalLockedError(f"another session is writing this journal ({url}, {schema})") from error
            connection.execute("SET lock_timeout = 0")
            with connection_kept():
                migrate_postgres(connection)
                self.term = _claim_term(connection)
        except BaseException:
            self._connection.close()
            raise

    def append(self, records: Sequence[JournalRecord], signatures: Sequence[RequestSignature] = ()) -> None:
        """Append records (one COPY) and request signatures in one transaction; durable on return."""
        if not records and not signatures:
            return
        try:
            with connection_kept(), self._connection.transaction(), self._connection.cursor() as cursor:
                self._check_term(cursor)
                if records:
                    with cursor.copy("COPY journal_entry (sequence, recorded_at_ms, command) FROM STDIN") as copy:
                        # One block of COPY text for the whole batch: much cheaper than a call per row.
                        copy.write("".join(map(_record_line, records)))
                if signatures:
                    # No unique key (schema version 5): the sequencer's replay guard answers each signature once.
                    cursor.executemany(
                        "INSERT INTO request_signature (signature, expires_at_ms, sequence) VALUES (%s, %s, %s)",
                        [(row.signature, row.expires_at_ms, row.sequence) for row in signatures],
                    )
        except psycopg.errors.UniqueViolation as error:
            raise JournalConflictError(f"sequence {records[0].sequence} or later is already journaled") from error

    def forget_request_signatures(self, expired_before_ms: int) -> None:
        """Delete the request signatures that expired before `expired_before_ms`."""
        with connection_kept():
            self._connection.execute("DELETE FROM request_signature WHERE expires_at_ms < %s", (expired_before_ms,))

    def save_snapshot(self, sequence: int, state: str, parts: Sequence[HistoryPart] = ()) -> None:
        """Store a snapshot and its new history parts, and drop all but the latest few snapshots; durable on return."""
        with connection_kept(), self._connection.transaction(), self._connection.cursor() as cursor:
            self._check_term(cursor)
            if parts:
                cursor.executemany(
                    "INSERT INTO history_part (name, start, stop, items) VALUES (%s, %s, %s, %s)",
                    [(part.name, part.start, part.stop, part.items) for part in parts],
                )
            self._connection.execute(
                "INSERT INTO snapshot (sequence, state) VALUES (%s, %s) "
                "ON CONFLICT (sequence) DO UPDATE SET state = excluded.state",
                (sequence, state),
            )
            self._connection.execute(
                "DELETE FROM snapshot WHERE sequence NOT IN "
                "(SELECT sequence FROM snapshot ORDER BY sequence DESC LIMIT %s)",
                (SNAPSHOTS_KEPT,),
            )

    def _check_term(self, cursor: psycopg.Cursor[tuple[object, ...]]) -> None:
        """Refuse, inside the open transaction, a writer whose term was replaced or whose journal was fenced."""
        row = cursor.execute("SELECT term, fenced_by FROM journal_writer WHERE id = 1 FOR SHARE").fetchone()
        assert row is not None, "migration 3 inserts the writer row"
        term, fenced_by = row
        if fenced_by is not None:
            raise JournalFencedError(f"INV-FENCE-1: this journal was fenced by a failover ({fenced_by})")
        if term != self.term:
            raise JournalFencedError(f"INV-FENCE-1: writer term {self.term} was replaced by term {term}")


def _keep_commits_durable(connection: psycopg.Connection[tuple[object, ...]]) -> None:
    """Raise `synchronous_commit` to `on` where the server has it lower; keep `remote_write`/`remote_apply`."""
    row = connection.execute("SHOW synchronous_commit").fetchone()
    if row is None or row[0] in ("off", "local"):
        connection.execute("SET synchronous_commit = on")


def _claim_term(connection: psycopg.Connection[tuple[object, ...]]) -> int:
    """Take the next writer term, or raise `JournalFencedError` if a failover fenced this journal."""
    row = connection.execute(
        "UPDATE journal_writer SET term = term + 1 WHERE id = 1 AND fenced_by IS NULL RETURNING term"
    ).fetchone()
    if row is not None:
        assert isinstance(row[0], int), "terms are integers"
        return row[0]
    fenced = connection.execute("SELECT fenced_by FROM journal_writer WHERE id = 1").fetchone()
    raise JournalFencedError(
        f"INV-FENCE-1: this journal was fenced by a failover ({fenced[0] if fenced else 'no writer row'}); "
        "the sequencer runs on the promoted database now"
    )


def _record_line(record: JournalRecord) -> str:
    return f"{record.sequence}\t{record.recorded_at_ms}\t{record.command.translate(COPY_TEXT_ESCAPES)}\n"


def _integer(value: object) -> int:
    assert isinstance(value, int), "history part bounds are integers"
    return value
