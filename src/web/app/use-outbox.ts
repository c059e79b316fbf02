import { useEffect, useState } from 'preact/hooks';
import { subscribe } from './outbox.js';
import type { OutboxItem } from './storage.js';

/** The outbox's items, kept current. */
export function useOutbox(): OutboxItem[] {
  const [items, setItems] = useState<OutboxItem[]>([]);
  useEffect(() => subscribe(setItems), []);
  return items;
}
