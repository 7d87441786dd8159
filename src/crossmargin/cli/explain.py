"""Borrow explanations in words: what `crossmargin explain borrows` prints for each borrow.

The server's `GET /api/v1/explain/borrows` answers, per borrow, its source and the records that
caused it (settled rows and the shortfall for `Reconciliation`, the orders for `SpotMargin`); this
module turns one such row into a paragraph a person can act on. It reads only the JSON body, with
amounts as the server wrote them (exact decimal strings).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Body = Mapping[str, object]

SETTLED_WORDS = {"RealizePnl": "PnL", "TradingFees": "trading fees", "FundingPayment": "funding"}
SIDE_WORDS = {"Bid": "buy", "Ask": "sell"}


def _rows(value: object) -> list[Body]:
    return [row for row in value if isinstance(row, Mapping)] if isinstance(value, list) else []


def when(timestamp: object) -> str:
    """Write the server's naive UTC time '2026-11-24T00:00:20' as '2026-11-24 00:00:20 UTC'."""
    return f"{str(timestamp).replace('T', ' ')} UTC"


def _fee(row: Body) -> str:
    fee, symbol = row.get("entryFee"), row.get("symbol")
    return f" (entry fee {fee} {symbol})" if fee not in {None, "0"} else ""


def _settled(settlements: Sequence[Body], unit: object) -> str:
    """Return 'of BTC_USDC_PERP realized -1 USDC of PnL and -3.25 USDC of trading fees', per market."""
    by_market: dict[str, list[str]] = {}
    for settled in settlements:
        words = SETTLED_WORDS.get(str(settled.get("source")), str(settled.get("source")))
        by_market.setdefault(str(settled.get("symbol")), []).append(f"{settled.get('quantity')} {unit} of {words}")
    parts = [f"of {market} realized {' and '.join(amounts)}" for market, amounts in by_market.items()]
    return "; and ".join(parts) if parts else "of your perp positions"


def _covered(shortfall: Body, unit: object) -> str:
    """Return how the shortfall was covered, in the order the rules apply."""
    words = []
    if shortfall.get("redeemedLend") not in {None, "0"}:
        words.append(f"your {unit} lend covered {shortfall.get('redeemedLend')} {unit} of it first")
    converted = _rows(shortfall.get("converted"))
    if converted:
        sold = ", ".join(
            f"{row.get('quantity')} {row.get('symbol')} for {row.get('proceeds')} {unit}" for row in converted
        )
        words.append(f"collateral was converted on the book ({sold})")
    if shortfall.get("uncovered") not in {None, "0"}:
        words.append(f"{shortfall.get('uncovered')} {unit} could not be covered and is owed")
    return "; ".join(words)


def _reconciliation(row: Body, at: str) -> str:
    shortfall = row.get("shortfall")
    unit = row.get("symbol")
    settled = _settled(_rows(row.get("settlements")), unit)
    head = f"At {at} the 10-second settlement {settled}"
    if not isinstance(shortfall, Mapping):
        return f"{head}; {row.get('quantity')} {unit} was borrowed to cover it{_fee(row)}."
    text = f"{head}; your {unit} balance was {shortfall.get('short')} short"
    covered = _covered(shortfall, unit)
    if covered:
        text += f"; {covered}"
    if shortfall.get("autoBorrowSettlements") is True:
        text += f"; auto-borrow of settlements is on, so {row.get('quantity')} {unit} was borrowed{_fee(row)}."
        return (
            f"{text} Turn off autoBorrowSettlements (`crossmargin account set --auto-borrow-settlements off`) "
            "to have other collateral converted instead."
        )
    return f"{text}; so {row.get('quantity')} {unit} was borrowed{_fee(row)}."


def _order_words(order: Body) -> str:
    side = SIDE_WORDS.get(str(order.get("side")), str(order.get("side")))
    price = order.get("price")
    at_price = f" at {price}" if price is not None else " at market"
    return f"order {order.get('orderId')} on {order.get('symbol')} ({side} {order.get('quantity')}{at_price})"


def _spot_margin(row: Body, at: str) -> str:
    orders = _rows(row.get("orders"))
    unit, quantity = row.get("symbol"), row.get("quantity")
    which = " and ".join(_order_words(order) for order in orders) or "an order"
    return (
        f"At {at} your {which} was placed with autoBorrow and the balance lacked {unit}, "
        f"so {quantity} {unit} was borrowed to lock what the order may spend{_fee(row)}. "
        "Place orders without --auto-borrow to have them refused instead."
    )


def explain_in_words(row: Body) -> str:
    """Return one borrow and its cause as a paragraph."""
    at = when(row.get("timestamp"))
    source, unit, quantity = row.get("source"), row.get("symbol"), row.get("quantity")
    if source == "Reconciliation":
        return _reconciliation(row, at)
    if source == "SpotMargin":
        return _spot_margin(row, at)
    if source == "Manual":
        return f"At {at} you borrowed {quantity} {unit} yourself (POST /api/v1/borrowLend){_fee(row)}."
    if source == "Withdrawal":
        return f"At {at} a withdrawal with autoBorrow lacked {unit}, so {quantity} {unit} was borrowed{_fee(row)}."
    if source == "Liquidation":
        return f"At {at} a liquidation borrowed {quantity} {unit}{_fee(row)}."
    return f"At {at} {quantity} {unit} was borrowed (source {source}){_fee(row)}."
