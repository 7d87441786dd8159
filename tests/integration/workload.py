"""A deterministic, seeded stream of commands, and its in-memory reference run.

The stream is a list of groups: the manual clock moves forward by the group's `advance_ms`, then
the group's commands are submitted together (so the sequencer batches them) from one thread, in
order. Every command of a group therefore runs at the group's time, each but a Tick at least 1 ms
after the engine's time (the manual clock's rule, `manual_clock_ms`), and the stream's outcome is a
function of the seed alone: the reference run executes it with `engine.execute` in memory and
says, for each command, whether it is accepted and what its journal record is. The mix covers
accounts, subaccounts, deposits, lends, borrows, repays, withdrawals, transfers, settings, price
moves and multi-hour ticks; some commands are refused, which the journal must not record.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from crossmargin.app.clock import ManualClock
from crossmargin.app.codec import decode_command, encode_command
from crossmargin.app.ports import JournalRecord
from crossmargin.app.service import Service
from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.core.commands import (
    BorrowLendSide,
    Command,
    ConfigureAssets,
    ConfigureMarkets,
    CreateAccount,
    CreateSubaccount,
    Deposit,
    ExecuteBorrowLend,
    SetMarkPrices,
    Tick,
    Transfer,
    UpdateSettings,
    Withdraw,
)
from crossmargin.core.engine import Accepted, execute
from crossmargin.core.ids import AccountId, SubaccountId
from crossmargin.core.numbers import WAD
from crossmargin.core.state import EngineState
from crossmargin.market_config import parse_market_specs

# 2023-11-14 22:50 UTC: ten minutes before a full hour, so the first borrows pay entry fees.
START_MS = 1_700_002_200_000
MINUTE_MS = 60_000
HOUR_MS = 3_600_000
ACCOUNTS = 8
USDC = 10**6
BTC = 10**8
PRICES_WAD = {"USDC": WAD, "USDT": WAD, "BTC": 60_000 * WAD, "ETH": 3_000 * WAD, "SOL": 150 * WAD}


@dataclass(frozen=True, slots=True)
class Group:
    """Commands submitted together after the clock moved forward by `advance_ms`."""

    advance_ms: int
    commands: tuple[Command, ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the reference run says of one stream command."""

    index: int
    at_ms: int
    accepted: bool
    command: Command


def build_stream(seed: int, count: int) -> list[Group]:
    """Return `count` commands after a fixed set-up, grouped, all drawn from `seed`."""
    rng = random.Random(seed)
    setup: list[Command] = [SetMarkPrices(tuple(PRICES_WAD.items()))]
    setup += [CreateAccount() for _ in range(ACCOUNTS)]
    # Subaccount ACCOUNTS + a is the second subaccount of account a, the target of its transfers.
    setup += [CreateSubaccount(AccountId(account)) for account in range(1, ACCOUNTS + 1)]
    for subaccount in range(1, ACCOUNTS + 1):
        setup.append(Deposit(SubaccountId(subaccount), "USDC", 200_000 * USDC))
        setup.append(Deposit(SubaccountId(subaccount), "BTC", 2 * BTC))
    setup += [ExecuteBorrowLend(SubaccountId(lender), "USDC", BorrowLendSide.LEND, 150_000 * USDC) for lender in (1, 2)]
    groups = [Group(0, tuple(setup))]
    made = 0
    while made < count:
        size = min(rng.randint(1, 12), count - made)
        groups.append(Group(_advance_ms(rng), tuple(_draw_command(rng) for _ in range(size))))
        made += size
    return groups


