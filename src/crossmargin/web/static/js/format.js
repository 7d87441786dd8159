// @ts-check
/**
 * Exact display of the server's decimal strings, the one place every page takes its number formats
 * from. Money is never turned into a float: digits are moved and cut as text (BigInt where a
 * rounding is needed). Anything that is not a plain decimal string is shown as "—". The rules:
 *
 * - a quantity of an asset: `amount` ("1,234.5678", every digit the server sent);
 * - a price in US dollars (USDC), of a market or an asset (book, trades, orders, mark, index, last,
 *   entry): `price` ("$60,012.10", every digit the server sent, at least cents);
 * - an estimate of a price (liquidation prices): `usdPrice` (cents from $100 up, 4 decimals below);
 * - a value in US dollars (equity, available, fund value): `usd` ("$1,234.57", cents);
 * - a rate: `percent`; a leverage: `leverage`; a moment: `time`.
 */

const DASH = "—";
const PLAIN = /^(-?)(\d+)(?:\.(\d+))?$/;

/**
 * @typedef {{negative: boolean, whole: string, fraction: string}} Parts
 */

/**
 * @param {unknown} value
 * @returns {Parts | null}
 */
function parse(value) {
  if (typeof value !== "string" && typeof value !== "number" && typeof value !== "bigint") return null;
  const match = PLAIN.exec(String(value).trim());
  if (!match) return null;
  const whole = match[2].replace(/^0+(?=\d)/, "");
  const fraction = match[3] ?? "";
  const zero = /^0*$/.test(whole + fraction);
  return { negative: match[1] === "-" && !zero, whole, fraction };
}

/**
 * Round a decimal to `digits` places (half away from zero when `mode` is "half", else toward zero).
 * @param {Parts} parts
 * @param {number} digits
 * @param {"half" | "down"} mode
 * @returns {Parts}
 */
function round(parts, digits, mode) {
  if (parts.fraction.length <= digits) return { ...parts, fraction: parts.fraction.padEnd(digits, "0") };
  const kept = BigInt(parts.whole + parts.fraction.slice(0, digits));
  const carry = mode === "half" && parts.fraction[digits] >= "5" ? 1n : 0n;
  const text = (kept + carry).toString().padStart(digits + 1, "0");
  const whole = text.slice(0, text.length - digits);
  const fraction = text.slice(text.length - digits);
  const zero = /^0*$/.test(whole + fraction);
  return { negative: parts.negative && !zero, whole, fraction };
}

/**
 * @param {string} whole
 * @returns {string}
 */
