/**
 * The outbox: every change the app makes (an assessment, a step marked done) is put here first,
 * with its own Idempotency-Key, and sent from here: at once when online, else when the
 * connection returns (the `online` event, and a retry every 20 s while anything waits). A
 * replay after a lost answer is answered from the service's idempotency record, so it never
 * records twice. A refusal is kept and shown: 409 (a colleague assessed the child, the step
 * changed) as a conflict, any other 4xx as rejected; nothing is dropped silently.
 */
import type { Problem } from '../../../clients/typescript/index.js';
import { type OutboxItem, outboxAll, outboxDelete, outboxPut } from './storage.js';

export type SendResult =
  | { kind: 'sent'; status: number; data: unknown }
  | { kind: 'queued' }
  | { kind: 'refused'; item: OutboxItem };

type Listener = (items: OutboxItem[]) => void;
const listeners = new Set<Listener>();
let current: OutboxItem[] = [];

/** The signed-in principal's id: the outbox shows and sends that user's changes only. */
let owner: (() => string | undefined) | undefined;

/** The changes of the signed-in user, oldest first. */
async function mine(): Promise<OutboxItem[]> {
  const who = owner?.();
  return (await outboxAll())
    .filter((i) => i.owner === who)
    .sort((a, b) => a.id.localeCompare(b.id));
}

async function publish(): Promise<void> {
  current = await mine();
  for (const listener of listeners) listener(current);
}

/** Shows the signed-in user's items (after a sign-in), and sends what waits. */
export async function refresh(): Promise<void> {
  await publish();
  await flush();
}

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  listener(current);
  return () => listeners.delete(listener);
}

/** Local ids sort by creation: a millisecond timestamp, then randomness. */
function localId(): string {
  return `${Date.now().toString(36).padStart(10, '0')}-${crypto.randomUUID()}`;
}

let token: (() => string | undefined) | undefined;
let sentListener: ((item: OutboxItem, data: unknown) => void) | undefined;

/** Connects the outbox to the signed-in session; called once at start-up. */
export function configureOutbox(options: {
  token: () => string | undefined;
  owner: () => string | undefined;
  onSent: (item: OutboxItem, data: unknown) => void;
}): void {
  token = options.token;
  owner = options.owner;
  sentListener = options.onSent;
  void publish();
  window.addEventListener('online', () => void flush());
  setInterval(() => {
    if (current.some((i) => i.state === 'waiting')) void flush();
  }, 20_000);
}

const isProblem = (v: unknown): v is Problem =>
  typeof v === 'object' && v !== null && 'status' in v && 'title' in v;

type Attempt =
  | { kind: 'sent'; status: number; data: unknown }
  | { kind: 'retry' }
  | { kind: 'refused'; problem: Problem; conflict: boolean };

/** Items being sent right now: flush skips them, so one item is never sent twice at once. */
const inFlight = new Set<string>();

async function attempt(item: OutboxItem): Promise<Attempt> {
  if (inFlight.has(item.id)) return { kind: 'retry' };
  inFlight.add(item.id);
  try {
    return await send(item);
  } finally {
    inFlight.delete(item.id);
  }
}

async function send(item: OutboxItem): Promise<Attempt> {
  const bearer = token?.();
  if (!bearer) return { kind: 'retry' };
  let response: Response;
  try {
    response = await fetch(item.path, {
      method: item.method,
      headers: {
        authorization: `Bearer ${bearer}`,
        'content-type': 'application/json',
        'idempotency-key': item.idempotencyKey,
      },
      body: JSON.stringify(item.body),
    });
  } catch {
    return { kind: 'retry' };
  }
  const body: unknown = await response.json().catch(() => null);
  if (response.ok) return { kind: 'sent', status: response.status, data: body };
  // Not this item's fault: offline proxy, signed out, rate limit, the database restarting.
  if (response.status === 401 || response.status === 429 || response.status >= 500) {
    return { kind: 'retry' };
  }
  const problem: Problem = isProblem(body)
    ? body
    : {
        type: 'about:blank',
        title: response.statusText,
        status: response.status,
        detail: '',
        instance: item.path,
        requestId: '',
      };
  // The same key still being worked on by the service (an earlier attempt): ask again later.
  if (problem.type.endsWith(':idempotency-in-progress')) return { kind: 'retry' };
  // A step already in the wanted state: the change was made (by this device or a colleague).
  if (item.kind === 'step' && problem.type.endsWith(':step-unchanged')) {
    return { kind: 'sent', status: 200, data: null };
  }
  return { kind: 'refused', problem, conflict: response.status === 409 };
}

