// @ts-check
/**
 * The two history tables: interest (entry fees, hourly borrow interest paid, lend interest
 * earned) and borrow-lend movements with their source and, in words, why each happened.
 */

import { h } from "./dom.js";
import { amount, percent, time } from "./format.js";
import { EVENT_WORDS, reasons } from "./lend_explain.js";

const PAYMENT_WORDS = /** @type {Record<string, string>} */ ({
  EntryFee: "Entry fee",
  Borrow: "Borrow interest",
  Lend: "Lend interest",
});

/**
 * @param {string} testid
 * @param {string} caption
 * @param {{label: string, num?: boolean}[]} head the columns (numeric ones right-aligned)
 * @param {HTMLElement[]} rows
 * @param {string} empty
 * @returns {HTMLElement}
 */
function table(testid, caption, head, rows, empty) {
  const body = rows.length ? rows : [h("tr", null, h("td", { colspan: String(head.length), class: "empty", text: empty }))];
  return h(
    "table",
    { class: "table lend-table lend-history", "data-testid": testid },
    h("caption", { class: "lend-sr-only", text: caption }),
    h("thead", null, h("tr", null, head.map((column) => h("th", { scope: "col", class: column.num ? "num" : null, text: column.label })))),
    h("tbody", null, body),
  );
}

/**
 * @param {any[]} rows GET /wapi/v1/history/interest, newest first
 * @returns {HTMLElement}
 */
export function interestTable(rows) {
  const body = rows.map((row) =>
    h(
      "tr",
      { "data-testid": "interest-row", "data-type": String(row.paymentType) },
      h("td", { text: time(row.timestamp) }),
      h("td", { text: String(row.symbol) }),
      h("td", { text: PAYMENT_WORDS[row.paymentType] ?? String(row.paymentType) }),
      h("td", { class: "num", text: percent(row.interestRate, 4) }),
      h("td", { class: "num", "data-testid": "interest-amount", text: `${amount(row.quantity)} ${row.symbol}` }),
    ),
  );
  return table("interest-history", "Interest history", [{ label: "Time" }, { label: "Asset" }, { label: "Type" }, { label: "Rate (APR)", num: true }, { label: "Amount", num: true }], body, "No interest yet.");
}

/**
 * @param {any[]} movements GET /wapi/v1/history/borrowLend, newest first
 * @param {any[]} explanations GET /api/v1/explain/borrows, newest first
 * @returns {HTMLElement}
 */
export function movementsTable(movements, explanations) {
  const why = reasons(movements, explanations);
  const body = movements.map((row) =>
    h(
      "tr",
      { "data-testid": "movement-row", "data-source": String(row.source) },
      h("td", { text: time(row.timestamp) }),
      h("td", { text: String(row.symbol) }),
      h("td", { text: EVENT_WORDS[row.eventType] ?? String(row.eventType) }),
      h("td", { class: "num", text: amount(row.quantity) }),
      h("td", { text: String(row.source) }),
      h("td", { class: "lend-why", "data-testid": "movement-why", text: why(row) }),
    ),
  );
  return table(
    "borrow-lend-history",
    "Borrow-lend history",
    [{ label: "Time" }, { label: "Asset" }, { label: "Event" }, { label: "Quantity", num: true }, { label: "Source" }, { label: "Why" }],
    body,
    "No borrows or lends yet.",
  );
}
