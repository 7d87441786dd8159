// @ts-check
/**
 * Exact reading of the server's decimal strings ("-100.000188"): sign, magnitude, comparison and
 * the number of decimals a quantity may have. No floats: comparisons scale both sides to BigInt.
 */

const DECIMAL = /^-?\d+(\.\d+)?$/;
const QUANTITY = /^\d+(\.\d+)?$/;

/**
 * @param {string} text
 * @returns {boolean} whether `text` is a plain decimal string (optional sign, no exponent)
 */
export function isDecimal(text) {
  return DECIMAL.test(text);
}

/**
 * @param {string} text
 * @returns {boolean} whether `text` is a positive quantity a person may type ("12", "0.5")
 */
export function isQuantity(text) {
  return QUANTITY.test(text) && sign(text) > 0;
}

/**
 * @param {string} text a decimal string
 * @returns {-1 | 0 | 1}
 */
export function sign(text) {
  if (!isDecimal(text) || !/[1-9]/.test(text)) return 0;
  return text.startsWith("-") ? -1 : 1;
}

/**
 * @param {string} text a decimal string
 * @returns {string} the same number without its minus sign
 */
export function abs(text) {
  return text.startsWith("-") ? text.slice(1) : text;
}

/**
 * @param {string} text a decimal string
 * @returns {number} how many digits follow the decimal point
 */
export function decimalsOf(text) {
  const point = text.indexOf(".");
  return point < 0 ? 0 : text.length - point - 1;
}

/**
 * @param {string} step a pool's step size, "0.000001"
 * @returns {number} the decimals a quantity of that asset may have (6)
 */
export function decimalsOfStep(step) {
  if (!isDecimal(step)) return 0;
  const trimmed = step.includes(".") ? step.replace(/0+$/, "").replace(/\.$/, "") : step;
  return decimalsOf(trimmed);
}

/**
 * @param {string} text a decimal string
 * @param {number} decimals
 * @returns {bigint} the number times 10^decimals (exact when `text` has at most that many decimals)
 */
function scaled(text, decimals) {
  const negative = text.startsWith("-");
  const [whole, fraction = ""] = abs(text).split(".");
  const digits = BigInt(whole + fraction.padEnd(decimals, "0").slice(0, decimals));
  return negative ? -digits : digits;
}

/**
 * @param {string} left
 * @param {string} right
 * @returns {-1 | 0 | 1} the order of two decimal strings
 */
export function compare(left, right) {
  const decimals = Math.max(decimalsOf(left), decimalsOf(right));
  const a = scaled(left, decimals);
  const b = scaled(right, decimals);
  return a < b ? -1 : a > b ? 1 : 0;
}
