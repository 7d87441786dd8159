// @ts-check
/** The Futures page: every perp market (mark, index, funding, open interest) and your perp positions. */

import { fill, fillScroll, h, scrollBox, table } from "./dom.js";
import { amount, percent, time } from "./format.js";
import { mountOverview } from "./overview.js";

/** @typedef {import("./main.js").Ctx} Ctx */

/**
 * @param {any[]} rows
 * @returns {Map<string, any>}
 */
const bySymbol = (rows) => new Map((Array.isArray(rows) ? rows : []).map((row) => [row.symbol, row]));

/**
 * @param {unknown} value
 */
function signed(value) {
  const text = amount(value);
  return h("span", { class: text.startsWith("-") ? "neg" : text === "0" ? null : "pos", text });
}

/**
 * @param {HTMLElement} root
 * @param {Ctx} ctx
 */
export function mount(root, ctx) {
  const markets = scrollBox("Perpetual markets table", { "data-testid": "perp-markets" }, h("p", { class: "loading", text: "Loading markets…" }));
  const positions = scrollBox("Positions table", { "data-testid": "perp-positions" });
  const error = h("p", { class: "error", role: "alert" });
  const side = h("aside");
  fill(
    root,
    h(
      "div",
      { class: "page-grid" },
      h("div", null, h("h1", { text: "Futures" }), error, h("section", { class: "card", "aria-label": "Perpetual markets" }, h("h2", { text: "Perpetual markets" }), markets), h("section", { class: "card", "aria-label": "Your positions" }, h("h2", { text: "Your positions" }), positions)),
      side,
    ),
  );
  const unmountOverview = mountOverview(side, ctx);
  let generation = 0;

  async function refresh() {
    const mine = ++generation;
    try {
      const [list, marks, interest] = await Promise.all([ctx.api.get("/api/v1/markets"), ctx.api.get("/api/v1/markPrices"), ctx.api.get("/api/v1/openInterest")]);
      const own = ctx.session.signedIn ? await ctx.api.signed("positionQuery", "GET", "/api/v1/position") : null;
      if (mine !== generation) return;
      const prices = bySymbol(marks);
      const open = bySymbol(interest);
      const perps = list.filter((/** @type {any} */ m) => m.marketType === "PERP");
      const columns = [{ label: "Market" }, { label: "Mark price", num: true }, { label: "Index price", num: true }, { label: "Funding rate", num: true }, { label: "Next funding" }, { label: "Open interest", num: true }];
      const rows = perps.map((/** @type {any} */ m) => {
        const p = prices.get(m.symbol) ?? {};
        return { testid: `perp-${m.symbol}`, cells: [m.symbol, amount(p.markPrice), amount(p.indexPrice), percent(p.fundingRate, 4), time(p.nextFundingTimestamp), `${amount(open.get(m.symbol)?.openInterest)} ${m.baseSymbol}`] };
      });
      fillScroll(markets, table(columns, rows, "No perpetual markets."));
      fillScroll(positions, own === null ? h("p", { class: "hint", text: "Sign in to see your positions." }) : positionsTable(own));
      error.textContent = "";
    } catch (failure) {
      if (mine === generation) error.textContent = failure instanceof Error ? failure.message : String(failure);
    }
  }

  /** @param {any[]} own */
  function positionsTable(own) {
    const columns = [{ label: "Market" }, { label: "Size", num: true }, { label: "Entry price", num: true }, { label: "Mark price", num: true }, { label: "Unrealized PnL", num: true }, { label: "Est. liquidation", num: true }];
    const rows = own.map((p) => ({ testid: `perp-position-${p.symbol}`, cells: [p.symbol, signed(p.netQuantity), amount(p.entryPrice), amount(p.markPrice), signed(p.pnlUnrealized), amount(p.estLiquidationPrice)] }));
    return table(columns, rows, "No open positions.");
  }

  ctx.onChange(refresh);
  refresh();
  return unmountOverview;
}
