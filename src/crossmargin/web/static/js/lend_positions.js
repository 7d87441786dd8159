// @ts-check
/**
 * Your active borrows and lends: one row per borrow-lend position with its net quantity
 * (negative = borrowed), cumulative interest (paid on a borrow, earned on a lend), mark price and
 * estimated liquidation price labelled with its asset (Backpack's `estLiquidationPrice`: the
 * price of the row's asset, "USDC rises to $1.2794" on a USDC borrow), and a quick Repay (a
 * borrow) or Redeem (a lend) button that opens the same dialog as the asset panel's. Above the
 * table, the price of each collateral asset at which the account is liquidated
 * (`collateralLiquidationPrice` of GET /api/v1/capital/collateral, a crossmargin extension):
 * "Liquidated if BTC falls to $46,868.89", spot holdings included, which have no row below.
 */

import { h } from "./dom.js";
import { amount, price } from "./format.js";
import { sign } from "./lend_decimal.js";
import { liquidationCell, liquidationWords } from "./liquidation.js";

/** @typedef {import("./lend_data.js").Position} Position */
/** @typedef {import("./lend_panel.js").Action} Action */
/** @typedef {(action: Action, symbol: string) => void} OnAction */

/**
 * @param {Position} position
 * @param {OnAction} onAction
 * @returns {HTMLElement}
 */
function positionRow(position, onAction) {
  const symbol = String(position.symbol);
  const borrowed = sign(position.netQuantity) < 0;
  /** @type {Action} */
  const action = borrowed ? "Repay" : "Redeem";
  const quick = h("button", {
    type: "button",
    class: "lend-quick",
    "aria-label": `${action} ${symbol}`,
    "data-focus-key": `position-${action}-${symbol}`,
    text: action,
    onclick: () => onAction(action, symbol),
  });
  return h(
    "tr",
    { "data-testid": `position-${symbol}` },
    h("th", { scope: "row", text: symbol }),
    h("td", { text: borrowed ? "Borrow" : "Lend", class: borrowed ? "lend-borrowed" : "lend-lent" }),
    h("td", { class: "num", "data-testid": "net-quantity", text: amount(position.netQuantity) }),
    h("td", { class: "num", "data-testid": "cumulative-interest", text: amount(position.cumulativeInterest) }),
    h("td", { class: "num", text: price(position.markPrice) }),
    liquidationCell("td", symbol, position.estLiquidationPrice, position.markPrice),
    h("td", { class: "lend-row-action" }, quick),
  );
}

/**
 * @param {Position[]} positions
 * @param {OnAction} onAction opens the action's dialog for the asset
 * @returns {HTMLElement} the table, or a line saying there is none
 */
export function positionsTable(positions, onAction) {
  const open = positions.filter((position) => sign(position.netQuantity) !== 0);
  if (!open.length) return h("p", { class: "empty", "data-testid": "positions-empty", text: "No active borrows or lends." });
  const head = ["Asset", "Side", "Net quantity", "Cumulative interest", "Mark price", "Liquidated if"];
  return h(
    "table",
    { class: "table lend-table", "data-testid": "positions" },
    h("caption", { class: "lend-sr-only", text: "Your active borrows and lends" }),
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        head.map((label, index) => h("th", { scope: "col", class: index > 1 ? "num" : null, text: label })),
        h("th", { scope: "col" }, h("span", { class: "sr-only", text: "Action" })),
      ),
    ),
    h("tbody", null, open.map((position) => positionRow(position, onAction))),
  );
}

/**
 * The collateral liquidation prices: one line per collateral asset that has one.
 * @param {any[]} collateral the `collateral` rows of GET /api/v1/capital/collateral
 * @returns {HTMLElement | null} the list, or null when no collateral price would liquidate the account
 */
export function collateralLiquidationList(collateral) {
  const lines = collateral.flatMap((row) => {
    const symbol = String(row.symbol);
    const words = liquidationWords(symbol, row.collateralLiquidationPrice, row.assetMarkPrice);
    if (words === null) return [];
    return [h("li", { "data-testid": `collateral-liquidation-${symbol}`, "data-value": row.collateralLiquidationPrice, text: `Liquidated if ${words}` })];
  });
  if (!lines.length) return null;
  return h(
    "div",
    { class: "lend-liquidation" },
    h("p", { id: "lend-liquidation-title", class: "lend-liquidation-title", text: "Liquidation prices of your collateral (each with every other price unchanged):" }),
    h("ul", { "aria-labelledby": "lend-liquidation-title", "data-testid": "collateral-liquidation" }, lines),
  );
}
