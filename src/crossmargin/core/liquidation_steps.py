"""One partial liquidation step on one exposure line: a perp position or a borrow.

A step works on one line and does the least that makes progress there:

- **perp position**: an IOC reduce-only limit order for about a quarter of the size (whole steps,
  at least one step), priced at mark x (1 - band) for a sell, mark x (1 + band) for a buy, rounded
  to the tick inward so it stays inside the band (system order type `LiquidatePositionOnBook`);
  spot orders are banded around the market's index in its own quote asset (`marks.py`), so a
  USDC that is not worth exactly 1 USD moves the band with it;
- **borrow of asset A**: repay from A's spot balance if there is any; else, when A is not USDC and
  USDC is held, buy A on `A_USDC` (about a quarter of the debt, as much as the USDC pays for at
  the band's price) and repay — if the USDC held pays for a step but the book sells none within
  the band (or there is no `A_USDC` book), the line makes no progress: selling collateral for
  more USDC would not repay A (it once let a dust debt convert collateral a step at a time, for
  ever, while a stuck perp waited for the backstop); else (too little USDC, or A is USDC) sell the
  largest other collateral for USDC on its `X_USDC` book (about a quarter of the debt's value)
  and repay when A is USDC (system order type `CollateralConversion`).

Every order-book conversion pays the liquidation fee, 1% of its notional, to the insurance fund
in the asset the account received (rounded up, never more than it received). A perp step's fee is
USDC: the fund is credited at once from `PERP_CLEARING` and the fee enters the position's basis,
so the account pays it with the position's PnL at the next 10-second settlement. `fee_limit`
caps the fee (the guard in `liquidation.py` lowers it when the full fee would raise the MMR).

A step runs in two parts so that its order runs once, however many fees the guard tries:
`trade_step` places the order (or repays from spot, which needs no order and pays no fee), and
`charge_step_fee`, in a child transaction of the trade's, charges a fee and repays from what
the order brought in; `attach_liquidation_fee` then puts the fee kept on the order's last fill.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, cast

from crossmargin.core.accounts import Subaccount
from crossmargin.core.borrow_lend import repay
from crossmargin.core.events import BorrowLendSource, LiquidationStepKind, Traded
from crossmargin.core.insurance import INSURANCE_FUND_ID
from crossmargin.core.ledger import PERP_CLEARING, entry, spot
from crossmargin.core.margin import MarginSummary
from crossmargin.core.markets import MarketSpec
from crossmargin.core.marks import market_index_wad
from crossmargin.core.numbers import WAD, Ratio, mul_div_down, mul_div_up
from crossmargin.core.orders import Order, OrderFlags, OrderId, OrderSide, OrderType, SystemOrderType, TimeInForce
from crossmargin.core.trading import run_order
from crossmargin.core.transaction import Transaction

LIQUIDATION_FEE: Final = Ratio(WAD // 100)
"""The fee on each order-book conversion of a liquidation, to the insurance fund: 1%."""
PRICE_BAND: Final = Ratio(WAD * 5 // 100)
"""How far from mark a liquidation order may trade: 5%."""
STEP_DIVISOR: Final = 4
"""A step takes about 1 / STEP_DIVISOR of the line it works on."""
SETTLEMENT_ASSET: Final = "USDC"


@dataclass(slots=True, init=False, unsafe_hash=True)
class StepResult:
    """What one step did: its kind, asset or market, quantity, quote value and fee."""

    kind: Final[LiquidationStepKind]
    symbol: Final[str]
    quantity_atoms: Final[int]
    quote_atoms: Final[int]
    fee_atoms: Final[int]
    full_fee_atoms: Final[int]
    fee_symbol: Final[str]
    order_id: Final[int]

    def __init__(  # noqa: PLR0913, PLR0917 -- one parameter per field
        self,
        kind: LiquidationStepKind,
        symbol: str,
        quantity_atoms: int,
        quote_atoms: int,
        fee_atoms: int,
        full_fee_atoms: int,
        fee_symbol: str,
        order_id: int,
    ) -> None:
        self.kind = kind
        self.symbol = symbol
        self.quantity_atoms = quantity_atoms
        self.quote_atoms = quote_atoms
        self.fee_atoms = fee_atoms
        self.full_fee_atoms = full_fee_atoms
        self.fee_symbol = fee_symbol
        self.order_id = order_id


@dataclass(slots=True, init=False, unsafe_hash=True)
class StepTrade:
    """A step's order, traded but not yet charged its fee, and where the fee and the proceeds go."""

    kind: Final[LiquidationStepKind]
    spec: Final[MarketSpec]
    order: Final[Order]
    full_fee_atoms: Final[int]
    fee_symbol: Final[str]
    repay_symbol: Final[str | None]
    """The borrowed asset the proceeds repay (None for a perp step, which repays nothing)."""

    def __init__(
        self,
        kind: LiquidationStepKind,
        spec: MarketSpec,
        order: Order,
        full_fee_atoms: int,
        fee_symbol: str,
        repay_symbol: str | None,
    ) -> None:
        self.kind = kind
        self.spec = spec
        self.order = order
        self.full_fee_atoms = full_fee_atoms
        self.fee_symbol = fee_symbol
        self.repay_symbol = repay_symbol


