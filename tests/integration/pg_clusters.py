"""Two PostgreSQL clusters of their own, a primary and a streaming hot standby, for replication tests.

`replication_pair` creates both with Debian's `pg_createcluster` on free ports in 5433-5439 (the
shared cluster on 5432 is never touched), configures the primary for synchronous replication
with `remote_apply` (what docs/REPLICATION.md tells operators to do), clones the standby with
`pg_basebackup -R` (streaming, `standby.signal`), starts both, and drops both afterwards,
whatever happened. Creating clusters needs root and PostgreSQL's server packages: elsewhere the
tests are skipped with a note, and fail instead under CI=true. A run killed before its clean-up
leaves clusters named `cmrepl_p_*` and `cmrepl_s_*`: `pg_lsclusters` lists them and
`pg_dropcluster --stop VERSION NAME` removes them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from tests.environment import missing

CLUSTERS = Path("/etc/postgresql")
SPARE_PORTS = range(5433, 5440)
COMMAND_SECONDS = 120
READY_SECONDS = 60.0
PRIMARY_SETTINGS = """
listen_addresses = '127.0.0.1'
synchronous_standby_names = '*'
synchronous_commit = remote_apply
"""
STANDBY_SETTINGS = """
listen_addresses = '127.0.0.1'
"""


def _version() -> str | None:
    versions = sorted(path.name for path in CLUSTERS.iterdir()) if CLUSTERS.is_dir() else []
    return versions[-1] if versions else None


def require_cluster_control() -> None:
    """Skip (fail under CI=true) unless this user can create PostgreSQL clusters here."""
    reason = None
    if shutil.which("pg_createcluster") is None or _version() is None:
        reason = (
            "replication tests create their own PostgreSQL clusters with pg_createcluster: install PostgreSQL's "
            "server packages (postgresql, postgresql-common) and run the tests as root"
        )
    elif os.geteuid() != 0:
        reason = "replication tests create PostgreSQL clusters (pg_createcluster, pg_basebackup): run them as root"
    if reason is None:
        return
    missing("the replication tests", reason)


def _run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=COMMAND_SECONDS, check=False)
    assert done.returncode == 0, f"{' '.join(command)} failed ({done.returncode}): {done.stdout}{done.stderr}"


def _ports_in_use() -> set[int]:
    used = set()
    for port in SPARE_PORTS:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                used.add(port)
    listed = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=False).stdout
    used.update(int(line.split()[2]) for line in listed.splitlines() if len(line.split()) > 2)
    return used


@dataclass(frozen=True)
class Cluster:
    """One cluster of ours: its version, name and port."""

    version: str
    name: str
    port: int

    @property
    def url(self) -> str:
        """Return the URL of its `postgres` database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def data_dir(self) -> Path:
        """Return its data directory (Debian's layout)."""
        return Path("/var/lib/postgresql") / self.version / self.name

    @property
    def config_dir(self) -> Path:
        """Return its configuration directory (Debian's layout)."""
        return CLUSTERS / self.version / self.name

    def control(self, action: str) -> None:
        """Run `pg_ctlcluster VERSION NAME action` (start, stop, promote)."""
        _run("pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, action)

    def wait_reachable(self, seconds: float = READY_SECONDS) -> None:
        """Wait (bounded) until it accepts connections."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                with psycopg.connect(self.url, connect_timeout=2) as connection:
                    connection.execute("SELECT 1")
                    return
            except psycopg.Error:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def scalar(self, query: str) -> object:
        """Return the first column of the first row of `query`."""
        with psycopg.connect(self.url, connect_timeout=5, autocommit=True) as connection:
            row = connection.execute(query).fetchone()
        return None if row is None else row[0]


def _create(version: str, name: str, port: int, settings: str) -> Cluster:
    _run("pg_createcluster", version, name, "-p", str(port), "--", "--auth=trust")
    cluster = Cluster(version, name, port)
    with (cluster.config_dir / "postgresql.conf").open("a") as conf:
        conf.write(settings)
    with (cluster.config_dir / "pg_hba.conf").open("a") as hba:
        hba.write("host replication all 127.0.0.1/32 trust\n")
    return cluster


def _wait_streaming(primary: Cluster, seconds: float = READY_SECONDS) -> None:
    """Wait (bounded) until the standby streams synchronously: before that, every commit on the primary waits."""
    deadline = time.monotonic() + seconds
    while primary.scalar("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'") != 1:
        assert time.monotonic() < deadline, f"the standby streams from the primary within {seconds} s"
        time.sleep(0.1)


@dataclass(frozen=True)
class ReplicationPair:
    """A primary streaming synchronously to a hot standby."""

    primary: Cluster
    standby: Cluster


@contextmanager
def replication_pair() -> Iterator[ReplicationPair]:
    """Create, start and finally drop a primary and its streaming standby."""
    require_cluster_control()
    version = _version()
    assert version is not None
    free = [port for port in SPARE_PORTS if port not in _ports_in_use()]
    if len(free) < 2:
        missing(
            "two free ports",
            f"two free ports in {SPARE_PORTS.start}-{SPARE_PORTS.stop - 1} are needed for the clusters",
        )
    tag = uuid.uuid4().hex[:8]
    created: list[Cluster] = []
    try:
        primary = _create(version, f"cmrepl_p_{tag}", free[0], PRIMARY_SETTINGS)
        created.append(primary)
        primary.control("start")
        primary.wait_reachable()
        standby = _create(version, f"cmrepl_s_{tag}", free[1], STANDBY_SETTINGS)
        created.append(standby)
        for entry in standby.data_dir.iterdir():  # pg_basebackup fills the (postgres-owned) directory
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        _run(
            "runuser", "-u", "postgres", "--", "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port),
            "-D", str(standby.data_dir), "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip
        standby.control("start")
        standby.wait_reachable()
        _wait_streaming(primary)
        yield ReplicationPair(primary, standby)
    finally:
        for cluster in reversed(created):
            subprocess.run(
                ["pg_dropcluster", "--stop", cluster.version, cluster.name],
                capture_output=True,
                timeout=COMMAND_SECONDS,
                check=False,
            )
