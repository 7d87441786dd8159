// @ts-check
/**
 * The cross-margin overview card: net equity, available, margin fraction, IMR and MMR (the
 * server's own strings of GET /api/v1/capital/collateral, formatted exactly: IMR and MMR are its
 * `initialMarginRatio` and `maintenanceMarginRatio`, never re-computed here), the leverage limit
 * (a button opening its dialog), the auto-lend lightning toggle and the auto-repay /
 * auto-borrow-settlements switches.
 *
 * Risk you can see: Available and MMR carry `data-risk` ("ok", "warn", "danger"), coloured by it.
 * MMR is "warn" from 50% (RISK_WARN) and "danger" from 80% (RISK_DANGER); liquidation starts at
 * 100%. Available is "danger" below zero (no new borrow, withdrawal or order). From RISK_DANGER,
 * or with debts and no positive net equity, a banner says what happens at 100% and what to do.
 * A liquidation in the borrow-lend history (source `Liquidation` or `LiquidationBackstop`) shows a
 * notice with its steps and the liquidation fees of its fills (`CollateralConversion`,
 * `LiquidatePositionOnBook`: 1% of each fill's value).
 */

import { fill, h } from "./dom.js";
import { amount, percent, price, time, usd } from "./format.js";
import { compare, isDecimal, sign } from "./lend_decimal.js";
import { openLeverageDialog } from "./leverage.js";
import { EVENT_WORDS } from "./lend_explain.js";

/** MMR from which the figure turns amber. */
export const RISK_WARN = "0.5";
/** MMR from which it turns red and the banner shows; the account is liquidated at 1 (100%). */
export const RISK_DANGER = "0.8";
/** The borrow-lend history sources that mark a liquidation's steps. */
const LIQUIDATION_SOURCES = "Liquidation,LiquidationBackstop";
/** The system orders a liquidation sends. */
const LIQUIDATION_ORDERS = new Set(["CollateralConversion", "LiquidatePositionOnBook"]);
/** How many liquidation steps and fills the notice reads. */
const NOTICE_LIMIT = 20;

/**
 * How risky the account is, from the server's strings only.
 * @param {any} collateral GET /api/v1/capital/collateral
 * @returns {{mmr: "ok" | "warn" | "danger", available: "ok" | "danger"}}
 */
export function riskOf(collateral) {
  const ratio = collateral?.maintenanceMarginRatio;
  const indebted = isDecimal(String(collateral?.liabilitiesValue ?? "")) && sign(String(collateral.liabilitiesValue)) > 0;
  /** @type {"ok" | "warn" | "danger"} */
  let mmr = "ok";
  if (typeof ratio === "string" && isDecimal(ratio)) mmr = compare(ratio, RISK_DANGER) >= 0 ? "danger" : compare(ratio, RISK_WARN) >= 0 ? "warn" : "ok";
  else if (indebted) mmr = "danger"; // no ratio: net equity is not positive while something is owed
  const free = String(collateral?.netEquityAvailable ?? "");
  return { mmr, available: isDecimal(free) && sign(free) < 0 ? "danger" : "ok" };
}

/** @typedef {import("./main.js").Ctx} Ctx */

const AUTO_LEND_ON = "Auto-lend is on: idle balances are lent out and earn interest. Manual borrow and repay need auto-lend off.";
const AUTO_LEND_OFF = "Auto-lend is off: manual borrow and repay are available. Turn it on to lend idle balances automatically.";

/**
 * @param {string} id
 * @param {string} text
 */
function metric(id, text) {
  const value = h("dd", { "data-testid": id, text: "—" });
  return { value, nodes: [h("dt", { text }), value] };
}

/**
 * @param {string} testid
 * @param {string} text
 * @param {() => void} onToggle
 */
function switchRow(testid, text, onToggle) {
  const label = h("span", { id: `${testid}-label`, text });
  const control = h("button", { type: "button", role: "switch", "aria-checked": "false", "aria-labelledby": label.id, "data-testid": testid, onclick: onToggle });
  return { control, row: h("div", { class: "setting" }, label, control) };
}

/**
 * @param {HTMLElement} el
 * @param {Ctx} ctx
 * @returns {() => void}
 */
