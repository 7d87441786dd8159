// @ts-check
/**
 * The Futures page: every perp market (mark, index, funding, open interest) and your perp
 * positions, each with the price of its base asset at which the account is liquidated, worded
 * with the asset ("BTC falls to $54,270.10"; "—" when Backpack's `estLiquidationPrice` is "0").
 * A market's name opens its trading view (trade.js) at `/futures?market=<symbol>`.
 */

import { h, table } from "./dom.js";
import { amount, percent, price, time } from "./format.js";
import { liquidationCell } from "./liquidation.js";
import { mountMarketPage } from "./market_page.js";
import { mountTrade } from "./trade.js";

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
 * @param {any[]} own
 * @param {Map<string, any>} markets by symbol, for each market's base asset
 */
function positionsTable(own, markets) {
  const columns = [{ label: "Market" }, { label: "Size", num: true }, { label: "Entry price", num: true }, { label: "Mark price", num: true }, { label: "Unrealized PnL", num: true }, { label: "Liquidated if", num: true }];
  const rows = own.map((p) => {
    const base = String(markets.get(p.symbol)?.baseSymbol ?? p.symbol);
    const liquidation = liquidationCell("span", base, p.estLiquidationPrice, p.markPrice);
    return { testid: `perp-position-${p.symbol}`, cells: [p.symbol, signed(p.netQuantity), price(p.entryPrice), price(p.markPrice), signed(p.pnlUnrealized), liquidation] };
  });
  return table(columns, rows, "No open positions.");
}

/**
 * @param {Ctx} ctx
 */
async function load(ctx) {
  const [list, marks, interest] = await Promise.all([ctx.api.get("/api/v1/markets"), ctx.api.get("/api/v1/markPrices"), ctx.api.get("/api/v1/openInterest")]);
  const own = ctx.session.signedIn ? await ctx.api.signed("positionQuery", "GET", "/api/v1/position") : null;
  const prices = bySymbol(marks);
  const open = bySymbol(interest);
  const perps = list.filter((/** @type {any} */ m) => m.marketType === "PERP");
  const columns = [{ label: "Market" }, { label: "Mark price", num: true }, { label: "Index price", num: true }, { label: "Funding rate", num: true }, { label: "Next funding" }, { label: "Open interest", num: true }];
  const rows = perps.map((/** @type {any} */ m) => {
    const p = prices.get(m.symbol) ?? {};
    return { testid: `perp-${m.symbol}`, cells: [h("a", { href: `/futures?market=${encodeURIComponent(m.symbol)}`, text: m.symbol, "data-testid": `trade-${m.symbol}` }), price(p.markPrice), price(p.indexPrice), percent(p.fundingRate, 4), time(p.nextFundingTimestamp), `${amount(open.get(m.symbol)?.openInterest)} ${m.baseSymbol}`] };
  });
  return { markets: table(columns, rows, "No perpetual markets."), mine: own === null ? null : positionsTable(own, bySymbol(list)) };
}

/**
 * @param {HTMLElement} root
 * @param {Ctx} ctx
 */
export function mount(root, ctx) {
  const symbol = new URLSearchParams(location.search).get("market");
  if (symbol) return mountTrade(root, ctx, symbol, { title: "Futures", path: "/futures", type: "PERP" });
  return mountMarketPage(root, ctx, {
    title: "Futures",
    markets: { heading: "Perpetual markets", label: "Perpetual markets table", testid: "perp-markets" },
    mine: { heading: "Your positions", label: "Positions table", testid: "perp-positions", signedOut: "Sign in to see your positions." },
    load: () => load(ctx),
  });
}
