// @ts-check
/**
 * The order form of a trading view: buy or sell, limit or market; post-only and time in force
 * (GTC / IOC / FOK) for a limit order, a slippage tolerance and a size in either asset for a
 * market order ("buy for 100 USDC" sends Backpack's `quoteQuantity`); reduce-only,
 * stop-loss and take-profit on a perp; a trigger (price, "by" which price) on any order; the
 * spot-margin flags on a spot market; the leverage limit (leverage.js) and the largest order the
 * account may place now (`GET /api/v1/account/limits/order`), which a click copies into Size.
 * Amounts are sent as typed (decimal strings); the server checks them and its refusal, already
 * worded for people, is shown under the form.
 */

import { h } from "./dom.js";
import { amount } from "./format.js";
import { openLeverageDialog } from "./leverage.js";

/** @typedef {import("./main.js").Ctx} Ctx */
/** @typedef {{symbol: string, baseSymbol: string, quoteSymbol: string, marketType: string}} Market */

const TRIGGER_BY = [
  ["LastPrice", "Last price"],
  ["MarkPrice", "Mark price"],
  ["IndexPrice", "Index price"],
];

/**
 * @param {string} name
 * @param {string} label
 * @param {Record<string, unknown>} [attrs]
 */
function field(name, label, attrs = {}) {
  const id = `order-${name}`;
  const input = h("input", { id, name, inputmode: "decimal", autocomplete: "off", "data-testid": id, ...attrs });
  return { input, row: h("div", { class: "field" }, h("label", { for: id, text: label }), input) };
}

/**
 * @param {string} name
 * @param {string} label
 * @param {string[][]} options [value, text]
 */
function choice(name, label, options) {
  const id = `order-${name}`;
  const select = /** @type {HTMLSelectElement} */ (h("select", { id, name, "data-testid": id }, options.map(([value, text]) => h("option", { value, text }))));
  return { select, row: h("div", { class: "field" }, h("label", { for: id, text: label }), select) };
}

/**
 * @param {string} name
 * @param {string} label
 */
function check(name, label) {
  const id = `order-${name}`;
  const input = /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", id, name, "data-testid": id }));
  return { input, row: h("label", { class: "check", for: id }, input, label) };
}

/**
 * @param {Ctx} ctx
 * @param {Market} market
 * @param {() => void} placed called after the server accepted an order
 */
