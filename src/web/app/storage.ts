/**
 * What the app keeps in the browser (IndexedDB, via idb): the last answers it read (so the
 * open round works without a connection) and the outbox of changes made offline. All of it
 * belongs to the signed-in user and is deleted on sign-out (clearAll).
 */
import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import type { Problem } from '../../../clients/typescript/index.js';

export type OutboxKind = 'assessment' | 'step';

export interface OutboxItem {
  /** Local id, also the order of sending (time-ordered). */
  id: string;
  createdAt: string;
  kind: OutboxKind;
  method: 'POST' | 'PATCH';
  path: string;
  body: unknown;
  /** Sent with every attempt: a replay after a lost answer never records twice. */
  idempotencyKey: string;
  /** What the UI shows for the item (e.g. the child's name). */
  label: string;
  childId: string;
  /** Who made the change (the principal's id): only they send it, under their own sign-in. */
  owner: string;
  /** waiting: to send; conflict: the service refused it because of a newer change; rejected: other 4xx. */
  state: 'waiting' | 'conflict' | 'rejected';
  problem?: Problem;
  attempts: number;
}

interface AppDb extends DBSchema {
  cache: { key: string; value: { key: string; data: unknown; storedAt: string } };
  outbox: { key: string; value: OutboxItem };
}

const DB_NAME = 'lineal-app';
let opened: Promise<IDBPDatabase<AppDb>> | undefined;

function db(): Promise<IDBPDatabase<AppDb>> {
  opened ??= openDB<AppDb>(DB_NAME, 1, {
    upgrade(database) {
      database.createObjectStore('cache', { keyPath: 'key' });
      database.createObjectStore('outbox', { keyPath: 'id' });
    },
  });
  return opened;
}

export async function cacheGet<T>(key: string): Promise<{ data: T; storedAt: string } | undefined> {
  const entry = await (await db()).get('cache', key);
  return entry ? { data: entry.data as T, storedAt: entry.storedAt } : undefined;
}

export async function cachePut(key: string, data: unknown): Promise<void> {
  await (await db()).put('cache', { key, data, storedAt: new Date().toISOString() });
}

/** Forgets every stored answer (not the outbox): another user signed in on this device. */
export async function cacheClear(): Promise<void> {
  await (await db()).clear('cache');
}

export async function outboxAll(): Promise<OutboxItem[]> {
  return (await db()).getAll('outbox');
}

export async function outboxPut(item: OutboxItem): Promise<void> {
  await (await db()).put('outbox', item);
}

export async function outboxDelete(id: string): Promise<void> {
  await (await db()).delete('outbox', id);
}

/**
 * Sign-out: the database with every store. The service worker's cache holds the app's code
 * only (never an API answer) and stays, so the app still opens offline for the next user.
 */
export async function clearAll(): Promise<void> {
  if (opened) {
    (await opened).close();
    opened = undefined;
  }
  await new Promise<void>((resolve) => {
    const request = indexedDB.deleteDatabase(DB_NAME);
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
  if ('caches' in self) {
    for (const name of await caches.keys()) {
      if (!name.startsWith('lineal-app-')) await caches.delete(name);
    }
  }
}
