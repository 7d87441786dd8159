"""Fixtures for the integration suite: a fresh journal database per test, on SQLite and PostgreSQL.

`database` is parametrized over both databases; the PostgreSQL case carries the `postgres` mark
(deselect with `-m "not postgres"`). PostgreSQL comes from CROSSMARGIN_TEST_POSTGRES_URL (default
postgresql://127.0.0.1:5432/test); each test gets its own schemas, dropped afterwards. When the
server cannot be reached the PostgreSQL cases are skipped with a note on how to enable them,
except under CI=true, where an unreachable server is a failure.
"""

from __future__ import annotations

import functools
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from tests.environment import missing

from crossmargin.app.clock import ManualClock
from crossmargin.app.ports import Journal
from crossmargin.app.service import Service
from crossmargin.bootstrap import open_journal, open_service

# The live-server helpers (`server_process`, `live_server`, `signing_client`) import by their own names, as in e2e/.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))

POSTGRES_URL = os.environ.get("CROSSMARGIN_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")


@functools.cache
def postgres_unreachable_reason() -> str | None:
    """Return why the test PostgreSQL server cannot be used, or None when it can."""
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        return (
            f"PostgreSQL at {POSTGRES_URL} is unreachable ({str(error).strip().splitlines()[0]}): start PostgreSQL "
            "there, or set CROSSMARGIN_TEST_POSTGRES_URL to a server where tests may create schemas"
        )
    return None


def require_postgres() -> None:
    """Skip the calling test when PostgreSQL is unreachable; fail it instead under CI=true."""
    reason = postgres_unreachable_reason()
    if reason is None:
        return
    missing("PostgreSQL", reason)


@dataclass
class Database:
    """One journal location: an SQLite data directory, or a PostgreSQL URL and schema."""

    kind: str
    root: Path
    url: str | None = None
    prefix: str = ""
    name: str = "main"
    created: list[str] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        """Return the data directory (used by SQLite only)."""
        return self.root / self.name

    @property
    def schema(self) -> str | None:
        """Return the PostgreSQL schema of this journal, None on SQLite."""
        return f"{self.prefix}_{self.name}" if self.kind == "postgres" else None

    def fresh(self, name: str) -> Database:
        """Return another, empty journal location of the same database kind."""
        return Database(self.kind, self.root, self.url, self.prefix, name, self.created)

    def open_journal(self) -> Journal:
        """Open this location's journal, as a restarted process would."""
        self._remember_schema()
        return open_journal(self.url, self.data_dir, schema=self.schema)

    def open_service(self, clock: ManualClock | None = None, **options: int) -> Service:
        """Open a service on this location through the composition root, with the demo assets."""
        self._remember_schema()
        return open_service(self.url, self.data_dir, clock or ManualClock(0), None, schema=self.schema, **options)

    def worker_arguments(self) -> list[str]:
        """Return the command-line options that point the kill worker at this location."""
        self._remember_schema()
        options = ["--data-dir", str(self.data_dir)]
        if self.url is not None:
            options += ["--database-url", self.url]
        if self.schema is not None:
            options += ["--schema", self.schema]
        return options

    def _remember_schema(self) -> None:
        if self.schema is not None and self.schema not in self.created:
            self.created.append(self.schema)


def drop_schemas(names: list[str]) -> None:
    """Drop the PostgreSQL schemas a test created."""
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        for name in names:
            connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Database:
    """Return an empty SQLite journal location in the test's temporary directory."""
    return Database("sqlite", tmp_path)


def postgres_locations(tmp_path: Path) -> Iterator[Database]:
    """Yield a PostgreSQL location in fresh schemas, and drop every schema it made afterwards."""
    require_postgres()
    database = Database("postgres", tmp_path, POSTGRES_URL, prefix=f"crossmargin_test_{uuid.uuid4().hex[:10]}")
    yield database
    drop_schemas(database.created)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """Return an empty journal location, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield Database("sqlite", tmp_path)
    else:
        yield from postgres_locations(tmp_path)
