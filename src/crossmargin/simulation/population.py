"""The simulated population: seeded plans for subaccounts of every kind the engine serves.

Each `AccountPlan` is a role and the ordinary commands that set the subaccount up (deposits,
settings, lends, borrows, withdrawals, orders), written for a placeholder subaccount id and bound
to the real one with `bind` once `CreateAccount` has given it. The roles:

- lenders supply one to three pools;
- borrowers deposit one asset, borrow another (USDC, BTC, ETH or SOL) at 30-70% of the collateral's
  value and withdraw it (spent elsewhere), so a fall of the collateral or a rise of the debt hurts;
- spot-margin users buy (or sell short) on a spot book with `autoBorrow`, at 1.5-4x;
- perp traders go long or short at 2-12x from USDC; some hold only USDT, so their settled losses are
  auto-borrowed in USDC (source `Reconciliation`).

The first accounts take each role once, so even a small population shows every kind; the rest draw
roles by weight. Sizes are log-uniform in USD and converted to atoms at the starting prices.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

from crossmargin.core.assets import AssetSpec
from crossmargin.core.commands import (
    BorrowLendSide,
    Command,
    Deposit,
    ExecuteBorrowLend,
    PlaceOrder,
    UpdateSettings,
    Withdraw,
)
from crossmargin.core.ids import SubaccountId
from crossmargin.core.markets import MarketSpec
from crossmargin.core.numbers import WAD, Ratio
from crossmargin.core.orders import OrderFlags, OrderSide, OrderType, TimeInForce

PLACEHOLDER: Final = SubaccountId(-1)
"""The subaccount id plans are written for; `bind` replaces it with the real one."""
VOLATILE: Final = ("BTC", "ETH", "SOL")
PERP_LEVERAGE_LIMIT: Final = Ratio(20 * WAD)
AUTO_BORROW: Final = OrderFlags(auto_borrow=True)


class Role(StrEnum):
    """What a simulated subaccount does."""

    LENDER = "lender"
    BORROWER = "borrower"
    SPOT_MARGIN = "spot-margin"
    PERP_LONG = "perp-long"
    PERP_SHORT = "perp-short"
    PERP_USDT = "perp-usdt-only"


ROLE_WEIGHTS: Final = {
    Role.LENDER: 20,
    Role.BORROWER: 25,
    Role.SPOT_MARGIN: 15,
    Role.PERP_LONG: 15,
    Role.PERP_SHORT: 10,
    Role.PERP_USDT: 15,
}


@dataclass(frozen=True, slots=True)
class AccountPlan:
    """One subaccount's role and its set-up commands, written for `PLACEHOLDER`."""

    role: Role
    commands: tuple[Command, ...]

    def bind(self, subaccount_id: SubaccountId) -> list[Command]:
        """Return the set-up commands for a real subaccount id."""
        bound: list[Command] = []
        for command in self.commands:
            assert getattr(command, "subaccount_id", None) == PLACEHOLDER, "plans speak for one subaccount"
            bound.append(replace(command, subaccount_id=subaccount_id))  # type: ignore[arg-type]  # asserted above
        return bound


@dataclass(frozen=True, slots=True)
class Market:
    """What the generator needs to know: asset specs, market specs and starting prices (WAD)."""

    specs: Mapping[str, AssetSpec]
    markets: Mapping[str, MarketSpec]
    prices_wad: Mapping[str, int]

    def asset_atoms(self, symbol: str, usd: int) -> int:
        """Return `usd` dollars of an asset in atoms, rounded down to its step."""
        spec = self.specs[symbol]
        atoms = usd * WAD * spec.unit_atoms // self.prices_wad[symbol]
        return atoms - atoms % spec.step_atoms

    def base_atoms(self, market: str, usd: int) -> int:
        """Return `usd` dollars of a market's base in atoms, rounded down to its step."""
        spec = self.markets[market]
        atoms = usd * WAD * spec.base_unit_atoms // self.prices_wad[spec.base]
        return atoms - atoms % spec.step_atoms


