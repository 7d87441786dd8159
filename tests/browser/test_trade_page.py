"""A market's trading view: chart, book, order form, open orders, position, fills and settlements.

One live server for the module (conftest); each test makes its own accounts.
"""

from __future__ import annotations

import base64
import re
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from web_harness import Server, sign_in

sys.path.insert(0, str(Path(__file__).resolve().parent))

PERP = "BTC_USDC_PERP"
SPOT = "SOL_USDC"
ARTIFACTS = (
    Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
)  # as conftest's: phone screenshots beside the others


def klines(server: Server, symbol: str) -> list[Any]:
    params: dict[str, str | int] = {"symbol": symbol, "interval": "1m", "startTime": 0}
    answer: list[Any] = server.admin.get("/api/v1/klines", params=params).json()
    return answer


def open_orders(server: Server, account: dict[str, Any], symbol: str) -> list[Any]:
    answer: list[Any] = server.signed(account, "orderQueryAll", "GET", "/api/v1/orders", {"symbol": symbol})
    return answer


def place(page: Any, side: str, order_type: str, quantity: str, price: str | None = None) -> None:
    form = page.get_by_test_id("order-form")
    form.get_by_test_id(f"order-side-{side}").check()
    form.get_by_label("Order type").select_option(order_type)
    if price is not None:
        form.get_by_test_id("order-price").fill(price)
    form.get_by_test_id("order-quantity").fill(quantity)
    form.get_by_test_id("order-submit").click()