/** Submits waiting behind older items, by local id: flush leaves their answer here. */
const awaited = new Map<string, unknown>();

let flushing: Promise<void> | undefined;

/** Sends what waits, oldest first; stops at the first item that cannot be sent now. */
export function flush(): Promise<void> {
  flushing ??= (async () => {
    try {
      // Passes until nothing waits or something cannot be sent now: a change queued while a
      // pass runs is sent by the next pass, not left for the 20 s timer.
      for (;;) {
        const waiting = (await mine()).filter((i) => i.state === 'waiting' && !inFlight.has(i.id));
        if (waiting.length === 0) return;
        for (const item of waiting) {
          const result = await attempt(item);
          if (result.kind === 'retry') {
            await outboxPut({ ...item, attempts: item.attempts + 1 });
            return;
          }
          if (result.kind === 'sent') {
            await outboxDelete(item.id);
            if (awaited.has(item.id)) awaited.set(item.id, result.data);
            sentListener?.(item, result.data);
          } else {
            await outboxPut({
              ...item,
              state: result.conflict ? 'conflict' : 'rejected',
              problem: result.problem,
              attempts: item.attempts + 1,
            });
          }
        }
      }
    } finally {
      flushing = undefined;
      await publish();
    }
  })();
  return flushing;
}

/**
 * Queues a change and tries to send it at once. `sent`: the service answered 2xx (with its
 * data); `queued`: no connection (or the service is unavailable), it will be sent later;
 * `refused`: the service refused it (kept in the outbox with its problem).
 */
export async function submit(
  change: Omit<OutboxItem, 'id' | 'createdAt' | 'idempotencyKey' | 'state' | 'attempts' | 'owner'>,
): Promise<SendResult> {
  const item: OutboxItem = {
    ...change,
    owner: owner?.() ?? '',
    id: localId(),
    createdAt: new Date().toISOString(),
    idempotencyKey: crypto.randomUUID(),
    state: 'waiting',
    attempts: 0,
  };
  await outboxPut(item);
  await publish();
  // Older items go first: a queued assessment is sent before a step change made after it.
  if (current.some((i) => i.state === 'waiting' && i.id < item.id)) {
    awaited.set(item.id, undefined);
    await flush();
    const data = awaited.get(item.id);
    awaited.delete(item.id);
    const still = current.find((i) => i.id === item.id);
    if (!still) return { kind: 'sent', status: 200, data };
    return still.state === 'waiting' ? { kind: 'queued' } : { kind: 'refused', item: still };
  }
  const result = await attempt(item);
  if (result.kind === 'retry') {
    await outboxPut({ ...item, attempts: 1 });
    await publish();
    return { kind: 'queued' };
  }
  if (result.kind === 'sent') {
    await outboxDelete(item.id);
    await publish();
    return { kind: 'sent', status: result.status, data: result.data };
  }
  const refused: OutboxItem = {
    ...item,
    state: result.conflict ? 'conflict' : 'rejected',
    problem: result.problem,
    attempts: 1,
  };
  // A refusal made while the user waits is shown on the form; it does not stay in the outbox.
  await outboxDelete(item.id);
  await publish();
  return { kind: 'refused', item: refused };
}

/** Drops a refused item once the user has seen it (or gives up a waiting one). */
export async function discard(id: string): Promise<void> {
  await outboxDelete(id);
  await publish();
}
