// @ts-check
/**
 * What the Lend page shows, fetched in one go: the pools (public), and for a signed-in subaccount
 * its account settings, balances, borrow-lend positions, its collateral (with the price of each
 * asset at which it is liquidated), the max borrowable of the selected asset, interest and
 * borrow-lend history and the explanations of its borrows. A part that fails keeps
 * its error message instead of its data, so one refusal never blanks the whole page.
 */

/** @typedef {{get: (path: string, params?: Record<string, unknown>) => Promise<any>, signed: (instruction: string, method: string, path: string, params?: Record<string, unknown>) => Promise<any>}} LendApi */
/** @typedef {{symbol: string, netQuantity: string, cumulativeInterest: string, markPrice: string, estLiquidationPrice: string, [key: string]: any}} Position */
/**
 * @typedef {object} AccountData
 * @property {Record<string, any> | null} account GET /api/v1/account
 * @property {Record<string, {available: string, locked: string, staked: string}>} balances GET /api/v1/capital
 * @property {Position[]} positions GET /api/v1/borrowLend/positions
 * @property {any[]} collateral the `collateral` rows of GET /api/v1/capital/collateral
 * @property {string | null} maxBorrow max borrowable of the selected asset
 * @property {any[]} interest GET /wapi/v1/history/interest
 * @property {any[]} movements GET /wapi/v1/history/borrowLend
 * @property {any[]} explanations GET /api/v1/explain/borrows
 * @property {string | null} error the first refusal met, in words
 * @property {{interest: boolean, movements: boolean}} more whether an older page of the history exists
 * @property {Set<string>} unread the parts that could not be read ("positions", "interest", "movements", …):
 *   shown as not read, never as empty
 */
/**
 * @typedef {object} LendData
 * @property {any[]} pools GET /api/v1/borrowLend/markets
 * @property {string | null} poolsError
 * @property {AccountData | null} mine null when signed out
 */

/** Rows per page of each history table; one more is asked for to tell whether an older page exists. */
export const HISTORY_LIMIT = 50;

/** @typedef {{interest: number, movements: number}} Offsets where each history table's page starts */

/**
 * @param {unknown} error
 * @returns {string}
 */
export function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}

/**
 * @param {LendApi} api
 * @param {string | null} selected
 * @param {Offsets} offsets
 * @returns {Promise<AccountData>}
 */
async function loadAccount(api, selected, offsets) {
  /** @type {string | null} */
  let error = null;
  /** @type {Set<string>} */
  const unread = new Set();
  /**
   * @template T
   * @param {Promise<T>} request
   * @param {T} fallback
   * @param {string} part
   * @returns {Promise<T>}
   */
  const kept = (request, fallback, part) =>
    request.catch((/** @type {unknown} */ failure) => {
      error ??= messageOf(failure);
      unread.add(part);
      return fallback;
    });
  const limit = { limit: HISTORY_LIMIT };
  const page = (/** @type {number} */ offset) => ({ limit: HISTORY_LIMIT + 1, offset });
  const [account, balances, positions, collateral, maxBorrow, interest, movements, explanations] = await Promise.all([
    kept(api.signed("accountQuery", "GET", "/api/v1/account"), null, "account"),
    kept(api.signed("balanceQuery", "GET", "/api/v1/capital"), {}, "balances"),
    kept(api.signed("borrowLendPositionQuery", "GET", "/api/v1/borrowLend/positions"), [], "positions"),
    kept(api.signed("collateralQuery", "GET", "/api/v1/capital/collateral"), null, "collateral"),
    selected
      ? kept(
          api
            .signed("maxBorrowQuantity", "GET", "/api/v1/account/limits/borrow", { symbol: selected })
            .then((/** @type {any} */ body) => String(body.maxBorrowQuantity)),
          null,
          "maxBorrow",
        )
      : Promise.resolve(null),
    kept(api.signed("interestHistoryQueryAll", "GET", "/wapi/v1/history/interest", page(offsets.interest)), [], "interest"),
    kept(api.signed("borrowHistoryQueryAll", "GET", "/wapi/v1/history/borrowLend", page(offsets.movements)), [], "movements"),
    kept(api.signed("borrowExplanationQuery", "GET", "/api/v1/explain/borrows", limit), [], "explanations"),
  ]);
  return {
    account,
    balances: balances ?? {},
    positions: Array.isArray(positions) ? positions : [],
    collateral: Array.isArray(collateral?.collateral) ? collateral.collateral : [],
    maxBorrow,
    interest: Array.isArray(interest) ? interest.slice(0, HISTORY_LIMIT) : [],
    movements: Array.isArray(movements) ? movements.slice(0, HISTORY_LIMIT) : [],
    more: { interest: Array.isArray(interest) && interest.length > HISTORY_LIMIT, movements: Array.isArray(movements) && movements.length > HISTORY_LIMIT },
    explanations: Array.isArray(explanations) ? explanations : [],
    error,
    unread,
  };
}

/**
 * @param {LendApi} api
 * @param {boolean} signedIn
 * @param {string | null} selected
 * @param {Offsets} [offsets] where each history page starts (0: the newest)
 * @returns {Promise<LendData>}
 */
export async function loadLendData(api, signedIn, selected, offsets = { interest: 0, movements: 0 }) {
  const [pools, mine] = await Promise.all([
    api.get("/api/v1/borrowLend/markets").then(
      (/** @type {any} */ body) => ({ list: Array.isArray(body) ? body : [], error: null }),
      (/** @type {unknown} */ failure) => ({ list: [], error: messageOf(failure) }),
    ),
    signedIn ? loadAccount(api, selected, offsets) : Promise.resolve(null),
  ]);
  return { pools: pools.list, poolsError: pools.error, mine };
}

/**
 * @param {Position[]} positions
 * @param {string} symbol
 * @returns {string} the net quantity of `symbol` ("0" without a position; negative = borrowed)
 */
export function netQuantityOf(positions, symbol) {
  return positions.find((position) => position.symbol === symbol)?.netQuantity ?? "0";
}

/**
 * @param {AccountData} mine
 * @param {string} symbol
 * @returns {string} the free balance of `symbol`
 */
export function availableOf(mine, symbol) {
  return mine.balances[symbol]?.available ?? "0";
}