function group(whole) {
  return whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * @param {Parts} parts
 * @param {string} [prefix]
 * @returns {string}
 */
function render(parts, prefix = "") {
  const fraction = parts.fraction ? `.${parts.fraction}` : "";
  return `${parts.negative ? "-" : ""}${prefix}${group(parts.whole)}${fraction}`;
}

/**
 * Move the decimal point `shift` places to the right (exactly, as text).
 * @param {Parts} parts
 * @param {number} shift
 * @returns {Parts}
 */
function shifted(parts, shift) {
  const fraction = parts.fraction.padEnd(shift, "0");
  const whole = (parts.whole + fraction.slice(0, shift)).replace(/^0+(?=\d)/, "");
  return { ...parts, whole, fraction: fraction.slice(shift) };
}

/**
 * An amount with thousands separators: every digit the server sent, or at most `maxDecimals`
 * (cut toward zero, never rounded up), without trailing zeros.
 * amount("1234567.891") → "1,234,567.891"; amount("1.23456789", 4) → "1.2345".
 * @param {unknown} value
 * @param {number} [maxDecimals]
 * @returns {string}
 */
export function amount(value, maxDecimals) {
  let parts = parse(value);
  if (!parts) return DASH;
  if (maxDecimals !== undefined) parts = round(parts, maxDecimals, "down");
  const fraction = parts.fraction.replace(/0+$/, "");
  return render({ ...parts, fraction, negative: parts.negative && !/^0*$/.test(parts.whole + fraction) });
}

/**
 * A rate as a percentage with `digits` decimals (rounded half away from zero): "0.0512" → "5.12%".
 * @param {unknown} value
 * @param {number} [digits]
 * @returns {string}
 */
export function percent(value, digits = 2) {
  const parts = parse(value);
  if (!parts) return DASH;
  return `${render(round(shifted(parts, 2), digits, "half"))}%`;
}

/**
 * US dollars with cents (rounded half away from zero): "1234.567" → "$1,234.57", "-5" → "-$5.00".
 * @param {unknown} value
 * @returns {string}
 */
export function usd(value) {
  const parts = parse(value);
  if (!parts) return DASH;
  return render(round(parts, 2, "half"), "$");
}

/**
 * A price in US dollars (a market's, quoted in USDC, or an asset's mark or index): every digit the
 * server sent, at least cents, never rounded: "60000" → "$60,000.00", "60120.1" → "$60,120.10",
 * "1.27944192" → "$1.27944192".
 * @param {unknown} value
 * @returns {string}
 */
export function price(value) {
  const parts = parse(value);
  if (!parts) return DASH;
  return render(parts.fraction.length >= 2 ? parts : round(parts, 2, "down"), "$");
}

/**
 * An estimated price in US dollars: cents from $100 up, 4 decimals below (rounded half away from zero), so a
 * stablecoin's "1.27944192" reads "$1.2794" and BTC's "46868.8866" "$46,868.89".
 * @param {unknown} value
 * @returns {string}
 */
export function usdPrice(value) {
  const parts = parse(value);
  if (!parts) return DASH;
  return render(round(parts, parts.whole.length >= 3 ? 2 : 4, "half"), "$");
}

/**
 * A price the chart computes itself, as a float (its axis ticks, its crosshair): written as `usdPrice`
 * writes a server's price, from its 8-decimal text, so the chart reads like every other price on
 * the page: 60014.20184794 → "$60,014.20". Not for money: the chart's floats only place labels.
 * @param {number} value
 * @returns {string}
 */
export function chartPrice(value) {
  return Number.isFinite(value) ? usdPrice(value.toFixed(8)) : DASH;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/** @param {number} n */
const twoDigits = (n) => String(n).padStart(2, "0");

/**
 * The chart's time (seconds since the epoch, a number or its text) as a date; null for anything else.
 * @param {unknown} seconds
 * @returns {Date | null}
 */
function chartDate(seconds) {
  const date = typeof seconds === "number" || (typeof seconds === "string" && seconds !== "") ? new Date(Number(seconds) * 1000) : null;
  return date !== null && Number.isFinite(date.getTime()) ? date : null;
}

/**
 * A label of the chart's time scale (seconds since the epoch, UTC, like the candles), for the
 * library's tick-mark kind: 0 year "2026", 1 month "Dec", 2 day "7", 3 time "14:30", 4 time with
 * seconds "14:30:05". The library's own labels call `Date.toLocaleString`, whose first call loads
 * the browser's date-format data: about 40 ms of one task in the chart's first drawing (measured).
 * @param {unknown} seconds
 * @param {number} kind
 * @returns {string}
 */
export function chartTick(seconds, kind) {
  const date = chartDate(seconds);
  if (date === null) return DASH;
  const clock = `${twoDigits(date.getUTCHours())}:${twoDigits(date.getUTCMinutes())}`;
  switch (kind) {
    case 0:
      return String(date.getUTCFullYear());
    case 1:
      return MONTHS[date.getUTCMonth()];
    case 2:
      return String(date.getUTCDate());
    case 4:
      return `${clock}:${twoDigits(date.getUTCSeconds())}`;
    default:
      return clock;
  }
}

/**
 * The chart's time under the crosshair (seconds since the epoch): as every time on the page (`time`).
 * @param {unknown} seconds
 * @returns {string}
 */
export function chartTime(seconds) {
  const date = chartDate(seconds);
  return time(date === null ? null : date.getTime());
}

/**
 * A leverage: at most `digits` decimals (cut toward zero), no trailing zeros: "4.1299" → "4.12×", "10" → "10×".
 * @param {unknown} value
 * @param {number} [digits]
 * @returns {string}
 */
export function leverage(value, digits = 2) {
  const text = amount(value, digits);
  return text === DASH ? DASH : `${text}×`;
}

/**
 * A moment in UTC: 1767225600000 → "2026-01-01 00:00:00 UTC". Accepts epoch ms or an ISO string.
 * @param {unknown} value
 * @returns {string}
 */
export function time(value) {
  const naive = typeof value === "string" && /^\d{4}-\d\d-\d\dT[\d:.]+$/.test(value);
  const ms = typeof value === "string" && !/^\d+$/.test(value) ? Date.parse(naive ? `${value}Z` : value) : Number(value);
  if (value === null || value === undefined || value === "" || !Number.isFinite(ms)) return DASH;
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}
