// @ts-check
/**
 * Live updates: a WebSocket to this server's /ws subscribed to the public "engine.update" stream,
 * reconnecting with backoff. Each message means the engine changed something the page shows.
 */

const STREAM = "engine.update";
const BACKOFF_MS = [500, 1000, 2000, 5000, 10000, 30000];

/** @typedef {{e: string, E: number, T: number, k: string[]}} EngineUpdate */

/**
 * @param {(update: EngineUpdate) => void} onUpdate
 * @param {(subscribed: boolean) => void} [onStatus] told when the subscription starts (acknowledged) and when it drops
 * @returns {() => void} close for good
 */
export function connectLive(onUpdate, onStatus = () => {}) {
  const url = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`;
  let attempt = 0;
  let closed = false;
  /** @type {WebSocket | null} */
  let socket = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let retry;

  const open = () => {
    socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      attempt = 0;
      socket?.send(JSON.stringify({ method: "SUBSCRIBE", params: [STREAM], id: 1 }));
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(String(event.data));
      } catch {
        return;
      }
      if (message && message.stream === STREAM && message.data) onUpdate(message.data);
      else if (message && message.id === 1 && message.result === null) onStatus(true);
    });
    socket.addEventListener("close", () => {
      socket = null;
      onStatus(false);
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
