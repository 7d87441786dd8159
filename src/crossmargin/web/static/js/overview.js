// @ts-check
/**
 * The cross-margin overview card: net equity, available, margin fraction, IMR and MMR (the
 * server's strings, formatted exactly), the leverage limit (a button opening its dialog), the
 * auto-lend lightning toggle and the auto-repay / auto-borrow-settlements switches.
 */

import { fill, h } from "./dom.js";
import { amount, percent, usd } from "./format.js";
import { openLeverageDialog } from "./leverage.js";

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
    imf: metric("imr", "IMR"),
    mmf: metric("mmr", "MMR"),
  };
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
  const signedIn = [h("dl", { class: "metrics" }, Object.values(metrics).flatMap((m) => m.nodes)), explain, repay.row, settle.row, error];
  el.append(card);

  /** @param {any} collateral @param {any} settings */
  function render(collateral, settings) {
    account = settings;
    /** @type {[keyof typeof metrics, (v: unknown) => string][]} */
    const shown = [["netEquity", usd], ["netEquityAvailable", usd], ["marginFraction", (v) => (v == null ? "—" : percent(v))], ["imf", percent], ["mmf", percent]];
    for (const [key, show] of shown) {
      metrics[key].value.textContent = show(collateral[key]);
      metrics[key].value.dataset.value = collateral[key] ?? "";
      metrics[key].value.title = collateral[key] == null ? "" : String(collateral[key]);
    }
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
      const [collateral, settings] = await Promise.all([
        ctx.api.signed("collateralQuery", "GET", "/api/v1/capital/collateral"),
        ctx.api.signed("accountQuery", "GET", "/api/v1/account"),
      ]);
      if (mine !== generation || !alive) return;
      render(collateral, settings);
      controls.forEach((c) => c.removeAttribute("disabled"));
      error.textContent = "";
    } catch (failure) {
      if (mine === generation && alive) error.textContent = failure instanceof Error ? failure.message : String(failure);
    }
  }

  /**
   * @param {"autoLend" | "autoRepayBorrows" | "autoBorrowSettlements"} name
   * @param {string} words
   */
  async function toggle(name, words) {
    if (!account) return;
    const wanted = !account[name];
    controls.forEach((c) => c.setAttribute("disabled", ""));
    try {
      await ctx.api.signed("accountUpdate", "PATCH", "/api/v1/account", { [name]: wanted });
      ctx.notify(`${words} ${wanted ? "on" : "off"}`);
      error.textContent = "";
    } catch (failure) {
      error.textContent = failure instanceof Error ? failure.message : String(failure);
    }
    await refresh();
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
