"""`--prices backpack`: mirror Backpack's public index prices, so a paper account trades real prices.

`BackpackPriceSource` implements the `PriceSource` port. Two daemon threads of its own do all the
network work, so neither the sequencer nor `prices_at` ever waits on Backpack:

- **REST** (`<rest_url>/api/v1/markPrices`, and `/api/v1/tickers` when an asset has no perp),
  every `poll_seconds`: it decides which market prices which asset (`backpack_quotes.py` has the
  mapping) and records their prices. A failed poll is retried after a backoff that doubles from
  `backoff_first_seconds` up to `backoff_max_seconds`.
- **WebSocket** (`<ws_url>`, streams `markPrice.<ASSET>_USDC_PERP` and `ticker.<ASSET>_USDC`),
  once the first poll has named the markets: live updates between polls. A connection that
  brings nothing for `stream_idle_seconds` is taken for stalled and reopened; a dropped one is
  reopened after the same backoff.

`prices_at` hands over what arrived since its last call (the latest price per asset, with USDC
at 1 whenever anything arrived) and None when nothing did. When Backpack cannot be reached, or
stalls, nothing arrives, the engine's prices age, and the oracle's stale guard
(`--price-max-age`; `serve_price_max_age_ms` gives serve its default) refuses new risk until the
feed is back. Funding is not mirrored: our engine computes it from our own books' premium over
the index, so Backpack's `fundingRate` is not read.

Responses are bounded (`RESPONSE_BYTES_MAX`, `MESSAGE_BYTES_MAX`, `ROWS_MAX`), prices parsed
exactly; a malformed response is logged and skipped, never raised into the service.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Final

import httpx
from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from crossmargin.app.price_sources.backpack_options import (
    BACKPACK_PRICE_MAX_AGE_MS,
    DEFAULT_REST_URL,
    DEFAULT_WS_URL,
    MARK_PRICES_PATH,
    REST_URL_VARIABLE,
    TICKERS_PATH,
    WS_OFF,
    WS_URL_VARIABLE,
    BackpackOptions,
    backpack_options,
    serve_price_max_age_ms,
)
from crossmargin.app.price_sources.backpack_quotes import (
    MESSAGE_BYTES_MAX,
    QUOTE_ASSET,
    RESPONSE_BYTES_MAX,
    MarketMap,
    QuoteError,
    decode_json,
    listed_symbols,
    plan_markets,
    read_rows,
    read_stream_message,
)
from crossmargin.core.numbers import WAD

logger = logging.getLogger(__name__)

__all__ = [
    "BACKPACK_PRICE_MAX_AGE_MS",
    "DEFAULT_REST_URL",
    "DEFAULT_WS_URL",
    "REST_URL_VARIABLE",
    "WS_OFF",
    "WS_URL_VARIABLE",
    "BackpackOptions",
    "BackpackPriceSource",
    "backpack_options",
    "backpack_source",
    "serve_price_max_age_ms",
]

JOIN_SECONDS: Final = 5.0


def backpack_source(assets: Iterable[str], options: BackpackOptions | None = None) -> BackpackPriceSource:
    """Start mirroring Backpack's prices of `assets` (the symbols we list) and return the running source."""
    source = BackpackPriceSource(assets, options or BackpackOptions())
    source.start()
    return source


def _backoff(options: BackpackOptions, failures: int) -> float:
    return float(min(options.backoff_max_seconds, options.backoff_first_seconds * 2 ** min(failures - 1, 30)))


