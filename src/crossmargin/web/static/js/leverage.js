// @ts-check
/**
 * The leverage-limit dialog: pick a limit from 1× to the engine's maximum (100×) and save it
 * with a signed account update. A refusal (e.g. margin would fall below zero) is shown as sent.
 */

import { h, returnFocusOnClose } from "./dom.js";
import { amount } from "./format.js";

/** The engine accepts a leverage limit from 1 to 100 (core accounts.LEVERAGE_LIMIT_MIN/MAX). */
const CHOICES = ["1", "2", "3", "5", "10", "20", "25", "50", "75", "100"];

/**
 * Open the dialog; call `saved(value)` after the server accepted a new limit.
 * @param {import("./main.js").Ctx} ctx
 * @param {string} current the leverage limit now (decimal string)
 * @param {(value: string) => void} saved
 */
export function openLeverageDialog(ctx, current, saved) {
  const choices = CHOICES.includes(current) ? CHOICES : [...CHOICES, current].sort((a, b) => Number(a) - Number(b));
  const error = h("p", { class: "error", role: "alert", "data-testid": "leverage-error" });
  const radios = choices.map((value) =>
    h("label", null, h("input", { type: "radio", name: "leverage", value, checked: value === current, autofocus: value === current }), `${amount(value)}×`),
  );
  const save = h("button", { type: "submit", class: "primary", text: "Save" });
  const form = h(
    "form",
    null,
    h("fieldset", { class: "choices" }, h("legend", { text: "Maximum leverage" }), radios),
    h("p", { class: "hint", text: "Borrows and positions may use up to this multiple of your collateral. Lowering it is refused if your available margin would fall below zero." }),
    error,
    h("div", { class: "actions" }, h("button", { type: "button", text: "Cancel", onclick: () => dialog.close() }), save),
  );
  const dialog = /** @type {HTMLDialogElement} */ (
    h("dialog", { class: "modal", "aria-labelledby": "leverage-title", "data-testid": "leverage-dialog" }, h("h2", { id: "leverage-title", text: "Leverage limit" }), form)
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = String(new FormData(/** @type {HTMLFormElement} */ (form)).get("leverage") ?? current);
    if (value === current) return dialog.close();
    save.setAttribute("disabled", "");
    error.textContent = "";
    try {
      await ctx.api.signed("accountUpdate", "PATCH", "/api/v1/account", { leverageLimit: value });
      dialog.close();
      saved(value);
    } catch (failure) {
      error.textContent = failure instanceof Error ? failure.message : String(failure);
    } finally {
      save.removeAttribute("disabled");
    }
  });
  dialog.addEventListener("close", () => dialog.remove());
  // A dialog closed a moment ago is removed by its "close" event, which comes a task later: reopened
  // at once (Escape, then Enter), the old one would still be in the page beside the new one.
  for (const stale of document.querySelectorAll('dialog[data-testid="leverage-dialog"]')) stale.remove();
  document.body.append(dialog);
  returnFocusOnClose(dialog);
  dialog.showModal();
}
