import { EventEmitter } from 'node:events';

/**
 * "A job is queued": the upload route says so when it has stored a file, and this process's
 * import workers start on it at once instead of at their next poll (other instances still find
 * it by polling). Only a nudge: losing it delays a job by one poll interval, nothing more.
 */
const signal = new EventEmitter();
signal.setMaxListeners(0);

export function importQueued(): void {
  signal.emit('queued');
}

/** Calls `listener` on every queued job; answers the function that stops it. */
export function onImportQueued(listener: () => void): () => void {
  signal.on('queued', listener);
  return () => {
    signal.off('queued', listener);
  };
}
