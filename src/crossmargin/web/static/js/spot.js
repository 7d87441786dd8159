// @ts-check
/** The Spot page: every spot market (last price, 24 h change, range, volume) and your balances. */

import { fill, fillScroll, h, scrollBox, table } from "./dom.js";
import { amount, percent } from "./format.js";
import { mountOverview } from "./overview.js";

/** @typedef {import("./main.js").Ctx} Ctx */

/**
 * @param {unknown} fraction 24 h change as a fraction ("0.0123" = 1.23%)
 */
function change(fraction) {
  const text = percent(fraction);
  const direction = text.startsWith("-") ? "down" : /^0(\.0+)?%$/.test(text) || text === "—" ? "" : "up";
  return h("span", { class: `change ${direction}`, text: direction === "up" ? `+${text}` : text });
}

/**
 * @param {HTMLElement} root
 * @param {Ctx} ctx
 */
export function mount(root, ctx) {
  const markets = scrollBox("Spot markets table", { "data-testid": "spot-markets" }, h("p", { class: "loading", text: "Loading markets…" }));
  const balances = scrollBox("Balances table", { "data-testid": "balances" });
  const error = h("p", { class: "error", role: "alert" });
  const side = h("aside");
  fill(
    root,
    h(
      "div",
      { class: "page-grid" },
      h("div", null, h("h1", { text: "Spot" }), error, h("section", { class: "card", "aria-label": "Spot markets" }, h("h2", { text: "Spot markets" }), markets), h("section", { class: "card", "aria-label": "Your balances" }, h("h2", { text: "Your balances" }), balances)),
      side,
    ),
  );
  const unmountOverview = mountOverview(side, ctx);
  let generation = 0;

  async function refresh() {
    const mine = ++generation;
    try {
      const [list, tickers] = await Promise.all([ctx.api.get("/api/v1/markets"), ctx.api.get("/api/v1/tickers")]);
      const own = ctx.session.signedIn ? await ctx.api.signed("balanceQuery", "GET", "/api/v1/capital") : null;
      if (mine !== generation) return;
      const bySymbol = new Map(tickers.map((/** @type {any} */ t) => [t.symbol, t]));
      const columns = [{ label: "Market" }, { label: "Last price", num: true }, { label: "24h change", num: true }, { label: "24h high", num: true }, { label: "24h low", num: true }, { label: "24h volume", num: true }];
      const rows = list
        .filter((/** @type {any} */ m) => m.marketType === "SPOT")
        .map((/** @type {any} */ m) => {
          const t = bySymbol.get(m.symbol) ?? {};
          return { testid: `spot-${m.symbol}`, cells: [m.symbol, amount(t.lastPrice), change(t.priceChangePercent), amount(t.high), amount(t.low), `${amount(t.volume)} ${m.baseSymbol}`] };
        });
      fillScroll(markets, table(columns, rows, "No spot markets."));
      fillScroll(balances, own === null ? h("p", { class: "hint", text: "Sign in to see your balances." }) : balanceTable(own));
      error.textContent = "";
    } catch (failure) {
      if (mine === generation) error.textContent = failure instanceof Error ? failure.message : String(failure);
    }
  }

  /** @param {Record<string, any>} own */
  function balanceTable(own) {
    const columns = [{ label: "Asset" }, { label: "Available", num: true }, { label: "Locked", num: true }, { label: "Staked", num: true }];
    const rows = Object.entries(own)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([symbol, b]) => ({ testid: `balance-${symbol}`, cells: [symbol, amount(b.available), amount(b.locked), amount(b.staked)] }));
    return table(columns, rows, "No balances yet: deposit to start.");
  }

  ctx.onChange(refresh);
  refresh();
  return unmountOverview;
}