export function mountOverview(el, ctx) {
  /** @type {any} */
  let account = null;
  let generation = 0;
  let alive = true;
  const error = h("p", { class: "error", role: "alert", "data-testid": "overview-error" });
  const metrics = {
    netEquity: metric("net-equity", "Net equity"),
    netEquityAvailable: metric("available", "Available"),
    marginFraction: metric("margin-fraction", "Margin fraction"),
    initialMarginRatio: metric("imr", "IMR"),
    maintenanceMarginRatio: metric("mmr", "MMR"),
  };
  const banner = h("p", { class: "risk-banner", role: "alert", "data-testid": "risk-banner", hidden: true });
  const notice = h("div", { class: "liquidation-notice", role: "status", "data-testid": "liquidation-notice", hidden: true });
  const explain = h("p", { class: "explain", id: "auto-lend-explain", text: AUTO_LEND_OFF });
  const leverageButton = h("button", { type: "button", class: "leverage", "data-testid": "leverage-button", text: "—", onclick: changeLeverage });
  const bolt = h("button", { type: "button", class: "bolt", "data-testid": "auto-lend-toggle", "aria-pressed": "false", "aria-label": "Auto-lend", text: "⚡", onclick: () => toggle("autoLend", "Auto-lend") });
  const repay = switchRow("auto-repay-switch", "Auto-repay borrows", () => toggle("autoRepayBorrows", "Auto-repay borrows"));
  const settle = switchRow("auto-borrow-switch", "Auto-borrow settlements", () => toggle("autoBorrowSettlements", "Auto-borrow settlements"));
  const controls = [leverageButton, bolt, repay.control, settle.control];
  const body = h("div");
  const card = h(
    "section",
    { class: "card overview", "data-testid": "overview", "aria-labelledby": "overview-title" },
    h("div", { class: "overview-head" }, h("h2", { id: "overview-title", text: "Cross margin" }), leverageButton, bolt),
    body,
  );
  const signedIn = [banner, notice, h("dl", { class: "metrics" }, Object.values(metrics).flatMap((m) => m.nodes)), explain, repay.row, settle.row, error];
  el.append(card);

  /** @param {any} collateral @param {any} settings */
  function render(collateral, settings) {
    account = settings;
    const ratio = (/** @type {unknown} */ v) => (v == null ? "—" : percent(v));
    /** @type {[keyof typeof metrics, (v: unknown) => string][]} */
    const shown = [["netEquity", usd], ["netEquityAvailable", usd], ["marginFraction", ratio], ["initialMarginRatio", ratio], ["maintenanceMarginRatio", ratio]];
    for (const [key, show] of shown) {
      metrics[key].value.textContent = show(collateral[key]);
      metrics[key].value.dataset.value = collateral[key] ?? "";
      metrics[key].value.title = collateral[key] == null ? "" : String(collateral[key]);
    }
    const risk = riskOf(collateral);
    metrics.maintenanceMarginRatio.value.dataset.risk = risk.mmr;
    metrics.netEquityAvailable.value.dataset.risk = risk.available;
    const mmr = collateral.maintenanceMarginRatio;
    banner.hidden = risk.mmr !== "danger";
    banner.textContent = risk.mmr !== "danger"
      ? ""
      : `Liquidation risk: your maintenance margin ratio is ${mmr == null ? "past 100%" : percent(mmr)}. At 100% the account is liquidated (orders cancelled, collateral sold, debts repaid, with fees). Repay a borrow, add funds or reduce positions to lower it.`;
    leverageButton.textContent = `${amount(settings.leverageLimit)}×`;
    leverageButton.setAttribute("aria-label", `Leverage limit ${amount(settings.leverageLimit)}×: change`);
    leverageButton.dataset.value = settings.leverageLimit;
    bolt.setAttribute("aria-pressed", String(Boolean(settings.autoLend)));
    bolt.title = settings.autoLend ? "Auto-lend on" : "Auto-lend off";
    explain.textContent = settings.autoLend ? AUTO_LEND_ON : AUTO_LEND_OFF;
    repay.control.setAttribute("aria-checked", String(Boolean(settings.autoRepayBorrows)));
    settle.control.setAttribute("aria-checked", String(Boolean(settings.autoBorrowSettlements)));
  }

  async function refresh() {
    const mine = ++generation;
    if (!ctx.session.signedIn) {
      account = null;
      controls.forEach((c) => c.setAttribute("disabled", ""));
      bolt.removeAttribute("aria-describedby"); // the explanation is shown only when signed in
      leverageButton.textContent = "—";
      fill(body, h("p", { class: "hint", text: "Sign in to see your cross-margin account." }), h("button", { type: "button", class: "primary", text: "Log in", onclick: ctx.signIn }));
      return;
    }
    if (body.firstChild !== signedIn[0]) fill(body, signedIn);
    bolt.setAttribute("aria-describedby", explain.id);
    try {
      const [collateral, settings, steps, fills] = await Promise.all([
        ctx.api.signed("collateralQuery", "GET", "/api/v1/capital/collateral"),
        ctx.api.signed("accountQuery", "GET", "/api/v1/account"),
        ctx.api.signed("borrowHistoryQueryAll", "GET", "/wapi/v1/history/borrowLend", { sources: LIQUIDATION_SOURCES, limit: NOTICE_LIMIT }).catch(() => []),
        ctx.api.signed("fillHistoryQueryAll", "GET", "/wapi/v1/history/fills", { limit: NOTICE_LIMIT }).catch(() => []),
      ]);
      if (mine !== generation || !alive) return;
      render(collateral, settings);
      showLiquidation(Array.isArray(steps) ? steps : [], Array.isArray(fills) ? fills : []);
      controls.forEach((c) => c.removeAttribute("disabled"));
      error.textContent = "";
    } catch (failure) {
      if (mine === generation && alive) error.textContent = failure instanceof Error ? failure.message : String(failure);
    }
  }

  /**
   * The notice of the latest liquidation: when, each step (what was repaid or redeemed), and the
   * fees of the liquidation's fills. Hidden when the history has none.
   * @param {any[]} steps borrow-lend history rows of a liquidation, newest first
   * @param {any[]} fills the latest fills, newest first
   */
  function showLiquidation(steps, fills) {
    if (!steps.length) {
      notice.hidden = true;
      fill(notice);
      return;
    }
    const sold = fills.filter((row) => LIQUIDATION_ORDERS.has(String(row.systemOrderType)));
    const items = [
      ...steps.map((row) =>
        h("li", { "data-testid": "liquidation-step", text: `${time(row.timestamp)}: ${EVENT_WORDS[row.eventType] ?? String(row.eventType)} ${amount(row.quantity)} ${row.symbol}${row.source === "LiquidationBackstop" ? " (taken over by the insurance fund)" : ""}` }),
      ),
      ...sold.map((row) =>
        h("li", { "data-testid": "liquidation-fill", text: `Sold ${amount(row.quantity)} on ${row.symbol} at ${price(row.price)}, liquidation fee ${amount(row.fee)} ${row.feeSymbol ?? ""}`.trim() }),
      ),
    ];
    fill(
      notice,
      h("p", { class: "liquidation-title", text: `Your account was liquidated (latest step ${time(steps[0].timestamp)}). What it did:` }),
      h("ul", null, items),
    );
    notice.hidden = false;
  }

  /**
   * @param {"autoLend" | "autoRepayBorrows" | "autoBorrowSettlements"} name
   * @param {string} words
   */
  async function toggle(name, words) {
    if (!account) return;
    const wanted = !account[name];
    const focused = document.activeElement; // given back after the round trip, so focus never falls to the top
    controls.forEach((c) => c.setAttribute("disabled", ""));
    try {
      await ctx.api.signed("accountUpdate", "PATCH", "/api/v1/account", { [name]: wanted });
      ctx.notify(`${words} ${wanted ? "on" : "off"}`);
      error.textContent = "";
    } catch (failure) {
      error.textContent = failure instanceof Error ? failure.message : String(failure);
    }
    await refresh();
    if (!ctx.session.signedIn) return;
    controls.forEach((c) => c.removeAttribute("disabled"));
    if (focused instanceof HTMLElement && controls.includes(focused) && focused.isConnected) focused.focus({ preventScroll: true });
  }

  function changeLeverage() {
    if (!account) return;
    openLeverageDialog(ctx, String(account.leverageLimit), (value) => {
      ctx.notify(`Leverage limit set to ${amount(value)}×`);
      refresh();
    });
  }

  const off = ctx.onChange(refresh);
  refresh();
  return () => {
    alive = false;
    off();
    card.remove();
  };
}
