// @ts-check
/**
 * The page's entry: builds the shared context (API client, session, change feed, toasts), the
 * navigation and the router. Pages are ES modules loaded on demand; each exports
 * `mount(root, ctx)` and may return a cleanup. Links inside the page never reload it.
 */

import { createApi } from "./api.js";
import { fill, h } from "./dom.js";
import { time } from "./format.js";
import { connectLive } from "./live.js";
import { createSession } from "./session.js";
import { createSignInDialog, messageOf } from "./signin.js";

/** @typedef {"engine" | "session" | "poll"} ChangeReason */
/**
 * @typedef {object} Ctx
 * @property {import("./api.js").Api} api
 * @property {import("./session.js").SessionState} session
 * @property {(fn: (reason: ChangeReason, kinds: string[]) => void) => () => void} onChange `kinds`: what an engine.update said changed (empty for other reasons)
 * @property {(text: string, kind?: "info" | "error") => void} notify
 * @property {() => void} signIn opens the sign-in dialog
 */
/** @typedef {{title: string, nav: string, load: () => Promise<any>}} Route */

const ENGINE_DEBOUNCE_MS = 100;
const POLL_MS = 15_000;
const TOAST_MS = 6_000;

/** @type {Record<string, Route>} */
const ROUTES = {
  "/": { title: "Lend", nav: "lend", load: () => import("./lend.js") },
  "/lend": { title: "Lend", nav: "lend", load: () => import("./lend.js") },
  "/models/margin": { title: "Margin models", nav: "models", load: () => import("./models.js") },
  "/futures": { title: "Futures", nav: "futures", load: () => import("./futures.js") },
  "/spot": { title: "Spot", nav: "spot", load: () => import("./spot.js") },
};

const root = /** @type {HTMLElement} */ (document.getElementById("main"));
const toasts = /** @type {HTMLElement} */ (document.getElementById("toasts"));
const clock = /** @type {HTMLElement} */ (document.querySelector('[data-testid="engine-time"]'));
const sessionLabel = /** @type {HTMLElement} */ (document.querySelector('[data-testid="session-label"]'));
const sessionButton = /** @type {HTMLButtonElement} */ (document.querySelector('[data-testid="session-button"]'));

/** @param {string} text @param {"info" | "error"} [kind] */
function notify(text, kind = "info") {
  const toast = h("div", { class: `toast ${kind}`, text });
  toasts.append(toast);
  setTimeout(() => toast.remove(), kind === "error" ? TOAST_MS * 2 : TOAST_MS);
}

const session = createSession();
const api = createApi({ signer: session.signer, adminToken: session.adminToken });
const openSignIn = createSignInDialog(session, api, notify);

/** @type {Set<(reason: ChangeReason, kinds: string[]) => void>} */
const listeners = new Set();
/** The operator's bar (and its two modules) loads only once the operator connects: most visitors never do. */
let operatorBar = false;
session.onChange(() => {
  if (operatorBar || !session.state.operator) return;
  operatorBar = true;
  import("./operator.js").then(
    ({ createOperatorBar }) => document.querySelector("header.topbar")?.after(createOperatorBar(session, api, notify, (fn) => listeners.add(fn))),
    (error) => ((operatorBar = false), notify(`The operator bar could not be loaded: ${messageOf(error)}`, "error")),
  );
});
/** @param {ChangeReason} reason @param {string[]} [kinds] */
function emit(reason, kinds = []) {
  api.dropInitial(); // whatever a page reads now must be the server's current answer
  for (const fn of [...listeners]) {
    try {
      fn(reason, kinds);
    } catch (error) {
      notify(messageOf(error), "error");
    }
  }
}

let engineNow = 0;
/** @param {number} ms */
function showEngineTime(ms) {
  if (!Number.isFinite(ms) || ms < engineNow) return;
  engineNow = ms;
  clock.textContent = time(ms);
  clock.setAttribute("datetime", new Date(ms).toISOString());
}
/**
 * The engine's own clock (manual in demos), read from the pools' timestamp: /api/v1/time is wall
 * time. Every engine.update carries the engine's time, so this read is only for the start, a
 * sign-in and the slow poll.
 */
async function refreshClock() {
  try {
    const pools = await api.get("/api/v1/borrowLend/markets");
    if (Array.isArray(pools) && pools[0]?.timestamp) showEngineTime(Date.parse(pools[0].timestamp));
  } catch {
    clock.textContent = "offline";
  }
}
listeners.add((reason) => reason !== "engine" && refreshClock());