def test_open_protect_and_close_a_perp_position_from_the_page(server: Server, page: Any) -> None:
    account = server.new_account({"USDC": "10000"})
    page.goto("/futures")
    page.get_by_test_id(f"trade-{PERP}").click()
    expect(page).to_have_url(f"{server.url}/futures?market={PERP}")
    expect(page.get_by_role("heading", level=1)).to_have_text(PERP)
    chart = page.get_by_test_id("price-chart")
    expect(chart.locator("canvas").first).to_be_visible()
    expect(chart).to_have_attribute("data-candles", str(len(klines(server, PERP))))
    expect(page.get_by_test_id("order-book").get_by_test_id("book-ask").first).to_be_visible()
    sign_in(page, account)
    expect(page.get_by_test_id("order-max")).to_contain_text("BTC")

    # A limit buy far below the market rests on the book; Cancel takes it off.
    place(page, "Bid", "Limit", "0.01", "55000")
    expect(page.get_by_test_id("order-status")).to_contain_text("on the book")
    expect(
        page.get_by_test_id("order-book").get_by_role("button", name="Use price $55,000.00")
    ).to_be_visible()  # live depth
    [resting] = open_orders(server, account, PERP)
    row = page.get_by_test_id(f"open-order-{resting['id']}")
    expect(row).to_contain_text("On the book")
    row.get_by_role("button", name="Cancel").click()
    expect(row).to_be_hidden()
    assert open_orders(server, account, PERP) == []

    # A market buy (1% slippage tolerance) opens a long protected by a stop loss and a take profit;
    # the long shows with its entry price on the chart, the protection as one pending order.
    form = page.get_by_test_id("order-form")
    form.get_by_label("Order type").select_option("Market")
    form.get_by_test_id("order-slippage").fill("1")
    form.get_by_test_id("order-stopLossTriggerPrice").fill("55000")
    form.get_by_test_id("order-takeProfitTriggerPrice").fill("65000")
    place(page, "Bid", "Market", "0.01")
    expect(page.get_by_test_id("order-status")).to_contain_text("filled")
    [protection] = open_orders(server, account, PERP)
    assert (protection["stopLossTriggerPrice"], protection["takeProfitTriggerPrice"]) == ("55000", "65000")
    expect(page.get_by_test_id(f"open-order-{protection['id']}")).to_contain_text(
        "Waiting: stop loss when the last price reaches $55,000.00; take profit when the last price reaches $65,000.00"
    )
    form.get_by_test_id("order-stopLossTriggerPrice").fill("")
    form.get_by_test_id("order-takeProfitTriggerPrice").fill("")
    position = page.get_by_test_id(f"position-{PERP}")
    expect(position).to_contain_text("0.01")
    expect(chart).to_have_attribute("data-lines", "Entry")
    expect(page.get_by_test_id("fills").get_by_test_id("fill-row")).to_have_count(1)

    # A stop: a reduce-only sell triggered when the mark price falls to 55,000 waits.
    form.get_by_test_id("order-reduceOnly").check()
    form.get_by_test_id("order-trigger").check()
    form.get_by_test_id("order-triggerPrice").fill("55000")
    form.get_by_label("Trigger on").select_option("MarkPrice")
    place(page, "Ask", "Market", "0.01")
    expect(page.get_by_test_id("order-status")).to_contain_text("waiting for its trigger")
    [stop] = [order for order in open_orders(server, account, PERP) if order.get("triggerPrice") == "55000"]
    assert stop["status"] == "TriggerPending"
    expect(page.get_by_test_id(f"open-order-{stop['id']}")).to_contain_text("Waiting: mark price reaches $55,000.00")

    # Close at a limit above the market: a reduce-only sell rests on the book until cancelled.
    position.get_by_test_id("close-limit-price").fill("65000")
    position.get_by_role("button", name="Close at limit").click()
    expect(
        page.get_by_test_id("open-orders").get_by_role("row").filter(has_text="Limit · reduce only")
    ).to_contain_text("65,000")
    [closing] = [order for order in open_orders(server, account, PERP) if order.get("price") == "65000"]
    assert (closing["side"], closing["reduceOnly"], closing["quantity"]) == ("Ask", True, "0.01")
    page.get_by_test_id(f"open-order-{closing['id']}").get_by_role("button", name="Cancel").click()
    expect(page.get_by_test_id(f"open-order-{closing['id']}")).to_be_hidden()

    # The leverage button opens the leverage dialog.
    page.get_by_test_id("order-leverage").click()
    expect(page.get_by_test_id("leverage-dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("leverage-dialog")).to_be_hidden()

    # Close at market (reduce-only): the position is gone.
    position.get_by_role("button", name="Close at market").click()
    expect(page.get_by_test_id("trade-position")).to_contain_text("No position in this market.")
    assert server.signed(account, "positionQuery", "GET", "/api/v1/position") == []
    expect(page.get_by_test_id("fills").get_by_test_id("fill-row")).to_have_count(2)

    # The next settlement moves the fees (and PnL) into the balance: shown with the amount it moved.
    server.advance(60)
    settled = page.get_by_test_id("settlements").get_by_test_id("settlement-row")
    expect(settled.filter(has_text="Trading fees").first).to_contain_text("-")

    # A trade in the new minute reaches the chart live: one more candle, as the klines say.
    chart_before = int(chart.get_attribute("data-candles"))
    trader = server.new_account({"USDC": "10000"})
    bid = {"symbol": PERP, "side": "Bid", "orderType": "Market", "quantity": "0.001"}
    server.signed(trader, "orderExecute", "POST", "/api/v1/order", bid)
    expect(chart).to_have_attribute("data-candles", str(chart_before + 1))
    assert len(klines(server, PERP)) == chart_before + 1


def test_a_refused_order_is_explained_under_the_form_on_a_phone(server: Server, page: Any) -> None:
    account = server.new_account({"USDC": "100"})
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/futures?market={PERP}")
    expect(page.get_by_test_id("price-chart").locator("canvas").first).to_be_visible()
    assert (
        page.evaluate("document.documentElement.scrollWidth") <= 390
    )  # nothing off-screen: tables scroll in their boxes
    sign_in(page, account)
    place(page, "Bid", "Limit", "", "55000")
    expect(page.get_by_test_id("order-error")).to_have_text("Enter a size in BTC.")
    place(page, "Bid", "Limit", "10", "59000")
    expect(page.get_by_test_id("order-error")).not_to_be_empty()
    assert open_orders(server, account, PERP) == []
    page.screenshot(path=str(ARTIFACTS / "trade_perp_phone.png"), full_page=True)


def test_a_market_buy_for_an_amount_of_usdc_spends_at_most_that(server: Server, page: Any) -> None:
    account = server.new_account({"USDC": "1000"})
    page.goto(f"/spot?market={SPOT}")
    sign_in(page, account)
    form = page.get_by_test_id("order-form")
    form.get_by_label("Order type").select_option("Market")
    form.get_by_label("Size in").select_option("quote")
    expect(form.get_by_text("Amount to spend (USDC)")).to_be_visible()
    form.get_by_test_id("order-submit").click()
    expect(page.get_by_test_id("order-error")).to_have_text("Enter an amount in USDC.")
    form.get_by_test_id("order-quantity").fill("100")
    form.get_by_test_id("order-submit").click()
    expect(page.get_by_test_id("order-status")).to_contain_text("filled")
    expect(page.get_by_test_id("order-status")).to_contain_text(" USDC")

    fills = server.signed(account, "fillHistoryQueryAll", "GET", "/wapi/v1/history/fills", {"symbol": SPOT})
    spent = sum(Decimal(fill["price"]) * Decimal(fill["quantity"]) for fill in fills)
    assert Decimal(99) < spent <= Decimal(100), fills
    sol = server.signed(account, "balanceQuery", "GET", "/api/v1/capital")["SOL"]["available"]
    assert Decimal(sol) > 0
    expect(page.get_by_test_id("trade-balance-SOL").get_by_role("cell").nth(1)).to_have_text(f"{Decimal(sol):,}")


GROUPED = """async () => {
  const { groupLevels } = await import("/static/js/trade_book.js");
  const levels = new Map([["60012.1", "0.5"], ["60012.9", "0.25"], ["60013", "1"], ["60020.05", "0.125"]]);
  return [[...groupLevels(levels, "1", false)], [...groupLevels(levels, "1", true)], [...groupLevels(levels, "10", true)]];
}"""


def test_the_book_groups_its_levels_exactly(server: Server, page: Any) -> None:
    page.goto(f"/futures?market={PERP}")
    down, up, tens = page.evaluate(GROUPED)
    assert down == [["60012", "0.75"], ["60013", "1"], ["60020", "0.125"]]
    assert up == [["60013", "1.75"], ["60021", "0.125"]]
    assert tens == [["60020", "1.75"], ["60030", "0.125"]]

    book = page.get_by_test_id("order-book")
    expect(book.get_by_test_id("book-bid").first).to_be_visible()
    page.get_by_label("Group").select_option("10")
    prices = book.get_by_role("button").all_inner_texts()
    assert prices
    assert all(re.fullmatch(r"\$[\d,]*0\.00", text) for text in prices), prices


PIXEL = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")
"""A 1x1 PNG: the held image, answered."""
HOLD_THE_LOAD = """document.addEventListener("DOMContentLoaded", () => {
  const image = document.createElement("img");
  image.src = "/static/held.png";
  image.alt = "";
  document.body.append(image);
});"""
"""An image added before the load event, which the load event then waits for."""
CHART_LIBRARY = "lightweight-charts.standalone.production.mjs"
LOAD_TIMES = """(library) => {
  const fetched = performance.getEntriesByType("resource").filter((entry) => entry.name.endsWith(library));
  return [performance.getEntriesByType("navigation")[0].loadEventEnd, fetched.map((entry) => entry.startTime)];
}"""


def test_the_chart_library_waits_for_the_page_to_load(server: Server, page: Any) -> None:
    """The chart's 200 KB library is fetched after the page's load event, never holding it back.

    An image the page is given as it starts is answered only after a second, which holds the load event back
    while the book has long been drawn and the browser is idle: the library waits all the same.
    """

    def held(route: Any) -> None:
        time.sleep(1.0)  # blocks this test's side only: the browser goes on without the image
        route.fulfill(status=200, content_type="image/png", body=PIXEL)

    page.add_init_script(HOLD_THE_LOAD)
    page.route("**/static/held.png", held)
    page.goto(f"/spot?market={SPOT}", wait_until="commit")
    expect(page.get_by_test_id("order-book").get_by_test_id("book-bid").first).to_be_visible()
    expect(page.get_by_test_id("price-chart").locator("canvas").first).to_be_visible(timeout=10_000)
    load_end, fetches = page.evaluate(LOAD_TIMES, CHART_LIBRARY)
    assert load_end > 900  # the image held the load event back
    assert len(fetches) == 1
    assert fetches[0] >= load_end


SLOW_SUBSCRIPTION = """(() => {
  const Original = window.WebSocket;
  window.WebSocket = class extends Original {
    addEventListener(type, listener, options) {
      const late = type === "open" ? (...args) => setTimeout(() => listener(...args), 700) : listener;
      super.addEventListener(type, late, options);
    }
  };
})();"""
"""Every WebSocket's page code hears its opening 0.7 s late: the chart's time comes before the streams subscribe."""
NO_STREAMS = """window.WebSocket = class extends window.WebSocket { constructor() { super("ws://127.0.0.1:9/"); } };"""
"""Every WebSocket goes to a closed port: the streams never subscribe."""


def kline_reads(page: Any) -> list[str]:
    reads: list[str] = []
    page.on("request", lambda request: reads.append(request.url) if "/api/v1/klines" in request.url else None)
    return reads


def test_the_candles_are_read_once_after_the_streams_subscribe(server: Server, page: Any) -> None:
    """One read of each candle series per page: the streams' fresh snapshot's, not also the first one's.

    The page's first snapshot comes with it and the streams' subscription brings a fresh one. Reading the
    candles for both read them twice and drew the chart twice whenever the chart's time came first.
    """
    page.add_init_script(SLOW_SUBSCRIPTION)
    reads = kline_reads(page)
    # The first snapshot came with the page: a depth read is the streams' fresh one.
    with page.expect_response(re.compile(r"/api/v1/depth\?")):
        page.goto(f"/futures?market={PERP}")
    chart = page.get_by_test_id("price-chart")
    expect(chart).to_have_attribute("data-loaded", "true", timeout=10_000)
    expect(chart).to_have_attribute("data-candles", str(len(klines(server, PERP))))
    page.wait_for_timeout(300)  # a second read would have started by now
    assert sorted(re.sub(r".*priceType=", "", url) if "priceType" in url else "Last" for url in reads) == [
        "Index",
        "Last",
        "Mark",
    ]


LATE_OPEN_EVENT = """(() => {
  const Original = window.WebSocket;
  window.sentSubscriptions = [];
  window.WebSocket = class extends Original {
    addEventListener(type, listener, options) {
      const late = type === "open" ? (...args) => setTimeout(() => listener(...args), 2500) : listener;
      super.addEventListener(type, late, options);
    }
    send(frame) {
      const message = JSON.parse(frame);
      if (message.method === "SUBSCRIBE") window.sentSubscriptions.push(...message.params);
      super.send(frame);
    }
  };
})();"""
"""The page code hears each socket's opening 2.5 s after it is open, and every stream it subscribes is counted.

The trading view subscribes in that window, on a socket already open: once then, and not again when the
page code hears the opening.
"""


def test_each_stream_is_subscribed_once_per_socket(server: Server, page: Any) -> None:
    """A subscription made on an open socket is not sent again when the page hears that socket open.

    Sent twice, the server acknowledged both and the view reloaded its snapshots and candles twice.
    """
    page.add_init_script(LATE_OPEN_EVENT)
    reads = kline_reads(page)
    page.goto(f"/futures?market={PERP}")
    chart = page.get_by_test_id("price-chart")
    expect(chart).to_have_attribute("data-loaded", "true", timeout=15_000)
    page.wait_for_timeout(3_000)  # every late opening has been heard
    sent = page.evaluate("window.sentSubscriptions")
    assert f"depth.{PERP}" in sent
    assert sorted(stream for stream in set(sent) if sent.count(stream) > 1) == []
    assert len(reads) == 3


def test_the_candles_are_read_when_the_streams_cannot_subscribe(server: Server, browser: Any) -> None:
    """Streams that cannot connect (a proxy without WebSockets) do not keep the chart empty."""
    context = browser.new_context(base_url=server.url)
    page = context.new_page()
    page.add_init_script(NO_STREAMS)
    reads = kline_reads(page)
    page.goto(f"/spot?market={SPOT}")
    chart = page.get_by_test_id("price-chart")
    expect(chart).to_have_attribute("data-loaded", "true", timeout=10_000)
    expect(chart).to_have_attribute("data-candles", str(len(klines(server, SPOT))))
    assert len(reads) == 3
    context.close()


COUNT_DATE_FORMATS = """(() => {
  window.dateFormatsMade = [];
  const note = (name) => window.dateFormatsMade.push(name);
  for (const name of ["toLocaleString", "toLocaleDateString", "toLocaleTimeString"]) {
    const original = Date.prototype[name];
    Date.prototype[name] = function (...args) { note(`Date.${name}`); return original.apply(this, args); };
  }
  Intl.DateTimeFormat = new Proxy(Intl.DateTimeFormat, {
    construct(target, args) { note("Intl.DateTimeFormat"); return new target(...args); },
    apply(target, self, args) { note("Intl.DateTimeFormat"); return target(...args); },
  });
})();"""
"""Counts every date formatting through the browser's locale data (whose first use loads that data)."""


def test_the_chart_labels_its_times_without_the_browsers_date_formats(server: Server, page: Any) -> None:
    """The time scale and the crosshair's time are labelled by format.js, never by the locale machinery.

    The library's own labels call `Date.toLocaleString` for every tick mark; its first call loads the
    browser's date-format data, measured at about 40 ms of a single task in the chart's first drawing.
    """
    page.add_init_script(COUNT_DATE_FORMATS)
    page.goto(f"/futures?market={PERP}")
    chart = page.get_by_test_id("price-chart")
    expect(chart).to_have_attribute("data-loaded", "true")
    expect(chart.locator("canvas").first).to_be_visible()
    box = chart.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # the crosshair labels its time
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    assert page.evaluate("() => window.dateFormatsMade") == []


def test_spot_trading_view_by_keyboard_and_at_phone_width(server: Server, page: Any, audit: Any) -> None:
    account = server.new_account({"USDC": "1000"})
    [mark] = server.admin.get("/api/v1/markPrices", params={"symbol": SPOT}).json()
    bid = str(int(Decimal(mark["markPrice"]) * Decimal("0.95")))  # inside the price bands, below the market
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/spot?market={SPOT}")
    expect(page.get_by_test_id("price-chart")).to_have_attribute("data-candles", str(len(klines(server, SPOT))))
    sign_in(page, account)
    expect(page.get_by_test_id("trade-balance-USDC")).to_contain_text("1,000")
    audit("a spot trading view on a phone")
    # Auto borrow lets a buy use borrowed USDC: the max size the server allows grows.
    max_size = page.get_by_test_id("order-max")
    expect(max_size).to_contain_text("SOL")
    alone = max_size.get_attribute("data-value")
    plain = server.signed(
        account, "maxOrderQuantity", "GET", "/api/v1/account/limits/order", {"symbol": SPOT, "side": "Bid"}
    )
    assert alone == plain["maxOrderQuantity"]
    page.get_by_test_id("order-autoBorrow").check()
    borrowing = {"symbol": SPOT, "side": "Bid", "autoBorrow": True}
    more = server.signed(account, "maxOrderQuantity", "GET", "/api/v1/account/limits/order", borrowing)
    assert Decimal(more["maxOrderQuantity"]) > Decimal(plain["maxOrderQuantity"])
    expect(max_size).to_have_attribute("data-value", more["maxOrderQuantity"])
    page.get_by_test_id("order-autoBorrow").uncheck()
    for testid in ["open-orders", "fills", "settlements"]:
        box = page.get_by_test_id(testid)
        assert box.evaluate("(el) => el.getBoundingClientRect().right") <= 390

    # The keyboard path: focus the type, then Tab through the form and press Enter.
    page.get_by_label("Order type").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("order-price")).to_be_focused()
    page.keyboard.type(bid)
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("order-quantity")).to_be_focused()
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("order-status")).to_contain_text("on the book")
    [resting] = open_orders(server, account, SPOT)
    expect(page.get_by_test_id("trade-balance-USDC")).to_contain_text(f"{1000 - int(bid):,}")
    cancel = page.get_by_test_id(f"open-order-{resting['id']}").get_by_role("button", name="Cancel")
    page.screenshot(path=str(ARTIFACTS / "trade_spot_phone.png"), full_page=True)
    cancel.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("open-orders")).to_contain_text("No open orders in this market.")
    page.set_viewport_size({"width": 1280, "height": 900})
    audit("a spot trading view on a desktop")


