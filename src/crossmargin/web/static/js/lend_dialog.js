// @ts-check
/**
 * The Borrow / Repay / Lend / Redeem dialog: a native modal <dialog> with an "Amount" input and a
 * Max button. As the amount changes (debounced) it asks the server what the action would do
 * (GET /api/v1/borrowLend/preview: entry fee, hourly interest, APR, available and margin fraction
 * after, or the refusal POST would give) and shows those strings; Confirm sends
 * POST /api/v1/borrowLend. "Max" on Repay or Redeem means the whole position: at Confirm the exact
 * position is read again and sent, and sent again if interest fell due in between, so the debt
 * ends at zero exactly. Nothing here computes money: the page shows the server's decimal strings.
 */

import { h } from "./dom.js";
import { amount, percent, usd } from "./format.js";
import { decimalsOf, isQuantity, sign } from "./lend_decimal.js";
import { messageOf } from "./lend_data.js";

/** @typedef {import("./lend_panel.js").Action} Action */
/**
 * @typedef {object} DialogOptions
 * @property {{signed: (instruction: string, method: string, path: string, params?: Record<string, unknown>) => Promise<any>}} api
 * @property {(text: string, kind?: "info" | "error") => void} notify
 * @property {Action} action
 * @property {string} symbol
 * @property {number} decimals the most decimals a quantity of the asset may have
 * @property {string} bound what bounds the amount, in words ("Max borrowable: 1,000 USDC")
 * @property {() => Promise<{quantity: string, whole: boolean}>} maxAmount the amount "Max" fills in, read fresh
 *   from the server, and whether it is the whole position (Repay, Redeem), sent again at Confirm to the atom
 * @property {() => void} returnFocus puts focus back on the button that opened the dialog
 * @property {() => void} onDone called after a confirmed action
 */

const DEBOUNCE_MS = 200;
/** How many times "Max" on Repay/Redeem sends the remainder again if interest fell due meanwhile. */
const ALL_RETRIES = 2;

const SIDE = /** @type {Record<Action, "Borrow" | "Lend">} */ ({ Borrow: "Borrow", Redeem: "Borrow", Repay: "Lend", Lend: "Lend" });
const DONE = /** @type {Record<Action, string>} */ ({ Borrow: "Borrowed", Repay: "Repaid", Lend: "Lent", Redeem: "Redeemed" });
const PAYS = /** @type {Record<Action, boolean>} */ ({ Borrow: true, Repay: true, Lend: false, Redeem: false });

let opened = 0;

/**
 * A refusal in the words of the dialog's action. The engine speaks in Backpack's two sides (a
 * Lend that meets a borrow repays it), so its "repay it first (Lend at most that much), then
 * lend" is right for a Lend but wrong for a Repay, which is what the user asked for: the page
 * says how much can be repaid (or redeemed) instead.
 * @param {Action} action
 * @param {unknown} code
 * @param {string} message
 * @returns {string}
 */
export function refusalWords(action, code, message) {
  const head = message.split(":")[0]; // "You owe 100.5 USDC" / "You lend 20 USDC"
  if (action === "Repay" && code === "LEND_REQUIRES_BORROW_REPAY") {
    return `${head}: you can repay at most that much. Max repays the whole borrow, interest included.`;
  }
  if (action === "Redeem" && code === "BORROW_REQUIRES_LEND_REDEEM") {
    return `${head}: you can redeem at most that much. Max redeems the whole lend.`;
  }
  return message;
}

/**
 * @param {string} label
 * @param {string} testid
 * @returns {{row: HTMLElement[], value: HTMLElement}}
 */
function previewItem(label, testid) {
  const value = h("dd", { "data-testid": testid, text: "—" });
  return { row: [h("dt", { text: label }), value], value };
}

/**
 * Open the dialog; it removes itself when closed.
 * @param {DialogOptions} options
 * @returns {{close: () => void, refresh: () => void}} close it; ask the server again (after an engine change)
 */