@dataclass(slots=True, init=False, unsafe_hash=True)
class Line:
    """An exposure line of a subaccount: a perp market or a borrowed asset, with its notional."""

    notional_wad: Final[int]
    symbol: Final[str]
    is_perp: Final[bool]

    def __init__(self, notional_wad: int, symbol: str, is_perp: bool) -> None:
        self.notional_wad = notional_wad
        self.symbol = symbol
        self.is_perp = is_perp


def exposure_lines(summary: MarginSummary) -> list[Line]:
    """Return the subaccount's exposure lines, largest notional first (then by symbol)."""
    lines = [Line(perp.notional_wad, perp.market, is_perp=True) for perp in summary.perps if perp.notional_wad]
    lines += [
        Line(asset.debt_notional_wad, asset.symbol, is_perp=False)
        for asset in summary.assets
        if asset.debt_notional_wad
    ]
    return sorted(lines, key=lambda line: (-line.notional_wad, line.symbol))


def trade_step(tx: Transaction, subaccount: Subaccount, line: Line) -> StepTrade | StepResult | None:
    """Run one step's order on a line inside `tx`, before its fee; a repay from spot is a whole step.

    Return the trade (to be charged with `charge_step_fee`), the repay, or None if nothing could be done.
    """
    if line.is_perp:
        return _reduce_perp(tx, subaccount, line.symbol)
    return _work_off_debt(tx, subaccount, line)


def charge_step_fee(tx: Transaction, subaccount: Subaccount, trade: StepTrade, fee_limit: int | None) -> StepResult:
    """Charge a traded step its fee (at most `fee_limit`, and never more than it received), then repay from it."""
    account = subaccount.subaccount_id
    spec, order = trade.spec, trade.order
    fee = _fee(trade.full_fee_atoms, fee_limit)
    if trade.repay_symbol is None:
        after = tx.perp_position(account, spec.symbol)
        assert after is not None, "a position that traded exists"
        tx.set_perp_position(after._replace(pending_system_fee_atoms=after.pending_system_fee_atoms + fee))
        tx.post(entry(spec.quote, (spot(INSURANCE_FUND_ID), fee), (PERP_CLEARING, -fee)))
    else:
        fee = min(fee, max(tx.balance(spot(account), trade.fee_symbol), 0))
        tx.post(entry(trade.fee_symbol, (spot(account), -fee), (spot(INSURANCE_FUND_ID), fee)))
        _repay_from_spot(tx, subaccount, trade.repay_symbol)
    return StepResult(
        trade.kind,
        spec.symbol,
        order.executed_atoms,
        order.executed_quote_atoms,
        fee,
        trade.full_fee_atoms,
        trade.fee_symbol,
        order.order_id,
    )


def _fee(full: int, fee_limit: int | None) -> int:
    return full if fee_limit is None else min(full, fee_limit)


