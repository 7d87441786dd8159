"""Stop, start and restart the local PostgreSQL cluster for fault tests, and give a live server its own schema.

Tests that take the database away use `pg_ctlcluster` (Debian's wrapper; root only). Other tests
share the cluster, so a test keeps its stop window short and always leaves the cluster running:
`postgres_outage` starts it again in a `finally`, whatever happened. Where the cluster cannot be
controlled the test is skipped with a note, and fails instead under CI=true.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from tests.environment import missing
from tests.integration.conftest import POSTGRES_URL, require_postgres

CLUSTERS = Path("/etc/postgresql")
CONTROL_SECONDS = 120
READY_SECONDS = 60.0


def _cluster_version() -> str | None:
    versions = sorted(path.name for path in CLUSTERS.iterdir()) if CLUSTERS.is_dir() else []
    return versions[-1] if versions else None


def require_postgres_control() -> None:
    """Skip (fail under CI=true) unless PostgreSQL runs here and this user may stop and start it."""
    require_postgres()
    reason = None
    if shutil.which("pg_ctlcluster") is None or _cluster_version() is None:
        reason = "pg_ctlcluster and a cluster under /etc/postgresql are needed to stop and start PostgreSQL"
    elif os.geteuid() != 0:
        reason = "stopping and starting PostgreSQL needs root: run the fault tests as root"
    if reason is None:
        return
    missing("control of PostgreSQL", reason)


def pg_cluster(action: str) -> None:
    """Run `pg_ctlcluster <version> main <action>` (stop, start or restart)."""
    version = _cluster_version()
    assert version is not None, "require_postgres_control() first"
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
        check=action != "start",
        capture_output=True,
        timeout=CONTROL_SECONDS,
    )


def wait_until_reachable(seconds: float = READY_SECONDS) -> None:
    """Wait (bounded) until PostgreSQL accepts connections again."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with psycopg.connect(POSTGRES_URL, connect_timeout=3) as connection:
                connection.execute("SELECT 1")
                return
        except psycopg.Error:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextmanager
def postgres_outage(action: str) -> Iterator[None]:
    """Stop or restart PostgreSQL now; on the way out, always leave it started and reachable."""
    try:
        pg_cluster(action)
        yield
    finally:
        pg_cluster("start")
        wait_until_reachable()


@contextmanager
def server_schema() -> Iterator[str]:
    """Yield a database URL whose tables live in a fresh schema of the test database; drop the schema after."""
    schema = f"crossmargin_fault_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        wait_until_reachable()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
