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
 */
/**
 * @typedef {object} LendData
 * @property {any[]} pools GET /api/v1/borrowLend/markets
 * @property {string | null} poolsError
 * @property {AccountData | null} mine null when signed out
 */

export const HISTORY_LIMIT = 50;

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
 * @returns {Promise<AccountData>}
 */
async function loadAccount(api, selected) {
  /** @type {string | null} */
  let error = null;
  /**
   * @template T
   * @param {Promise<T>} request
   * @param {T} fallback
   * @returns {Promise<T>}
   */
  const kept = (request, fallback) =>
    request.catch((/** @type {unknown} */ failure) => {
      error ??= messageOf(failure);
      return fallback;
    });
  const limit = { limit: HISTORY_LIMIT };
  const [account, balances, positions, collateral, maxBorrow, interest, movements, explanations] = await Promise.all([
    kept(api.signed("accountQuery", "GET", "/api/v1/account"), null),
    kept(api.signed("balanceQuery", "GET", "/api/v1/capital"), {}),
    kept(api.signed("borrowLendPositionQuery", "GET", "/api/v1/borrowLend/positions"), []),
    kept(api.signed("collateralQuery", "GET", "/api/v1/capital/collateral"), null),
    selected
      ? kept(
          api
            .signed("maxBorrowQuantity", "GET", "/api/v1/account/limits/borrow", { symbol: selected })
            .then((/** @type {any} */ body) => String(body.maxBorrowQuantity)),
          null,
        )
      : Promise.resolve(null),
    kept(api.signed("interestHistoryQueryAll", "GET", "/wapi/v1/history/interest", limit), []),
    kept(api.signed("borrowHistoryQueryAll", "GET", "/wapi/v1/history/borrowLend", limit), []),
    kept(api.signed("borrowExplanationQuery", "GET", "/api/v1/explain/borrows", limit), []),
  ]);
  return {
    account,
    balances: balances ?? {},
    positions: Array.isArray(positions) ? positions : [],
    collateral: Array.isArray(collateral?.collateral) ? collateral.collateral : [],
    maxBorrow,
    interest: Array.isArray(interest) ? interest : [],
    movements: Array.isArray(movements) ? movements : [],
    explanations: Array.isArray(explanations) ? explanations : [],
    error,
  };
}

/**
 * @param {LendApi} api
 * @param {boolean} signedIn
 * @param {string | null} selected
 * @returns {Promise<LendData>}
 */
export async function loadLendData(api, signedIn, selected) {
  const [pools, mine] = await Promise.all([
    api.get("/api/v1/borrowLend/markets").then(
      (/** @type {any} */ body) => ({ list: Array.isArray(body) ? body : [], error: null }),
      (/** @type {unknown} */ failure) => ({ list: [], error: messageOf(failure) }),
    ),
    signedIn ? loadAccount(api, selected) : Promise.resolve(null),
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
