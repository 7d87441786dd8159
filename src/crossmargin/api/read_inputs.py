"""Parse the query of each read that both its route and an edge worker serve: one parser per read.

A route (`routes/reads.py`, `routes/orders.py`, `routes/trading_reads.py`) and the edge worker's
read of the same path (`edge_reads.py`, `EDGE_READS`) call the same parser, so the two cannot
parse a query differently. Every parser takes the request and its parameters (the signed query,
or a public read's query string) and returns the view's arguments after the subaccount, in the
view's order: plain values, so that a worker can send them to the sequencer as they are. A
repeated `marketType` is read from the request itself, as the parameters keep one value per name.
The page (`limit`, `offset`) is `paging.py`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from starlette.requests import Request

from crossmargin.api import inputs, order_inputs
from crossmargin.core.orders import OrderId

Parameters = Mapping[str, object]


class FillsQuery(NamedTuple):
    """The filters of `GET /wapi/v1/history/fills`, in `view_fills`'s order."""

    symbol: str | None
    from_ms: int | None
    to_ms: int | None
    fill_type: str | None
    order_id: OrderId | None
    market_types: list[str] | None
    sort_direction: str | None


def no_query(_request: Request, _parameters: Parameters) -> tuple[()]:
    """Return no arguments: the read takes none beyond the subaccount."""
    return ()


def max_borrow(_request: Request, parameters: Parameters) -> tuple[str]:
    """Return `GET /api/v1/account/limits/borrow`'s symbol."""
    return (inputs.text(parameters, "symbol"),)


def max_withdrawal(_request: Request, parameters: Parameters) -> tuple[str, bool | None, bool | None]:
    """Return `GET /api/v1/account/limits/withdrawal`'s symbol, `autoBorrow` and `autoLendRedeem`."""
    symbol = inputs.text(parameters, "symbol")
    return symbol, inputs.optional_bool(parameters, "autoBorrow"), inputs.optional_bool(parameters, "autoLendRedeem")


def deposits(_request: Request, parameters: Parameters) -> tuple[int | None, int | None]:
    """Return `GET /wapi/v1/capital/deposits`'s `from` and `to` (ms)."""
    return inputs.optional_integer(parameters, "from"), inputs.optional_integer(parameters, "to")


def positions(_request: Request, parameters: Parameters) -> tuple[str | None, str | None]:
    """Return `GET /api/v1/position`'s symbol and market type."""
    return inputs.optional_text(parameters, "symbol"), inputs.optional_text(parameters, "marketType")


def open_order(_request: Request, parameters: Parameters) -> tuple[str, OrderId | None, int | None]:
    """Return `GET /api/v1/order`'s symbol, `orderId` and `clientId`."""
    symbol = inputs.text(parameters, "symbol")
    return symbol, order_inputs.order_id(parameters), order_inputs.client_id(parameters)


def open_orders(_request: Request, parameters: Parameters) -> tuple[str | None, str | None]:
    """Return `GET /api/v1/orders`'s symbol and market type, as given (the view checks them)."""
    return _symbol_and_market_type(parameters)


def order_history(
    request: Request, parameters: Parameters
) -> tuple[str | None, OrderId | None, list[str] | None, str | None]:
    """Return `GET /wapi/v1/history/orders`'s symbol, `orderId`, market types and sort direction."""
    symbol, order = inputs.optional_text(parameters, "symbol"), order_inputs.order_id(parameters)
    direction = inputs.optional_text(parameters, "sortDirection")
    return symbol, order, _market_types(request), direction


def fills(request: Request, parameters: Parameters) -> FillsQuery:
    """Return `GET /wapi/v1/history/fills`'s filters."""
    symbol, fill_type, direction = (
        inputs.optional_text(parameters, name) for name in ("symbol", "fillType", "sortDirection")
    )
    start, end = inputs.optional_integer(parameters, "from"), inputs.optional_integer(parameters, "to")
    order = order_inputs.order_id(parameters)
    return FillsQuery(symbol, start, end, fill_type, order, _market_types(request), direction)


def mark_prices(_request: Request, parameters: Parameters) -> tuple[str | None, str | None]:
    """Return public `GET /api/v1/markPrices`'s symbol and market type, as given (the view checks them)."""
    return _symbol_and_market_type(parameters)


def _symbol_and_market_type(parameters: Parameters) -> tuple[str | None, str | None]:
    symbol, market_type = parameters.get("symbol"), parameters.get("marketType")
    return None if symbol is None else str(symbol), None if market_type is None else str(market_type)


def _market_types(request: Request) -> list[str] | None:
    return request.query_params.getlist("marketType") or None
