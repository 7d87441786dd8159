"""What a snapshot costs the writer thread as history piles up: whole text against history parts.

The service snapshots every `SNAPSHOT_EVERY_DEFAULT` commands on its writer thread, between
batches: no command runs meanwhile. A state's history only grows (each settlement pass keeps every
position it moved), so a snapshot that writes the whole state again takes longer with every pass.
Since `app/snapshot_parts.py` a snapshot writes the state without its history lists and only the
records the journal does not hold yet.

The state: POSITIONS open BTC perp positions (built as `bench_settlement` builds them: pairs of
funded subaccounts), then settlement passes through the engine (the mark moves 1% each time), and
every 10 passes (CHECKPOINTS) one snapshot of each kind into its own fresh-at-start
SQLite journal (`SqliteJournal`, a full sync per commit):

- whole: `codec.encode_state` and `save_snapshot(sequence, text)`, what the service did before;
- parts: `snapshot_parts.encode_snapshot` with the journal's `history_part_ends`, and
  `save_snapshot(sequence, text, parts)`: the records since the last checkpoint's snapshot.

It reports, per checkpoint, each kind's wall time (encode + save) and the bytes it wrote, and the
ratio; then the time to read the last snapshot of each kind back into a state (what a restart pays:
all the history, either way). Aim: a snapshot's cost stays flat as passes pile up, instead of
growing with them.

    python -m bench.bench_snapshot      # about a minute; writes bench/results/snapshot.json

Measured when parts came in (one quiet run on the shared 2-core box, wall ms, encode + save):
  passes     0    10    20    30    40    50    60
  whole    240   650   997  1210  1721  1831  2121   (3.3x from 10 to 60 passes, and on)
  parts    279   621   719   586   627   566   580   (flat: the rest of the state + 10 passes)
Reading the last back: whole 2.6 s, with its parts 3.3 s (both 5.0-5.3 s before the codec stopped
building every item's place while decoding). Before parts, with the older codec, encoding alone
took 0.22 s at 0 passes and 2.35 s at 60.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Final

from bench.bench_settlement import base_state, build_direct, move_price, pairs
from bench.common import progress, save
from crossmargin.adapters.sqlite_journal import SqliteJournal
from crossmargin.app.codec import decode_snapshot, encode_state
from crossmargin.app.rebuild import MARKET_HISTORY
from crossmargin.app.snapshot_parts import decode_snapshot_with_parts, encode_snapshot
from crossmargin.core.commands import Tick
from crossmargin.core.engine import Accepted, execute
from crossmargin.core.state import EngineState

POSITIONS: Final = 10_000
CHECKPOINTS: Final = (0, 10, 20, 30, 40, 50, 60)
"""Settlement passes behind each snapshot: one every 10 passes, 60 in all (ten minutes of the exchange)."""


def _settle_passes(state: EngineState, done: int, until: int) -> None:
    for number in range(done + 1, until + 1):
        boundary = move_price(state, number)
        assert isinstance(execute(state, Tick(), boundary), Accepted)


def _whole(state: EngineState, journal: SqliteJournal, sequence: int) -> tuple[float, int]:
    started = time.perf_counter()
    text = encode_state(state, {MARKET_HISTORY: {}})
    journal.save_snapshot(sequence, text)
    return time.perf_counter() - started, len(text)


def _parts(state: EngineState, journal: SqliteJournal, sequence: int) -> tuple[float, int]:
    started = time.perf_counter()
    text, parts = encode_snapshot(state, {MARKET_HISTORY: {}}, journal.history_part_ends())
    journal.save_snapshot(sequence, text, parts)
    return time.perf_counter() - started, len(text) + sum(len(part.items) for part in parts)


def measure() -> dict[str, object]:
    """Return each checkpoint's snapshot figures, both kinds, and the time to load the last of each."""
    progress(f"snapshot: building {POSITIONS:,} open perp positions")
    state = base_state()
    build_direct(state, pairs(POSITIONS // 2))
    rows: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as directory:
        whole = SqliteJournal(Path(directory) / "whole.sqlite3")
        parted = SqliteJournal(Path(directory) / "parts.sqlite3")
        done = 0
        for checkpoint in CHECKPOINTS:
            progress(f"snapshot: {checkpoint} settlement passes of {POSITIONS:,} positions, then one of each kind")
            _settle_passes(state, done, checkpoint)
            done = checkpoint
            whole_seconds, whole_bytes = _whole(state, whole, checkpoint + 1)
            parts_seconds, parts_bytes = _parts(state, parted, checkpoint + 1)
            rows.append(
                {
                    "passes": checkpoint,
                    "settlement_passes_kept": len(state.settlements),
                    "whole_ms": whole_seconds * 1000,
                    "whole_bytes": whole_bytes,
                    "parts_ms": parts_seconds * 1000,
                    "parts_bytes": parts_bytes,
                    "whole_over_parts": whole_seconds / parts_seconds,
                }
            )
        progress("snapshot: reading the last snapshot of each kind back")
        loads = _load_times(whole, parted)
        whole.close()
        parted.close()
    first, last = rows[1], rows[-1]  # the first snapshot with passes behind it, and the last
    return {
        "positions": POSITIONS,
        "rows": rows,
        "whole_growth": last["whole_ms"] / first["whole_ms"],
        "parts_growth": last["parts_ms"] / first["parts_ms"],
        **loads,
    }


def _load_times(whole: SqliteJournal, parted: SqliteJournal) -> dict[str, float]:
    started = time.perf_counter()
    latest = whole.load_latest_snapshot()
    assert latest is not None
    from_whole = decode_snapshot(latest[1])[0]
    whole_seconds = time.perf_counter() - started
    started = time.perf_counter()
    latest = parted.load_latest_snapshot()
    assert latest is not None
    from_parts = decode_snapshot_with_parts(latest[1], parted.load_history_parts)[0]
    parts_seconds = time.perf_counter() - started
    assert encode_state(from_parts) == encode_state(from_whole), "both kinds load the same state"
    return {"load_whole_ms": whole_seconds * 1000, "load_parts_ms": parts_seconds * 1000}


def main() -> None:
    """Run the checkpoints and print the table."""
    print(f"snapshot benchmark: one snapshot on the writer thread, {POSITIONS:,} open perp positions")
    results = measure()
    print("  passes  kept   whole ms    whole MB   parts ms    parts MB   whole/parts")
    for row in results["rows"]:  # type: ignore[attr-defined]
        print(
            f"  {row['passes']:>6} {row['settlement_passes_kept']:>5} {row['whole_ms']:>10.0f} "
            f"{row['whole_bytes'] / 1e6:>11.1f} {row['parts_ms']:>10.0f} {row['parts_bytes'] / 1e6:>11.1f} "
            f"{row['whole_over_parts']:>12.1f}x"
        )
    print(
        f"  growth from {CHECKPOINTS[1]} to {CHECKPOINTS[-1]} passes: whole {results['whole_growth']:.1f}x, "
        f"parts {results['parts_growth']:.1f}x (aim: flat, about 1x)"
    )
    print(
        f"  reading the last snapshot back (a restart): whole {results['load_whole_ms']:.0f} ms, "
        f"with its parts {results['load_parts_ms']:.0f} ms"
    )
    print(f"  saved {save('snapshot', results)}")


if __name__ == "__main__":
    main()
