"""The demo taker: a little random market-order flow, so a demo market trades, charts and funds.

With only the market maker, nothing trades until a user does: no trades, flat klines, and a perp
book centred on the index, so funding stays 0. The demo taker is a second ordinary subaccount,
created and funded with ordinary commands like the market maker (`ensure_demo_taker`) and
recognised across restarts by its API key, `DEMO_TAKER_API_KEY`, which nobody can sign with. It
places market orders through the same engine and rules as anyone; a refused order is logged and
skipped.

Each market with a `TakerFlow` (the markets file's `taker*` fields, `maker_config.py`) trades at
random times on the engine clock: gaps drawn from an exponential distribution of mean
`mean_interval_ms`, each order of a random notional between a twentieth of `max_notional` and
all of it (log-uniform, so most are small). It leans against the book's premium: it buys more
often when the mid is below the index and sells more often when above, as arbitrageurs would,
so the maker's inventory (and the premium its skew makes) wanders around zero instead of
drifting off. Everything random comes from one `random.Random(seed)` and the markets are visited
in name order, so the same seed and the same clock readings give the same orders. A clock that
jumps far ahead (a manual clock moved by hours) costs at most `MAX_CATCH_UP` orders per market;
then the schedule restarts from now.

On its own thread it looks at the clock every `poll_seconds`; it submits through the service and
waits for replies outside the sequencer. After a journal fault it waits and goes on.
"""

from __future__ import annotations

import logging
import math
import random
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from crossmargin.app.faults import FAULT_RETRY_SECONDS
from crossmargin.app.market_maker import ensure_funded_subaccount, index_price_wad
from crossmargin.app.ports import Clock
from crossmargin.app.service import Service, ServiceClosedError, ServiceFailedError, ServiceUnavailableError
from crossmargin.core.assets import AssetSpec
from crossmargin.core.commands import PlaceOrder
from crossmargin.core.engine import Accepted
from crossmargin.core.ids import SubaccountId
from crossmargin.core.markets import BookState, MarketSpec
from crossmargin.core.numbers import WAD, parse_decimal
from crossmargin.core.orders import OrderSide, OrderType
from crossmargin.core.state import EngineState

LOG = logging.getLogger("crossmargin.demo_taker")

DEMO_TAKER_API_KEY: Final = "crossmargin:demo-taker"
"""The demo taker's API key: not base64, so no request can ever be signed with it."""

DEMO_TAKER_FUNDS: Final = {
    "USDC": "20000000",
    "USDT": "2000000",
    "BTC": "200",
    "ETH": "4000",
    "SOL": "80000",
}
DEMO_TAKER_SEED: Final = 14
POLL_SECONDS: Final = 0.25
REPLY_TIMEOUT_SECONDS: Final = 60.0
MAX_CATCH_UP: Final = 3
"""At most this many orders per market for one look at the clock; the rest of a jump is skipped."""
SMALLEST_SHARE: Final = 1 / 20
"""The smallest order is this share of `max_notional`."""
RECENT_ORDERS: Final = 1_000
LEAN: Final = 0.3
"""How much the premium moves the chance of a buy away from one half, at most."""


@dataclass(frozen=True, slots=True)
class TakerFlow:
    """How the demo taker trades one market: about one market order every `mean_interval_ms`."""

    mean_interval_ms: int
    max_notional: int  # whole quote units (USDC) at most per order


def demo_taker_funds_atoms(specs: Mapping[str, AssetSpec]) -> tuple[tuple[str, int], ...]:
    """Return what the demo taker is funded with, in atoms of each listed asset."""
    return tuple(
        (symbol, parse_decimal(quantity, specs[symbol].decimals))
        for symbol, quantity in DEMO_TAKER_FUNDS.items()
        if symbol in specs
    )


def find_demo_taker(state: EngineState) -> SubaccountId | None:
    """Return the demo taker's subaccount, if one was created in this journal."""
    return state.api_keys.get(DEMO_TAKER_API_KEY)


def ensure_demo_taker(service: Service) -> tuple[SubaccountId, bool]:
    """Return the demo taker's subaccount, creating and funding it with ordinary commands if there is none."""
    return ensure_funded_subaccount(service, DEMO_TAKER_API_KEY, demo_taker_funds_atoms)


@dataclass(frozen=True, slots=True)
class _Market:
    """What the taker reads of one market before an order."""

    spec: MarketSpec
    index_wad: int | None
    best_bid_wad: int | None
    best_ask_wad: int | None


