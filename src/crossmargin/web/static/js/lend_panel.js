// @ts-check
/**
 * The selected asset's panel: its pool rates, and the four actions (Borrow, Repay, Lend, Redeem)
 * with what bounds each: the max borrowable under Borrow, the debt under Repay, the free balance
 * under Lend and the lend under Redeem. Signed out, it invites signing in instead.
 */

import { h } from "./dom.js";
import { amount, percent } from "./format.js";
import { abs, sign } from "./lend_decimal.js";
import { availableOf, netQuantityOf } from "./lend_data.js";

/** @typedef {"Borrow" | "Repay" | "Lend" | "Redeem"} Action */
/** @typedef {import("./lend_data.js").AccountData} AccountData */

/**
 * @param {string} label
 * @param {string} value
 * @param {string} testid
 * @returns {HTMLElement}
 */
function bound(label, value, testid) {
  return h("p", { class: "lend-bound" }, h("span", { class: "lend-bound-label", text: label }), " ", h("span", { "data-testid": testid, text: value }));
}

/**
 * @param {Action} action
 * @param {string} hint why it is disabled, or "" when it is enabled
 * @param {(action: Action) => void} onAction
 * @param {HTMLElement} under the bound shown under the button
 * @returns {HTMLElement}
 */
function actionCard(action, hint, onAction, under) {
  const button = h("button", {
    type: "button",
    class: `lend-action lend-action-${action.toLowerCase()}`,
    "data-focus-key": `action-${action}`,
    disabled: hint !== "",
    text: action,
    onclick: () => onAction(action),
  });
  return h("div", { class: "lend-action-card" }, button, under, hint ? h("p", { class: "lend-hint", text: hint }) : null);
}

/** Open the shell's sign-in dialog through its button (when the context offers no way). */
function clickSessionButton() {
  const button = document.querySelector('[data-testid="session-button"]');
  if (button instanceof HTMLElement) button.click();
}

/**
 * @param {string} symbol
 * @param {AccountData} mine
 * @param {(action: Action) => void} onAction
 * @returns {HTMLElement[]}
 */
function accountPart(symbol, mine, onAction) {
  const net = netQuantityOf(mine.positions, symbol);
  const debt = sign(net) < 0 ? abs(net) : "0";
  const lent = sign(net) > 0 ? net : "0";
  const unit = ` ${symbol}`;
  const maxBorrow = mine.maxBorrow === null ? "—" : amount(mine.maxBorrow) + unit;
  const blind = mine.unread.has("positions"); // unknown, never "no borrow"
  const unknown = "Your borrows and lends could not be read";
  const cards = h(
    "div",
    { class: "lend-actions" },
    actionCard("Borrow", "", onAction, bound("Max borrowable", maxBorrow, "max-borrowable")),
    actionCard("Repay", blind ? unknown : sign(debt) > 0 ? "" : `No ${symbol} borrow to repay`, onAction, bound("Borrowed", blind ? "—" : amount(debt) + unit, "debt")),
    actionCard("Lend", "", onAction, bound("Available", mine.unread.has("balances") ? "—" : amount(availableOf(mine, symbol)) + unit, "available-balance")),
    actionCard("Redeem", blind ? unknown : sign(lent) > 0 ? "" : `No ${symbol} lend to redeem`, onAction, bound("Lent", blind ? "—" : amount(lent) + unit, "lent")),
  );
  const autoLend = mine.account?.autoLend === true
    ? h("p", {
        class: "lend-note",
        "data-testid": "auto-lend-note",
        text: "Auto-lend is on (the lightning icon): it lends idle balances and repays borrows by itself, so a manual borrow or repay needs it off.",
      })
    : null;
  const error = mine.error ? h("p", { class: "lend-error", role: "status", text: `Some of your data could not be read: ${mine.error}` }) : null;
  return [cards, autoLend, error].filter((part) => part !== null);
}

/**
 * @param {string} symbol
 * @param {Record<string, any> | undefined} pool
 * @param {AccountData | null} mine null when signed out
 * @param {(action: Action) => void} onAction
 * @param {(() => void) | undefined} signIn opens the sign-in dialog
 * @returns {HTMLElement}
 */
export function assetPanel(symbol, pool, mine, onAction, signIn) {
  const rates = pool
    ? h(
        "p",
        { class: "lend-rates" },
        `Borrow APR ${percent(pool.borrowInterestRate)} · Lend APR ${percent(pool.lendInterestRate)} · Utilization ${percent(pool.utilization)}`,
      )
    : null;
  const body = mine
    ? accountPart(symbol, mine, onAction)
    : [
        h(
          "p",
          { class: "lend-invite", "data-testid": "lend-sign-in-invite" },
          "Sign in as one of your subaccounts to borrow, repay, lend or redeem and to see your positions. ",
          h("button", { type: "button", class: "lend-link", text: "Open the sign-in dialog", onclick: signIn ?? clickSessionButton }),
        ),
      ];
  return h(
    "section",
    { class: "card lend-panel", "data-testid": "asset-panel", "aria-labelledby": "lend-panel-title" },
    h("h2", { id: "lend-panel-title", text: symbol }),
    rates,
    ...body,
  );
}