class BackpackPriceSource:
    """The `PriceSource` that mirrors Backpack; see the module docstring."""

    def __init__(self, assets: Iterable[str], options: BackpackOptions) -> None:
        self._assets = frozenset(assets)
        self._options = options
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._mapped = threading.Event()
        self._fresh: dict[str, int] = {}
        self._market_map = MarketMap()
        self._map_version = 0
        self._stream: ClientConnection | None = None
        self._threads: list[threading.Thread] = []

    @property
    def name(self) -> str:
        """Return `backpack` and where it reads from."""
        return f"backpack {self._options.rest_url}"

    @property
    def market_map(self) -> MarketMap:
        """Return which market prices which asset, as the last poll found it (empty before the first)."""
        with self._lock:
            return self._market_map

    def start(self) -> None:
        """Start the REST poller and, with a WebSocket URL, the stream reader."""
        assert not self._threads, "a source is started once"
        targets = [("rest", self._poll_forever)]
        if self._options.ws_url is not None:
            targets.append(("stream", self._stream_forever))
        for label, target in targets:
            thread = threading.Thread(target=target, name=f"crossmargin-backpack-{label}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def wait_for_markets(self, timeout_seconds: float) -> bool:
        """Wait until the first poll has mapped the markets; return whether it has."""
        return self._mapped.wait(timeout_seconds)

    def prices_at(self, now_ms: int) -> dict[str, int] | None:
        """Return the prices that arrived since the last call, or None when none did (or after `close`)."""
        del now_ms  # a live mirror: what arrived is as of now
        with self._lock:
            if self._stop.is_set() or not self._fresh:
                return None
            fresh, self._fresh = self._fresh, {}
        if QUOTE_ASSET in self._assets:
            fresh[QUOTE_ASSET] = WAD
        return fresh

    def close(self) -> None:
        """Stop both threads and close the stream; later `prices_at` calls return None."""
        self._stop.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.close()
        for thread in self._threads:
            thread.join(JOIN_SECONDS)

    def _record(self, prices: Mapping[str, int]) -> None:
        with self._lock:
            self._fresh.update(prices)

    # REST

    def _poll_forever(self) -> None:
        failures = 0
        with httpx.Client(timeout=self._options.request_timeout_seconds) as client:
            while not self._stop.is_set():
                try:
                    self._poll(client)
                except (httpx.HTTPError, QuoteError) as error:
                    failures += 1
                    log = logger.warning if failures == 1 else logger.debug
                    log("Backpack prices: polling %s failed (%s); retrying with backoff", self._options.rest_url, error)
                    self._stop.wait(_backoff(self._options, failures))
                    continue
                if failures:
                    logger.warning("Backpack prices: polling again after %d failed tries", failures)
                failures = 0
                self._stop.wait(self._options.poll_seconds)

    def _poll(self, client: httpx.Client) -> None:
        marks = decode_json(self._get(client, MARK_PRICES_PATH), RESPONSE_BYTES_MAX, MARK_PRICES_PATH)
        perps = listed_symbols(marks, MARK_PRICES_PATH)
        spots: set[str] = set()
        tickers: object = []
        if plan_markets(self._assets, perps, ()).unmirrored:
            tickers = decode_json(self._get(client, TICKERS_PATH), RESPONSE_BYTES_MAX, TICKERS_PATH)
            spots = listed_symbols(tickers, TICKERS_PATH)
        market_map = plan_markets(self._assets, perps, spots)
        found = read_rows(marks, market_map.perps, "indexPrice", MARK_PRICES_PATH)
        from_tickers = read_rows(tickers, market_map.spots, "lastPrice", TICKERS_PATH)
        for problem in found.problems + from_tickers.problems:
            logger.warning("Backpack prices: skipped %s", problem)
        with self._lock:
            if market_map != self._market_map:
                logger.warning("Backpack prices: mirroring %s", market_map.describe())
                self._market_map = market_map
                self._map_version += 1
            self._fresh.update(found.prices)
            self._fresh.update(from_tickers.prices)
        self._mapped.set()

    def _get(self, client: httpx.Client, path: str) -> bytes:
        """GET a path and return its body, refusing an error status, a body over the limit or a slow one.

        httpx's timeout bounds each read; the deadline bounds the whole body, so a server that
        trickles bytes cannot hold the poller.
        """
        deadline = time.monotonic() + self._options.request_timeout_seconds
        with client.stream("GET", f"{self._options.rest_url}{path}") as response:
            if response.status_code != httpx.codes.OK:
                raise QuoteError(f"{path}: HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > RESPONSE_BYTES_MAX:
                    raise QuoteError(f"{path}: more than the {RESPONSE_BYTES_MAX} bytes allowed")
                if time.monotonic() > deadline:
                    raise QuoteError(f"{path}: not answered within {self._options.request_timeout_seconds} s")
            return bytes(body)

    # WebSocket

    def _stream_forever(self) -> None:
        failures = 0
        while not self._stop.is_set():
            if not self._mapped.wait(self._options.poll_seconds):
                continue  # no markets named yet: the first poll has not succeeded
            try:
                received = self._stream_once()
            except (OSError, TimeoutError, WebSocketException, QuoteError) as error:
                if self._stop.is_set():
                    return  # `close` closed the connection under us
                received = False
                reason = str(error) or error.__class__.__name__
                logger.log(logging.WARNING if failures == 0 else logging.DEBUG, "Backpack stream: %s", reason)
            failures = 0 if received else failures + 1
            if failures:
                self._stop.wait(_backoff(self._options, failures))

    def _stream_once(self) -> bool:
        """Read one connection until it stalls, drops or the markets change; return whether it brought prices."""
        with self._lock:
            market_map, version = self._market_map, self._map_version
        streams = market_map.streams()
        if not streams:
            self._stop.wait(self._options.poll_seconds)
            return True  # nothing to stream: no backoff, look again after the next poll
        assert self._options.ws_url is not None, "the stream thread runs only with a WebSocket URL"
        received = False
        skipped = 0
        stream = connect(
            self._options.ws_url,
            open_timeout=self._options.request_timeout_seconds,
            close_timeout=1,
            max_size=MESSAGE_BYTES_MAX,
        )
        with stream:
            with self._lock:
                self._stream = stream
            try:
                if self._stop.is_set():
                    return received
                stream.send(json.dumps({"method": "SUBSCRIBE", "params": streams}))
                while not self._stop.is_set() and version == self._map_version:
                    try:
                        price = read_stream_message(stream.recv(timeout=self._options.stream_idle_seconds), market_map)
                    except QuoteError as error:
                        skipped += 1
                        log = logger.warning if skipped == 1 else logger.debug  # one warning per connection
                        log("Backpack stream: skipped %s", error)
                        continue
                    if price is not None:
                        received = True
                        self._record(dict([price]))
            except TimeoutError:
                logger.warning("Backpack stream: nothing for %s s; reconnecting", self._options.stream_idle_seconds)
            finally:
                with self._lock:
                    self._stream = None
        return received
