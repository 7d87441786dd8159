// @ts-check
/**
 * Streams: one WebSocket per page to this server's /ws, shared by every subscription the page
 * makes (the page's engine.update in live.js; a trading view's depth, trades, candles and mark
 * price; signed, its private account streams in account_stream.js), as Backpack's streams are
 * meant to be used: one socket, one SUBSCRIBE per group of streams, each with its own `id`. The
 * socket opens with the first subscription, reconnects with backoff while any is left, and closes
 * with the last.
 *
 * After each (re)subscription of a group (the server's `{"id", "result": null}` for its request)
 * its `onOpen` runs, so a view reloads its snapshots and misses nothing; `onClose` hears each drop
 * of the socket. A private subscription is signed afresh on each connection (`options.signature`);
 * a refusal of a group (an unknown or revoked key) ends that group for good, with the server's
 * words to `options.onRefused`, and leaves the others on the socket.
 */

const BACKOFF_MS = [500, 1000, 2000, 5000, 10000];

/**
 * @typedef {object} SubscribeOptions
 * @property {() => Promise<string[] | null>} [signature] Backpack's [apiKey, signature, timestamp, window] of `subscribe` (null: not signed in now, try again later)
 * @property {(why: string) => void} [onRefused]
 */

/**
 * @typedef {object} Group one `subscribe` call: its streams and who hears them
 * @property {string[]} streams
 * @property {(stream: string, data: any) => void} onMessage
 * @property {() => void} onOpen
 * @property {() => void} onClose
 * @property {SubscribeOptions} options
 * @property {number} id the id of its latest SUBSCRIBE on the current socket (0: none sent)
 * @property {WebSocket | null} on the socket it has subscribed on, or is signing for (once per socket)
 * @property {number} attempt its failed signatures in a row (it retries alone, with backoff)
 * @property {ReturnType<typeof setTimeout> | undefined} retry
 */

/** @type {Set<Group>} */
const groups = new Set();
/** @type {WebSocket | null} */
let socket = null;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let reconnect;
let attempt = 0;
let nextId = 1;

/** @param {number} tries */
const backoff = (tries) => BACKOFF_MS[Math.min(tries, BACKOFF_MS.length - 1)];

/** @param {string} stream */
const held = (stream) => [...groups].some((group) => group.streams.includes(stream));

/** @param {object} body */
function send(body) {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(body));
}

/**
 * Send a group's SUBSCRIBE on the socket that is open now (signed afresh if it is private).
 * @param {Group} group
 * @param {WebSocket} on
 */
async function subscribeGroup(group, on) {
  group.retry = undefined;
  group.on = on;
  /** @type {string[] | null | undefined} */
  let signature;
  try {
    signature = group.options.signature ? await group.options.signature() : undefined;
  } catch {
    signature = null;
  }
  if (!groups.has(group) || socket !== on || on.readyState !== WebSocket.OPEN) return; // ended, or the next socket subscribes it
  if (signature === null) {
    // Cannot sign now: this group tries again with backoff; the others stay subscribed.
    group.retry = setTimeout(() => subscribeGroup(group, on), backoff(group.attempt));
    group.attempt += 1;
    return;
  }
  group.id = nextId++;
  send({ method: "SUBSCRIBE", params: group.streams, id: group.id, ...(signature ? { signature } : {}) });
}

/** @param {any} message a frame from the server */
function route(message) {
  if (message && typeof message.stream === "string" && message.data) {
    for (const group of groups) if (group.streams.includes(message.stream)) group.onMessage(message.stream, message.data);
    return;
  }
  const group = message && typeof message.id === "number" ? [...groups].find((candidate) => candidate.id === message.id) : undefined;
  if (!group) return;
  if (message.result === null) {
    attempt = 0;
    group.attempt = 0;
    group.onOpen();
  } else if (message.error) {
    end(group); // the same request would be refused again
    group.options.onRefused?.(String(message.error.message ?? message.error.code));
  }
}

function connect() {
  reconnect = undefined;
  const mine = new WebSocket(`${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`);
  socket = mine;
  mine.addEventListener("open", () => {
    // A group that subscribed since the socket opened (its readyState said so before this event
    // ran) is not subscribed again: a second acknowledgement would reload its view twice.
    for (const group of groups) if (group.on !== mine) subscribeGroup(group, mine);
  });
  mine.addEventListener("message", (event) => {
    if (socket !== mine) return; // a frame of a socket already given up
    let message;
    try {
      message = JSON.parse(String(event.data));
    } catch {
      return;
    }
    route(message);
  });
  mine.addEventListener("close", () => {
    if (socket !== mine) return;
    socket = null;
    for (const group of groups) {
      clearTimeout(group.retry);
      group.id = 0;
      group.onClose();
    }
    if (groups.size === 0) return;
    reconnect = setTimeout(connect, backoff(attempt));
    attempt += 1;
  });
}

/**
 * Stop a group: its streams no other group follows are unsubscribed, and the socket closes with
 * the last group.
 * @param {Group} group
 */
function end(group) {
  if (!groups.delete(group)) return;
  clearTimeout(group.retry);
  const alone = group.streams.filter((stream) => !held(stream));
  if (alone.length && group.id) send({ method: "UNSUBSCRIBE", params: alone });
  if (groups.size) return;
  clearTimeout(reconnect);
  reconnect = undefined;
  attempt = 0;
  const last = socket;
  socket = null;
  last?.close();
}

/**
 * @param {string[]} streams e.g. ["depth.BTC_USDC", "trade.BTC_USDC"]
 * @param {(stream: string, data: any) => void} onMessage
 * @param {() => void} onOpen
 * @param {() => void} [onClose]
 * @param {SubscribeOptions} [options]
 * @returns {() => void} close for good
 */
export function subscribe(streams, onMessage, onOpen, onClose = () => {}, options = {}) {
  /** @type {Group} */
  const group = { streams: [...streams], onMessage, onOpen, onClose, options, id: 0, on: null, attempt: 0, retry: undefined };
  groups.add(group);
  if (socket?.readyState === WebSocket.OPEN) subscribeGroup(group, socket);
  else if (!socket && reconnect === undefined) connect();
  return () => end(group);
}
