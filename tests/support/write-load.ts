import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';

/** One submission of the load: its Idempotency-Key, and the assessment id once a 201 came. */
export interface Outcome {
  key: string;
  /** The assessment id of a 2xx answer; undefined when no 2xx was ever received. */
  id?: string;
}

/** Where the load goes (read at each request: the server may be started after this is made). */
export interface LoadTarget {
  base: string;
  token: string;
  unitId: string;
  rulerVersionId: string;
  childIds: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A write load of assessment submissions against a service process, as the failure tests use
 * it (database restarts, failovers): `clients` loops each submit one assessment at a time, and a
 * submission is retried with its Idempotency-Key on 503 (and 409, its first try still running),
 * as a well-behaved client does, at most `attempts` times. Every status is counted; a 503 that is
 * not problem+json with Retry-After is recorded in `badProblems`.
 */
export function writeLoad(
  target: () => LoadTarget,
  options: { clients: number; attempts: number },
) {
  const statuses = new Map<number, number>();
  const badProblems: string[] = [];

  async function api(method: string, url: string, body?: unknown, headers = {}) {
    const { base, token } = target();
    return fetch(`${base}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  }

  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions
  async function created(url: string, body: unknown): Promise<any> {
    const res = await api('POST', url, body);
    const json = await res.json();
    expect(res.status, JSON.stringify(json)).toBe(201);
    return json;
  }

  async function submit(n: number): Promise<Outcome> {
    const { unitId, rulerVersionId, childIds } = target();
    const key = randomUUID();
    const body = {
      childId: childIds[n % childIds.length],
      unitId,
      rulerVersionId,
      assessedOn: '2026-11-20',
      raters: [
        { name: 'Anna Pædagog', role: 'unit_staff' },
        { name: 'Bo Leder', role: 'unit_leader' },
      ],
      rating: { overallLevel: 1 + (n % 3) },
      parentsInformed: false,
      justification: `load ${key}`,
    };
    for (let attempt = 0; attempt < options.attempts; attempt++) {
      let res: Response;
      try {
        res = await api('POST', '/v1/assessments', body, { 'idempotency-key': key });
      } catch {
        // The service itself must stay up: a refused connection is counted as status 0.
        statuses.set(0, (statuses.get(0) ?? 0) + 1);
        await sleep(200);
        continue;
      }
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const json = (await res.json()) as { id?: string };
      if (res.status === 201) return { key, id: json.id };
      if (res.status === 503) {
        const type = res.headers.get('content-type') ?? '';
        if (!type.startsWith('application/problem+json') || !res.headers.get('retry-after')) {
          badProblems.push(`${type} retry-after=${res.headers.get('retry-after')}`);
        }
      }
      // Anything but 503 (and 409: the first try still running) is final for this key.
      if (res.status !== 503 && res.status !== 409) return { key };
      await sleep(res.status === 503 ? 250 : 100);
    }
    return { key };
  }

  /** `clients` loops submitting until `stop()` is called, which resolves with every outcome. */
  function load() {
    let running = true;
    let counter = 0;
    const outcomes: Outcome[] = [];
    let lastSuccess = 0;
    const clients = Array.from({ length: options.clients }, async () => {
      while (running) {
        const outcome = await submit(counter++);
        outcomes.push(outcome);
        if (outcome.id) lastSuccess = Date.now();
      }
    });
    return {
      lastSuccess: () => lastSuccess,
      stop: async () => {
        running = false;
        await Promise.all(clients);
        return outcomes;
      },
    };
  }

  return { api, created, submit, load, statuses, badProblems };
}