def test_the_chart_pans_by_touch_on_a_phone(server: Server, browser: Any) -> None:
    """A sideways swipe pans the chart back in time, and not the page.

    The chart takes a touch held 240 ms without moving for a long tap (its crosshair follows the
    finger, nothing pans): a swipe whose first move came late, on a loaded machine, panned nothing.
    The page's timers are Playwright's fake ones, paused during the swipe, so the swipe takes no
    time as the page sees it, however slowly the events arrive.
    """
    server.advance(7200)  # two hours of mark and index candles: enough to pan through
    phone = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
    context = browser.new_context(**phone, base_url=server.url)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.clock.install()  # fake timers, flowing as usual until paused
        page.goto(f"/futures?market={PERP}")
        chart = page.get_by_test_id("price-chart")
        expect(chart.locator("canvas").first).to_be_visible()
        expect(chart).to_have_attribute("data-loaded", "true")  # the candles come after the chart
        expect(chart).not_to_have_attribute("data-visible-from", "")
        page.clock.pause_at(page.evaluate("Date.now()") + 1000)
        page.clock.run_for(100)  # the chart draws what it has: its view is where it stays
        before = chart.get_attribute("data-visible-from")
        box = chart.bounding_box()
        y = box["y"] + box["height"] / 2
        touch = context.new_cdp_session(page)
        xs = [box["x"] + box["width"] * (0.3 + step / 20) for step in range(9)]  # left to right
        touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": xs[0], "y": y, "id": 1}]})
        for x in xs[1:]:
            touch.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y, "id": 1}]})
        touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        page.clock.run_for(100)  # the chart draws the swipe
        page.clock.resume()
        expect(chart).not_to_have_attribute("data-visible-from", before)  # the swipe panned the chart back in time
        assert float(chart.get_attribute("data-visible-from")) < float(before)
        assert page.evaluate("window.scrollX") == 0  # and not the page
        page.screenshot(path=str(ARTIFACTS / "trade_chart_touch_phone.png"))
        assert not errors, errors
    finally:
        context.close()
