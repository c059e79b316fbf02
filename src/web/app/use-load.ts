import { useEffect, useState } from 'preact/hooks';
import { type Loaded, load } from './api.js';

export type LoadState<T> =
  | { status: 'loading' }
  | { status: 'error'; error: unknown }
  | ({ status: 'ready' } & Loaded<T>);

/**
 * Loads a screen's data through `load` (served from IndexedDB when offline) and again whenever
 * `deps` change; `reload` fetches anew.
 */
export function useLoad<T>(
  key: string,
  fetcher: () => Promise<T>,
  deps: readonly unknown[],
): LoadState<T> & { reload(): void } {
  const [state, setState] = useState<LoadState<T>>({ status: 'loading' });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load(key, fetcher).then(
      (loaded) => live && setState({ status: 'ready', ...loaded }),
      (error: unknown) => live && setState({ status: 'error', error }),
    );
    return () => {
      live = false;
    };
  }, [key, tick, ...deps]);
  return { ...state, reload: () => setTick((n) => n + 1) };
}