def generate_population(seed: int, accounts: int, market: Market) -> list[AccountPlan]:
    """Return `accounts` plans drawn from `seed`: each role once first, then roles by weight."""
    rng = random.Random(seed)  # noqa: S311 -- a seeded, reproducible simulation, not a secret
    roles = list(ROLE_WEIGHTS)
    plans = []
    for index in range(accounts):
        role = roles[index] if index < len(roles) else rng.choices(roles, weights=list(ROLE_WEIGHTS.values()))[0]
        plans.append(AccountPlan(role, tuple(_commands(role, rng, market))))
    return plans


def _usd(rng: random.Random, low: int, high: int) -> int:
    """Return a whole number of dollars, log-uniform in [low, high]."""
    return round(math.exp(rng.uniform(math.log(low), math.log(high))))


def _commands(role: Role, rng: random.Random, market: Market) -> list[Command]:
    if role is Role.LENDER:
        return _lender(rng, market)
    if role is Role.BORROWER:
        return _borrower(rng, market)
    if role is Role.SPOT_MARGIN:
        return _spot_margin(rng, market)
    return _perp_trader(role, rng, market)


def _lender(rng: random.Random, market: Market) -> list[Command]:
    commands: list[Command] = []
    for symbol in sorted(rng.sample(sorted(market.specs), k=rng.randint(1, 3))):
        atoms = market.asset_atoms(symbol, _usd(rng, 10_000, 200_000))
        commands.append(Deposit(PLACEHOLDER, symbol, atoms))
        commands.append(ExecuteBorrowLend(PLACEHOLDER, symbol, BorrowLendSide.LEND, atoms))
    return commands


def _borrower(rng: random.Random, market: Market) -> list[Command]:
    collateral = rng.choice([*VOLATILE, "USDC"])
    debt = rng.choice([symbol for symbol in ("USDC", *VOLATILE) if symbol != collateral])
    value = _usd(rng, 2_000, 50_000)
    borrowed = market.asset_atoms(debt, value * rng.randint(30, 70) // 100)
    return [
        Deposit(PLACEHOLDER, collateral, market.asset_atoms(collateral, value)),
        ExecuteBorrowLend(PLACEHOLDER, debt, BorrowLendSide.BORROW, borrowed),
        Withdraw(PLACEHOLDER, debt, borrowed),
    ]


def _spot_margin(rng: random.Random, market: Market) -> list[Command]:
    base = rng.choice(VOLATILE)
    symbol = f"{base}_USDC"
    equity = _usd(rng, 1_000, 20_000)
    leverage_percent = rng.randint(150, 400)
    deposit: Command = Deposit(PLACEHOLDER, "USDC", market.asset_atoms("USDC", equity))
    if rng.random() < 0.7:
        quote_atoms = market.asset_atoms("USDC", equity * leverage_percent // 100)
        buy = PlaceOrder(
            PLACEHOLDER,
            symbol,
            OrderSide.BID,
            OrderType.MARKET,
            None,
            quote_quantity_atoms=quote_atoms,
            time_in_force=TimeInForce.IOC,
            flags=AUTO_BORROW,
        )
        return [deposit, buy]
    quantity = market.base_atoms(symbol, equity * (leverage_percent - 100) // 100)
    sell = PlaceOrder(
        PLACEHOLDER, symbol, OrderSide.ASK, OrderType.MARKET, quantity, time_in_force=TimeInForce.IOC, flags=AUTO_BORROW
    )
    return [deposit, sell]


def _perp_trader(role: Role, rng: random.Random, market: Market) -> list[Command]:
    symbol = f"{rng.choice(VOLATILE)}_USDC_PERP"
    equity = _usd(rng, 1_000, 20_000)
    if role is Role.PERP_USDT:
        side = rng.choice((OrderSide.BID, OrderSide.ASK))
        leverage = rng.randint(2, 8)
        collateral = "USDT"
    else:
        side = OrderSide.BID if role is Role.PERP_LONG else OrderSide.ASK
        leverage = rng.randint(2, 12)
        collateral = "USDC"
    return [
        Deposit(PLACEHOLDER, collateral, market.asset_atoms(collateral, equity)),
        UpdateSettings(PLACEHOLDER, leverage_limit=PERP_LEVERAGE_LIMIT, auto_borrow_settlements=True),
        PlaceOrder(
            PLACEHOLDER,
            symbol,
            side,
            OrderType.MARKET,
            market.base_atoms(symbol, equity * leverage),
            time_in_force=TimeInForce.IOC,
        ),
    ]
