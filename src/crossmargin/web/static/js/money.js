// @ts-check
/**
 * Money in and out of the selected asset, on the Lend page: deposit (the subaccount's address on
 * the asset's chain, GET /wapi/v1/capital/deposit/address; in the demo, funds arrive as paper
 * deposits the operator credits), withdraw (amount, Max from GET /api/v1/account/limits/withdrawal,
 * destination address; POST /wapi/v1/capital/withdrawals, whose margin check refuses in words) and
 * convert dust (each balance below its `<asset>_USDC` market's minimum quantity, lend included and
 * not borrowed, listed with a Convert button: POST /api/v1/account/convertDust).
 *
 * Mounted once, so what the user typed survives the page's refreshes; `update` only changes the
 * asset, the bounds and the dust list.
 */

import { fill, h } from "./dom.js";
import { amount } from "./format.js";
import { compare, isQuantity, sign } from "./lend_decimal.js";
import { messageOf } from "./lend_data.js";

/** @typedef {import("./lend_data.js").AccountData} AccountData */
/**
 * @typedef {object} MoneyCtx
 * @property {import("./lend_data.js").LendApi} api
 * @property {(text: string, kind?: "info" | "error") => void} notify
 */

const QUOTE = "USDC";

/**
 * The dust the account holds: spot plus lend above zero, below the asset's USDC spot market's
 * minimum quantity, not borrowed (the engine's own rule, core/dust.py).
 * @param {AccountData} mine
 * @param {any[]} markets GET /api/v1/markets
 * @returns {{symbol: string, quantity: string, minimum: string}[]}
 */
export function dustOf(mine, markets) {
  /** @type {{symbol: string, quantity: string, minimum: string}[]} */
  const found = [];
  for (const [symbol, balance] of Object.entries(mine.balances)) {
    if (symbol === QUOTE) continue;
    const market = markets.find((row) => row.symbol === `${symbol}_${QUOTE}` && row.marketType === "SPOT");
    const minimum = String(market?.filters?.quantity?.minQuantity ?? "");
    if (!market || !isQuantity(minimum)) continue;
    const position = mine.positions.find((row) => row.symbol === symbol);
    const net = String(position?.netQuantity ?? "0");
    if (sign(net) < 0) continue; // borrowed: not dust
    const spot = String(balance.available ?? "0");
    if (sign(spot) < 0) continue;
    const lent = sign(net) > 0 ? net : "0";
    const total = addDecimals(spot, lent);
    if (sign(total) > 0 && compare(total, minimum) < 0) found.push({ symbol, quantity: total, minimum });
  }
  return found;
}

/**
 * Add two non-negative decimal strings exactly (as scaled BigInts).
 * @param {string} left
 * @param {string} right
 * @returns {string}
 */
function addDecimals(left, right) {
  const places = Math.max((left.split(".")[1] ?? "").length, (right.split(".")[1] ?? "").length);
  const scaled = (/** @type {string} */ text) => {
    const [whole, fraction = ""] = text.split(".");
    return BigInt(whole + fraction.padEnd(places, "0"));
  };
  const sum = (scaled(left) + scaled(right)).toString().padStart(places + 1, "0");
  if (!places) return sum;
  const fraction = sum.slice(-places).replace(/0+$/, "");
  return fraction ? `${sum.slice(0, -places)}.${fraction}` : sum.slice(0, -places);
}

/**
 * @param {HTMLElement} root where the card goes
 * @param {MoneyCtx} ctx
 * @param {() => void} onDone called after a withdrawal or a conversion
 * @returns {{update: (symbol: string | null, mine: AccountData | null) => void}}
 */
