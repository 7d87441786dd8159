// @ts-check
/**
 * The insurance fund in the operator bar: a button showing the fund's value that opens a panel
 * with its balances per asset, the perp positions it took over and the losses it took over or
 * shared (takeovers, ADL closes, lend-index cuts), newest first. Everything is the server's
 * strings from GET /admin/v1/insurance-fund, fetched again on every engine change while the
 * operator is connected.
 */

import { fill, h, scrollBox, table } from "./dom.js";
import { amount, price, time, usd } from "./format.js";

/** @typedef {import("./api.js").Api} Api */

/** How many of the newest takeovers, ADL closes and lend-index cuts the panel lists. */
const RECENT = 5;

/**
 * The newest losses, in words, newest first.
 * @param {any} fund
 * @returns {{at: string, words: string}[]}
 */
function recentLosses(fund) {
  const takeovers = (fund.backstops ?? []).map((/** @type {any} */ row) => ({
    at: String(row.timestamp),
    words: `took over subaccount #${row.subaccountId} (net equity ${usd(row.netEquity)})`,
  }));
  const closes = (fund.autoDeleverages ?? []).map((/** @type {any} */ row) => ({
    at: String(row.timestamp),
    words: `ADL: closed ${amount(row.quantity)} ${row.symbol} against subaccount #${row.counterpartySubaccountId}, which bore ${amount(row.loss)}`,
  }));
  const cuts = (fund.lendIndexCuts ?? []).map((/** @type {any} */ row) => ({
    at: String(row.timestamp),
    words: `${row.symbol} lenders bore ${amount(row.loss)} ${row.symbol} (lend index cut)`,
  }));
  // Backpack's naive-date-time strings sort as text in time order.
  return [...takeovers, ...closes, ...cuts].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0)).slice(0, RECENT);
}

/**
 * @param {any} fund
 * @returns {HTMLElement[]}
 */
function panelContent(fund) {
  const counts = h(
    "dl",
    { class: "operator-fund-figures" },
    h("dt", { text: "Value" }),
    h("dd", { "data-testid": "fund-value", "data-value": fund.value, text: usd(fund.value) }),
    h("dt", { text: "Takeovers" }),
    h("dd", { "data-testid": "fund-backstops", text: String(fund.backstopCount ?? 0) }),
    h("dt", { text: "ADL closes" }),
    h("dd", { "data-testid": "fund-adl", text: String(fund.autoDeleverageCount ?? 0) }),
    h("dt", { text: "Lend-index cuts" }),
    h("dd", { "data-testid": "fund-cuts", text: String(fund.lendIndexCutCount ?? 0) }),
  );
  const balances = table(
    [{ label: "Asset" }, { label: "Available", num: true }, { label: "Locked", num: true }, { label: "Lent", num: true }, { label: "Owed", num: true }, { label: "Value", num: true }],
    (fund.balances ?? []).map((/** @type {any} */ row) => ({
      testid: `fund-balance-${row.symbol}`,
      cells: [row.symbol, amount(row.available), amount(row.locked), amount(row.lent), amount(row.owed), usd(row.value)],
    })),
    "The fund holds nothing.",
  );
  const perps = (fund.perpPositions ?? []).length
    ? table(
        [{ label: "Market" }, { label: "Size", num: true }, { label: "Entry price", num: true }, { label: "Mark price", num: true }, { label: "Unrealized PnL", num: true }],
        fund.perpPositions.map((/** @type {any} */ row) => ({
          testid: `fund-perp-${row.symbol}`,
          cells: [row.symbol, amount(row.netQuantity), price(row.entryPrice), price(row.markPrice), amount(row.pnlUnrealized)],
        })),
      )
    : null;
  const losses = recentLosses(fund);
  const recent = losses.length
    ? h("ul", { class: "operator-fund-recent", "aria-label": "Latest takeovers and shared losses" }, losses.map((loss) => h("li", null, h("time", { text: time(loss.at) }), ` ${loss.words}`)))
    : null;
  return [counts, scrollBox("Insurance fund balances", null, balances), perps && scrollBox("Insurance fund perp positions", null, perps), recent].filter((part) => part instanceof HTMLElement);
}

/**
 * Build the fund's button and panel (the panel hidden until the button opens it).
 * @param {Api} api
 * @returns {{button: HTMLElement, panel: HTMLElement, refresh: () => Promise<void>}}
 */
export function createFundPanel(api) {
  const value = h("span", { "data-testid": "operator-fund-value", text: "—" });
  const button = h("button", { type: "button", "aria-expanded": "false", "aria-controls": "operator-fund", "data-testid": "operator-fund-button", title: "The insurance fund: its value, balances and the losses it took" }, "Fund ", value);
  const body = h("div", { class: "operator-fund-body" });
  const error = h("p", { class: "error", role: "status" });
  const panel = h("section", { id: "operator-fund", class: "operator-fund", "aria-label": "Insurance fund", "data-testid": "operator-fund", hidden: true }, body, error);
  let generation = 0;

  button.addEventListener("click", () => {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    panel.hidden = !open;
  });

  async function refresh() {
    const mine = ++generation;
    try {
      const fund = await api.admin("GET", "/admin/v1/insurance-fund");
      if (mine !== generation) return;
      value.textContent = usd(fund.value);
      value.dataset.value = String(fund.value);
      fill(body, panelContent(fund));
      error.textContent = "";
    } catch (failure) {
      if (mine === generation) error.textContent = `The insurance fund could not be read: ${failure instanceof Error ? failure.message : String(failure)}`;
    }
  }

  return { button, panel, refresh };
}
