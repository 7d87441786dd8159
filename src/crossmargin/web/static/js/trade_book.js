// @ts-check
/**
 * The trading view's order book and recent trades. The book starts from `GET /api/v1/depth` and
 * applies each `depth.<symbol>` diff whose last update id is past the snapshot's (a level's new
 * total replaces it; "0" removes it), as Backpack's clients do; trades start from
 * `GET /api/v1/trades` and each `trade.<symbol>` message is put on top. Prices stay the server's
 * decimal strings; levels are ordered by comparing them as exact decimals.
 */

import { fillScroll, h, scrollBox, table } from "./dom.js";
import { amount, price as priceText, time } from "./format.js";

const LEVELS = 12;
const TRADES = 30;

/**
 * Compare two non-negative decimal strings exactly.
 * @param {string} a
 * @param {string} b
 * @returns {number}
 */
export function compareDecimal(a, b) {
  const [ai, af = ""] = a.split(".");
  const [bi, bf = ""] = b.split(".");
  if (ai.length !== bi.length) return ai.length - bi.length;
  if (ai !== bi) return ai < bi ? -1 : 1;
  const width = Math.max(af.length, bf.length);
  const x = af.padEnd(width, "0");
  const y = bf.padEnd(width, "0");
  return x === y ? 0 : x < y ? -1 : 1;
}

/**
 * @param {HTMLElement} where
 * @param {(price: string) => void} pick called with a level's price when it is chosen
 */
export function createBook(where, pick) {
  /** @type {Map<string, string>} */
  const asks = new Map();
  /** @type {Map<string, string>} */
  const bids = new Map();
  /** @type {any[]} */
  let trades = [];
  let lastUpdateId = -1;
  /** @type {any[] | null} diffs that came before the snapshot */
  let early = [];
  const bookBox = scrollBox("Order book table", { "data-testid": "order-book" }, h("p", { class: "loading", text: "Loading the book…" }));
  const tradesBox = scrollBox("Recent trades table", { "data-testid": "recent-trades" }, h("p", { class: "loading", text: "Loading trades…" }));
  where.append(h("section", { class: "card", "aria-label": "Order book" }, h("h2", { text: "Order book" }), bookBox), h("section", { class: "card", "aria-label": "Recent trades" }, h("h2", { text: "Recent trades" }), tradesBox));

  /** @type {ReturnType<typeof requestAnimationFrame> | undefined} */
  let frame;
  const render = () => {
    frame = undefined;
    const side = (/** @type {Map<string, string>} */ levels, /** @type {number} */ sign) =>
      [...levels.entries()].sort(([a], [b]) => sign * compareDecimal(a, b)).slice(0, LEVELS);
    const askRows = side(asks, 1).reverse();
    const bidRows = side(bids, -1);
    const row = (/** @type {string} */ kind, /** @type {[string, string]} */ [price, quantity]) => ({
      testid: `book-${kind}`,
      cells: [h("button", { type: "button", class: `link ${kind === "ask" ? "neg" : "pos"}`, text: priceText(price), "aria-label": `Use price ${priceText(price)}`, onclick: () => pick(price) }), amount(quantity)],
    });
    fillScroll(bookBox, table([{ label: "Price", num: true }, { label: "Size", num: true }], [...askRows.map((l) => row("ask", l)), ...bidRows.map((l) => row("bid", l))], "The book is empty."));
    fillScroll(
      tradesBox,
      table(
        [{ label: "Price", num: true }, { label: "Size", num: true }, { label: "Time" }],
        trades.map((t) => ({ testid: "trade-row", cells: [h("span", { class: t.buy ? "pos" : "neg", text: priceText(t.price) }), amount(t.quantity), time(t.at)] })),
        "No trades yet.",
      ),
    );
  };
  const later = () => (frame ??= requestAnimationFrame(render));
  /** @param {any} diff */
  const apply = (diff) => {
    if (Number(diff.u) <= lastUpdateId) return;
    for (const [levels, changes] of /** @type {[Map<string, string>, any[]][]} */ ([[asks, diff.a], [bids, diff.b]])) {
      for (const [price, quantity] of changes ?? []) {
        if (compareDecimal(String(quantity), "0") === 0) levels.delete(price);
        else levels.set(price, quantity);
      }
    }
    lastUpdateId = Number(diff.u);
  };
  return {
    /** @param {any} depth @param {any[]} recent */
    snapshot(depth, recent) {
      asks.clear();
      bids.clear();
      for (const [price, quantity] of depth.asks ?? []) asks.set(price, quantity);
      for (const [price, quantity] of depth.bids ?? []) bids.set(price, quantity);
      lastUpdateId = Number(depth.lastUpdateId);
      (early ?? []).forEach(apply);
      early = null;
      // GET /api/v1/trades lists the oldest first.
      trades = [...recent].reverse().slice(0, TRADES).map((t) => ({ price: t.price, quantity: t.quantity, at: t.timestamp, buy: !t.isBuyerMaker }));
      later();
    },
    /** @param {any} diff a depth message */
    depth(diff) {
      if (early) early.push(diff);
      else apply(diff);
      later();
    },
    /** @param {any} t a trade message */
    trade(t) {
      trades = [{ price: t.p, quantity: t.q, at: Math.floor(Number(t.T) / 1000), buy: !t.m }, ...trades].slice(0, TRADES);
      later();
    },
    /** Forget the book until the next snapshot (after a reconnect). */
    reset() {
      early = [];
    },
  };
}