def _step_size(size: int, step: int) -> int:
    """Return about a quarter of `size` in whole steps, at least one step, at most `size`."""
    quarter = size // STEP_DIVISOR // step * step
    return min(size, max(quarter, step))


def _band_price(spec: MarketSpec, mark_wad: int, side: OrderSide) -> int:
    """Return the band's limit price on the tick grid, rounded toward the mark."""
    tick = spec.tick_size_wad
    if side is OrderSide.ASK:
        lowest = mul_div_up(mark_wad, WAD - PRICE_BAND.wad, WAD)
        return -(-lowest // tick) * tick
    return mul_div_down(mark_wad, WAD + PRICE_BAND.wad, WAD) // tick * tick


def _system_order(
    tx: Transaction, subaccount: Subaccount, spec: MarketSpec, side: OrderSide, quantity: int, price: int
) -> Order:
    system = SystemOrderType.LIQUIDATE_POSITION_ON_BOOK if spec.is_perp else SystemOrderType.COLLATERAL_CONVERSION
    order = Order(
        order_id=OrderId(tx.take_id("next_order_id")),
        subaccount_id=subaccount.subaccount_id,
        market=spec.symbol,
        side=side,
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.IOC,
        price_wad=price,
        quantity_atoms=quantity,
        created_ms=tx.now_ms,
        flags=OrderFlags(reduce_only=spec.is_perp),
        system_order_type=system,
    )
    result = run_order(tx, spec, subaccount, order, BorrowLendSource.LIQUIDATION)
    assert isinstance(result, Order), "a liquidation order within the position or the balance is never refused"
    return result


def _reduce_perp(tx: Transaction, subaccount: Subaccount, market: str) -> StepTrade | None:
    spec = tx.market(market)
    position = tx.perp_position(subaccount.subaccount_id, market)
    assert spec is not None, "a perp line belongs to a listed market"
    assert position is not None, "a perp line has a position"
    side = OrderSide.ASK if position.quantity_atoms > 0 else OrderSide.BID
    quantity = _step_size(abs(position.quantity_atoms), spec.step_atoms)
    order = _system_order(tx, subaccount, spec, side, quantity, _band_price(spec, tx.perp_mark(market), side))
    if not order.executed_atoms:
        return None
    full = LIQUIDATION_FEE.apply_up(order.executed_quote_atoms)
    return StepTrade(LiquidationStepKind.REDUCE_POSITION, spec, order, full, spec.quote, None)


def attach_liquidation_fee(tx: Transaction, order_id: OrderId, fee_atoms: int) -> None:
    """Record the liquidation fee on the last fill of its order, so the fill shows every fee the account paid.

    The fee is 1% of the whole order's notional, charged once the order is done; it is put on the
    order's last fill (`Fill.liquidation_fee_atoms`, in the fill's fee asset), where Backpack
    clients read fees: the trade history then explains the balance without a separate row.
    """
    # A liquidation fee is charged only on an order that traded: its last fill is among the events.
    index = next(
        index
        for index in range(len(tx.events) - 1, -1, -1)
        if isinstance(event := tx.events[index], Traded) and event.fill.taker_order_id == order_id
    )
    fill = cast("Traded", tx.events[index]).fill
    tx.events[index] = Traded(fill.with_liquidation_fee(fill.liquidation_fee_atoms + fee_atoms))


def _repay_from_spot(tx: Transaction, subaccount: Subaccount, symbol: str) -> int:
    """Repay as much of the debt in `symbol` as its spot balance allows; return what was repaid."""
    holding = tx.holding(subaccount.subaccount_id, symbol)
    amount = min(holding.spot_atoms, holding.debt_atoms)
    if amount <= 0:
        return 0
    spec = tx.spec(symbol)
    assert spec is not None, "held assets are listed"
    refused = repay(tx, subaccount.subaccount_id, spec, amount, BorrowLendSource.LIQUIDATION)
    assert refused is None, "a repay within the spot balance always succeeds"
    return amount


def _work_off_debt(tx: Transaction, subaccount: Subaccount, line: Line) -> StepTrade | StepResult | None:
    repaid = _repay_from_spot(tx, subaccount, line.symbol)
    if repaid:
        return StepResult(LiquidationStepKind.REPAY, line.symbol, repaid, 0, 0, 0, line.symbol, 0)
    if line.symbol != SETTLEMENT_ASSET and tx.balance(spot(subaccount.subaccount_id), SETTLEMENT_ASSET) > 0:
        bought = _buy_borrowed(tx, subaccount, line.symbol)
        if bought is not None or _book_cannot_sell(tx, subaccount, line.symbol):
            return bought
    for spec in _collateral_markets(tx, subaccount, line.symbol):
        sold = _sell_collateral(tx, subaccount, spec, line)
        if sold is not None:
            return sold
    return None


def spot_market(tx: Transaction, base: str, quote: str) -> MarketSpec | None:
    """Return the spot market trading `base` for `quote`, if one is listed."""
    return tx.spot_market(base, quote)


def _buy_borrowed(tx: Transaction, subaccount: Subaccount, symbol: str) -> StepTrade | None:
    spec = spot_market(tx, symbol, SETTLEMENT_ASSET)
    if spec is None:
        return None
    account = subaccount.subaccount_id
    debt = tx.holding(account, symbol).debt_atoms
    price = _band_price(spec, market_index_wad(tx, spec), OrderSide.BID)
    want = _step_size(-(-debt // spec.step_atoms) * spec.step_atoms, spec.step_atoms)
    affordable = tx.balance(spot(account), SETTLEMENT_ASSET) // spec.quote_atoms(spec.step_atoms, price)
    quantity = min(want, affordable * spec.step_atoms)
    if quantity == 0:
        return None
    order = _system_order(tx, subaccount, spec, OrderSide.BID, quantity, price)
    if not order.executed_atoms:
        return None
    full = LIQUIDATION_FEE.apply_up(order.executed_atoms)
    return StepTrade(LiquidationStepKind.BUY_BORROWED, spec, order, full, symbol, symbol)


def _book_cannot_sell(tx: Transaction, subaccount: Subaccount, symbol: str) -> bool:
    """Return whether buying `symbol` back failed for want of a book, not of USDC (then more USDC would not help)."""
    spec = spot_market(tx, symbol, SETTLEMENT_ASSET)
    if spec is None:
        return True
    price = _band_price(spec, market_index_wad(tx, spec), OrderSide.BID)
    return tx.balance(spot(subaccount.subaccount_id), SETTLEMENT_ASSET) >= spec.quote_atoms(spec.step_atoms, price)


def _collateral_markets(tx: Transaction, subaccount: Subaccount, owed: str) -> list[MarketSpec]:
    """Return the `X_USDC` markets of held collateral X (not the owed asset), largest value first."""
    account = subaccount.subaccount_id
    found: list[tuple[int, str, MarketSpec]] = []
    for symbol in sorted(tx.held_symbols(account) - {owed, SETTLEMENT_ASSET}):
        spec = spot_market(tx, symbol, SETTLEMENT_ASSET)
        held = tx.balance(spot(account), symbol)
        if spec is not None and held >= spec.step_atoms:
            found.append((-held * tx.mark_price(symbol) // spec.base_unit_atoms, symbol, spec))
    return [spec for _, _, spec in sorted(found)]


def _sell_collateral(tx: Transaction, subaccount: Subaccount, spec: MarketSpec, line: Line) -> StepTrade | None:
    account = subaccount.subaccount_id
    price = _band_price(spec, market_index_wad(tx, spec), OrderSide.ASK)
    target_wad = -(-line.notional_wad // STEP_DIVISOR)
    want = -(-target_wad * spec.base_unit_atoms // tx.mark_price(spec.base))
    held = tx.balance(spot(account), spec.base)
    quantity = min(-(-want // spec.step_atoms) * spec.step_atoms, held - held % spec.step_atoms)
    order = _system_order(tx, subaccount, spec, OrderSide.ASK, quantity, price)
    if not order.executed_atoms:
        return None
    full = LIQUIDATION_FEE.apply_up(order.executed_quote_atoms)
    return StepTrade(LiquidationStepKind.SELL_COLLATERAL, spec, order, full, spec.quote, line.symbol)