export function mountMoney(root, ctx, onDone) {
  /** @type {string | null} */
  let symbol = null;
  /** @type {Record<string, string>} asset → blockchain */
  let chains = {};
  /** @type {any[]} */
  let markets = [];
  void ctx.api.get("/api/v1/assets").then(
    (/** @type {any} */ body) => {
      chains = Object.fromEntries((Array.isArray(body) ? body : []).map((row) => [String(row.symbol), String(row.tokens?.[0]?.blockchain ?? "")]));
    },
    () => undefined,
  );
  /** @type {AccountData | null} */
  let last = null;
  void ctx.api.get("/api/v1/markets").then(
    (/** @type {any} */ body) => {
      markets = Array.isArray(body) ? body : [];
      update(symbol, last); // the dust list needs the markets' minimums
    },
    () => undefined,
  );

  const title = h("h2", { id: "money-title", text: "Money in and out" });
  const depositLine = h("p", { class: "lend-note", "data-testid": "deposit-note" });
  const address = h("p", { class: "money-address", "data-testid": "deposit-address", "aria-live": "polite" });
  const depositButton = h("button", { type: "button", "data-testid": "deposit-button", text: "Show deposit address", onclick: showAddress });

  const amountInput = /** @type {HTMLInputElement} */ (h("input", { id: "withdraw-amount", name: "withdraw-amount", type: "text", inputmode: "decimal", autocomplete: "off", spellcheck: "false" }));
  const addressInput = /** @type {HTMLInputElement} */ (h("input", { id: "withdraw-address", name: "withdraw-address", type: "text", autocomplete: "off", spellcheck: "false" }));
  const maxLine = h("p", { class: "lend-bound", "data-testid": "withdraw-max" });
  const withdrawError = h("p", { class: "lend-error", role: "alert", "data-testid": "withdraw-error" });
  const maxButton = h("button", { type: "button", class: "lend-max", text: "Max", "aria-label": "Max withdrawal", onclick: fillMax });
  const withdrawForm = h(
    "form",
    { class: "money-withdraw", "aria-labelledby": "withdraw-title" },
    h("h3", { id: "withdraw-title", text: "Withdraw" }),
    maxLine,
    h("div", { class: "field" }, h("label", { for: amountInput.id, text: "Amount" }), h("div", { class: "lend-input-row" }, amountInput, maxButton)),
    h("div", { class: "field" }, h("label", { for: addressInput.id, text: "Destination address" }), addressInput),
    withdrawError,
    h("button", { type: "submit", class: "primary", "data-testid": "withdraw-submit", text: "Withdraw" }),
  );
  withdrawForm.addEventListener("submit", (event) => {
    event.preventDefault();
    void withdraw();
  });
  const dust = h("div", { "data-testid": "dust" });
  const dustError = h("p", { class: "lend-error", role: "alert", "data-testid": "dust-error" });
  const card = h(
    "section",
    { class: "card lend-section money", "aria-labelledby": title.id, "data-testid": "money" },
    title,
    h("h3", { text: "Deposit" }),
    depositLine,
    depositButton,
    address,
    withdrawForm,
    h("h3", { text: "Convert dust" }),
    dust,
    dustError,
  );
  root.append(card);

  /** @returns {Promise<string>} the max withdrawable of the asset, from the server */
  async function maxWithdrawal() {
    const body = await ctx.api.signed("maxWithdrawalQuantity", "GET", "/api/v1/account/limits/withdrawal", { symbol, autoBorrow: false, autoLendRedeem: false });
    return String(body?.maxWithdrawalQuantity ?? "0");
  }

  async function showAddress() {
    if (!symbol) return;
    const chain = chains[symbol];
    try {
      if (!chain) throw new Error(`${symbol} has no deposit chain listed`);
      const body = await ctx.api.signed("depositAddressQuery", "GET", "/wapi/v1/capital/deposit/address", { blockchain: chain });
      address.textContent = `Your ${symbol} deposit address on ${chain}: ${String(body.address)}`;
    } catch (failure) {
      address.textContent = `The deposit address could not be read: ${messageOf(failure)}`;
    }
  }

  async function fillMax() {
    try {
      amountInput.value = await maxWithdrawal();
      withdrawError.textContent = "";
    } catch (failure) {
      withdrawError.textContent = messageOf(failure);
    }
  }

  async function withdraw() {
    if (!symbol) return;
    const quantity = amountInput.value.trim();
    const to = addressInput.value.trim();
    if (!isQuantity(quantity)) {
      withdrawError.textContent = "Enter a positive amount, like 12.5";
      return;
    }
    if (!to) {
      withdrawError.textContent = "Enter the address to send it to";
      return;
    }
    try {
      await ctx.api.signed("withdraw", "POST", "/wapi/v1/capital/withdrawals", { symbol, quantity, address: to, blockchain: chains[symbol] ?? "", autoBorrow: false, autoLendRedeem: false });
      withdrawError.textContent = "";
      amountInput.value = "";
      ctx.notify(`Withdrawal of ${amount(quantity)} ${symbol} sent`);
      onDone();
    } catch (failure) {
      withdrawError.textContent = `Not withdrawn: ${messageOf(failure)}`;
    }
  }

  /** @param {string} asset */
  async function convert(asset) {
    try {
      await ctx.api.signed("convertDust", "POST", "/api/v1/account/convertDust", { symbol: asset });
      dustError.textContent = "";
      ctx.notify(`${asset} dust converted into ${QUOTE}`);
      onDone();
    } catch (failure) {
      dustError.textContent = `Not converted: ${messageOf(failure)}`;
    }
  }

  /**
   * @param {string | null} selected
   * @param {AccountData | null} mine null when signed out
   */
  function update(selected, mine) {
    last = mine;
    card.hidden = !mine || !selected;
    if (!mine || !selected) return;
    if (selected !== symbol) {
      address.textContent = "";
      amountInput.value = "";
      withdrawError.textContent = "";
    }
    symbol = selected;
    depositLine.textContent = `Send ${symbol} to your deposit address. In this demo no chain is watched: funds arrive as paper deposits the operator credits (the operator bar's Fund).`;
    maxLine.textContent = `${symbol}: available ${amount(mine.balances[symbol]?.available ?? "0")}. Max asks the server what the margin check allows.`;
    const rows = dustOf(mine, markets);
    fill(
      dust,
      rows.length
        ? h(
            "ul",
            { class: "money-dust" },
            rows.map((row) =>
              h(
                "li",
                { "data-testid": `dust-${row.symbol}` },
                `${amount(row.quantity)} ${row.symbol} (below the ${row.symbol}_${QUOTE} minimum of ${amount(row.minimum)}) `,
                h("button", { type: "button", "data-focus-key": `dust-${row.symbol}`, "aria-label": `Convert ${row.symbol} dust into ${QUOTE}`, text: "Convert", onclick: () => void convert(row.symbol) }),
              ),
            ),
          )
        : h("p", { class: "empty", "data-testid": "dust-empty", text: "No dust: every balance can be traded." }),
    );
  }

  return { update };
}
