"""Public market views: assets, collateral parameters, lending pools and their history, prices, time.

These need no account. Pool figures are the engine's own: `lentQuantity` is everything supplied to
the pool (lenders' claims plus the exchange's fee income and rounding left in it), so that
`utilization` = `borrowedQuantity` / `lentQuantity` is exactly the utilization the rate curve and
the `maxUtilization` and throttle checks use. History rows are rebuilt exactly from each hour's
accrual record and the movements before it: the pool's scaled debt is the sum of its
positions' scaled debts, and its cash is the signed sum of movements, so borrowed = scaled debt x
index and supplied = cash + borrowed (the ledger's identity), with nothing stored per hour but the
accrual record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from crossmargin.api.errors import ApiError
from crossmargin.api.views.common import (
    JsonObject,
    JsonValue,
    amount,
    reader,
    wad,
    zoned_time,
)
from crossmargin.api.views.pool_history import PoolHistory
from crossmargin.core.assets import AssetSpec, HaircutFunction, HaircutKind, SqrtFunction
from crossmargin.core.borrow_lend import pool_supplied
from crossmargin.core.interest import MS_PER_HOUR, compute_borrow_rate, compute_lend_rate, compute_utilization
from crossmargin.core.oracle import describe_stale_prices, stale_prices
from crossmargin.core.state import EngineState
from crossmargin.core.view import StateView

MS_PER_DAY: Final = 24 * MS_PER_HOUR

# Backpack's `BorrowLendMarketHistoryInterval`: how far back the history reaches (one row per hour).
HISTORY_INTERVALS_MS: Final = {
    "1d": MS_PER_DAY,
    "1w": 7 * MS_PER_DAY,
    "1month": 30 * MS_PER_DAY,
    "1year": 365 * MS_PER_DAY,
}

# Backpack's `MarketType` values; crossmargin has SPOT and PERP markets.
MARKET_TYPES: Final = ("SPOT", "PERP", "IPERP", "DATED", "PREDICTION", "RFQ")

# The engine knows no chains or names: these are the demo assets' (symbol when unknown, Solana
# when no chain is listed). Deposits and withdrawals are credited by the operator, so no minimum
# applies and no fee is charged.
DISPLAY_NAMES: Final = {"BTC": "Bitcoin", "ETH": "Ethereum", "SOL": "Solana", "USDC": "USD Coin", "USDT": "Tether"}
COINGECKO_IDS: Final = {"BTC": "bitcoin", "ETH": "ethereum", "SOL": "solana", "USDC": "usd-coin", "USDT": "tether"}
BLOCKCHAINS: Final = {"BTC": "Bitcoin", "ETH": "Ethereum"}
DEFAULT_BLOCKCHAIN: Final = "Solana"

# The engine has a fixed throttle: at `throttleUtilizationThreshold` borrows and redemptions pause,
# and no step may pass `maxUtilization`. Backpack's moving bound is therefore `maxUtilization`,
# and it never moves (update fraction 0).
THROTTLE_UPDATE_FRACTION: Final = "0"


def blockchain_of(symbol: str) -> str:
    """Return the blockchain an asset is deposited and withdrawn on."""
    return BLOCKCHAINS.get(symbol, DEFAULT_BLOCKCHAIN)


def view_assets(state: EngineState) -> list[JsonValue]:
    """Return `GET /api/v1/assets`: every listed asset and the one chain it moves on."""
    rows: list[JsonValue] = []
    for symbol, spec in sorted(state.specs.items()):
        name = DISPLAY_NAMES.get(symbol, symbol)
        token: JsonObject = {
            "displayName": name,
            "blockchain": blockchain_of(symbol),
            "depositEnabled": True,
            "minimumDeposit": "0",
            "withdrawEnabled": True,
            "minimumWithdrawal": amount(spec.step_atoms, spec),
            "withdrawalFee": "0",
            "nativeDecimals": spec.decimals,
        }
        row: JsonObject = {"symbol": symbol, "displayName": name, "tokens": [token]}
        if symbol in COINGECKO_IDS:
            row["coingeckoId"] = COINGECKO_IDS[symbol]
        rows.append(row)
    return rows


def sqrt_function(function: SqrtFunction) -> JsonObject:
    """Return an IMF or MMF function in Backpack's `{type: sqrt, base, factor}` form."""
    return {"type": "sqrt", "base": str(function.base), "factor": str(function.factor)}


def haircut_function(haircut: HaircutFunction) -> JsonObject:
    """Return a haircut function in Backpack's `{weight, kind}` form."""
    kind: JsonObject = {"type": haircut.kind.value}
    if haircut.kind is HaircutKind.INVERSE_SQRT:
        kind["base"] = str(haircut.base)
        kind["positiveCurvePenalty"] = str(haircut.positive_curve_penalty)
    return {"weight": str(haircut.weight), "kind": kind}


