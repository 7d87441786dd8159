// @ts-check
/**
 * The Lend page: every borrow-lend pool; the selected asset's Borrow / Repay / Lend / Redeem
 * actions (each a dialog that previews the server's answer before confirming); your active
 * borrows and lends; interest and borrow-lend history with the reason for each automatic
 * movement; and the cross-margin overview in the right column. The asset named by `?symbol=` is
 * selected, else USDC (or the first pool), so its actions show at once; selecting another asset
 * writes it back to the address. Everything is fetched again on
 * every ctx.onChange (engine update, sign-in or out, slow poll); signed out, the pools still show
 * and the account parts invite signing in. Until the first answer each section says it is loading;
 * a part the server did not answer says so (never "No active borrows or lends" for an account whose
 * borrows could not be read). Each history table pages through the server (limit/offset) with its
 * own Newer / Older buttons.
 */

import { h, fill, fillScroll, scrollBox } from "./dom.js";
import { mountOverview } from "./overview.js";
import { abs, compare, decimalsOfStep, sign } from "./lend_decimal.js";
import { HISTORY_LIMIT, availableOf, loadLendData, netQuantityOf } from "./lend_data.js";
import { openLendDialog } from "./lend_dialog.js";
import { movementsTable, interestTable } from "./lend_history.js";
import { assetPanel } from "./lend_panel.js";
import { poolsTable } from "./lend_pools.js";
import { mountMoney } from "./money.js";
import { collateralLiquidationList, positionsTable } from "./lend_positions.js";
import { amount } from "./format.js";

/** @typedef {import("./lend_data.js").LendData} LendData */
/** @typedef {import("./lend_panel.js").Action} Action */
/**
 * @typedef {object} Ctx
 * @property {import("./lend_data.js").LendApi} api
 * @property {{signedIn: boolean, subaccountId: number | null}} session
 * @property {(fn: (reason: string) => void) => () => void} onChange
 * @property {(text: string, kind?: "info" | "error") => void} notify
 * @property {() => void} [signIn] opens the sign-in dialog
 */

/**
 * The line shown in place of a part the server did not answer.
 * @param {string} what
 * @param {string | null} why
 * @returns {HTMLElement}
 */
function unreadLine(what, why) {
  return h("p", { class: "lend-error", role: "status", "data-testid": "unread", text: `${what} could not be read (${why ?? "no answer"}): not shown until the server answers; the page tries again by itself.` });
}

/**
 * Newer / Older buttons under a history table, with the rows shown.
 * @param {string} testid
 * @param {string} what the table, for the buttons' names
 * @param {number} offset
 * @param {number} shown rows on this page
 * @param {boolean} more whether an older page exists
 * @param {(offset: number) => void} go
 * @returns {HTMLElement | null} null when everything fits on one page
 */
function pager(testid, what, offset, shown, more, go) {
  if (offset === 0 && !more) return null;
  const newer = h("button", { type: "button", class: "lend-page-button", "data-focus-key": `${testid}-newer`, disabled: offset === 0, text: "Newer", "aria-label": `Newer ${what}`, onclick: () => go(Math.max(0, offset - HISTORY_LIMIT)) });
  const older = h("button", { type: "button", class: "lend-page-button", "data-focus-key": `${testid}-older`, disabled: !more, text: "Older", "aria-label": `Older ${what}`, onclick: () => go(offset + HISTORY_LIMIT) });
  const range = shown ? `Rows ${offset + 1}–${offset + shown}` : "No rows";
  return h("div", { class: "lend-pager", "data-testid": `${testid}-pager` }, newer, h("span", { "data-testid": `${testid}-range`, text: range }), older);
}

/** Decimals allowed when a pool does not say its step size. */
const DEFAULT_DECIMALS = 18;
/** The asset selected when the address names none. */
const DEFAULT_SYMBOL = "USDC";

