"""Composition root: pick the journal adapter, load the asset file, and open the service.

With no database URL the journal is one SQLite file in the data directory (the default); a
`postgresql://` (or `postgres://`) URL selects PostgreSQL; `sqlite:///path` names an SQLite file
explicitly. This module is the only place that knows which adapters exist, so the service and
the core stay free of any database. It also tells the service how to reopen its journal, which
the service does (with backoff) when the database went away: PostgreSQL after a restart.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Final

from crossmargin.adapters.postgres_journal import PostgresJournal
from crossmargin.adapters.sqlite_journal import SqliteJournal, make_private_directory
from crossmargin.app.ports import Clock, Journal
from crossmargin.app.service import BATCH_MAX_DEFAULT, SNAPSHOT_EVERY_DEFAULT, Recovery, Service
from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.market_config import parse_market_specs

POSTGRES_SCHEMES: Final = ("postgresql://", "postgres://")
SQLITE_SCHEME: Final = "sqlite:///"


def open_journal(database_url: str | None, data_dir: Path, *, schema: str | None = None) -> Journal:
    """Open the journal a database URL names, or the SQLite file in `data_dir` when there is none."""
    if not database_url:
        return SqliteJournal.in_directory(data_dir)
    if database_url.startswith(POSTGRES_SCHEMES):
        return PostgresJournal(database_url, schema=schema)
    if database_url.startswith(SQLITE_SCHEME):
        path = Path(database_url.removeprefix(SQLITE_SCHEME))
        make_private_directory(path.parent)
        return SqliteJournal(path)
    raise ValueError(f"unsupported database URL {database_url!r}: use postgresql://... or sqlite:///path")


def open_service(
    database_url: str | None,
    data_dir: Path,
    clock: Clock,
    assets_path: Path | None,
    *,
    schema: str | None = None,
    batch_max: int = BATCH_MAX_DEFAULT,
    snapshot_every: int = SNAPSHOT_EVERY_DEFAULT,
) -> Service:
    """Open the journal, rebuild the state, apply the asset file, and return the running service."""
    document = load_document(assets_path)
    specs = parse_asset_specs(document)
    markets = parse_market_specs(document, specs)
    journal = open_journal(database_url, data_dir, schema=schema)
    recovery = Recovery(functools.partial(open_journal, database_url, data_dir, schema=schema))
    try:
        return Service.open(
            journal, clock, specs, markets, batch_max=batch_max, snapshot_every=snapshot_every, recovery=recovery
        )
    except BaseException:
        journal.close()
        raise
