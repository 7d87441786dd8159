"""The trading client commands: place and cancel orders, list orders and positions, show a book, explain borrows.

Each handler sends Backpack's own requests (`POST /api/v1/order`, `DELETE /api/v1/order`, `GET
/api/v1/orders`, `GET /api/v1/position`, `GET /api/v1/depth`) signed as the subaccount, as any
Backpack client would; `explain borrows` reads crossmargin's `GET /api/v1/explain/borrows` and
puts each borrow's cause in words (`cli.explain`). Quantities and prices are sent as typed, after
a check that they are plain positive decimals; the server checks them against the market's grid.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Final

from rich.table import Table

from crossmargin.cli import tables
from crossmargin.cli.context import CommandError, Context
from crossmargin.cli.explain import explain_in_words

Body = Mapping[str, object]
SIDES: Final = {"buy": "Bid", "bid": "Bid", "long": "Bid", "sell": "Ask", "ask": "Ask", "short": "Ask"}
FLAG_FIELDS: Final = {
    "post_only": "postOnly",
    "reduce_only": "reduceOnly",
    "auto_borrow": "autoBorrow",
    "auto_borrow_repay": "autoBorrowRepay",
    "auto_lend": "autoLend",
    "auto_lend_redeem": "autoLendRedeem",
}


def _decimal(text: str, what: str) -> str:
    read = tables.number(text.strip())
    if read is None or read <= 0 or "e" in text.lower():
        raise CommandError(f"{text!r} is not a positive decimal {what} (write e.g. 0.5 or 65000)")
    return text.strip()


def _object(value: object) -> Body:
    if not isinstance(value, Mapping):
        raise CommandError(f"the server answered {value!r} where a JSON object belongs: is it a crossmargin server?")
    return value


def _list(value: object) -> list[Body]:
    if not isinstance(value, list):
        raise CommandError(f"the server answered {value!r} where a JSON list belongs: is it a crossmargin server?")
    return [row for row in value if isinstance(row, Mapping)]


def _side(text: str) -> str:
    side = SIDES.get(text.lower())
    if side is None:
        raise CommandError(f"{text!r} is not a side: write buy or sell")
    return side


def order_body(arguments: object) -> dict[str, str | int | bool]:
    """Return the `POST /api/v1/order` body the `order place` arguments ask for."""
    symbol = str(getattr(arguments, "symbol", "")).upper()
    price = getattr(arguments, "price", None)
    body: dict[str, str | int | bool] = {
        "symbol": symbol,
        "side": _side(str(getattr(arguments, "side", ""))),
        "orderType": "Limit" if price is not None else "Market",
        "quantity": _decimal(str(getattr(arguments, "quantity", "")), "quantity"),
    }
    if price is not None:
        body["price"] = _decimal(str(price), "price")
    tif = getattr(arguments, "tif", None)
    if tif is not None:
        body["timeInForce"] = str(tif)
    client_id = getattr(arguments, "client_id", None)
    if client_id is not None:
        body["clientId"] = int(client_id)
    for attribute, field in FLAG_FIELDS.items():
        if getattr(arguments, attribute, False):
            body[field] = True
    return body


def _describe(order: Body) -> str:
    side = "buy" if order.get("side") == "Bid" else "sell"
    price = f" at {order.get('price')}" if order.get("price") is not None else " at market"
    text = (
        f"Order {order.get('id')} on {order.get('symbol')}: {side} {order.get('quantity')}{price}, "
        f"{order.get('status')}; filled {order.get('executedQuantity')} for {order.get('executedQuoteQuantity')}"
    )
    reason = order.get("expiryReason")
    return f"{text} (expired: {reason})." if reason else f"{text}."


def order_place(ctx: Context) -> int:
    """Place an order and report how it ended up: resting, filled, or expired with its reason."""
    ctx.require_credentials()
    body = order_body(ctx.arguments)
    order = _object(ctx.client.signed("POST", "/api/v1/order", "orderExecute", body))
    ctx.out.data(order)
    ctx.out.show(_describe(order))
    return 0


def order_cancel(ctx: Context) -> int:
    """Cancel an open order by its id."""
    ctx.require_credentials()
    order_id = str(ctx.arguments.order_id).strip()
    if not order_id.isdigit():
        raise CommandError(f"{order_id!r} is not an order id: `crossmargin orders` lists your open orders' ids")
    body = {"symbol": str(ctx.arguments.symbol).upper(), "orderId": order_id}
    order = _object(ctx.client.signed("DELETE", "/api/v1/order", "orderCancel", body))
    ctx.out.data(order)
    ctx.out.show(_describe(order))
    return 0


def _table(title: str, columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, justify="left" if column in {"id", "symbol", "side", "status", "type"} else "right")
    for row in rows:
        table.add_row(*row)
    return table


def orders(ctx: Context) -> int:
    """List open orders, oldest first."""
    ctx.require_credentials()
    query = {"symbol": str(ctx.arguments.symbol).upper()} if ctx.arguments.symbol else {}
    rows = _list(ctx.client.signed("GET", "/api/v1/orders", "orderQueryAll", query))
    ctx.out.data(rows)
    columns = ("id", "symbol", "side", "type", "price", "quantity", "filled", "status")
    keys = ("id", "symbol", "side", "orderType", "price", "quantity", "executedQuantity", "status")
    shown = [tuple(str(row.get(key, "-")) for key in keys) for row in rows]
    ctx.out.show(_table(f"Open orders ({len(rows)})", columns, shown) if rows else "No open orders.")
    return 0


def positions(ctx: Context) -> int:
    """List perp positions with entry, mark and PnL."""
    ctx.require_credentials()
    rows = _list(ctx.client.signed("GET", "/api/v1/position", "positionQuery"))
    ctx.out.data(rows)
    columns = ("symbol", "size", "entry", "mark", "unrealized PnL", "realized PnL", "est. liquidation")
    keys = ("symbol", "netQuantity", "entryPrice", "markPrice", "pnlUnrealized", "pnlRealized", "estLiquidationPrice")
    shown = [tuple(str(row.get(key, "-")) for key in keys) for row in rows]
    ctx.out.show(_table("Perp positions", columns, shown) if rows else "No open perp positions.")
    return 0


def _levels(value: object) -> list[tuple[Decimal, str, str]]:
    found = []
    for level in value if isinstance(value, list) else []:
        if isinstance(level, list) and len(level) == 2:  # Backpack's [price, quantity] pairs
            price = tables.number(level[0])
            if price is not None:
                found.append((price, str(level[0]), str(level[1])))
    return found


def book(ctx: Context) -> int:
    """Show a market's book: asks above (best lowest), bids below (best highest)."""
    symbol = str(ctx.arguments.symbol).upper()
    if ctx.arguments.depth < 1:
        raise CommandError("--depth must be at least 1")
    depth = _object(ctx.client.public("/api/v1/depth", {"symbol": symbol}))
    ctx.out.data(depth)
    asks = sorted(_levels(depth.get("asks")))[: ctx.arguments.depth]
    bids = sorted(_levels(depth.get("bids")), reverse=True)[: ctx.arguments.depth]
    table = Table(title=f"{symbol} book", title_justify="left")
    for column in ("side", "price", "quantity"):
        table.add_column(column, justify="left" if column == "side" else "right")
    for _, price, quantity in reversed(asks):
        table.add_row("ask", price, quantity)
    for _, price, quantity in bids:
        table.add_row("bid", price, quantity)
    if not asks and not bids:
        ctx.out.show(f"The {symbol} book is empty.")
        return 0
    if asks and bids:
        table.caption = f"spread {tables.plain(asks[0][0] - bids[0][0])}"
    ctx.out.show(table)
    return 0


def explain_borrows(ctx: Context) -> int:
    """Say, for each borrow, why it exists: a settlement, an order with autoBorrow, or a request of yours."""
    ctx.require_credentials()
    query: dict[str, str | int | bool] = {"limit": ctx.arguments.limit}
    if ctx.arguments.symbol:
        query["symbol"] = str(ctx.arguments.symbol).upper()
    rows = _list(ctx.client.signed("GET", "/api/v1/explain/borrows", "borrowExplanationQuery", query))
    ctx.out.data(rows)
    if not rows:
        which = f"{query['symbol']} " if "symbol" in query else ""
        ctx.out.show(f"You have no {which}borrows.")
        return 0
    for row in rows:
        ctx.out.show(explain_in_words(row))
    return 0
