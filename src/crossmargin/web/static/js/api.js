// @ts-check
/**
 * The page's HTTP client: public GETs, signed requests (Backpack ED25519) and operator requests.
 * Every non-2xx answer throws an ApiError carrying the server's `code` and `message`.
 */

import { signingText } from "./signing.js";

const WINDOW_MS = 10_000;
/** What the page says when the operator API refuses the admin token. */
/** What the page says when the server does not know the API key (its own words name an operator route). */
export const UNKNOWN_KEY = "This API key is not known on this server: paste the key and secret of one of its subaccounts (`crossmargin account create` prints them), or connect as the operator to create one.";
export const OPERATOR_REFUSED = "The operator token was not accepted: connect as the operator again with the admin token that `crossmargin serve` printed.";

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status (0 when the server could not be reached)
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/** @typedef {Record<string, unknown>} Params */
/** @typedef {import("./signing.js").Signer} Signer */
/**
 * @typedef {object} Api
 * @property {(path: string, params?: Params) => Promise<any>} get
 * @property {(instruction: string, method: string, path: string, params?: Params) => Promise<any>} signed
 * @property {(method: string, path: string, body?: unknown) => Promise<any>} admin
 * @property {() => void} dropInitial the shell's answers stop standing in for reads: call it once anything may have changed
 * @property {() => Promise<string[] | null>} streamSignature a private stream subscription's `signature` field (null when signed out)
 */

/** How long, at most, the shell's answers stand in for the page's reads: its first view only. */
const INITIAL_MS = 5_000;

/** @type {Map<string, unknown> | undefined} */
let shellAnswers;
/**
 * The answers of the page's first public reads that the shell carries, by address (the server's
 * web_initial.py: what the API answered as it sent the page), read once and shared by every client.
 * @returns {Map<string, unknown>}
 */
function initialAnswers() {
  if (shellAnswers) return shellAnswers;
  const element = typeof document === "undefined" ? null : document.getElementById("initial-data");
  element?.remove();
  try {
    shellAnswers = new Map(Object.entries(JSON.parse(element?.textContent || "{}")));
  } catch {
    shellAnswers = new Map();
  }
  return shellAnswers;
}

/**
 * @param {string} path
 * @param {Params} [params]
 * @returns {string}
 */
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value !== undefined && value !== null) query.append(key, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/**
 * Send a request; return its JSON (or text, or null for an empty body).
 * @param {string} url
 * @param {RequestInit} init
 * @returns {Promise<any>}
 */
async function send(url, init) {
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(0, "NETWORK", "The server cannot be reached");
  }
  const text = await response.text();
  let body = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (!response.ok) {
    const code = body && typeof body === "object" && body.code ? String(body.code) : `HTTP_${response.status}`;
    let message = body && typeof body === "object" && body.message ? String(body.message) : `${response.status} ${response.statusText}`;
    // The operator API's refusal names its HTTP header, for API users; the page says it in its own terms.
    if (response.status === 401 && url.startsWith("/admin/")) message = OPERATOR_REFUSED;
    else if (response.status === 401 && message.startsWith("Unknown API key")) message = UNKNOWN_KEY;
    throw new ApiError(response.status, code, message);
  }
  return body;
}

/**
 * @param {{signer: () => Signer | null, adminToken: () => string | null}} credentials
 * @returns {Api}
 */
export function createApi(credentials) {
  let lastTimestamp = 0;
  /** A fresh timestamp per request: ED25519 is deterministic and the server refuses a replayed signature. */
  const timestamp = () => (lastTimestamp = Math.max(Date.now(), lastTimestamp + 1));
  /** Public reads in flight, by address: a second ask for the same one while the first is on its way shares it. */
  /** @type {Map<string, Promise<any>>} */
  const reading = new Map();
  const initial = initialAnswers();
  return {
    get(path, params) {
      const url = withQuery(path, params);
      // Each read gets its own copy, as each fetch would: a page may change what it was given.
      if (initial.has(url) && performance.now() < INITIAL_MS) return Promise.resolve(structuredClone(initial.get(url)));
      let pending = reading.get(url);
      if (!pending) {
        pending = send(url, { headers: { Accept: "application/json" } }).finally(() => reading.delete(url));
        reading.set(url, pending);
      }
      return pending;
    },
    dropInitial() {
      initial.clear();
    },
    async signed(instruction, method, path, params = {}) {
      const signer = credentials.signer();
      if (!signer) throw new ApiError(401, "UNAUTHORIZED", "Sign in first");
      const upper = method.toUpperCase();
      const ts = timestamp();
      const headers = /** @type {Record<string, string>} */ ({
        "X-API-Key": signer.apiKey,
        "X-Signature": await signer.sign(signingText(instruction, params, ts, WINDOW_MS)),
        "X-Timestamp": String(ts),
        "X-Window": String(WINDOW_MS),
        Accept: "application/json",
      });
      if (upper === "GET" || (upper === "DELETE" && Object.keys(params).length === 0)) {
        return send(withQuery(path, params), { method: upper, headers });
      }
      headers["Content-Type"] = "application/json";
      return send(path, { method: upper, headers, body: JSON.stringify(params) });
    },
    async streamSignature() {
      // Backpack's: [apiKey, signature of "instruction=subscribe&timestamp=<ms>&window=<ms>", timestamp, window].
      const signer = credentials.signer();
      if (!signer) return null;
      const ts = timestamp();
      return [signer.apiKey, await signer.sign(signingText("subscribe", {}, ts, WINDOW_MS)), String(ts), String(WINDOW_MS)];
    },
    async admin(method, path, body) {
      const token = credentials.adminToken();
      if (!token) throw new ApiError(401, "UNAUTHORIZED", "Connect as the operator first");
      const upper = method.toUpperCase();
      /** @type {Record<string, string>} */
      const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
      if (upper === "GET") return send(path, { headers });
      headers["Content-Type"] = "application/json";
      return send(path, { method: upper, headers, body: JSON.stringify(body ?? {}) });
    },
  };
}
