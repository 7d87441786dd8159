// @ts-check
/**
 * One market's trading view, reached from the Futures or Spot list as `/futures?market=<symbol>`
 * or `/spot?market=<symbol>` (an address a user can share): the price chart, the order book and
 * recent trades (live from the public streams), the order form, your open orders, position or
 * balances and fills (live from the signed account streams, trade_tables.js), settlements, and
 * the cross-margin card beside them.
 */

import { fill, h } from "./dom.js";
import { percent, price } from "./format.js";
import { mountOverview } from "./overview.js";
import { createBook } from "./trade_book.js";
import { createPriceChart } from "./trade_chart.js";
import { createOrderForm } from "./trade_form.js";
import { subscribe } from "./trade_stream.js";
import { createAccountTables } from "./trade_tables.js";

/** @typedef {import("./main.js").Ctx} Ctx */

const KLINE_INTERVAL = "1m";
const ACCOUNT_DEBOUNCE_MS = 250;
const CHART_HOURS = 24;
/** The longest the chart waits for the browser to be idle after the book first shows. */
const CHART_IDLE_MS = 1_000;

/**
 * @param {HTMLElement} root
 * @param {Ctx} ctx
 * @param {string} symbol
 * @param {{title: string, path: string, type: string}} list the page this market is listed on
 * @returns {() => void} cleanup
 */