def view_collateral(state: EngineState) -> list[JsonValue]:
    """Return `GET /api/v1/collateral`: each asset's margin and haircut functions."""
    return [
        {
            "symbol": symbol,
            "imfFunction": sqrt_function(spec.imf),
            "mmfFunction": sqrt_function(spec.mmf),
            "haircutFunction": haircut_function(spec.haircut),
        }
        for symbol, spec in sorted(state.specs.items())
    ]


def _market(tx: StateView, spec: AssetSpec, now_ms: int) -> JsonObject:
    pool = tx.pool(spec.symbol)
    borrowed = pool.borrowed_atoms
    supplied = pool_supplied(tx, spec.symbol)
    utilization = compute_utilization(borrowed, supplied)
    rate = compute_borrow_rate(spec.rate_curve, utilization)
    return {
        "state": spec.pool_state.value,
        "assetMarkPrice": wad(tx.mark_price(spec.symbol)),
        "borrowInterestRate": wad(rate),
        "borrowedQuantity": amount(borrowed, spec),
        "fee": str(spec.fee),
        "lendInterestRate": wad(compute_lend_rate(rate, borrowed, pool.lent_atoms, spec.fee.wad)),
        "lentQuantity": amount(supplied, spec),
        "maxUtilization": str(spec.max_utilization),
        "openBorrowLendLimit": amount(spec.open_borrow_lend_limit_atoms, spec),
        "optimalUtilization": str(spec.rate_curve.optimal_utilization),
        "symbol": spec.symbol,
        "timestamp": zoned_time(now_ms),
        "throttleUtilizationThreshold": str(spec.throttle_utilization_threshold),
        "throttleUtilizationBound": str(spec.max_utilization),
        "throttleUpdateFraction": THROTTLE_UPDATE_FRACTION,
        "utilization": wad(utilization),
        "stepSize": amount(spec.step_atoms, spec),
    }


def view_borrow_lend_markets(state: EngineState) -> list[JsonValue]:
    """Return `GET /api/v1/borrowLend/markets`: every pool as it stands now, rates at today's utilization."""
    tx = reader(state)
    return [_market(tx, spec, state.now_ms) for _, spec in sorted(state.specs.items())]


def view_borrow_lend_markets_history(
    state: EngineState, interval: str, symbol: str | None = None, history: PoolHistory | None = None
) -> list[JsonValue]:
    """Return `GET /api/v1/borrowLend/markets/history`: hourly pool rows in the interval, newest first.

    `history` is the application's `PoolHistory`, which replays only what came since its last read
    (without it, each pool is replayed from the start).
    """
    history = history if history is not None else PoolHistory()
    window = HISTORY_INTERVALS_MS.get(interval)
    if window is None:
        raise ApiError(f"interval must be one of {', '.join(HISTORY_INTERVALS_MS)}, not {interval!r}")
    if symbol is not None and symbol not in state.specs:
        raise ApiError(f"Unknown borrow lend market {symbol!r}", "INVALID_MARKET")
    specs = [state.specs[symbol]] if symbol is not None else [spec for _, spec in sorted(state.specs.items())]
    since_ms = state.now_ms - window
    keyed = [
        (hour_ms, -index, row)
        for index, spec in enumerate(specs)
        for hour_ms, row in history.rows_since(state, spec, since_ms)
    ]
    keyed.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [row for _, _, row in keyed]


def view_time(now_ms: int) -> str:
    """Return `GET /api/v1/time`: the clock in epoch milliseconds, sent as plain text."""
    return str(now_ms)


def view_status(
    fault_message: str | None = None,
    stale_message: str | None = None,
    *,
    replica: Mapping[str, str | int | bool] | None = None,
) -> JsonObject:
    """Return `GET /api/v1/status` (Backpack's `StatusAndMessage`): Ok, or Maintenance and why during a fault.

    While index prices are stale the exchange is up (Ok) but takes no new risk against them: the
    message says which (`core/oracle.py`). A read replica (or a replica that took over) adds a
    `replication` object: its role, the primary, and its lag in commands and seconds.
    """
    extra: JsonObject = {} if replica is None else {"replication": {**replica}}
    if fault_message is not None:
        return {"status": "Maintenance", "message": fault_message, **extra}
    if stale_message is not None:
        return {"status": "Ok", "message": stale_message, **extra}
    return {"status": "Ok", **extra}


def view_stale_prices(state: EngineState, now_ms: int) -> str | None:
    """Return the status message naming the index prices stale at `now_ms`, or None when none is."""
    limit = state.oracle.price_max_age_ms
    if limit is None:
        return None
    found = stale_prices(StateView(state, max(now_ms, state.now_ms)))
    return describe_stale_prices(found, limit) if found else None
