// @ts-check
/**
 * What the Futures and Spot pages share: a title, the markets table, a table of your own (signed
 * in) and the cross-margin card beside them. Everything is fetched again on each change; an answer
 * overtaken by a newer request is dropped, and a failure is shown in words.
 */

import { fill, fillScroll, h, scrollBox } from "./dom.js";
import { mountOverview } from "./overview.js";

/** @typedef {import("./main.js").Ctx} Ctx */
/** @typedef {{heading: string, label: string, testid: string}} Section */
/**
 * @typedef {object} MarketPage
 * @property {string} title
 * @property {Section} markets
 * @property {Section & {signedOut: string}} mine
 * @property {() => Promise<{markets: Node, mine: Node | null}>} load builds both tables (mine: null when signed out)
 */

/**
 * @param {HTMLElement} root
 * @param {Ctx} ctx
 * @param {MarketPage} page
 * @returns {() => void} cleanup
 */
export function mountMarketPage(root, ctx, page) {
  const markets = scrollBox(page.markets.label, { "data-testid": page.markets.testid }, h("p", { class: "loading", text: "Loading markets…" }));
  const mine = scrollBox(page.mine.label, { "data-testid": page.mine.testid });
  const error = h("p", { class: "error", role: "alert" });
  const side = h("aside");
  /** @param {Section} section @param {HTMLElement} box */
  const card = (section, box) => h("section", { class: "card", "aria-label": section.heading }, h("h2", { text: section.heading }), box);
  fill(root, h("div", { class: "page-grid" }, h("div", null, h("h1", { text: page.title }), error, card(page.markets, markets), card(page.mine, mine)), side));
  const unmountOverview = mountOverview(side, ctx);
  let generation = 0;

  async function refresh() {
    const current = ++generation;
    try {
      const tables = await page.load();
      if (current !== generation) return;
      fillScroll(markets, tables.markets);
      fillScroll(mine, tables.mine ?? h("p", { class: "hint", text: page.mine.signedOut }));
      error.textContent = "";
    } catch (failure) {
      if (current === generation) error.textContent = failure instanceof Error ? failure.message : String(failure);
    }
  }

  ctx.onChange(refresh);
  refresh();
  return unmountOverview;
}
