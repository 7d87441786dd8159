// @ts-check
/**
 * Streams: a WebSocket to this server's /ws subscribed to the given streams (a trading view's
 * depth, trades, candles and mark price; the page's engine.update in live.js; signed, a trading
 * view's private account streams in account_stream.js), reconnecting with backoff. After each
 * (re)subscription `onOpen` runs, so a view reloads its snapshots and misses nothing; `onClose`
 * hears each drop. A private subscription is signed afresh on each connection
 * (`options.signature`); a refusal (an unknown or revoked key) ends it for good, with the server's
 * words to `options.onRefused`.
 */

const BACKOFF_MS = [500, 1000, 2000, 5000, 10000];

/**
 * @typedef {object} SubscribeOptions
 * @property {() => Promise<string[] | null>} [signature] Backpack's [apiKey, signature, timestamp, window] of `subscribe` (null: not signed in, do not connect)
 * @property {(why: string) => void} [onRefused]
 */

/**
 * @param {string[]} streams e.g. ["depth.BTC_USDC", "trade.BTC_USDC"]
 * @param {(stream: string, data: any) => void} onMessage
 * @param {() => void} onOpen
 * @param {() => void} [onClose]
 * @param {SubscribeOptions} [options]
 * @returns {() => void} close for good
 */
export function subscribe(streams, onMessage, onOpen, onClose = () => {}, options = {}) {
  const url = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`;
  let attempt = 0;
  let closed = false;
  let refused = false;
  /** @type {WebSocket | null} */
  let socket = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let retry;
  const open = () => {
    const mine = new WebSocket(url);
    socket = mine;
    mine.addEventListener("open", async () => {
      /** @type {string[] | null | undefined} */
      let signature;
      try {
        signature = options.signature ? await options.signature() : undefined;
      } catch {
        signature = null;
      }
      if (signature === null) return void mine.close(); // cannot sign now: the drop retries with backoff
      if (mine.readyState === WebSocket.OPEN) mine.send(JSON.stringify({ method: "SUBSCRIBE", params: streams, id: 1, ...(signature ? { signature } : {}) }));
    });
    mine.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(String(event.data));
      } catch {
        return;
      }
      if (message && typeof message.stream === "string" && message.data) onMessage(message.stream, message.data);
      else if (message && message.id === 1 && message.result === null) {
        attempt = 0;
        onOpen();
      } else if (message && message.id === 1 && message.error) {
        closed = refused = true; // the same request would be refused again
        options.onRefused?.(String(message.error.message ?? message.error.code));
        mine.close();
      }
    });
    mine.addEventListener("close", () => {
      socket = null;
      if (!refused) onClose();
      if (closed) return;
      retry = setTimeout(open, BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]);
      attempt += 1;
    });
  };
  open();
  return () => {
    closed = true;
    clearTimeout(retry);
    socket?.close();
  };
}
