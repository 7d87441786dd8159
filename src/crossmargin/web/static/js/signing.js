// @ts-check
/**
 * Backpack request signing in the browser: ED25519 through WebCrypto. The API secret is the
 * base64 32-byte seed; the API key is the base64 public key. The seed is imported once (as PKCS#8,
 * to derive its public key) and then kept only as a non-extractable CryptoKey.
 */

const PKCS8_ED25519_PREFIX = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

/** @typedef {{apiKey: string, sign: (text: string) => Promise<string>}} Signer */

export class KeyError extends Error {}

/**
 * @param {string} text
 * @returns {Uint8Array}
 */
export function fromBase64(text) {
  const binary = atob(text.trim().replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/**
 * @param {ArrayBuffer | Uint8Array} bytes
 * @returns {string}
 */
export function toBase64(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)));
}

/**
 * @param {string} base64url
 * @returns {string}
 */
function urlToBase64(base64url) {
  const text = base64url.replace(/-/g, "+").replace(/_/g, "/");
  return text + "=".repeat((4 - (text.length % 4)) % 4);
}

/**
 * Import an API secret; check it belongs to `apiKey` when one is given (else derive the key).
 * @param {string} apiSecret base64 32-byte seed
 * @param {string} [apiKey] base64 public key
 * @returns {Promise<Signer>}
 */
export async function importSigner(apiSecret, apiKey) {
  let seed;
  try {
    seed = fromBase64(apiSecret);
  } catch {
    throw new KeyError("The API secret is not valid base64");
  }
  if (seed.length !== 32) throw new KeyError("The API secret must be a base64 ED25519 seed of 32 bytes");
  const pkcs8 = new Uint8Array([...PKCS8_ED25519_PREFIX, ...seed]);
  const algorithm = { name: "Ed25519" };
  const extractable = await crypto.subtle.importKey("pkcs8", pkcs8, algorithm, true, ["sign"]);
  const jwk = await crypto.subtle.exportKey("jwk", extractable);
  const derived = urlToBase64(String(jwk.x));
  if (apiKey && apiKey.trim() !== derived) throw new KeyError("The API secret does not belong to this API key");
  const key = await crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", d: jwk.d, x: jwk.x }, algorithm, false, [
    "sign",
  ]);
  const encoder = new TextEncoder();
  return {
    apiKey: derived,
    sign: async (text) => toBase64(await crypto.subtle.sign(algorithm, key, encoder.encode(text))),
  };
}

/**
 * How a parameter value is printed in the signed text (booleans as true/false).
 * @param {unknown} value
 * @returns {string}
 */
export function printed(value) {
  return typeof value === "boolean" ? (value ? "true" : "false") : String(value);
}

/**
 * The text Backpack signs: `instruction=<name>&<params sorted by key>&timestamp=<ms>&window=<ms>`.
 * @param {string} instruction
 * @param {Record<string, unknown>} params
 * @param {number} timestamp
 * @param {number} window
 * @returns {string}
 */
export function signingText(instruction, params, timestamp, window) {
  const pairs = Object.keys(params)
    .filter((key) => params[key] !== undefined && params[key] !== null)
    .sort()
    .map((key) => `${key}=${printed(params[key])}`);
  return [`instruction=${instruction}`, ...pairs, `timestamp=${timestamp}`, `window=${window}`].join("&");
}
