// @ts-check
/**
 * How the page words a liquidation price: with its asset and the way that asset's price must move,
 * "BTC falls to $46,868.89" or "USDC rises to $1.2794". The server's estimate is the price of one
 * asset, every other price fixed, at which the account is liquidated ("0" when none is within
 * reach); whether it lies below or above the mark is read by comparing the two strings, never by
 * arithmetic. Where there is none, a cell shows "—" with words saying why (`liquidationCell`).
 */

/** Why a row shows no liquidation price: said on hover and to a screen reader. */
export const NO_LIQUIDATION = "No liquidation price: no move of this price alone, the others fixed, would liquidate the account";

import { h } from "./dom.js";
import { usdPrice } from "./format.js";
import { compare, isDecimal, sign } from "./lend_decimal.js";

/**
 * @param {string} symbol the asset whose price the estimate is
 * @param {unknown} estimate the server's estimate ("0": none)
 * @param {unknown} mark the asset's mark price now
 * @returns {string | null} the words, or null when there is no estimate
 */
export function liquidationWords(symbol, estimate, mark) {
  const price = String(estimate ?? "0");
  if (!isDecimal(price) || sign(price) <= 0) return null;
  const now = String(mark ?? "");
  const order = isDecimal(now) ? compare(price, now) : 0;
  const move = order < 0 ? "falls to" : order > 0 ? "rises to" : "is at"; // "is at": already there, or no mark to tell
  return `${symbol} ${move} ${usdPrice(price)}`;
}

/**
 * A table cell (`td`) or a span with a liquidation price in words, or "—" labelled as none.
 * @param {"td" | "span"} tag
 * @param {string} symbol
 * @param {unknown} estimate the server's estimate ("0": none)
 * @param {unknown} mark
 * @returns {HTMLElement}
 */
export function liquidationCell(tag, symbol, estimate, mark) {
  const words = liquidationWords(symbol, estimate, mark);
  const attrs = { class: tag === "td" ? "num" : null, "data-testid": "est-liquidation-price", "data-value": String(estimate ?? "") };
  if (words !== null) return h(tag, { ...attrs, text: words });
  return h(tag, { ...attrs, title: NO_LIQUIDATION }, h("span", { "aria-hidden": "true", text: "—" }), h("span", { class: "sr-only", text: NO_LIQUIDATION }));
}