/** @type {ReturnType<typeof setTimeout> | undefined} */
let engineTimer;
/** The kinds of change since the pages were last told ("resync": updates may have been missed). */
const engineKinds = new Set();
/** Tell the pages the engine changed, at most once per ENGINE_DEBOUNCE_MS. @param {string[]} kinds */
function engineChanged(kinds) {
  kinds.forEach((kind) => engineKinds.add(kind));
  if (engineTimer !== undefined) return;
  engineTimer = setTimeout(() => {
    engineTimer = undefined;
    const told = [...engineKinds].sort();
    engineKinds.clear();
    emit("engine", told);
  }, ENGINE_DEBOUNCE_MS);
}
let wasLive = false;
connectLive(
  (update) => {
    api.dropInitial();
    if (typeof update.T === "number") showEngineTime(update.T);
    engineChanged(Array.isArray(update.k) ? update.k : ["resync"]);
  },
  (subscribed) => {
    api.dropInitial(); // from here on the stream says what changed: reads go to the server
    document.documentElement.dataset.live = subscribed ? "on" : "off";
    clock.title = subscribed ? "Engine clock · live updates on" : "Engine clock · live updates off (reconnecting)";
    if (subscribed && wasLive) engineChanged(["resync"]); // updates may have been missed while disconnected
    wasLive ||= subscribed;
  },
);
setInterval(() => document.visibilityState === "visible" && emit("poll"), POLL_MS);
document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && emit("poll"));

function renderSession() {
  const state = session.state;
  // "Subaccount #3" or "Key d5jGToIE…"; a narrow screen shows only the part after the kind.
  const [kind, which] = state.subaccountId === null ? ["Key ", `${String(state.apiKey).slice(0, 8)}…`] : ["Subaccount ", `#${state.subaccountId}`];
  fill(sessionLabel, state.signedIn ? [h("span", { class: "who-kind", text: kind }), which] : null);
  sessionButton.textContent = state.signedIn ? "Account" : "Log in";
}
session.onChange(() => {
  renderSession();
  emit("session");
});
sessionButton.addEventListener("click", openSignIn);

/** @type {Ctx} */
const ctx = {
  api,
  get session() {
    return session.state;
  },
  onChange(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
  notify,
  signIn: openSignIn,
};

/** @type {(() => void) | null} */
let cleanup = null;
let generation = 0;

/** A context for one mounted page: its change listeners end with it. */
function pageContext() {
  /** @type {Set<() => void>} */
  const owned = new Set();
  /** @type {Ctx} */
  const scoped = Object.create(ctx, {
    onChange: {
      value: (/** @type {(reason: ChangeReason, kinds: string[]) => void} */ fn) => {
        const off = ctx.onChange(fn);
        owned.add(off);
        return () => (off(), owned.delete(off));
      },
    },
  });
  return { scoped, end: () => owned.forEach((off) => off()) };
}

async function route() {
  const mine = ++generation;
  try {
    cleanup?.();
  } catch (error) {
    notify(messageOf(error), "error");
  }
  cleanup = null;
  const path = location.pathname.replace(/(.)\/$/, "$1");
  const found = ROUTES[path];
  document.querySelectorAll("[data-nav]").forEach((link) => {
    if (link.getAttribute("data-nav") === found?.nav) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  });
  if (!found) {
    document.title = "Not found · crossmargin";
    fill(root, h("div", { class: "notice" }, h("h1", { text: "Page not found" }), h("a", { href: "/lend", text: "Go to Lend" })));
    return;
  }
  document.title = `${found.title} · crossmargin`;
  // The server's first view (web_first_view.py) stays until the page takes it over.
  const drawn = mine === 1 && root.querySelector(":scope > [data-first-view]");
  if (!drawn) fill(root, h("p", { class: "loading", text: "Loading…" }));
  let page;
  try {
    page = await found.load();
  } catch (error) {
    if (mine === generation) fill(root, h("div", { class: "notice", role: "alert" }, h("h1", { text: `The ${found.title} page could not be loaded` }), h("p", { text: "Reload to try again. " + messageOf(error) })));
    return;
  }
  if (mine !== generation) return;
  const { scoped, end } = pageContext();
  if (!drawn) fill(root);
  try {
    const own = page.mount(root, scoped);
    cleanup = () => (end(), typeof own === "function" && own());
  } catch (error) {
    end();
    fill(root, h("div", { class: "notice", role: "alert" }, h("h1", { text: `The ${found.title} page failed to start` }), h("p", { text: messageOf(error) })));
  }
}

document.addEventListener("click", (event) => {
  const link = event.target instanceof Element ? event.target.closest("a[href]") : null;
  if (!(link instanceof HTMLAnchorElement) || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || link.target || link.origin !== location.origin) return;
  if (link.hash && link.pathname === location.pathname) {
    // An in-page link (the skip link): move focus there without touching the history or the page.
    const target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!target) return;
    event.preventDefault();
    target.focus();
    return;
  }
  if (!(link.pathname in ROUTES)) return;
  event.preventDefault();
  const address = link.pathname + link.search;
  if (address !== location.pathname + location.search) history.pushState(null, "", address);
  route();
});
window.addEventListener("popstate", route);

renderSession();
// The page first: its reads take the answers the shell preloaded; the clock's read of the pools then
// shares the page's (one read in flight is shared) instead of taking the preload before the page can.
route().finally(refreshClock);
session.restore().then((why) => why && notify(why, "error"));
