/** Where the CLI talks to: the deployment and the key (from flags or the environment). */
export interface Connection {
  baseUrl: string;
  apiKey: string;
  /** Tests: the fetch to use. */
  fetch?: typeof fetch;
}

/** Where the CLI writes: results to stdout, progress and notes to stderr. */
export interface Output {
  /** Resolves once the text may be followed by more (stdout's backpressure: a slow reader). */
  write(text: string): void | Promise<void>;
  info(text: string): void;
  /** Whether stderr is a terminal (then a progress bar is drawn). */
  interactive: boolean;
}

export const processOutput: Output = {
  write: (text) =>
    process.stdout.write(text)
      ? undefined
      : new Promise<void>((resolve) => process.stdout.once('drain', () => resolve())),
  info: (text) => {
    process.stderr.write(`${text}\n`);
  },
  interactive: process.stderr.isTTY === true,
};

/** Resolves after `ms`, or at once when `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
