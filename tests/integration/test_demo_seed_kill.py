"""A first start killed at any moment leaves either no demo or the whole demo, and the next start completes it.

Goal: demo seeding is all or nothing. Method: start `crossmargin serve` (demo, market maker) on an
empty data directory and SIGKILL it while it starts, in several attempts that each wait for a
different number of journal records (read from the SQLite file as they land) plus a few random
milliseconds, so the kill lands before, during and after seeding and while the market maker
places its first ladder. After each kill the journal is rebuilt offline: it must hold no seed at
all (no subaccounts, no prices) or the whole seed (every pool lent, the market maker funded with
every asset). Then the server starts again and must end with the whole seed and both sides of
every book quoted by the market maker.
"""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path

from server_process import ServerProcess

from crossmargin.adapters.sqlite_journal import DATABASE_FILE_NAME
from crossmargin.app.clock import ManualClock
from crossmargin.app.market_maker import MARKET_MAKER_FUNDS, ensure_market_maker, find_market_maker
from crossmargin.bootstrap import open_service
from crossmargin.cli.serve import DEMO_LIQUIDITY, DEMO_PRICES, seed_demo
from crossmargin.core.ledger import locked, spot
from crossmargin.core.numbers import parse_decimal
from crossmargin.core.state import EngineState

ATTEMPTS = 8
RECORDS_BEFORE_KILL_MAX = 40
WAIT_SECONDS = 60.0
START_MS = 1_767_225_600_000


class JournalWatcher:
    """Counts the commands in a server's SQLite journal as they land, through one read-only connection."""

    def __init__(self, data_dir: Path) -> None:
        self._path = data_dir / DATABASE_FILE_NAME
        self._connection: sqlite3.Connection | None = None

    def records(self) -> int:
        """Return how many commands the journal holds now (0 while it is being created)."""
        try:
            if self._connection is None:
                if not self._path.exists():
                    return 0
                self._connection = sqlite3.connect(f"file:{self._path}?mode=ro", uri=True, timeout=1)
            (count,) = self._connection.execute("SELECT count(*) FROM journal_entry").fetchone()
        except sqlite3.Error:
            self.close()
            return 0
        assert isinstance(count, int)
        return count

    def close(self) -> None:
        """Close the connection."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _kill_after_records(server: ServerProcess, records: int, delay_seconds: float) -> int:
    """Start the server, SIGKILL it `delay_seconds` after its journal holds `records` commands; return how many it held."""
    watcher = JournalWatcher(server.data_dir)
    server.start(wait=False)
    assert server.process is not None
    deadline = time.monotonic() + WAIT_SECONDS
    try:
        # A busy poll: seeding the old way took about 20 ms, and a sleeping poller slept through it.
        while watcher.records() < records and server.process.poll() is None:
            assert time.monotonic() < deadline, f"the server wrote {records} records within {WAIT_SECONDS} s"
        time.sleep(delay_seconds)
        server.kill()
        return watcher.records()
    finally:
        watcher.close()


def seed_problems(state: EngineState) -> list[str]:
    """Return what is missing from a whole demo seed (empty when it is all there)."""
    problems = [f"no price for {symbol}" for symbol in DEMO_PRICES if symbol not in state.mark_prices_wad]
    problems += [
        f"pool {symbol} is not lent" for symbol in DEMO_LIQUIDITY if state.pools[symbol].lend_scaled_total <= 0
    ]
    maker = find_market_maker(state)
    if maker is None:
        return [*problems, "no market maker"]
    for symbol, quantity in MARKET_MAKER_FUNDS.items():
        funded = parse_decimal(quantity, state.specs[symbol].decimals)
        held = state.ledger.get((spot(maker), symbol), 0) + state.ledger.get((locked(maker), symbol), 0)
        if held != funded:
            problems.append(f"the market maker holds {held} atoms of {symbol}, not {funded}")
    return problems


def _journal_state(data_dir: Path) -> EngineState:
    service = open_service(None, data_dir, ManualClock(START_MS), None)
    try:
        return service.read(lambda state: state)
    finally:
        service.close()


def _quoted_on_both_sides(server: ServerProcess) -> list[str]:
    """Return the markets whose book lacks bids or asks, waiting (bounded) for the market maker."""
    markets = [market["symbol"] for market in server.get("/api/v1/markets").json()]
    assert markets, "the demo lists markets"
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        one_sided = []
        for symbol in markets:
            depth = server.get("/api/v1/depth", {"symbol": symbol}).json()
            if not depth["bids"] or not depth["asks"]:
                one_sided.append(symbol)
        if not one_sided or time.monotonic() > deadline:
            return one_sided
        time.sleep(0.2)


def test_a_first_start_killed_at_any_moment_leaves_no_seed_or_the_whole_seed(tmp_path: Path) -> None:
    rng = random.Random(20261206)
    seen = {"nothing": 0, "whole": 0}
    for attempt in range(ATTEMPTS):
        server = ServerProcess(tmp_path / f"attempt{attempt}", tmp_path / f"attempt{attempt}.log")
        try:
            records = 1 + attempt * RECORDS_BEFORE_KILL_MAX // ATTEMPTS + rng.randrange(3)
            held = _kill_after_records(server, records, rng.uniform(0, 0.005))
            state = _journal_state(server.data_dir)
            if not state.subaccounts and not state.mark_prices_wad:
                seen["nothing"] += 1
            else:
                problems = seed_problems(state)
                assert not problems, f"killed with {held} records journaled, the demo is half-seeded: {problems}"
                seen["whole"] += 1
            server.start()
            assert _quoted_on_both_sides(server) == [], "after the restart every book is quoted on both sides"
        finally:
            server.stop_quietly()
        after = _journal_state(server.data_dir)
        assert seed_problems(after) == [], "the restart completed the seed"
    assert sum(seen.values()) == ATTEMPTS


def test_the_demo_is_seeded_once_in_one_command_and_the_market_maker_is_found_in_it(tmp_path: Path) -> None:
    service = open_service(None, tmp_path, ManualClock(START_MS), None)
    try:
        before = service.sequence
        assert seed_demo(service)
        assert service.sequence == before + 1, "one journaled command"
        assert not seed_demo(service), "a journal in use is not seeded again"
        assert service.sequence == before + 1
        assert service.read(seed_problems) == []
        maker, created = ensure_market_maker(service)
        assert not created, "the market maker the seed opened is found"
        assert maker == service.read(find_market_maker)
    finally:
        service.close()