/**
 * The asset to select when `wanted` has no pool: USDC, else the first pool (null if none).
 * @param {any[]} pools
 * @param {string} wanted
 * @returns {string | null} null to keep `wanted`
 */
function fallbackSymbol(pools, wanted) {
  const symbols = pools.map((pool) => String(pool.symbol));
  if (!symbols.length || symbols.includes(wanted)) return null;
  return symbols.includes(DEFAULT_SYMBOL) ? DEFAULT_SYMBOL : symbols[0];
}

/**
 * A card with a title, a line or two above its table (`lead`) and the table's own sideways scroller (`body`).
 * @param {string} title
 * @param {string} testid
 * @param {string} tableLabel the scroller's accessible name
 * @returns {{section: HTMLElement, lead: HTMLElement, body: HTMLElement}}
 */
function section(title, testid, tableLabel) {
  const id = `lend-${testid}-title`;
  const lead = h("div", { class: "lend-section-lead" });
  const body = scrollBox(tableLabel, { class: "lend-section-body" });
  const section = h("section", { class: "card lend-section", "aria-labelledby": id, "data-testid": testid }, h("h2", { id, text: title }), lead, body);
  return { section, lead, body };
}

/**
 * Focus an action button of the asset panel, or the first enabled one if it is disabled now.
 * @param {HTMLElement} root
 * @param {string} action
 * @returns {boolean} whether something took focus
 */
function focusAction(root, action) {
  for (const selector of [`[data-focus-key="action-${action}"]:not(:disabled)`, '[data-focus-key^="action-"]:not(:disabled)']) {
    const found = root.querySelector(selector);
    if (found instanceof HTMLElement) {
      found.focus();
      return true;
    }
  }
  return false;
}

/**
 * Run `render`, then give focus back to the element with the same focus key if it had it.
 * @param {HTMLElement} root
 * @param {() => void} render
 */
function keepingFocus(root, render) {
  const active = document.activeElement;
  const key = active instanceof HTMLElement && root.contains(active) ? active.dataset.focusKey : undefined;
  render();
  if (!key || root.contains(document.activeElement)) return;
  if (key.startsWith("action-")) {
    focusAction(root, key.slice("action-".length));
    return;
  }
  const again = root.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
  if (again instanceof HTMLElement) again.focus();
}

/**
 * @param {HTMLElement} root
 * @param {Ctx} ctx
 * @returns {() => void}
 */
