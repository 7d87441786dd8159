// @ts-check
/**
 * The sign-in dialog: paste an API key and secret, or connect as the operator (admin token), pick
 * a subaccount (or create an account) and act as it with a fresh key pair.
 */

import { ApiError } from "./api.js";
import { fill, h, returnFocusOnClose } from "./dom.js";

/** @typedef {import("./session.js").Session} Session */
/** @typedef {import("./api.js").Api} Api */

/**
 * @param {unknown} error
 * @returns {string}
 */
export function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}

/**
 * @param {string} id
 * @param {string} text
 * @param {Record<string, unknown>} attrs
 */
function field(id, text, attrs) {
  return h("div", { class: "field" }, h("label", { for: id, text }), h("input", { id, autocomplete: "off", spellcheck: "false", ...attrs }));
}

/**
 * Build the dialog (appended to body); return a function that opens it.
 * @param {Session} session
 * @param {Api} api
 * @param {(text: string, kind?: "info" | "error") => void} notify
 * @returns {() => void}
 */
export function createSignInDialog(session, api, notify) {
  const keyError = h("p", { class: "error", role: "alert", "data-testid": "sign-in-error" });
  const operatorError = h("p", { class: "error", role: "alert", "data-testid": "operator-error" });
  const remember = h("input", { type: "checkbox", id: "remember-device" });
  const current = h("div", { class: "current" });
  const subaccounts = h("div", { class: "subaccounts", "data-testid": "subaccounts" });
  const title = h("h2", { id: "session-title", text: "Account" });
  const dialog = /** @type {HTMLDialogElement} */ (h("dialog", { class: "modal", "aria-labelledby": "session-title", "data-testid": "session-dialog" }));

  /** @param {import("./session.js").Credentials} credentials */
  async function signIn(credentials, errorEl = keyError) {
    errorEl.textContent = "";
    try {
      await session.signIn({ ...credentials, remember: /** @type {HTMLInputElement} */ (remember).checked });
      dialog.close();
      notify(`Signed in as ${session.state.subaccountId === null ? "your key" : `subaccount #${session.state.subaccountId}`}`);
    } catch (error) {
      errorEl.textContent = `Sign-in failed: ${messageOf(error)}`;
    }
  }

  const keysForm = h(
    "form",
    { class: "panel" },
    field("api-key", "API key", { name: "apiKey", placeholder: "base64 public key (optional: derived from the secret)" }),
    field("api-secret", "API secret", { name: "apiSecret", type: "password", required: true }),
    h("p", { class: "hint", text: "Requests are signed in this browser; the secret is never sent anywhere or stored. To stay signed in, this device gets its own key that cannot be read back, and signing out revokes it." }),
    keyError,
    h("button", { type: "submit", class: "primary", text: "Sign in" }),
  );
  keysForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(/** @type {HTMLFormElement} */ (keysForm));
    signIn({ apiKey: String(data.get("apiKey") ?? "").trim(), apiSecret: String(data.get("apiSecret") ?? "").trim() });
  });

  /** @param {any} created {subaccountId, apiKey, apiSecret} */
  const useKeys = (created) => signIn({ apiKey: created.apiKey, apiSecret: created.apiSecret, subaccountId: created.subaccountId }, operatorError);

  /** @param {number} id */
  async function useSubaccount(id) {
    operatorError.textContent = "";
    try {
      await useKeys(await api.admin("POST", `/admin/v1/subaccounts/${id}/apiKeys`, {}));
    } catch (error) {
      operatorError.textContent = messageOf(error);
    }
  }

  async function newAccount() {
    operatorError.textContent = "";
    try {
      await useKeys(await api.admin("POST", "/admin/v1/accounts", {}));
    } catch (error) {
      operatorError.textContent = messageOf(error);
    }
  }

  async function listSubaccounts() {
    let rows;
    try {
      rows = await api.admin("GET", "/admin/v1/subaccounts");
    } catch (error) {
      if (!(error instanceof ApiError) || ![404, 405].includes(error.status)) throw error;
      fill(subaccounts, h("p", { class: "hint", text: "This server does not list subaccounts; create a new account instead." }));
      return;
    }
    const body = h("tbody");
    for (const row of rows) {
      const id = Number(row.subaccountId);
      body.append(
        h(
          "tr",
          null,
          h("td", { text: `#${id}` }),
          h("td", { text: `account ${row.accountId}` }),
          h("td", { text: row.liquidating ? "liquidating" : `${row.apiKeyCount} key${row.apiKeyCount === 1 ? "" : "s"}` }),
          h("td", null, h("button", { type: "button", "data-testid": `use-subaccount-${id}`, "aria-label": `Use subaccount #${id}`, text: "Use", onclick: () => useSubaccount(id) })),
        ),
      );
    }
    const head = h("thead", null, h("tr", null, ...["Subaccount", "Account", "Keys"].map((text) => h("th", { scope: "col", text })), h("th", { scope: "col" }, h("span", { class: "sr-only", text: "Action" }))));
    fill(subaccounts, rows.length ? h("table", { class: "table" }, head, body) : h("p", { class: "hint", text: "No subaccounts yet." }));
  }

  const operatorForm = h(
    "form",
    { class: "panel" },
    field("admin-token", "Admin token", { name: "token", type: "password", required: true }),
    h("button", { type: "submit", class: "primary", text: "Connect" }),
    operatorError,
    subaccounts,
    h("button", { type: "button", text: "New account", onclick: newAccount }),
  );
  operatorForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    operatorError.textContent = "";
    const token = String(new FormData(/** @type {HTMLFormElement} */ (operatorForm)).get("token") ?? "").trim();
    session.setAdminToken(token);
    try {
      await api.admin("GET", "/admin/v1/clock");
      await listSubaccounts();
    } catch (error) {
      session.setAdminToken(null);
      fill(subaccounts);
      operatorError.textContent = `Cannot connect: ${messageOf(error)}`;
    }
  });

  const tabs = [
    h("button", { type: "button", role: "tab", id: "tab-keys", "aria-controls": "panel-keys", text: "Paste keys" }),
    h("button", { type: "button", role: "tab", id: "tab-operator", "aria-controls": "panel-operator", text: "Operator" }),
  ];
  // A tab panel wraps each form (role=tabpanel is not allowed on a <form>).
  const panels = [
    h("div", { role: "tabpanel", id: "panel-keys", "aria-labelledby": "tab-keys" }, keysForm),
    h("div", { role: "tabpanel", id: "panel-operator", "aria-labelledby": "tab-operator" }, operatorForm),
  ];
  /** Show tab `index`; only the selected tab is in the Tab order, the arrow keys move between tabs. */
  const select = (/** @type {number} */ index, focus = false) => {
    tabs.forEach((tab, i) => {
      tab.setAttribute("aria-selected", String(i === index));
      tab.tabIndex = i === index ? 0 : -1;
    });
    panels.forEach((panel, i) => (panel.hidden = i !== index));
    if (focus) tabs[index].focus();
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => select(i));
    tab.addEventListener("keydown", (event) => {
      const moves = /** @type {Record<string, number>} */ ({ ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 });
      if (!(event.key in moves)) return;
      event.preventDefault();
      select((moves[event.key] + tabs.length) % tabs.length, true);
    });
  });
  select(0);

  const signOut = h("button", {
    type: "button",
    text: "Sign out",
    onclick: async () => {
      const revoked = await session.signOut();
      fill(subaccounts);
      dialog.close();
      if (revoked) notify("Signed out; nothing is kept on this device");
      else notify("Signed out and the device key deleted here, but the server could not be told to revoke it: revoke it later from another session", "error");
    },
  });

  const renderCurrent = () => {
    const state = session.state;
    const who = state.subaccountId === null ? `key ${String(state.apiKey).slice(0, 8)}…` : `subaccount #${state.subaccountId}`;
    fill(current, state.signedIn ? [h("p", { text: `Signed in as ${who}${session.isRemembered() ? ", remembered on this device" : ""}.` }), signOut] : []);
  };
  session.onChange(renderCurrent);

  fill(
    dialog,
    h("div", { class: "modal-head" }, title, h("button", { type: "button", class: "icon", "aria-label": "Close", text: "✕", onclick: () => dialog.close() })),
    current,
    h("div", { role: "tablist", class: "tabs", "aria-label": "How to sign in" }, tabs),
    h("div", { class: "check" }, remember, h("label", { for: "remember-device", text: "Remember on this device" })),
    ...panels,
  );
  document.body.append(dialog);
  returnFocusOnClose(dialog);
  return () => {
    renderCurrent();
    keyError.textContent = "";
    operatorError.textContent = "";
    /** @type {HTMLInputElement} */ (remember).checked = session.isRemembered();
    keysForm.querySelectorAll("input").forEach((input) => (input.value = ""));
    dialog.showModal();
  };
}