export function mountTrade(root, ctx, symbol, list) {
  let ended = false;
  /** @type {(() => void)[]} */
  const cleanups = [];
  const back = h("a", { href: list.path, class: "back", text: `← All ${list.title.toLowerCase()} markets` });
  // The server's first view (web_first_view.py) shows until this one draws.
  const drawn = root.querySelector('[data-first-view="trade"]');
  if (!drawn) fill(root, back, h("h1", { text: symbol }), h("p", { class: "loading", text: "Loading the market…" }));
  start().catch((failure) => {
    if (!ended) fill(root, back, h("h1", { text: symbol }), h("p", { class: "error", role: "alert", text: `This market could not be loaded: ${failure instanceof Error ? failure.message : String(failure)}` }));
  });

  async function start() {
    const markets = await ctx.api.get("/api/v1/markets");
    const market = markets.find((/** @type {any} */ m) => m.symbol === symbol && m.marketType === list.type);
    if (ended) return;
    if (!market) {
      fill(root, back, h("h1", { text: symbol }), h("p", { class: "error", role: "alert", text: `There is no ${list.title.toLowerCase()} market called ${symbol}.` }));
      return;
    }
    const prices = h("p", { class: "ticker", "data-testid": "trade-ticker", "aria-live": "off" });
    const chartCard = h("section", { class: "card chart-card", "aria-label": "Price chart" }, h("h2", { text: "Price (1 minute candles)" }));
    const bookArea = h("div", { class: "book-area" });
    const accountArea = h("div", { class: "account-area" });
    const formCard = h("section", { class: "card", "aria-label": "Place an order" }, h("h2", { text: "Place an order" }));
    const side = h("aside", { class: "trade-side", "aria-label": "Order entry" }, formCard);
    const cardArea = h("div", { class: "trade-card" });
    // In reading order (which a phone and a tablet show as one column): the cross-margin card near
    // the top (the risk before anything else), the chart, the form, the book, your orders. A wide
    // screen shows the card and the form in a column beside the chart and the book.
    fill(root, h("div", { class: "trade-grid" }, h("div", { class: "trade-head" }, back, h("h1", { text: symbol }), prices), cardArea, chartCard, side, bookArea, accountArea));
    cleanups.push(mountOverview(cardArea, ctx));

    // The chart library (200 KB) loads once the book's first snapshot is in, the page has loaded and
    // the browser is idle: its fetch, parse and first drawing must not hold back the book (the first
    // snapshot usually comes with the page, web_initial.py) or the page's load (a module fetched
    // before the load event delays it), and nothing waits for the chart but the chart.
    /** @type {() => void} */
    let bookShown = () => {};
    const idle = (/** @type {() => void} */ then) => requestIdleCallback(then, { timeout: CHART_IDLE_MS });
    const afterLoad = (/** @type {() => void} */ then) => (document.readyState === "complete" ? then() : window.addEventListener("load", then, { once: true }));
    const chartTime = new Promise((resolve) => (bookShown = () => afterLoad(() => idle(() => resolve(undefined)))));
    // Drawn in its place, so the library sizes its canvases once, for the size they keep.
    const chartReady = chartTime.then(() => createPriceChart(symbol, chartCard));
    /** @type {import("./trade_chart.js").PriceChart | null} */
    let chart = null;
    /** @type {Parameters<import("./trade_chart.js").PriceChart["lines"]>[0] | null} */
    let pendingLines = null;
    const tables = createAccountTables(accountArea, ctx, market, (lines) => (chart ? chart.lines(lines) : (pendingLines = lines)), cleanups);
    const form = createOrderForm(ctx, market, () => tables.acted());
    formCard.append(form.element);
    const drawnTable = (/** @type {string} */ id) => drawn?.querySelector(`[data-testid="${id}"] > table`);
    const book = createBook(bookArea, (price) => form.usePrice(price), String(market.filters?.price?.tickSize ?? "0.01"), { book: drawnTable("order-book"), trades: drawnTable("recent-trades") });
    /** @type {{last: any[], markK: any[], indexK: any[]} | null} */
    let candles = null;

    let mark = /** @type {any} */ ({});
    const showPrices = (/** @type {string | undefined} */ last) => {
      const parts = [`Mark ${price(mark.markPrice)}`, `Index ${price(mark.indexPrice)}`];
      if (last !== undefined) prices.dataset.last = last;
      if (prices.dataset.last) parts.unshift(`Last ${price(prices.dataset.last)}`);
      if (market.marketType === "PERP") parts.push(`Funding ${percent(mark.fundingRate, 4)}`);
      prices.textContent = parts.join(" · ");
    };
    /** Settles when the market streams first subscribe, or first fail to (then nothing newer will come soon). */
    let streamSettled = () => {};
    const streamFirst = new Promise((resolve) => (streamSettled = () => resolve(undefined)));
    let snapshotCount = 0;
    /**
     * The candles are for the chart only: read while it loads (after the book and the page's load,
     * when the browser is idle), so they are usually in before its first drawing. They are read once
     * the streams have subscribed (a candle closed before that would be missing otherwise) and only
     * for the newest snapshot: the page's first snapshot (which comes with the page) is overtaken by
     * the streams' fresh one, and reading and drawing its candles too cost the page a second drawing.
     */
    const loadCandles = async (/** @type {any} */ depth, /** @type {number} */ snapshot) => {
      await Promise.all([chartTime, streamFirst]);
      if (ended || snapshot !== snapshotCount) return;
      const since = Math.max(0, Math.floor(Number(depth.timestamp) / 1_000_000) - CHART_HOURS * 3600);
      const klines = (/** @type {string | null} */ priceType) => ctx.api.get("/api/v1/klines", { symbol, interval: KLINE_INTERVAL, startTime: since, priceType });
      const [last, markK, indexK] = await Promise.all([klines(null), klines("Mark"), klines("Index")]);
      if (ended) return;
      candles = { last, markK, indexK };
      chart?.setData(last, markK, indexK);
    };
    const snapshots = async () => {
      const snapshot = ++snapshotCount;
      // The depth's timestamp is the engine's time (µs; a demo's manual clock may be far from the
      // wall clock): the chart shows the CHART_HOURS before it. The book and trades show first.
      const [depth, recent, marks] = await Promise.all([
        ctx.api.get("/api/v1/depth", { symbol }),
        ctx.api.get("/api/v1/trades", { symbol }),
        ctx.api.get("/api/v1/markPrices", { symbol }),
      ]);
      if (ended) return;
      book.snapshot(depth, recent);
      bookShown();
      mark = marks[0] ?? {};
      showPrices(recent.length ? recent[recent.length - 1].price : undefined);
      loadCandles(depth, snapshot).catch((failure) => !ended && chartCard.append(h("p", { class: "error", role: "alert", text: `The chart's candles could not be read: ${failure instanceof Error ? failure.message : String(failure)}` })));
    };
    chartReady.then((ready) => {
      if (ended) return ready.remove();
      chart = ready;
      chartCard.append(h("p", { class: "hint credit" }, "Chart: ", h("a", { href: "https://www.tradingview.com/", target: "_blank", rel: "noopener", text: "TradingView Lightweight Charts™" })));
      cleanups.push(() => ready.remove());
      if (candles) ready.setData(candles.last, candles.markK, candles.indexK);
      if (pendingLines) ready.lines(pendingLines);
    }, (failure) => !ended && chartCard.append(h("p", { class: "error", role: "alert", text: `The chart could not be loaded: ${failure instanceof Error ? failure.message : String(failure)}` })));

    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let accountTimer;
    const accountSoon = () => {
      clearTimeout(accountTimer);
      accountTimer = setTimeout(() => !ended && tables.changed("poll", []), ACCOUNT_DEBOUNCE_MS);
    };
    cleanups.push(() => clearTimeout(accountTimer));
    const streams = [`depth.${symbol}`, `trade.${symbol}`, `kline.${KLINE_INTERVAL}.${symbol}`, `markPrice.${symbol}`];
    cleanups.push(
      subscribe(
        streams,
        (stream, data) => {
          if (stream === `depth.${symbol}`) book.depth(data);
          else if (stream === `trade.${symbol}`) {
            book.trade(data);
            showPrices(String(data.p));
            if (!tables.live()) accountSoon(); // without the account streams: a trade here may be yours
          } else if (stream.startsWith("kline.")) chart?.kline(data);
          else if (stream === `markPrice.${symbol}`) {
            chart?.mark(data);
            mark = { markPrice: data.p, indexPrice: data.i, fundingRate: data.f };
            showPrices(undefined);
          }
        },
        () => {
          ctx.api.dropInitial(); // the snapshot must be newer than the stream's first diff
          book.reset();
          snapshots().catch(() => {});
          streamSettled();
        },
        streamSettled,
      ),
    );
    ctx.onChange((reason, kinds) => (form.refresh(), tables.changed(reason, kinds)));
    await snapshots();
    form.refresh();
    tables.follow();
  }

  return () => {
    ended = true;
    cleanups.forEach((fn) => fn());
  };
}
