"""A trading view's account by the signed account streams: what another client does shows without a REST read.

Another client here is the test itself, sending signed REST requests with the page's own key (as
a bot running beside the page would). Every request the page makes is recorded: while the account
streams are live, the reads of orders, position, balances and fills must not be made again; the
rows come from `account.orderUpdate`, `account.positionUpdate` and `account.balanceUpdate`. (The
cross-margin card beside them reads the account's latest fills of every market for its liquidation
notice on each engine change: those, without a `symbol`, are not the tables' reads.)
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect
from web_harness import Server, sign_in

PERP = "BTC_USDC_PERP"
SPOT = "SOL_USDC"
FILLS = "/wapi/v1/history/fills"
ACCOUNT_READS = ("/api/v1/orders", "/api/v1/position", "/api/v1/capital", FILLS)


def record_account_reads(page: Any) -> list[str]:
    """Return a list that fills with the path of every account read the page makes from now on."""
    seen: list[str] = []

    def note(request: Any) -> None:
        url = urlparse(request.url)
        if url.path in ACCOUNT_READS and (url.path != FILLS or "symbol" in parse_qs(url.query)):
            seen.append(url.path)

    page.on("request", note)
    return seen


def below_market(server: Server, symbol: str) -> str:
    """Return a whole price 5% under the mark: inside the price bands, below every ask."""
    [mark] = server.admin.get("/api/v1/markPrices", params={"symbol": symbol}).json()
    return str(int(Decimal(mark["markPrice"]) * Decimal("0.95")))


def test_orders_fills_and_the_position_placed_elsewhere_come_by_the_stream(
    server: Server, page: Any, audit: Any
) -> None:
    server.advance_past_the_hour()  # no 10-second settlement inside the test: it would read the position again
    account = server.new_account({"USDC": "10000"})
    page.goto(f"/futures?market={PERP}")
    sign_in(page, account)
    live = page.get_by_test_id("account-live")
    expect(live).to_have_attribute("data-state", "on")
    expect(live).to_contain_text("Live")
    expect(page.get_by_test_id("open-orders")).to_contain_text("No open orders in this market.")
    expect(page.get_by_test_id("trade-position")).to_contain_text("No position in this market.")
    reads = record_account_reads(page)

    # A resting order placed by another client shows, then goes when that client cancels it.
    price = below_market(server, PERP)
    order = {"symbol": PERP, "side": "Bid", "orderType": "Limit", "price": price, "quantity": "0.01"}
    placed = server.signed(account, "orderExecute", "POST", "/api/v1/order", order)
    row = page.get_by_test_id(f"open-order-{placed['id']}")
    expect(row).to_contain_text("On the book")
    expect(row).to_contain_text(f"{int(price):,}")
    server.signed(account, "orderCancel", "DELETE", "/api/v1/order", {"symbol": PERP, "orderId": placed["id"]})
    expect(row).to_be_hidden()
    expect(page.get_by_test_id("open-orders")).to_contain_text("No open orders in this market.")

    # A market sell placed elsewhere fills: its fill and the short it opened show.
    sell = {"symbol": PERP, "side": "Ask", "orderType": "Market", "quantity": "0.01"}
    server.signed(account, "orderExecute", "POST", "/api/v1/order", sell)
    [position] = server.signed(account, "positionQuery", "GET", "/api/v1/position")
    shown = page.get_by_test_id(f"position-{PERP}")
    expect(shown).to_contain_text("-0.01")
    expect(shown).to_contain_text(f"{Decimal(position['entryPrice']):,}")
    fills = page.get_by_test_id("fills").get_by_test_id("fill-row")
    expect(fills).to_have_count(1)
    expect(fills.first).to_contain_text("Sell")
    expect(page.get_by_test_id("price-chart")).to_have_attribute("data-lines", "Entry,Liquidation")

    # Closed elsewhere: the position goes, a second fill comes first.
    buy = {"symbol": PERP, "side": "Bid", "orderType": "Market", "quantity": "0.01", "reduceOnly": True}
    server.signed(account, "orderExecute", "POST", "/api/v1/order", buy)
    expect(page.get_by_test_id("trade-position")).to_contain_text("No position in this market.")
    expect(fills).to_have_count(2)
    expect(fills.first).to_contain_text("Buy")
    assert reads == [], f"the page read its account again: {reads}"
    audit("a trading view updated by the account streams")


def test_a_remembered_device_key_signs_the_stream_and_a_spot_balance_follows(server: Server, page: Any) -> None:
    server.advance_past_the_hour()  # no 10-second settlement inside the test: it would read the balances again
    account = server.new_account({"USDC": "1000"})
    page.goto(f"/spot?market={SPOT}")
    sign_in(page, account, remember=True)
    live = page.get_by_test_id("account-live")
    expect(live).to_have_attribute("data-state", "on")
    page.goto("about:blank")  # gone, with whatever its engine changes had it read
    opening = record_account_reads(page)
    page.goto(f"/spot?market={SPOT}")  # this page signs with the device key from IndexedDB: the secret is gone
    expect(page.get_by_test_id("session-label")).not_to_be_empty()
    expect(live).to_have_attribute("data-state", "on")
    expect(page.get_by_test_id("trade-balance-USDC")).to_contain_text("1,000")
    # One read of each, once subscribed (the view mounting and the session restored ask for the same streams).
    assert sorted(opening) == ["/api/v1/capital", "/api/v1/orders", FILLS], opening
    reads = record_account_reads(page)

    price = below_market(server, SPOT)
    order = {"symbol": SPOT, "side": "Bid", "orderType": "Limit", "price": price, "quantity": "1"}
    placed = server.signed(account, "orderExecute", "POST", "/api/v1/order", order)
    expect(page.get_by_test_id(f"open-order-{placed['id']}")).to_contain_text("On the book")
    balance = page.get_by_test_id("trade-balance-USDC").get_by_role("cell")
    expect(balance.nth(1)).to_have_text(f"{1000 - int(price):,}")  # available
    expect(balance.nth(2)).to_have_text(f"{int(price):,}")  # locked by the order
    assert reads == [], f"the page read its account again: {reads}"


def test_a_dropped_stream_says_so_and_reads_again_once_back(server: Server, page: Any) -> None:
    account = server.new_account({"USDC": "1000"})
    sockets: list[Any] = []

    def through(ws: Any) -> None:
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket("**/ws", through)
    page.goto(f"/futures?market={PERP}")
    sign_in(page, account)
    live = page.get_by_test_id("account-live")
    expect(live).to_have_attribute("data-state", "on")
    expect(page.get_by_test_id("open-orders")).to_contain_text("No open orders in this market.")  # read
    reads = record_account_reads(page)
    opened = len(sockets)  # the reconnections that follow add theirs
    for ws in sockets[:opened]:
        ws.close()
    # Gone offline: the tables say they may be out of date; once back, they are read again (the resync).
    expect(live).to_have_attribute("data-state", "off")
    expect(live).to_contain_text("Offline, reconnecting")
    expect(live).to_have_attribute("data-state", "on", timeout=15_000)
    assert "/api/v1/orders" in reads, reads


def test_a_refused_subscription_says_why_and_the_tables_are_read_after_each_action(server: Server, page: Any) -> None:
    account = server.new_account({"USDC": "1000"})
    refusal = {"code": 4003, "message": "Invalid signature"}

    def refuse_signed(ws: Any) -> None:
        upstream = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            if "signature" in str(message):  # as the server answers a key revoked elsewhere
                ws.send(json.dumps({"id": json.loads(message)["id"], "error": refusal}))
            else:
                upstream.send(message)

        ws.on_message(from_page)

    page.route_web_socket("**/ws", refuse_signed)
    page.goto(f"/spot?market={SPOT}")
    sign_in(page, account)
    live = page.get_by_test_id("account-live")
    expect(live).to_have_attribute("data-state", "refused")
    expect(live).to_contain_text("Live updates refused (Invalid signature)")
    # Without the streams the page reads its orders again after its own order.
    form = page.get_by_test_id("order-form")
    form.get_by_test_id("order-price").fill(below_market(server, SPOT))
    form.get_by_test_id("order-quantity").fill("1")
    form.get_by_test_id("order-submit").click()
    expect(page.get_by_test_id("order-status")).to_contain_text("on the book")
    [placed] = server.signed(account, "orderQueryAll", "GET", "/api/v1/orders", {"symbol": SPOT})
    expect(page.get_by_test_id(f"open-order-{placed['id']}")).to_contain_text("On the book")
    expect(live).to_have_attribute("data-state", "refused")


APPLY = """async () => {
  const { applyMessage } = await import("/static/js/account_stream.js");
  const state = { orders: new Map(), positions: new Map(), balances: {}, fills: [] };
  const order = { i: "7", s: "BTC_USDC_PERP", S: "Bid", o: "LIMIT", q: "0.5", p: "55000", z: "0", X: "New", r: false, y: false };
  const results = [
    applyMessage(state, "account.orderUpdate.BTC_USDC_PERP", { ...order, e: "orderAccepted" }),
    applyMessage(state, "account.orderUpdate.BTC_USDC_PERP", { ...order, e: "orderFill", z: "0.2", X: "PartiallyFilled", t: 3, l: "0.2", L: "55000", m: true, n: "0", N: "USDC", T: 1e12 }),
    applyMessage(state, "account.orderUpdate.BTC_USDC_PERP", { ...order, i: "8", e: "orderFill", X: "PartiallyFilled", t: 4 }),
    applyMessage(state, "account.orderUpdate.BTC_USDC_PERP", { ...order, i: "9", e: "orderExpired", X: "Expired" }),
    applyMessage(state, "account.positionUpdate.BTC_USDC_PERP", { e: "positionAdjusted", s: "BTC_USDC_PERP", q: "1", i: 2 }),
    applyMessage(state, "account.positionUpdate.BTC_USDC_PERP", { e: "positionOpened", s: "BTC_USDC_PERP", q: "0.2", i: 2, B: "55000" }),
  ];
  return { results, orders: [...state.orders.values()], fills: state.fills, positions: [...state.positions.values()] };
}"""


def test_account_messages_become_rest_rows_and_a_missed_one_asks_for_a_resync(server: Server, page: Any) -> None:
    page.goto("/lend")
    got = page.evaluate(APPLY)
    # accepted, filled in part, a fill of an order never seen (a gap), an order that never rested
    # (nothing to show), a position adjusted that was never opened (a gap), a position opened.
    assert got["results"] == ["changed", "changed", "gap", "changed", "gap", "changed"]
    [order] = got["orders"]
    assert (order["id"], order["orderType"], order["executedQuantity"], order["status"]) == (
        "7",
        "Limit",
        "0.2",
        "PartiallyFilled",
    )
    [fill] = got["fills"]
    assert (fill["tradeId"], fill["quantity"], fill["isMaker"], fill["timestamp"]) == (3, "0.2", True, 10**9)
    [position] = got["positions"]
    assert (position["netQuantity"], position["entryPrice"], position["cumulativeFundingPayment"]) == (
        "0.2",
        "55000",
        "0",
    )


BOOK_TABLE = '[data-testid="order-book"] table'


def test_a_fresh_snapshot_of_the_same_book_is_not_drawn_again(server: Server, page: Any) -> None:
    """After the stream reconnects the book is read again; the same levels keep the table already drawn.

    The table drawn before the reconnection is marked: it is still there after the fresh read, and
    gives way only when the book really changes (a resting bid from another client).
    """
    sockets: list[Any] = []

    def through(ws: Any) -> None:
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket("**/ws", through)
    with page.expect_response("**/api/v1/depth?*"):  # the read once the market stream is on
        page.goto(f"/futures?market={PERP}")
    expect(page.locator(BOOK_TABLE).get_by_test_id("book-bid").first).to_be_visible()
    page.locator(BOOK_TABLE).evaluate("(table) => (table.dataset.drawnBefore = 'yes')")
    opened = len(sockets)
    with page.expect_response("**/api/v1/depth?*") as fresh:
        for ws in sockets[:opened]:
            ws.close()
    assert fresh.value.ok
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    expect(page.locator(BOOK_TABLE)).to_have_attribute("data-drawn-before", "yes")

    account = server.new_account({"USDC": "1000"})
    price = str(int(below_market(server, PERP)) - 7)
    order = {"symbol": PERP, "side": "Bid", "orderType": "Limit", "quantity": "0.001", "price": price}
    server.signed(account, "orderExecute", "POST", "/api/v1/order", order)
    expect(page.locator(BOOK_TABLE)).not_to_have_attribute("data-drawn-before", "yes")
    expect(page.locator(BOOK_TABLE)).to_contain_text(f"{int(price):,}")


def test_one_socket_carries_every_stream_of_the_page(server: Server, page: Any) -> None:
    """The page's engine updates, the market's streams and the signed account streams share one WebSocket.

    Each group is its own SUBSCRIBE (its own id and acknowledgement); leaving the trading view for the
    markets list unsubscribes that view's streams on the same socket, which the page's own stream keeps open.
    """
    account = server.new_account({"USDC": "1000"})
    sockets: list[Any] = []
    frames: list[dict[str, Any]] = []

    def through(ws: Any) -> None:
        upstream = ws.connect_to_server()
        sockets.append(ws)

        def from_page(message: str | bytes) -> None:
            frames.append(json.loads(message))
            upstream.send(message)

        ws.on_message(from_page)

    page.route_web_socket("**/ws", through)
    page.goto(f"/futures?market={PERP}")
    sign_in(page, account)
    expect(page.get_by_test_id("account-live")).to_have_attribute("data-state", "on")
    price = below_market(server, PERP)
    order = {"symbol": PERP, "side": "Bid", "orderType": "Limit", "quantity": "0.001", "price": price}
    placed = server.signed(account, "orderExecute", "POST", "/api/v1/order", order)
    expect(page.get_by_test_id(f"open-order-{placed['id']}")).to_contain_text("On the book")  # private
    book = page.get_by_test_id("order-book")
    expect(book.get_by_role("button", name=f"Use price ${int(price):,}.00")).to_be_visible()  # public
    subscribes = [frame for frame in frames if frame["method"] == "SUBSCRIBE"]
    streams = [stream for frame in subscribes for stream in frame["params"]]
    assert {"engine.update", f"depth.{PERP}", f"account.orderUpdate.{PERP}"} <= set(streams), streams
    assert len({frame["id"] for frame in subscribes}) == len(subscribes)
    assert [frame for frame in subscribes if "signature" in frame] == [
        frame for frame in subscribes if any(stream.startswith("account.") for stream in frame["params"])
    ]

    page.get_by_role("link", name="← All futures markets").click()
    expect(page.get_by_test_id(f"perp-{PERP}")).to_be_visible()
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=order-book]')"
    )  # the view is gone; its UNSUBSCRIBE went before
    page.evaluate("() => new Promise((done) => setTimeout(done, 100))")
    unsubscribed = [stream for frame in frames if frame["method"] == "UNSUBSCRIBE" for stream in frame["params"]]
    assert f"depth.{PERP}" in unsubscribed, frames
    assert f"account.orderUpdate.{PERP}" in unsubscribed, frames
    assert "engine.update" not in unsubscribed
    assert len(sockets) == 1
