// @ts-check
/**
 * The operator's demo controls, shown under the top bar while the operator is connected (admin
 * token entered in the sign-in dialog): advance the manual clock by a minute, an hour or a day;
 * deposit an amount of an asset to the subaccount the page acts as; set an asset's index price;
 * see the insurance fund (its value on a button that opens its balances and losses, refreshed on
 * every engine change). Amounts and prices are sent exactly as typed; the server checks them and a
 * refusal is shown in its own words. The page then updates through the live feed as usual.
 */

import { fill, h } from "./dom.js";
import { amount, time, usd } from "./format.js";
import { createFundPanel } from "./operator_fund.js";

/** @typedef {import("./api.js").Api} Api */
/** @typedef {import("./session.js").Session} Session */

/** @type {[string, number, string][]} label, seconds, words */
const STEPS = [
  ["+1 min", 60, "1 minute"],
  ["+1 h", 3600, "1 hour"],
  ["+1 day", 86_400, "1 day"],
];

/**
 * @param {unknown} error
 * @returns {string}
 */
const messageOf = (error) => (error instanceof Error ? error.message : String(error));

/**
 * A control with its label: the visible words, then (for screen readers) what completes them.
 * @param {string} id
 * @param {string} shown visible part of the label ("" for none)
 * @param {string} rest the rest of the accessible name, read but not shown
 * @param {HTMLElement} control
 * @returns {HTMLElement[]}
 */
function labelled(id, shown, rest, control) {
  control.id = id;
  const label = h("label", { for: id, class: shown ? "operator-label" : "sr-only" }, shown, rest ? h("span", { class: "sr-only", text: rest }) : null);
  return [label, control];
}

/** @returns {HTMLSelectElement} */
const assetSelect = () => /** @type {HTMLSelectElement} */ (h("select", { required: true }, h("option", { value: "USDC", text: "USDC" })));

/**
 * Build the bar (hidden until the operator connects) and keep it in step with the session.
 * @param {Session} session
 * @param {Api} api
 * @param {(text: string, kind?: "info" | "error") => void} notify
 * @param {(fn: (reason: string) => void) => void} onChange tells `fn` of every change: engine, poll, session
 * @returns {HTMLElement} the bar, for the caller to place
 */
export function createOperatorBar(session, api, notify, onChange) {
  const error = h("p", { class: "error operator-error", role: "alert", "data-testid": "operator-bar-error" });
  let busy = false;

  /**
   * Run one operator request at a time; show a refusal in words, a success as a toast.
   * @param {() => Promise<string>} request resolves to the success message
   */
  async function run(request) {
    if (busy) return;
    busy = true;
    bar.setAttribute("aria-busy", "true");
    error.textContent = "";
    try {
      notify(await request());
    } catch (failure) {
      error.textContent = messageOf(failure);
    } finally {
      busy = false;
      bar.removeAttribute("aria-busy");
    }
  }

  const clockButtons = STEPS.map(([text, seconds, words]) =>
    h("button", {
      type: "button",
      text,
      title: `Advance the engine clock by ${words}`,
      onclick: () =>
        run(async () => {
          const answer = await api.admin("POST", "/admin/v1/clock/advance", { seconds });
          return `Clock advanced by ${words}${typeof answer?.now === "number" ? `: ${time(answer.now)}` : ""}`;
        }),
    }),
  );
  const clock = h("div", { class: "operator-group", role: "group", "aria-labelledby": "operator-clock-label" }, h("span", { id: "operator-clock-label", class: "operator-label", text: "Advance clock" }), clockButtons);

  const depositAsset = assetSelect();
  const depositAmount = /** @type {HTMLInputElement} */ (h("input", { name: "quantity", inputmode: "decimal", autocomplete: "off", placeholder: "amount", required: true }));
  const depositTarget = h("span", { class: "operator-target", "data-testid": "operator-deposit-target" });
  const depositButton = /** @type {HTMLButtonElement} */ (h("button", { type: "submit", text: "Deposit" }));
  const depositForm = h(
    "form",
    { class: "operator-group", "aria-label": "Deposit" },
    labelled("operator-deposit-amount", "Deposit", " amount", depositAmount),
    labelled("operator-deposit-asset", "", "Deposit asset", depositAsset),
    depositButton,
    depositTarget,
  );
  depositForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const subaccountId = session.state.subaccountId;
    if (subaccountId === null) return;
    const symbol = depositAsset.value;
    const quantity = depositAmount.value.trim();
    run(async () => {
      await api.admin("POST", "/admin/v1/deposits", { subaccountId, symbol, quantity });
      depositAmount.value = "";
      return `Deposited ${amount(quantity)} ${symbol} to subaccount #${subaccountId}`;
    });
  });

  const priceAsset = assetSelect();
  const priceValue = /** @type {HTMLInputElement} */ (h("input", { name: "price", inputmode: "decimal", autocomplete: "off", placeholder: "USD", required: true }));
  const priceForm = h(
    "form",
    { class: "operator-group", "aria-label": "Index price" },
    labelled("operator-price-asset", "Price", " asset", priceAsset),
    labelled("operator-price-value", "", "Index price (USD)", priceValue),
    h("button", { type: "submit", text: "Set price" }),
  );
  priceForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const symbol = priceAsset.value;
    const price = priceValue.value.trim();
    run(async () => {
      await api.admin("POST", "/admin/v1/prices", { prices: { [symbol]: price } });
      return `${symbol} index price set to ${usd(price)}`;
    });
  });

  const fund = createFundPanel(api);
  const bar = h(
    "section",
    { class: "operator-bar", "aria-labelledby": "operator-bar-title", "data-testid": "operator-bar", hidden: true },
    h("h2", { id: "operator-bar-title", class: "operator-title", text: "Operator" }),
    clock,
    depositForm,
    priceForm,
    fund.button,
    error,
    fund.panel,
  );

  /** Fill both asset lists from the server's assets (once; USDC stays if that fails). */
  let assetsLoaded = false;
  async function loadAssets() {
    if (assetsLoaded) return;
    assetsLoaded = true;
    try {
      const assets = await api.get("/api/v1/assets");
      const symbols = (Array.isArray(assets) ? assets : []).map((asset) => String(asset.symbol)).sort();
      if (!symbols.length) return;
      for (const select of [depositAsset, priceAsset]) {
        const kept = select.value;
        fill(select, symbols.map((symbol) => h("option", { value: symbol, text: symbol })));
        select.value = symbols.includes(kept) ? kept : symbols[0];
      }
      depositAsset.value = symbols.includes("USDC") ? "USDC" : symbols[0];
      priceAsset.value = symbols.includes("BTC") ? "BTC" : symbols[0];
    } catch (failure) {
      assetsLoaded = false;
      error.textContent = `Assets could not be listed: ${messageOf(failure)}`;
    }
  }

  function render() {
    const state = session.state;
    bar.hidden = !state.operator;
    if (!state.operator) {
      error.textContent = "";
      return;
    }
    void loadAssets();
    void fund.refresh();
    const id = state.subaccountId;
    depositButton.disabled = id === null;
    depositTarget.textContent = id === null ? "Use a subaccount (Log in → Operator) to deposit" : `to subaccount #${id}`;
  }
  session.onChange(render);
  onChange((reason) => reason !== "session" && session.state.operator && void fund.refresh()); // render() covers the session
  render();
  return bar;
}
