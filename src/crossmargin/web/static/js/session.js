// @ts-check
/**
 * Who the page acts as: a subaccount's key pair (signing in the browser) and, optionally, the
 * operator's admin token. The API secret lives in memory only, unless the user asks to remember it
 * on this device (localStorage); signing out forgets everything. The admin token is never stored.
 */

import { ApiError, createApi } from "./api.js";
import { importSigner } from "./signing.js";

const STORAGE_KEY = "crossmargin.session";

/** @typedef {import("./signing.js").Signer} Signer */
/** @typedef {{signedIn: boolean, subaccountId: number|null, apiKey: string|null, operator: boolean}} SessionState */
/** @typedef {{apiKey?: string, apiSecret: string, subaccountId?: number|null, remember?: boolean}} Credentials */

/**
 * Check credentials against the server with a signed account query; return the signer.
 * @param {Credentials} credentials
 * @returns {Promise<{signer: Signer, account: any}>}
 */
async function verified(credentials) {
  const signer = await importSigner(credentials.apiSecret, credentials.apiKey);
  const probe = createApi({ signer: () => signer, adminToken: () => null });
  const account = await probe.signed("accountQuery", "GET", "/api/v1/account");
  return { signer, account };
}

/** @returns {Credentials | null} */
function remembered() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "null");
    return saved && typeof saved.apiSecret === "string" ? saved : null;
  } catch {
    return null;
  }
}

export function createSession() {
  /** @type {Signer | null} */
  let signer = null;
  /** @type {number | null} */
  let subaccountId = null;
  /** @type {string | null} */
  let adminToken = null;
  /** @type {Set<() => void>} */
  const listeners = new Set();
  const changed = () => listeners.forEach((fn) => fn());

  return {
    /** @returns {SessionState} */
    get state() {
      return { signedIn: signer !== null, subaccountId, apiKey: signer?.apiKey ?? null, operator: adminToken !== null };
    },
    signer: () => signer,
    adminToken: () => adminToken,
    /** @param {() => void} fn */
    onChange(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    /**
     * Sign in (after the server accepted a signed request); store the secret only if asked.
     * @param {Credentials} credentials
     */
    async signIn(credentials) {
      const checked = await verified(credentials);
      const id = credentials.subaccountId ?? checked.account?.subaccountId ?? null;
      signer = checked.signer;
      subaccountId = typeof id === "number" ? id : null;
      if (credentials.remember) {
        const saved = { apiKey: signer.apiKey, apiSecret: credentials.apiSecret, subaccountId };
        localStorage.setItem(STORAGE_KEY, JSON.stringify(saved));
      } else localStorage.removeItem(STORAGE_KEY);
      changed();
    },
    /** Forget the key pair (memory and this device) and the operator token. */
    signOut() {
      signer = null;
      subaccountId = null;
      adminToken = null;
      localStorage.removeItem(STORAGE_KEY);
      changed();
    },
    /** @param {string | null} token */
    setAdminToken(token) {
      adminToken = token;
      changed();
    },
    isRemembered: () => remembered() !== null,
    /**
     * Sign in with the credentials remembered on this device, if any.
     * @returns {Promise<string | null>} why they were dropped, or null
     */
    async restore() {
      const saved = remembered();
      if (!saved) return null;
      try {
        await this.signIn({ ...saved, remember: true });
        return null;
      } catch (error) {
        if (error instanceof ApiError && error.status === 0) return "The server cannot be reached";
        localStorage.removeItem(STORAGE_KEY);
        return `The key remembered on this device no longer works: ${error instanceof Error ? error.message : error}`;
      }
    },
  };
}

/** @typedef {ReturnType<typeof createSession>} Session */
