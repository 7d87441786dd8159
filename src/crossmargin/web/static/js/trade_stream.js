// @ts-check
/**
 * Public streams: a WebSocket to this server's /ws subscribed to the given streams (a trading
 * view's depth, trades, candles and mark price; the page's engine.update in live.js),
 * reconnecting with backoff. After each (re)subscription `onOpen` runs, so a view reloads its
 * snapshots and misses nothing; `onClose` hears each drop.
 */

const BACKOFF_MS = [500, 1000, 2000, 5000, 10000];

/**
 * @param {string[]} streams e.g. ["depth.BTC_USDC", "trade.BTC_USDC"]
 * @param {(stream: string, data: any) => void} onMessage
 * @param {() => void} onOpen
 * @param {() => void} [onClose]
 * @returns {() => void} close for good
 */
export function subscribe(streams, onMessage, onOpen, onClose = () => {}) {
  const url = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`;
  let attempt = 0;
  let closed = false;
  /** @type {WebSocket | null} */
  let socket = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let retry;
  const open = () => {
    socket = new WebSocket(url);
    socket.addEventListener("open", () => socket?.send(JSON.stringify({ method: "SUBSCRIBE", params: streams, id: 1 })));
    socket.addEventListener("message", (event) => {
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
      }
    });
    socket.addEventListener("close", () => {
      socket = null;
      onClose();
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
