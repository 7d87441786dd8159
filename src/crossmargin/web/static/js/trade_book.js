// @ts-check
/**
 * The trading view's order book and recent trades. The book starts from `GET /api/v1/depth` and
 * applies each `depth.<symbol>` diff whose last update id is past the snapshot's (a level's new
 * total replaces it; "0" removes it), as Backpack's clients do; trades start from
 * `GET /api/v1/trades` and each `trade.<symbol>` message is put on top. Prices stay the server's
 * decimal strings; levels are ordered by comparing them as exact decimals. "Group" merges levels
 * into steps of 1, 10, 100 or 1,000 ticks (bids down, asks up to their step, sizes added), in
 * exact integer arithmetic on the decimal strings (BigInt), never floats.
 */

import { fillScroll, h, scrollBox, table } from "./dom.js";
import { amount, price as priceText, time } from "./format.js";

const LEVELS = 12;
const TRADES = 30;
const GROUPS = [1n, 10n, 100n, 1000n];

/**
 * A decimal string as an integer count of 10^-digits.
 * @param {string} text
 * @param {number} digits
 */
function scaled(text, digits) {
  const [whole, fraction = ""] = text.split(".");
  return BigInt(whole + fraction.padEnd(digits, "0").slice(0, digits));
}

/**
 * An integer count of 10^-digits as a decimal string without trailing zeros.
 * @param {bigint} value
 * @param {number} digits
 */
function unscaled(value, digits) {
  const text = value.toString().padStart(digits + 1, "0");
  const fraction = digits ? text.slice(-digits).replace(/0+$/, "") : "";
  const whole = digits ? text.slice(0, -digits) : text;
  return fraction ? `${whole}.${fraction}` : whole;
}

/** @param {Iterable<string>} texts */
const digitsOf = (texts) => Math.max(0, ...[...texts].map((text) => (text.split(".")[1] ?? "").length));

/**
 * Merge a side's levels into steps of `step` (a decimal string): bids round down to their step, asks
 * up; the sizes of the levels merged are added. Exact: integers of the finest decimal place seen.
 * @param {Map<string, string>} levels price → size
 * @param {string} step
 * @param {boolean} up round prices up (asks) instead of down (bids)
 * @returns {Map<string, string>}
 */
export function groupLevels(levels, step, up) {
  const prices = digitsOf([step, ...levels.keys()]);
  const sizes = digitsOf(levels.values());
  const unit = scaled(step, prices);
  /** @type {Map<bigint, bigint>} */
  const merged = new Map();
  for (const [price, size] of levels) {
    const at = scaled(price, prices);
    const floor = (at / unit) * unit;
    const key = up && floor !== at ? floor + unit : floor;
    merged.set(key, (merged.get(key) ?? 0n) + scaled(size, sizes));
  }
  return new Map([...merged].map(([price, size]) => [unscaled(price, prices), unscaled(size, sizes)]));
}

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
 * @param {string} tick the market's tick size (the finest grouping)
 * @param {{book?: Element | null, trades?: Element | null}} [drawn] the server's tables (web_first_view.py), shown until the first snapshot
 */
export function createBook(where, pick, tick, drawn = {}) {
  /** @type {Map<string, string>} */
  const asks = new Map();
  /** @type {Map<string, string>} */
  const bids = new Map();
  /** @type {any[]} */
  let trades = [];
  let lastUpdateId = -1;
  /** @type {any[] | null} diffs that came before the snapshot */
  let early = [];
  const bookBox = scrollBox("Order book table", { "data-testid": "order-book" }, drawn.book ?? h("p", { class: "loading", text: "Loading the book…" }));
  const tickDigits = digitsOf([tick]);
  const steps = GROUPS.map((times) => unscaled(scaled(tick, tickDigits) * times, tickDigits));
  const grouping = /** @type {HTMLSelectElement} */ (
    h("select", { id: "book-group", "data-testid": "book-group", onchange: () => later() }, steps.map((step) => h("option", { value: step, text: priceText(step) })))
  );
  const groupRow = h("div", { class: "book-group" }, h("label", { for: "book-group", text: "Group" }), grouping);
  const tradesBox = scrollBox("Recent trades table", { "data-testid": "recent-trades" }, drawn.trades ?? h("p", { class: "loading", text: "Loading trades…" }));
  where.append(h("section", { class: "card", "aria-label": "Order book" }, h("div", { class: "card-head" }, h("h2", { text: "Order book" }), groupRow), bookBox), h("section", { class: "card", "aria-label": "Recent trades" }, h("h2", { text: "Recent trades" }), tradesBox));

  /** @type {ReturnType<typeof requestAnimationFrame> | undefined} */
  let frame;
  /** What the tables show now (the grouping, the levels and the trades), so the same view is not drawn again. */
  let shown = "";
  const render = () => {
    frame = undefined;
    const step = grouping.value;
    const side = (/** @type {Map<string, string>} */ levels, /** @type {number} */ sign) =>
      [...(step === steps[0] ? levels : groupLevels(levels, step, sign > 0)).entries()].sort(([a], [b]) => sign * compareDecimal(a, b)).slice(0, LEVELS);
    const askRows = side(asks, 1).reverse();
    const bidRows = side(bids, -1);
    // A fresh snapshot after the live stream (re)connects is usually the view already shown: it is
    // not drawn again (no new rows to lay out while the page is still settling after its load).
    const view = JSON.stringify([step, askRows, bidRows, trades]);
    if (view === shown) return;
    shown = view;
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
      // A snapshot is rare (the first view, a reconnect): shown at once, not a frame later.
      if (frame !== undefined) cancelAnimationFrame(frame);
      render();
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