def _advance_ms(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.3:
        return 0
    if roll < 0.97:
        return rng.randint(1, 40) * MINUTE_MS + rng.randint(0, 59_999)
    return rng.randint(1, 3) * 24 * HOUR_MS


def _draw_command(rng: random.Random) -> Command:
    subaccount = SubaccountId(rng.randint(1, ACCOUNTS))
    makers: list[tuple[int, Callable[[random.Random, SubaccountId], Command]]] = [
        (20, lambda r, s: Deposit(s, r.choice(("USDC", "BTC")), r.randint(1, 5_000) * USDC // r.choice((1, 100)))),
        (15, lambda r, s: ExecuteBorrowLend(s, "USDC", BorrowLendSide.LEND, r.randint(1, 3_000) * USDC)),
        (20, lambda r, s: ExecuteBorrowLend(s, "USDC", BorrowLendSide.BORROW, r.randint(1, 8_000) * USDC)),
        (5, lambda r, s: ExecuteBorrowLend(s, "BTC", r.choice(tuple(BorrowLendSide)), r.randint(1, 10**6))),
        (10, lambda r, s: Withdraw(s, "USDC", r.randint(1, 4_000) * USDC, auto_borrow=r.random() < 0.2)),
        (5, lambda r, s: Transfer(s, SubaccountId(s + ACCOUNTS), "USDC", r.randint(1, 500) * USDC)),
        (4, lambda r, s: UpdateSettings(s, auto_repay_borrows=r.random() < 0.5)),
        (2, lambda _r, s: CreateSubaccount(AccountId(s))),
        (12, lambda r, _s: SetMarkPrices((("BTC", 60_000 * WAD * r.randint(800, 1_200) // 1_000),))),
        (7, lambda _r, _s: Tick()),
    ]
    (make,) = rng.choices([maker for _, maker in makers], weights=[weight for weight, _ in makers])
    return make(rng, subaccount)


def manual_clock_ms(clock_ms: int, state: EngineState, command: Command) -> int:
    """Return the time the service runs `command` at on a manual clock reading `clock_ms` (docs/GLOSSARY.md)."""
    return max(clock_ms, state.now_ms + (0 if isinstance(command, Tick) else 1))


@dataclass
class Reference:
    """The stream run in memory: outcomes per command and the journal the service should write."""

    outcomes: list[Outcome]
    records: list[JournalRecord]

    def accepted_through(self, index: int) -> int:
        """Return how many records the journal holds once commands 0..index are acknowledged."""
        return sum(1 for outcome in self.outcomes[: index + 1] if outcome.accepted) + 1

    def state_after(self, record_count: int, start_ms: int = START_MS) -> EngineState:
        """Return the state after exactly the first `record_count` journal records."""
        state = EngineState()
        for record in self.records[:record_count]:
            result = execute(state, decode_command(record.command), record.recorded_at_ms)
            assert isinstance(result, Accepted)
        assert state.now_ms >= start_ms or record_count == 0
        return state


def run_reference(groups: list[Group], start_ms: int = START_MS) -> Reference:
    """Execute the asset set-up and the stream in memory, as the service would."""
    state = EngineState()
    document = load_document()
    assets = parse_asset_specs(document)
    records: list[JournalRecord] = []
    clock_ms = start_ms
    for configure in (ConfigureAssets(assets), ConfigureMarkets(parse_market_specs(document, assets))):
        clock_ms = manual_clock_ms(clock_ms, state, configure)
        assert isinstance(execute(state, configure, clock_ms), Accepted)
        records.append(JournalRecord(len(records) + 1, clock_ms, encode_command(configure)))
    outcomes: list[Outcome] = []
    for group in groups:
        clock_ms += group.advance_ms
        for command in group.commands:
            now_ms = manual_clock_ms(clock_ms, state, command)
            accepted = isinstance(execute(state, command, now_ms), Accepted)
            outcomes.append(Outcome(len(outcomes), now_ms, accepted, command))
            if accepted:
                clock_ms = now_ms  # the manual clock moves along with the engine
                records.append(JournalRecord(len(records) + 1, now_ms, encode_command(command)))
    return Reference(outcomes, records)


def apply_stream(service: Service, clock: ManualClock, groups: list[Group]) -> list[bool]:
    """Submit the stream through a service as the kill worker does; return which commands were accepted."""
    accepted: list[bool] = []
    for group in groups:
        clock.advance_to(clock.now_ms() + group.advance_ms)
        futures = [service.submit(command) for command in group.commands]
        accepted += [isinstance(future.result(), Accepted) for future in futures]
    return accepted
