"""A seeded crash with every kind of liquidation step, digested so two runs can be compared to the atom.

`run(seed)` builds a population through the engine at one instant (no settlement, interest or
funding falls due): a supplier lends every pool, a maker quotes ladders on every spot and perp
market, and each trader is drawn from five kinds — BTC collateral borrowing USDC (the crash
benchmark's borrower), ETH and SOL collateral borrowing BTC with some USDC on hand (buys the
borrowed asset back), USDC collateral with a perp position near its maximum leverage, BTC partly
lent and a USDC borrow (its lends are redeemed), and a borrower with a resting order (cancelled
at the start). Then BTC, ETH and SOL crash, the maker re-quotes under the new prices, and the risk
monitor's sweep runs `Liquidate` on every candidate until none is left.

The digest hashes every `Liquidate`'s events (their repr) and the final balances, borrow-lend
positions, perp positions, pools and subaccounts; the counts say which paths the run took.
"""

from __future__ import annotations

import hashlib
import random
import sys
from collections import Counter

from bench import bench_liquidation

from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.core.commands import (
    BorrowLendSide,
    CancelAllOrders,
    Command,
    ConfigureAssets,
    ConfigureMarkets,
    CreateAccount,
    Deposit,
    ExecuteBorrowLend,
    Liquidate,
    PlaceOrder,
    SetMarkPrices,
    Withdraw,
)
from crossmargin.core.engine import Accepted, compute_max_withdrawal, execute
from crossmargin.core.events import AccountCreated, Backstopped, BorrowLendMoved, LiquidationStepped
from crossmargin.core.ids import SubaccountId
from crossmargin.core.insurance import INSURANCE_FUND_ID
from crossmargin.core.limits import compute_subaccount_margin
from crossmargin.core.numbers import WAD
from crossmargin.core.orders import OrderSide, OrderType
from crossmargin.core.state import EngineState
from crossmargin.core.transaction import Transaction
from crossmargin.market_config import parse_market_specs

NOW_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC: nothing falls due while the clock stands still
PRICES = {"USDC": WAD, "USDT": WAD, "BTC": 60_000 * WAD, "ETH": 3_000 * WAD, "SOL": 150 * WAD}
CRASH = {"BTC": 75, "ETH": 70, "SOL": 62}  # percent of the price left
SUPPLY_USD = {"USDC": 20_000_000, "USDT": 2_000_000, "BTC": 6_000_000, "ETH": 3_000_000, "SOL": 1_500_000}
MAKER_USD = {"USDC": 80_000_000, "USDT": 10_000_000, "BTC": 40_000_000, "ETH": 20_000_000, "SOL": 10_000_000}
SWEEPS_MAX = 64


