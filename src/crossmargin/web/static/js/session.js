// @ts-check
/**
 * Who the page acts as: a subaccount's key pair (signing in the browser) and, optionally, the
 * operator's admin token. The pasted API secret lives in memory only, for as long as the page is
 * open. "Remember on this device" never stores it: the page generates a non-extractable ED25519
 * device key (`device_key.js`), registers its public key as one more API key of the subaccount
 * (`POST /wapi/v1/apiKeys`, signed with the pasted secret), signs with the device key from then on
 * and forgets the secret; a reload signs with the device key kept in IndexedDB. Signing out
 * revokes the device key on the server (`DELETE /wapi/v1/apiKeys`) and deletes it here. The admin
 * token is never stored.
 */

import { ApiError, createApi } from "./api.js";
import { deleteDeviceKey, deviceSigner, generateDeviceKey, loadDeviceKey, saveDeviceKey } from "./device_key.js";
import { importSigner } from "./signing.js";

/** Where an older version of the page kept the secret itself: deleted whenever found. */
const LEGACY_STORAGE_KEY = "crossmargin.session";
const KEYS_PATH = "/wapi/v1/apiKeys";

/** @typedef {import("./signing.js").Signer} Signer */
/** @typedef {{signedIn: boolean, subaccountId: number|null, apiKey: string|null, operator: boolean, remembered: boolean}} SessionState */
/** @typedef {{apiKey?: string, apiSecret: string, subaccountId?: number|null, remember?: boolean}} Credentials */

/** @param {Signer} signer */
const apiOf = (signer) => createApi({ signer: () => signer, adminToken: () => null });

/**
 * Check a signer against the server with a signed account query; return the account.
 * @param {Signer} signer
 */
const accountOf = (signer) => apiOf(signer).signed("accountQuery", "GET", "/api/v1/account");

/**
 * Revoke a key on the server, signed by itself; true when the server no longer knows it.
 * @param {Signer} signer
 */
async function revoke(signer) {
  try {
    await apiOf(signer).signed("apiKeyRevoke", "DELETE", KEYS_PATH, { publicKey: signer.apiKey });
    return true;
  } catch (error) {
    return error instanceof ApiError && error.status === 401; // already unknown: revoked elsewhere
  }
}

/**
 * Make a device key, register it with `owner`'s signature and keep it; return its signer.
 * @param {Signer} owner
 * @param {number | null} subaccountId
 */
async function rememberDevice(owner, subaccountId) {
  const { privateKey, apiKey } = await generateDeviceKey();
  await apiOf(owner).signed("apiKeyCreate", "POST", KEYS_PATH, { publicKey: apiKey });
  await saveDeviceKey({ privateKey, apiKey, ownerKey: owner.apiKey, subaccountId });
  return deviceSigner(privateKey, apiKey);
}

export function createSession() {
  /** @type {Signer | null} */
  let signer = null;
  /** The API key the user signed in with (a device key signs for it, under its own public key). */
  /** @type {string | null} */
  let ownerKey = null;
  let remembered = false;
  /** @type {number | null} */
  let subaccountId = null;
  /** @type {string | null} */
  let adminToken = null;
  /** @type {Set<() => void>} */
  const listeners = new Set();
  const changed = () => listeners.forEach((fn) => fn());
  localStorage.removeItem(LEGACY_STORAGE_KEY);

  /** Forget the device key: revoke it on the server (signed by itself) and delete it here. */
  async function forgetDevice() {
    const record = await loadDeviceKey();
    const revoked = record ? await revoke(deviceSigner(record.privateKey, record.apiKey)) : true;
    await deleteDeviceKey();
    remembered = false;
    return revoked;
  }

  return {
    /** @returns {SessionState} */
    get state() {
      return { signedIn: signer !== null, subaccountId, apiKey: ownerKey, operator: adminToken !== null, remembered };
    },
    signer: () => signer,
    adminToken: () => adminToken,
    /** @param {() => void} fn */
    onChange(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    /**
     * Sign in (after the server accepted a signed request); remember this device only if asked,
     * with a registered device key, never the secret.
     * @param {Credentials} credentials
     */
    async signIn(credentials) {
      const owner = await importSigner(credentials.apiSecret, credentials.apiKey);
      const account = await accountOf(owner);
      const id = credentials.subaccountId ?? account?.subaccountId ?? null;
      await forgetDevice();
      const ownId = typeof id === "number" ? id : null;
      signer = credentials.remember ? await rememberDevice(owner, ownId) : owner;
      remembered = Boolean(credentials.remember);
      ownerKey = owner.apiKey;
      subaccountId = ownId;
      changed();
    },
    /**
     * Forget the key pair (memory and this device, revoking the device key) and the operator token.
     * @returns {Promise<boolean>} false when a device key could not be revoked on the server
     */
    async signOut() {
      const revoked = await forgetDevice();
      signer = null;
      ownerKey = null;
      subaccountId = null;
      adminToken = null;
      changed();
      return revoked;
    },
    /** @param {string | null} token */
    setAdminToken(token) {
      adminToken = token;
      changed();
    },
    isRemembered: () => remembered,
    /**
     * Sign in with the device key remembered on this device, if any.
     * @returns {Promise<string | null>} why it was dropped, or null
     */
    async restore() {
      const record = await loadDeviceKey();
      if (!record) return null;
      const device = deviceSigner(record.privateKey, record.apiKey);
      try {
        await accountOf(device);
      } catch (error) {
        if (error instanceof ApiError && error.status === 0) return "The server cannot be reached";
        await deleteDeviceKey();
        return `The key remembered on this device no longer works: ${error instanceof Error ? error.message : error}`;
      }
      signer = device;
      ownerKey = record.ownerKey;
      subaccountId = record.subaccountId;
      remembered = true;
      changed();
      return null;
    },
  };
}

/** @typedef {ReturnType<typeof createSession>} Session */