export function createOrderForm(ctx, market, placed) {
  const perp = market.marketType === "PERP";
  const sideButtons = [
    ["Bid", perp ? "Buy / Long" : "Buy"],
    ["Ask", perp ? "Sell / Short" : "Sell"],
  ].map(([value, text], i) => h("label", { class: `side-${value}` }, h("input", { type: "radio", name: "side", value, checked: i === 0, "data-testid": `order-side-${value}` }), text));
  const type = choice("orderType", "Order type", [
    ["Limit", "Limit"],
    ["Market", "Market"],
  ]);
  const price = field("price", `Price (${market.quoteSymbol})`);
  const quantity = field("quantity", `Size (${market.baseSymbol})`, { required: true });
  const unit = choice("sizeUnit", "Size in", [
    ["base", market.baseSymbol],
    ["quote", market.quoteSymbol],
  ]);
  const maxButton = h("button", { type: "button", class: "link", "data-testid": "order-max", text: "Max: —", title: "The largest size this account may order now: click to use it" });
  const tif = choice("timeInForce", "Time in force", [
    ["GTC", "Good till cancelled"],
    ["IOC", "Immediate or cancel"],
    ["FOK", "Fill or kill"],
  ]);
  const postOnly = check("postOnly", "Post only (never takes liquidity)");
  const slippage = field("slippage", "Slippage tolerance (%, optional)");
  const reduceOnly = check("reduceOnly", "Reduce only");
  const trigger = check("trigger", "Trigger order (enters the book when a price is reached)");
  const triggerPrice = field("triggerPrice", `Trigger price (${market.quoteSymbol})`);
  const triggerBy = choice("triggerBy", "Trigger on", TRIGGER_BY);
  const stopLoss = field("stopLossTriggerPrice", "Stop-loss trigger price (optional)");
  const stopLossLimit = field("stopLossLimitPrice", "Stop-loss limit price (optional: market when empty)");
  const takeProfit = field("takeProfitTriggerPrice", "Take-profit trigger price (optional)");
  const takeProfitLimit = field("takeProfitLimitPrice", "Take-profit limit price (optional: market when empty)");
  const flags = ["autoBorrow", "autoBorrowRepay", "autoLend", "autoLendRedeem"].map((name) =>
    check(name, { autoBorrow: "Auto borrow (borrow what the order needs)", autoBorrowRepay: "Auto repay (proceeds repay your borrows)", autoLend: "Auto lend (lend the proceeds)", autoLendRedeem: "Auto redeem (redeem lent funds the order needs)" }[name] ?? name),
  );
  const leverageButton = h("button", { type: "button", "data-testid": "order-leverage", text: "Leverage —" });
  const submit = h("button", { type: "submit", class: "primary", "data-testid": "order-submit" });
  const error = h("p", { class: "error", role: "alert", "data-testid": "order-error" });
  const done = h("p", { class: "hint", role: "status", "data-testid": "order-status" });
  const triggerBox = h("div", { hidden: true }, triggerPrice.row, triggerBy.row);
  const protect = perp ? h("fieldset", { class: "group" }, h("legend", { text: "Stop loss / take profit" }), stopLoss.row, stopLossLimit.row, takeProfit.row, takeProfitLimit.row) : null;
  const form = /** @type {HTMLFormElement} */ (
    h(
      "form",
      { class: "order-form", "aria-label": `Order ${market.symbol}`, "data-testid": "order-form", novalidate: true },
      h("fieldset", { class: "sides" }, h("legend", { class: "sr-only", text: "Side" }), sideButtons),
      type.row,
      price.row,
      h("div", { "data-when": "Market", hidden: true }, unit.row),
      quantity.row,
      h("div", { class: "max-row" }, maxButton, perp ? leverageButton : null),
      h("div", { "data-when": "Limit" }, tif.row, postOnly.row),
      h("div", { "data-when": "Market", hidden: true }, slippage.row),
      perp ? reduceOnly.row : null,
      trigger.row,
      triggerBox,
      protect,
      perp ? null : h("fieldset", { class: "group" }, h("legend", { text: "Spot margin" }), flags.map((f) => f.row)),
      error,
      submit,
      done,
    )
  );

  const values = () => new FormData(form);
  const side = () => String(values().get("side") ?? "Bid");
  const isLimit = () => type.select.value === "Limit";
  /** A market order sized in the quote asset: "buy for 100 USDC". */
  const inQuote = () => !isLimit() && unit.select.value === "quote";
  let leverageLimit = "";

  const sync = () => {
    for (const part of form.querySelectorAll("[data-when]")) part.toggleAttribute("hidden", part.getAttribute("data-when") !== type.select.value);
    price.row.hidden = !isLimit();
    triggerBox.hidden = !trigger.input.checked;
    const buy = side() === "Bid";
    const label = quantity.row.querySelector("label");
    if (label) label.textContent = inQuote() ? `Amount to ${buy ? "spend" : "receive"} (${market.quoteSymbol})` : `Size (${market.baseSymbol})`;
    submit.textContent = ctx.session.signedIn ? `${buy ? "Buy" : "Sell"} ${market.baseSymbol}` : "Sign in to trade";
    submit.className = `primary ${buy ? "buy" : "sell"}`;
  };

  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let maxTimer;
  let maxGeneration = 0;
  const refreshMax = () => {
    clearTimeout(maxTimer);
    maxTimer = setTimeout(async () => {
      const mine = ++maxGeneration;
      if (!ctx.session.signedIn) {
        maxButton.textContent = "Max: —";
        maxButton.dataset.value = "";
        return;
      }
      /** @type {Record<string, unknown>} */
      const params = { symbol: market.symbol, side: side() };
      if (isLimit() && price.input instanceof HTMLInputElement && price.input.value.trim()) params.price = price.input.value.trim();
      if (perp && reduceOnly.input.checked) params.reduceOnly = true;
      if (!perp) for (const f of flags) if (f.input.checked && f.input.name !== "autoLend") params[f.input.name] = true;
      try {
        const answer = await ctx.api.signed("maxOrderQuantity", "GET", "/api/v1/account/limits/order", params);
        if (mine !== maxGeneration) return;
        maxButton.textContent = `Max: ${amount(answer.maxOrderQuantity)} ${market.baseSymbol}`;
        maxButton.dataset.value = String(answer.maxOrderQuantity);
      } catch {
        if (mine === maxGeneration) (maxButton.textContent = "Max: —"), (maxButton.dataset.value = "");
      }
    }, 150);
  };

  const refreshLeverage = async () => {
    if (!perp || !ctx.session.signedIn) return void (leverageButton.textContent = "Leverage —");
    try {
      const account = await ctx.api.signed("accountQuery", "GET", "/api/v1/account");
      leverageLimit = String(account.leverageLimit);
      leverageButton.textContent = `Leverage ${amount(leverageLimit)}×`;
    } catch {
      leverageButton.textContent = "Leverage —";
    }
  };

  maxButton.addEventListener("click", () => {
    if (!maxButton.dataset.value || !(quantity.input instanceof HTMLInputElement)) return;
    unit.select.value = "base"; // the max is a size in the base asset
    quantity.input.value = maxButton.dataset.value;
    sync();
  });
  leverageButton.addEventListener("click", () => {
    if (!ctx.session.signedIn) return ctx.signIn();
    if (leverageLimit) openLeverageDialog(ctx, leverageLimit, () => (refreshLeverage(), refreshMax()));
  });
  form.addEventListener("change", () => (sync(), refreshMax()));
  price.input.addEventListener("input", refreshMax);

  /** @param {HTMLElement} input */
  const text = (input) => (input instanceof HTMLInputElement ? input.value.trim() : "");

  /** @returns {Record<string, unknown>} the order as Backpack's POST /api/v1/order takes it */
  const order = () => {
    /** @type {Record<string, unknown>} */
    const body = { symbol: market.symbol, side: side(), orderType: type.select.value, [inQuote() ? "quoteQuantity" : "quantity"]: text(quantity.input) };
    if (isLimit()) {
      body.price = text(price.input);
      body.timeInForce = tif.select.value;
      if (postOnly.input.checked) body.postOnly = true;
    } else if (text(slippage.input)) {
      body.slippageTolerance = text(slippage.input);
      body.slippageToleranceType = "Percent";
    }
    if (perp && reduceOnly.input.checked) body.reduceOnly = true;
    if (trigger.input.checked) {
      body.triggerPrice = text(triggerPrice.input);
      if (!inQuote()) body.triggerQuantity = body.quantity;
      body.triggerBy = triggerBy.select.value;
    }
    if (perp) {
      for (const [input, key] of /** @type {[HTMLElement, string][]} */ ([[stopLoss.input, "stopLossTriggerPrice"], [stopLossLimit.input, "stopLossLimitPrice"], [takeProfit.input, "takeProfitTriggerPrice"], [takeProfitLimit.input, "takeProfitLimitPrice"]])) {
        if (text(input)) body[key] = text(input);
      }
    } else for (const f of flags) if (f.input.checked) body[f.input.name] = true;
    return body;
  };

  /** @returns {string} what is missing, in words, or "" */
  const missing = () => {
    if (!text(quantity.input)) return inQuote() ? `Enter an amount in ${market.quoteSymbol}.` : `Enter a size in ${market.baseSymbol}.`;
    if (isLimit() && !text(price.input)) return `Enter a limit price in ${market.quoteSymbol}, or choose a market order.`;
    if (trigger.input.checked && !text(triggerPrice.input)) return "Enter the trigger price, or untick Trigger order.";
    return "";
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    done.textContent = "";
    if (!ctx.session.signedIn) return ctx.signIn();
    const why = missing();
    if (why) return void (error.textContent = why);
    submit.setAttribute("disabled", "");
    try {
      const answer = await ctx.api.signed("orderExecute", "POST", "/api/v1/order", order());
      const status = String(answer.status ?? "");
      const words = status === "TriggerPending" ? "waiting for its trigger" : status === "Filled" ? "filled" : status === "New" ? "on the book" : status === "PartiallyFilled" ? "partly filled, the rest on the book" : status.toLowerCase();
      done.textContent = `Order ${answer.id}: ${answer.side === "Bid" ? "buy" : "sell"} ${amount(answer.executedQuantity && status === "Filled" ? answer.executedQuantity : answer.quantity ?? answer.triggerQuantity)} ${market.baseSymbol}${inQuote() ? ` for ${amount(answer.executedQuoteQuantity ?? answer.quoteQuantity)} ${market.quoteSymbol}` : ""}, ${words}.`;
      ctx.notify(done.textContent);
      placed();
      refreshMax();
    } catch (failure) {
      error.textContent = failure instanceof Error ? failure.message : String(failure);
    } finally {
      submit.removeAttribute("disabled");
    }
  });

  sync();
  return {
    element: form,
    /** Re-read what depends on the account (after a change or a sign-in). */
    refresh() {
      sync();
      refreshMax();
      refreshLeverage();
    },
    /** @param {string} value a price picked in the book */
    usePrice(value) {
      if (price.input instanceof HTMLInputElement) {
        type.select.value = "Limit";
        price.input.value = value;
        sync();
        refreshMax();
        price.input.focus();
      }
    },
  };
}