class Run:
    """The engine state of one seeded crash and what its liquidations did."""

    def __init__(self, seed: int) -> None:
        self.state = EngineState()
        self.rng = random.Random(seed)
        self.digest = hashlib.sha256()
        self.counts: Counter[str] = Counter()

    def accept(self, command: Command) -> tuple[object, ...]:
        result = execute(self.state, command, NOW_MS)
        assert isinstance(result, Accepted), f"{command}: {result}"
        return result.events

    def attempt(self, command: Command) -> None:
        execute(self.state, command, NOW_MS)

    def account(self) -> SubaccountId:
        events = self.accept(CreateAccount())
        return next(event.subaccount_id for event in events if isinstance(event, AccountCreated))

    def atoms(self, symbol: str, usd: int) -> int:
        spec = self.state.specs[symbol]
        unit: int = 10**spec.decimals
        return usd * unit * WAD // self.state.mark_prices_wad[symbol] // spec.step_atoms * spec.step_atoms

    def ladder(self, maker: SubaccountId, market: str) -> None:
        """Quote eight levels a side, 0.2% apart, around the market's index."""
        self.attempt(CancelAllOrders(maker, market))
        spec = self.state.markets[market]
        index = self.state.mark_prices_wad[spec.base] * WAD // self.state.mark_prices_wad[spec.quote]
        quantity = self.atoms(spec.base, 400_000) // spec.step_atoms * spec.step_atoms
        for level in range(1, 9):
            for side, sign in ((OrderSide.BID, -1), (OrderSide.ASK, 1)):
                price = index * (1_000 + sign * 2 * level) // 1_000 // spec.tick_size_wad * spec.tick_size_wad
                self.attempt(PlaceOrder(maker, market, side, OrderType.LIMIT, quantity, price))

    def borrow_near_max(self, trader: SubaccountId, symbol: str) -> None:
        """Withdraw most of what a borrow of `symbol` allows (auto-borrow): the debt stays, its asset leaves."""
        most = compute_max_withdrawal(
            Transaction(self.state, NOW_MS), trader, symbol, auto_borrow=True, auto_lend_redeem=False
        )
        quantity = most * self.rng.randint(70, 99) // 100
        if quantity:
            self.attempt(Withdraw(trader, symbol, quantity, auto_borrow=True))

    def perp_long(self, trader: SubaccountId, market: str, usd: int) -> None:
        """Go long about as many times the deposit as the crash will about wipe out (some go bankrupt)."""
        spec = self.state.markets[market]
        lost = 100 - CRASH[spec.base]
        notional_wad = usd * WAD * self.rng.randint(80 * 100 // lost, 104 * 100 // lost) // 100
        quantity = notional_wad * spec.base_unit_atoms // self.state.perp_marks_wad[market] // spec.step_atoms
        self.attempt(PlaceOrder(trader, market, OrderSide.BID, OrderType.MARKET, quantity * spec.step_atoms))

    def trader(self, kind: int) -> None:
        trader = self.account()
        usd = self.rng.randint(2_000, 40_000)
        if kind == 0:  # BTC collateral, a USDC borrow
            self.accept(Deposit(trader, "BTC", self.atoms("BTC", usd)))
            self.borrow_near_max(trader, "USDC")
            if self.rng.random() < 0.5:  # some USDC back on hand: a repay from spot
                self.accept(Deposit(trader, "USDC", self.atoms("USDC", usd // 50)))
        elif kind == 1:  # ETH and SOL collateral, a BTC borrow, some USDC to buy it back with
            self.accept(Deposit(trader, "ETH", self.atoms("ETH", usd)))
            self.accept(Deposit(trader, "SOL", self.atoms("SOL", usd // 2)))
            self.accept(Deposit(trader, "USDC", self.atoms("USDC", usd // 20)))
            self.borrow_near_max(trader, "BTC")
        elif kind == 2:  # USDC collateral, a perp near its maximum leverage
            self.accept(Deposit(trader, "USDC", self.atoms("USDC", usd)))
            self.perp_long(trader, self.rng.choice(("BTC_USDC_PERP", "ETH_USDC_PERP", "SOL_USDC_PERP")), usd)
        elif kind == 3:  # BTC partly lent, a USDC borrow
            self.accept(Deposit(trader, "BTC", self.atoms("BTC", usd)))
            self.accept(ExecuteBorrowLend(trader, "BTC", BorrowLendSide.LEND, self.atoms("BTC", usd // 2)))
            self.borrow_near_max(trader, "USDC")
        else:  # SOL collateral, an ETH borrow, a resting order far below the market
            self.accept(Deposit(trader, "SOL", self.atoms("SOL", usd)))
            self.borrow_near_max(trader, "ETH")
            spec = self.state.markets["SOL_USDC"]
            price = 100 * WAD // spec.tick_size_wad * spec.tick_size_wad
            self.attempt(PlaceOrder(trader, "SOL_USDC", OrderSide.ASK, OrderType.LIMIT, spec.step_atoms * 10, price))

    def build(self, traders: int) -> SubaccountId:
        document = load_document()
        assets = parse_asset_specs(document)
        self.accept(ConfigureAssets(assets))
        self.accept(ConfigureMarkets(parse_market_specs(document, assets)))
        self.accept(SetMarkPrices(tuple(sorted(PRICES.items()))))
        supplier, maker = self.account(), self.account()
        for symbol, usd in sorted(SUPPLY_USD.items()):
            self.accept(Deposit(supplier, symbol, self.atoms(symbol, usd)))
            self.accept(ExecuteBorrowLend(supplier, symbol, BorrowLendSide.LEND, self.atoms(symbol, usd)))
        for symbol, usd in sorted(MAKER_USD.items()):
            self.accept(Deposit(maker, symbol, self.atoms(symbol, usd)))
        self.accept(Deposit(INSURANCE_FUND_ID, "USDC", self.atoms("USDC", 200_000)))
        for market in sorted(self.state.markets):
            self.ladder(maker, market)
        for number in range(traders):
            self.trader(number % 5)
        return maker

    def crash(self, maker: SubaccountId) -> None:
        moved = tuple((symbol, PRICES[symbol] * left // 100) for symbol, left in sorted(CRASH.items()))
        self.accept(SetMarkPrices(moved))
        for market in sorted(self.state.markets):
            self.ladder(maker, market)

    def is_candidate(self, subaccount_id: SubaccountId) -> bool:
        subaccount = self.state.subaccounts[subaccount_id]
        summary = compute_subaccount_margin(Transaction(self.state, NOW_MS), subaccount)
        return subaccount.liquidating or summary.is_liquidatable

    def sweep(self) -> None:
        """Liquidate every candidate, pass after pass, until a whole pass finds none."""
        for _ in range(SWEEPS_MAX):
            found = [
                sid for sid in sorted(self.state.subaccounts) if sid != INSURANCE_FUND_ID and self.is_candidate(sid)
            ]
            if not found:
                return
            for subaccount_id in found:
                result = execute(self.state, Liquidate(subaccount_id), NOW_MS)
                self.digest.update(repr(result).encode())
                self.count(result.events if isinstance(result, Accepted) else ())
        raise AssertionError("the sweep does not end")

    def count(self, events: tuple[object, ...]) -> None:
        for event in events:
            if isinstance(event, LiquidationStepped):
                self.counts[event.kind.value] += 1
            elif isinstance(event, Backstopped):
                self.counts["backstop"] += 1
            elif isinstance(event, BorrowLendMoved) and event.event_type.value == "LendRedeem":
                self.counts["redeem"] += 1

    def final_digest(self) -> str:
        state = self.state
        for part in (state.ledger, state.positions, state.perp_positions, state.pools, state.subaccounts):
            self.digest.update(repr(sorted(part.items(), key=repr)).encode())
        return self.digest.hexdigest()


def run(seed: int, traders: int = 40) -> tuple[str, dict[str, int]]:
    """Return the digest of one seeded crash and its sweep, and how many steps of each kind it took."""
    replay = Run(seed)
    replay.crash(replay.build(traders))
    replay.sweep()
    return replay.final_digest(), dict(sorted(replay.counts.items()))


def bench_crash(count: int) -> str:
    """Return the digest of the crash benchmark's population (`bench/bench_liquidation.py`) liquidated in order."""
    state, borrowers, total_btc = bench_liquidation.build(count)
    bench_liquidation.crash(state, total_btc)
    digest = hashlib.sha256()
    for subaccount_id in borrowers:
        for _ in range(SWEEPS_MAX):
            result = execute(state, Liquidate(subaccount_id), bench_liquidation.START_MS)
            digest.update(repr(result).encode())
            if not state.subaccounts[subaccount_id].liquidating:
                break
    for part in (state.ledger, state.positions, state.pools, state.subaccounts):
        digest.update(repr(sorted(part.items(), key=repr)).encode())
    return digest.hexdigest()


if __name__ == "__main__":
    for seed in (1, 2, 3):
        sys.stdout.write(f"{seed} {run(seed)}\n")
    sys.stdout.write(f"bench {bench_crash(150)}\n")
