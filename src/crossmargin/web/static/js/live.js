// @ts-check
/**
 * Live updates: the public "engine.update" stream (through trade_stream.js's `subscribe`, which
 * reconnects with backoff). Each message means the engine changed something the page shows.
 */

import { subscribe } from "./trade_stream.js";

const STREAM = "engine.update";

/** @typedef {{e: string, E: number, T: number, k: string[]}} EngineUpdate */

/**
 * @param {(update: EngineUpdate) => void} onUpdate
 * @param {(subscribed: boolean) => void} [onStatus] told when the subscription starts (acknowledged) and when it drops
 * @returns {() => void} close for good
 */
export function connectLive(onUpdate, onStatus = () => {}) {
  return subscribe(
    [STREAM],
    (_stream, data) => onUpdate(data),
    () => onStatus(true),
    () => onStatus(false),
  );
}