def _read_market(state: EngineState, market: str) -> _Market | None:
    spec = state.markets.get(market)
    if spec is None:
        return None
    book = state.books.get(market)
    bid = book.bids.best_price() if book is not None else None
    ask = book.asks.best_price() if book is not None else None
    return _Market(spec, index_price_wad(state, spec), bid, ask)


def buy_probability(index_wad: int | None, best_bid_wad: int | None, best_ask_wad: int | None) -> float:
    """Return the chance the next order buys: one half, leaning against the book's premium over the index."""
    if index_wad is None or best_bid_wad is None or best_ask_wad is None:
        return 0.5
    half_spread = (best_ask_wad - best_bid_wad) / 2
    premium = (best_bid_wad + best_ask_wad) / 2 - index_wad
    lean = max(-1.0, min(1.0, premium / half_spread)) if half_spread > 0 else 0.0
    return 0.5 - LEAN * lean


class DemoTaker:
    """Places random small market orders on every market with a flow, on the engine clock."""

    def __init__(
        self,
        service: Service,
        subaccount_id: SubaccountId,
        clock: Clock,
        flows: Mapping[str, TakerFlow],
        *,
        seed: int = DEMO_TAKER_SEED,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        """Trade as `subaccount_id` (see `ensure_demo_taker`); call `start` to run the thread."""
        self._service = service
        self.subaccount_id = subaccount_id
        self._clock = clock
        self._flows = dict(sorted(flows.items()))
        self._random = random.Random(seed)  # noqa: S311 -- a reproducible demo, not a secret
        self._next_ms: dict[str, int] = {}
        self._poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="crossmargin-demo-taker", daemon=True)
        self.orders: deque[PlaceOrder] = deque(maxlen=RECENT_ORDERS)
        self.placed = 0
        self.refusals: list[str] = []

    def trade_due(self) -> int:
        """Place every order whose time has come on the clock; return how many were accepted."""
        now = self._clock.now_ms()
        accepted = 0
        for market, flow in self._flows.items():
            if market not in self._next_ms:
                self._next_ms[market] = now + self._gap_ms(flow)
            placed = 0
            while self._next_ms[market] <= now and placed < MAX_CATCH_UP:
                accepted += self._trade(market, flow)
                placed += 1
                self._next_ms[market] += self._gap_ms(flow)
            if self._next_ms[market] <= now:
                self._next_ms[market] = now + self._gap_ms(flow)
        return accepted

    def _gap_ms(self, flow: TakerFlow) -> int:
        return max(1, round(self._random.expovariate(1.0) * flow.mean_interval_ms))

    def _trade(self, market: str, flow: TakerFlow) -> int:
        read = self._service.read(lambda state: _read_market(state, market))
        chance = buy_probability(read.index_wad, read.best_bid_wad, read.best_ask_wad) if read is not None else 0.5
        buys = self._random.random() < chance
        share = math.exp(self._random.uniform(math.log(SMALLEST_SHARE), 0.0))
        if read is None or read.index_wad is None or read.spec.state is not BookState.OPEN:
            return 0
        spec = read.spec
        notional_wad = round(flow.max_notional * share * 10**6) * (WAD // 10**6)
        quantity = notional_wad * spec.base_unit_atoms // read.index_wad
        quantity -= quantity % spec.step_atoms
        if quantity < max(spec.min_quantity_atoms, spec.step_atoms):
            return 0
        side = OrderSide.BID if buys else OrderSide.ASK
        command = PlaceOrder(self.subaccount_id, market, side, OrderType.MARKET, quantity)
        result = self._service.submit(command).result(REPLY_TIMEOUT_SECONDS)
        if isinstance(result, Accepted):
            self.orders.append(command)
            self.placed += 1
            return 1
        message = f"{command}: {result.rejection.message}"
        self.refusals = [*self.refusals[-99:], message]
        LOG.info("the demo taker's order was refused: %s", message)
        return 0

    # The thread -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start trading on the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.trade_due()
            except (ServiceClosedError, ServiceFailedError):
                return  # the service is going away; the service logged why
            except ServiceUnavailableError:
                self._stop.wait(FAULT_RETRY_SECONDS)  # a journal fault: go on once the state is rebuilt
                continue
            except Exception:  # a bug: the demo goes on without taker flow
                LOG.exception("the demo taker stopped trading")
                return
            self._stop.wait(self._poll_seconds)
