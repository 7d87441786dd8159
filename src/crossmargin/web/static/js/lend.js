// @ts-check
/**
 * The Lend page: every borrow-lend pool; the selected asset's Borrow / Repay / Lend / Redeem
 * actions (each a dialog that previews the server's answer before confirming); your active
 * borrows and lends; interest and borrow-lend history with the reason for each automatic
 * movement; and the cross-margin overview in the right column. The asset named by `?symbol=` is
 * selected, else USDC (or the first pool), so its actions show at once; selecting another asset
 * writes it back to the address. Everything is fetched again on
 * every ctx.onChange (engine update, sign-in or out, slow poll); signed out, the pools still show
 * and the account parts invite signing in.
 */

import { h, fill, fillScroll, scrollBox } from "./dom.js";
import { mountOverview } from "./overview.js";
import { abs, decimalsOfStep, sign } from "./lend_decimal.js";
import { availableOf, loadLendData, netQuantityOf } from "./lend_data.js";
import { openLendDialog } from "./lend_dialog.js";
import { movementsTable, interestTable } from "./lend_history.js";
import { assetPanel } from "./lend_panel.js";
import { poolsTable } from "./lend_pools.js";
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

  const pools = section("Borrow and lend", "lend-pools", "Pools table");
  const panel = h("div", { class: "lend-panel-slot" });
  const positions = section("Your borrows and lends", "lend-positions", "Borrows and lends table");
  const interest = section("Interest history", "lend-interest", "Interest history table");
  const movements = section("Borrow-lend history", "lend-movements", "Borrow-lend history table");
  const overview = h("aside", { class: "lend-side", "aria-label": "Cross-margin overview" });
  fill(
    root,
    h(
      "div",
      { class: "lend-page" },
      h("div", { class: "lend-main" }, h("h1", { class: "lend-title", text: "Lend" }), pools.section, panel, positions.section, interest.section, movements.section),
      overview,
    ),
  );
  const stopOverview = mountOverview(overview, /** @type {any} */ (ctx));

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

  /**
   * @param {Action} action
   * @param {string} symbol
   * @returns {() => Promise<string>}
   */
  function maxAmount(action, symbol) {
    if (action === "Borrow") {
      return async () => {
        const body = await ctx.api.signed("maxBorrowQuantity", "GET", "/api/v1/account/limits/borrow", { symbol });
        return String(body.maxBorrowQuantity);
      };
    }
    if (action === "Lend") {
      return async () => {
        const balances = await ctx.api.signed("balanceQuery", "GET", "/api/v1/capital");
        return String(balances?.[symbol]?.available ?? "0");
      };
    }
    const wanted = action === "Repay" ? -1 : 1;
    return async () => {
      const net = await netQuantity(symbol);
      return sign(net) === wanted ? abs(net) : "0";
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
      const invite = (/** @type {string} */ what) => h("p", { class: "lend-invite", text: `Sign in to see ${what}.` });
      fill(positions.lead, mine ? collateralLiquidationList(mine.collateral) : null);
      fillScroll(positions.body, mine ? positionsTable(mine.positions, openAction) : invite("your active borrows and lends"));
      fillScroll(interest.body, mine ? interestTable(mine.interest) : invite("your interest history"));
      fillScroll(movements.body, mine ? movementsTable(mine.movements, mine.explanations) : invite("your borrow-lend history"));
    });
  }

  async function refresh() {
    const mine = (generation += 1);
    const loaded = await loadLendData(ctx.api, ctx.session.signedIn, selected);
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
