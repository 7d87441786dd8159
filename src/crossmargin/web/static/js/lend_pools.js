// @ts-check
/**
 * The pools table: every asset's pool with its total lent and borrowed, utilization (a bar) and
 * the lend and borrow APRs. The asset name is a button that selects the asset (its panel opens
 * below); the row is clickable too.
 */

import { h } from "./dom.js";
import { amount, percent } from "./format.js";

/**
 * @param {string} utilization a decimal fraction, "0.4321"
 * @returns {HTMLElement} a bar whose width is the utilization (a float only for drawing)
 */
function utilizationBar(utilization) {
  const fill = h("span", { class: "lend-bar-fill" });
  const share = Math.max(0, Math.min(1, Number(utilization) || 0));
  fill.style.width = `${(share * 100).toFixed(2)}%`;
  return h("span", { class: "lend-bar", "aria-hidden": "true" }, fill);
}

/**
 * @param {Record<string, any>} pool
 * @param {boolean} selected
 * @param {(symbol: string) => void} onSelect
 * @returns {HTMLElement}
 */
function poolRow(pool, selected, onSelect) {
  const symbol = String(pool.symbol);
  const pick = () => onSelect(symbol);
  const closed = pool.state && pool.state !== "Open" ? h("span", { class: "lend-tag", text: String(pool.state) }) : null;
  return h(
    "tr",
    {
      "data-testid": `pool-${symbol}`,
      class: selected ? "lend-pool selected" : "lend-pool",
      onclick: (/** @type {MouseEvent} */ event) => {
        if (!(event.target instanceof HTMLButtonElement)) pick();
      },
    },
    h(
      "th",
      { scope: "row" },
      h("button", {
        type: "button",
        class: "lend-asset",
        "aria-pressed": selected ? "true" : "false",
        "data-focus-key": `pool-${symbol}`,
        text: symbol,
        onclick: pick,
      }),
      closed,
    ),
    h("td", { class: "num", text: amount(pool.lentQuantity) }),
    h("td", { class: "num", text: amount(pool.borrowedQuantity) }),
    h("td", { class: "num" }, h("span", { class: "lend-util", text: percent(pool.utilization) }), utilizationBar(pool.utilization)),
    h("td", { class: "num lend-apr", text: percent(pool.lendInterestRate) }),
    h("td", { class: "num", text: percent(pool.borrowInterestRate) }),
  );
}

/**
 * @param {any[]} pools GET /api/v1/borrowLend/markets
 * @param {string | null} selected
 * @param {(symbol: string) => void} onSelect
 * @returns {HTMLElement} the table
 */
export function poolsTable(pools, selected, onSelect) {
  const head = ["Asset", "Total lent", "Total borrowed", "Utilization", "Lend APR", "Borrow APR"];
  return h(
    "table",
    { class: "table lend-table lend-pools", "data-testid": "pools" },
    h("caption", { class: "lend-sr-only", text: "Borrow-lend pools" }),
    h("thead", null, h("tr", null, head.map((label, index) => h("th", { scope: "col", class: index ? "num" : null, text: label })))),
    h("tbody", null, pools.map((pool) => poolRow(pool, pool.symbol === selected, onSelect))),
  );
}
