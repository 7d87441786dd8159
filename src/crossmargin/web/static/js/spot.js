// @ts-check
/**
 * The Spot page: every spot market (last price, 24 h change, range, volume) and your balances.
 * A market's name opens its trading view (trade.js) at `/spot?market=<symbol>`.
 */

import { h, table } from "./dom.js";
import { amount, percent, price } from "./format.js";
import { mountMarketPage } from "./market_page.js";
import { mountTrade } from "./trade.js";

/** @typedef {import("./main.js").Ctx} Ctx */

/**
 * @param {unknown} fraction 24 h change as a fraction ("0.0123" = 1.23%)
 */
function change(fraction) {
  const text = percent(fraction);
  const direction = text.startsWith("-") ? "down" : /^0(\.0+)?%$/.test(text) || text === "—" ? "" : "up";
  return h("span", { class: `change ${direction}`, text: direction === "up" ? `+${text}` : text });
}

/** @param {Record<string, any>} own */
function balanceTable(own) {
  const columns = [{ label: "Asset" }, { label: "Available", num: true }, { label: "Locked", num: true }, { label: "Staked", num: true }];
  const rows = Object.entries(own)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([symbol, b]) => ({ testid: `balance-${symbol}`, cells: [symbol, amount(b.available), amount(b.locked), amount(b.staked)] }));
  return table(columns, rows, "No balances yet: deposit to start.");
}

/**
 * @param {Ctx} ctx
 */
async function load(ctx) {
  const [list, tickers] = await Promise.all([ctx.api.get("/api/v1/markets"), ctx.api.get("/api/v1/tickers")]);
  const own = ctx.session.signedIn ? await ctx.api.signed("balanceQuery", "GET", "/api/v1/capital") : null;
  const bySymbol = new Map(tickers.map((/** @type {any} */ t) => [t.symbol, t]));
  const columns = [{ label: "Market" }, { label: "Last price", num: true }, { label: "24h change", num: true }, { label: "24h high", num: true }, { label: "24h low", num: true }, { label: "24h volume", num: true }];
  const rows = list
    .filter((/** @type {any} */ m) => m.marketType === "SPOT")
    .map((/** @type {any} */ m) => {
      const t = bySymbol.get(m.symbol) ?? {};
      return { testid: `spot-${m.symbol}`, cells: [h("a", { href: `/spot?market=${encodeURIComponent(m.symbol)}`, text: m.symbol, "data-testid": `trade-${m.symbol}` }), price(t.lastPrice), change(t.priceChangePercent), price(t.high), price(t.low), `${amount(t.volume)} ${m.baseSymbol}`] };
    });
  return { markets: table(columns, rows, "No spot markets."), mine: own === null ? null : balanceTable(own) };
}

/**
 * @param {HTMLElement} root
 * @param {Ctx} ctx
 */
export function mount(root, ctx) {
  const symbol = new URLSearchParams(location.search).get("market");
  if (symbol) return mountTrade(root, ctx, symbol, { title: "Spot", path: "/spot", type: "SPOT" });
  return mountMarketPage(root, ctx, {
    title: "Spot",
    markets: { heading: "Spot markets", label: "Spot markets table", testid: "spot-markets" },
    mine: { heading: "Your balances", label: "Balances table", testid: "balances", signedOut: "Sign in to see your balances." },
    load: () => load(ctx),
  });
}