export function mount(root, ctx) {
  /** @type {string | null} the address's asset or USDC at first, checked against the pools once loaded */
  let selected = new URLSearchParams(location.search).get("symbol")?.trim().toUpperCase() || DEFAULT_SYMBOL;
  /** @type {LendData | null} */
  let data = null;
  let generation = 0;
  let disposed = false;
  /** @type {{close: () => void, refresh: () => void} | null} */
  let dialog = null;
  /** @type {import("./lend_data.js").Offsets} */
  const offsets = { interest: 0, movements: 0 };

  // The server's pools table (web_first_view.py) shows until the first render.
  const drawnPools = root.querySelector('[data-first-view] [data-testid="pools"]');
  const drawnIntro = root.querySelector("[data-first-view] .lend-intro");
  const pools = section("Borrow and lend", "lend-pools", "Pools table");
  const panel = h("div", { class: "lend-panel-slot" });
  const positions = section("Your borrows and lends", "lend-positions", "Borrows and lends table");
  const interest = section("Interest history", "lend-interest", "Interest history table");
  const movements = section("Borrow-lend history", "lend-movements", "Borrow-lend history table");
  const overview = h("aside", { class: "lend-side", "aria-label": "Cross-margin overview" });
  const moneySlot = h("div", { class: "lend-money-slot" });
  fill(
    root,
    h(
      "div",
      { class: "lend-page" },
      h("div", { class: "lend-main" }, h("h1", { class: "lend-title", text: "Lend" }), pools.section, panel, moneySlot, positions.section, interest.section, movements.section),
      overview,
    ),
  );
  const stopOverview = mountOverview(overview, /** @type {any} */ (ctx));
  const money = mountMoney(moneySlot, ctx, () => void refresh());
  money.update(null, null);
  for (const part of [pools, positions, interest, movements]) fill(part.body, h("p", { class: "lend-loading", role: "status", text: "Loading…" }));
  if (drawnPools) {
    fill(pools.lead, drawnIntro);
    fillScroll(pools.body, drawnPools);
  }

  /** @param {string} symbol */
  function select(symbol) {
    if (symbol === selected) return;
    selected = symbol;
    const url = new URL(location.href);
    url.searchParams.set("symbol", symbol);
    history.replaceState(history.state, "", url);
    if (data?.mine) data.mine.maxBorrow = null;
    render();
    void refresh();
  }

  /** @param {string} symbol @returns {number} */
  function decimalsOf(symbol) {
    const step = data?.pools.find((pool) => pool.symbol === symbol)?.stepSize;
    return typeof step === "string" ? decimalsOfStep(step) : DEFAULT_DECIMALS;
  }

  /** @param {string} symbol @returns {Promise<string>} */
  async function netQuantity(symbol) {
    const list = await ctx.api.signed("borrowLendPositionQuery", "GET", "/api/v1/borrowLend/positions");
    return netQuantityOf(Array.isArray(list) ? list : [], symbol);
  }

  /** @param {string} symbol @returns {Promise<string>} the free balance of `symbol` */
  async function freeBalance(symbol) {
    const balances = await ctx.api.signed("balanceQuery", "GET", "/api/v1/capital");
    return String(balances?.[symbol]?.available ?? "0");
  }

  /**
   * What "Max" fills in: the max borrowable, the free balance, the whole lend, or for Repay the
   * debt (interest included) but never more than the free balance can pay: then that balance,
   * and not the whole borrow.
   * @param {Action} action
   * @param {string} symbol
   * @returns {() => Promise<{quantity: string, whole: boolean}>}
   */
  function maxAmount(action, symbol) {
    if (action === "Borrow") {
      return async () => {
        const body = await ctx.api.signed("maxBorrowQuantity", "GET", "/api/v1/account/limits/borrow", { symbol });
        return { quantity: String(body.maxBorrowQuantity), whole: false };
      };
    }
    if (action === "Lend") return async () => ({ quantity: await freeBalance(symbol), whole: false });
    if (action === "Redeem") {
      return async () => {
        const net = await netQuantity(symbol);
        return sign(net) > 0 ? { quantity: net, whole: true } : { quantity: "0", whole: false };
      };
    }
    return async () => {
      const [net, free] = await Promise.all([netQuantity(symbol), freeBalance(symbol)]);
      if (sign(net) >= 0) return { quantity: "0", whole: false };
      const debt = abs(net);
      if (compare(free, debt) >= 0) return { quantity: debt, whole: true };
      if (sign(free) <= 0) return { quantity: "0", whole: false };
      const [whole, fraction = ""] = free.split("."); // cut to the asset's step, never up
      const kept = fraction.slice(0, decimalsOf(symbol)).replace(/0+$/, "");
      return { quantity: kept ? `${whole}.${kept}` : whole, whole: false };
    };
  }

  /** @param {Action} action @param {string} symbol @returns {string} */
  function boundOf(action, symbol) {
    const mine = data?.mine;
    if (!mine) return "";
    const net = netQuantityOf(mine.positions, symbol);
    const unit = ` ${symbol}`;
    const available = `Available: ${amount(availableOf(mine, symbol))}${unit}`;
    if (action === "Borrow") return `Max borrowable: ${mine.maxBorrow === null ? "—" : amount(mine.maxBorrow) + unit}`;
    if (action === "Repay") return `Borrowed: ${amount(abs(net))}${unit} · ${available}`;
    if (action === "Redeem") return `Lent: ${amount(net)}${unit}`;
    return available;
  }

  /**
   * Open an action's dialog for the selected asset, or for `symbol` (selected first) from a
   * position row, whose button gets focus back when it closes, if it is still there.
   * @param {Action} action
   * @param {string} [fromRow] the asset of the position row that asked
   */
  function openAction(action, fromRow) {
    if (fromRow) select(fromRow);
    const symbol = selected;
    if (!symbol) return;
    dialog?.close();
    const opened = openLendDialog({
      api: ctx.api,
      notify: ctx.notify,
      action,
      symbol,
      decimals: decimalsOf(symbol),
      bound: boundOf(action, symbol),
      maxAmount: maxAmount(action, symbol),
      returnFocus: () => {
        if (dialog !== opened) return;
        dialog = null;
        const row = fromRow && root.querySelector(`[data-focus-key="${CSS.escape(`position-${action}-${fromRow}`)}"]`);
        if (row instanceof HTMLElement) row.focus();
        else focusAction(root, action);
      },
      onDone: () => void refresh(),
    });
    dialog = opened;
  }

  function render() {
    if (!data || disposed) return;
    const current = data;
    keepingFocus(root, () => {
      fill(
        pools.lead,
        h("p", { class: "lend-intro", text: "Select an asset to borrow or lend it. Rates are yearly (APR); interest is charged every hour." }),
        current.poolsError ? h("p", { class: "lend-error", role: "status", text: current.poolsError }) : null,
      );
      fillScroll(pools.body, poolsTable(current.pools, selected, select));
      const pool = current.pools.find((candidate) => candidate.symbol === selected);
      fill(panel, selected && pool ? assetPanel(selected, pool, current.mine, openAction, ctx.signIn) : null);
      const mine = current.mine;
      money.update(selected, mine);
      const invite = (/** @type {string} */ what) => h("p", { class: "lend-invite", text: `Sign in to see ${what}.` });
      const unread = (/** @type {string} */ part) => Boolean(mine?.unread.has(part));
      fill(positions.lead, mine ? collateralLiquidationList(mine.collateral) : null);
      if (mine && unread("positions")) fill(positions.body, unreadLine("Your borrows and lends", mine.error));
      else fillScroll(positions.body, mine ? positionsTable(mine.positions, openAction) : invite("your active borrows and lends"));
      if (mine && unread("interest")) fill(interest.body, unreadLine("Your interest history", mine.error));
      else fillScroll(interest.body, mine ? interestTable(mine.interest) : invite("your interest history"));
      fill(interest.lead, mine ? pager("interest", "interest history", offsets.interest, mine.interest.length, mine.more.interest, (at) => page("interest", at)) : null);
      if (mine && unread("movements")) fill(movements.body, unreadLine("Your borrow-lend history", mine.error));
      else fillScroll(movements.body, mine ? movementsTable(mine.movements, mine.explanations) : invite("your borrow-lend history"));
      fill(movements.lead, mine ? pager("movements", "borrow-lend history", offsets.movements, mine.movements.length, mine.more.movements, (at) => page("movements", at)) : null);
    });
  }

  /**
   * Show another page of a history table.
   * @param {"interest" | "movements"} table
   * @param {number} offset
   */
  function page(table, offset) {
    offsets[table] = offset;
    void refresh();
  }

  async function refresh() {
    const mine = (generation += 1);
    const loaded = await loadLendData(ctx.api, ctx.session.signedIn, selected, { ...offsets });
    if (disposed || mine !== generation) return;
    data = loaded;
    const other = selected === null ? null : fallbackSymbol(loaded.pools, selected);
    if (other) select(other);
    else render();
  }

  const unsubscribe = ctx.onChange(() => {
    dialog?.refresh();
    void refresh();
  });
  void refresh();
  return () => {
    disposed = true;
    unsubscribe();
    dialog?.close();
    if (typeof stopOverview === "function") stopOverview();
  };
}