export function openLendDialog(options) {
  const { api, action, symbol } = options;
  const id = `lend-dialog-${(opened += 1)}`;
  const unit = ` ${symbol}`;
  const input = /** @type {HTMLInputElement} */ (
    h("input", { id: `${id}-amount`, name: "amount", type: "text", inputmode: "decimal", autocomplete: "off", spellcheck: "false" })
  );
  const error = h("p", { class: "lend-error", role: "alert", "data-testid": "dialog-error" });
  const confirm = /** @type {HTMLButtonElement} */ (h("button", { type: "submit", class: "primary lend-confirm", text: "Confirm" }));
  const max = h("button", { type: "button", class: "lend-max", text: "Max" });
  const boundText = h("p", { class: "lend-dialog-bound", "data-testid": "dialog-bound", text: options.bound });
  const items = {
    fee: previewItem("Entry fee (charged now)", "preview-entry-fee"),
    hourly: previewItem(PAYS[action] ? "Hourly interest (paid)" : "Hourly interest (earned)", "preview-hourly"),
    apr: previewItem(PAYS[action] ? "Borrow APR after" : "Lend APR after", "preview-apr"),
    position: previewItem("Position after", "preview-position-after"),
    available: previewItem("Available after", "preview-available-after"),
    margin: previewItem("Margin fraction after", "preview-margin-after"),
    liquidation: previewItem("Est. liquidation price after", "preview-liquidation-after"),
  };
  const shown = action === "Borrow" ? Object.values(items) : Object.values(items).filter((item) => item !== items.fee);
  const preview = h("dl", { class: "lend-preview", "aria-live": "polite", "data-testid": "dialog-preview" }, shown.flatMap((item) => item.row));
  const form = h(
    "form",
    { method: "dialog", class: "lend-dialog-form" },
    h("h2", { id: `${id}-title`, text: `${action}${unit}` }),
    boundText,
    h(
      "div",
      { class: "field lend-field" },
      h("label", { for: input.id, text: "Amount" }),
      h("div", { class: "lend-input-row" }, input, h("span", { class: "lend-unit", text: symbol }), max),
    ),
    preview,
    error,
    h("div", { class: "actions" }, h("button", { type: "button", class: "lend-cancel", text: "Cancel", onclick: () => dialog.close() }), confirm),
  );
  const dialog = /** @type {HTMLDialogElement} */ (h("dialog", { class: "modal lend-dialog", "aria-labelledby": `${id}-title`, "data-testid": "lend-dialog" }, form));

  /** Whether the amount is "the whole position" (Max on Repay/Redeem), re-read at Confirm. */
  let whole = false;
  let busy = false;
  let sequence = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;

  /** @param {string} text */
  const showError = (text) => {
    error.textContent = text;
  };
  const clearPreview = () => {
    for (const item of Object.values(items)) item.value.textContent = "—";
  };

  /** @returns {string | null} the quantity typed, or null (with the reason shown) when it is not one */
  function quantity() {
    const text = input.value.trim();
    if (text === "") return null;
    if (!isQuantity(text)) {
      showError("Enter a positive amount, like 12.5");
      return null;
    }
    if (decimalsOf(text) > options.decimals) {
      showError(`${symbol} amounts have at most ${options.decimals} decimals`);
      return null;
    }
    return text;
  }

  /** @param {Record<string, any>} answer GET /api/v1/borrowLend/preview */
  function showPreview(answer) {
    items.fee.value.textContent = `${amount(answer.entryFee)}${unit}`;
    items.hourly.value.textContent = `${amount(PAYS[action] ? answer.hourlyInterest : answer.hourlyLendInterest)}${unit}`;
    items.apr.value.textContent = percent(PAYS[action] ? answer.borrowInterestRate : answer.lendInterestRate);
    items.position.value.textContent = `${amount(answer.netQuantityAfter)}${unit}`;
    items.available.value.textContent = usd(answer.netEquityAvailableAfter);
    items.margin.value.textContent = answer.marginFractionAfter == null ? "—" : percent(answer.marginFractionAfter);
    const liquidation = answer.estLiquidationPriceAfter;
    items.liquidation.value.textContent = liquidation != null && sign(String(liquidation)) > 0 ? usd(liquidation) : "—";
    if (action === "Borrow" && answer.maxBorrowQuantity != null) {
      boundText.textContent = `Max borrowable: ${amount(answer.maxBorrowQuantity)}${unit}`;
    }
    if (answer.accepted === false) {
      showError(refusalWords(action, answer.code, String(answer.message ?? answer.code ?? "Refused")));
    } else if (answer.action && answer.action !== action) {
      showError(`This would ${String(answer.action).toLowerCase()}, not ${action.toLowerCase()}: use ${answer.action} instead.`);
    } else {
      showError("");
    }
    confirm.disabled = answer.accepted === false || Boolean(answer.action && answer.action !== action);
  }

  async function runPreview() {
    const mine = (sequence += 1);
    showError("");
    confirm.disabled = false;
    const text = quantity();
    if (text === null) {
      clearPreview();
      return;
    }
    try {
      const answer = await api.signed("borrowLendPreview", "GET", "/api/v1/borrowLend/preview", { symbol, side: SIDE[action], quantity: text });
      if (mine === sequence && dialog.open) showPreview(answer ?? {});
    } catch (failure) {
      if (mine === sequence && dialog.open) {
        clearPreview();
        showError(messageOf(failure));
      }
    }
  }

  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(runPreview, DEBOUNCE_MS);
  };

  /** @param {string} text */
  async function send(text) {
    await api.signed("borrowLendExecute", "POST", "/api/v1/borrowLend", { symbol, side: SIDE[action], quantity: text });
  }

  async function submit() {
    if (busy) return;
    clearTimeout(timer);
    let text = quantity();
    if (text === null && !whole) {
      if (input.value.trim() === "") showError("Enter an amount");
      return;
    }
    busy = true;
    confirm.disabled = true;
    try {
      if (whole) {
        const max = await options.maxAmount();
        text = max.quantity;
        whole = max.whole;
      }
      if (text === null || sign(text) <= 0) throw new Error(`There is nothing to ${action.toLowerCase()}`);
      await send(text);
      for (let retry = 0; whole && retry < ALL_RETRIES; retry += 1) {
        const left = await options.maxAmount();
        if (!left.whole || sign(left.quantity) <= 0) break;
        await send(left.quantity);
      }
      dialog.close();
      const what = whole ? `the whole${unit} ${action === "Repay" ? "borrow" : "lend"}` : `${amount(text)}${unit}`;
      options.notify(`${DONE[action]} ${what}`);
      options.onDone();
    } catch (failure) {
      showError(refusalWords(action, /** @type {any} */ (failure)?.code, messageOf(failure)));
      confirm.disabled = false;
    } finally {
      busy = false;
    }
  }

  input.addEventListener("input", () => {
    whole = false;
    schedule();
  });
  max.addEventListener("click", async () => {
    try {
      const value = await options.maxAmount();
      input.value = value.quantity;
      whole = value.whole;
      clearTimeout(timer);
      await runPreview();
    } catch (failure) {
      showError(messageOf(failure));
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void submit();
  });
  dialog.addEventListener("close", () => {
    clearTimeout(timer);
    sequence += 1;
    dialog.remove();
    options.returnFocus();
  });

  showError("");
  document.body.append(dialog);
  dialog.showModal();
  input.focus();
  return {
    close: () => dialog.open && dialog.close(),
    refresh: () => {
      if (dialog.open && !busy && input.value.trim() !== "") schedule();
    },
  };
}
