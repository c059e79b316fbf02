import { randomUUID } from 'node:crypto';

/**
 * The write load of the failure tests (database restarts, failovers) and of `npm run chaos`,
 * and the tenant it writes to. Plain fetch and plain errors (no vitest), so bench/chaos can use
 * it outside a test run.
 */

/** One submission of the load: its Idempotency-Key, and the assessment id once a 201 came. */
export interface Outcome {
  key: string;
  /** The assessment id of a 2xx answer; undefined when no 2xx was ever received. */
  id?: string;
  /** When the 201 was received (Date.now()). */
  ackedAt?: number;
}

/** The tenant the load writes to, as seedTenant makes it. */
export interface Tenant {
  municipalityId: string;
  /** A municipality_admin key of the tenant. */
  token: string;
  unitId: string;
  rulerVersionId: string;
  childIds: string[];
  /** The screening round, when asked for (the load's submissions are outside it). */
  roundId?: string;
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

/** One API request with a bearer token. */
export function call(
  base: string,
  token: string,
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
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

/** POSTs `body` and returns the response's JSON; anything but a 201 throws. */
export async function created<T = { id: string }>(
  base: string,
  token: string,
  url: string,
  body: unknown,
): Promise<T> {
  const res = await call(base, token, 'POST', url, body);
  const text = await res.text();
  if (res.status !== 201) throw new Error(`POST ${url}: expected 201, got ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/**
 * A tenant for the load, through the API of the service at `base` with a platform admin key:
 * a municipality, its administrator key, a kindergarten, `children` children enrolled in it
 * (external refs `<refPrefix>-<n>`) and, when asked, an open screening round of topi-3.
 */
export async function seedTenant(
  base: string,
  platformToken: string,
  options: { code: string; name: string; children: number; refPrefix: string; round?: boolean },
): Promise<Tenant> {
  const municipality = await created(base, platformToken, '/v1/municipalities', {
    code: options.code,
    name: options.name,
  });
  const token: string = (
    await created<{ token: string }>(
      base,
      platformToken,
      `/v1/municipalities/${municipality.id}/api-keys`,
      {
        name: 'admin',
        role: 'municipality_admin',
        unitIds: [],
      },
    )
  ).token;
  const unitId: string = (
    await created(base, token, '/v1/units', { name: 'Børnehuset', kind: 'kindergarten' })
  ).id;
  const rulers = (await (await call(base, token, 'GET', '/v1/rulers')).json()) as {
    items: { key: string; latestVersion: { id: string } }[];
  };
  const rulerVersionId = rulers.items.find((r) => r.key === 'topi-3')?.latestVersion.id ?? '';
  if (!rulerVersionId) throw new Error('no topi-3 ruler');
  const childIds: string[] = [];
  for (let i = 0; i < options.children; i++) {
    const child = await created(base, token, '/v1/children', {
      externalRef: `${options.refPrefix}-${i}`,
      birthDate: '2021-05-10',
      enrolment: { unitId, startDate: '2024-08-01' },
    });
    childIds.push(child.id);
  }
  const tenant: Tenant = {
    municipalityId: municipality.id,
    token,
    unitId,
    rulerVersionId,
    childIds,
  };
  if (options.round) {
    const year = new Date().getUTCFullYear();
    tenant.roundId = (
      await created(base, token, '/v1/rounds', {
        name: `Screening ${year}`,
        windowStart: `${year}-01-01`,
        windowEnd: `${year}-12-31`,
        rulerVersionId,
      })
    ).id;
  }
  return tenant;
}

/**
 * A write load of assessment submissions against a service process, as the failure tests use
 * it (database restarts, failovers): `clients` loops each submit one assessment at a time, and a
 * submission is retried with its Idempotency-Key on 503, on a refused connection (status 0) and
 * on 409 (its first try still running), as a well-behaved client does, at most `attempts` times.
 * Every status is counted (and passed to `observe`, with the time); a 503 that is not
 * problem+json with Retry-After is recorded in `badProblems`.
 */
export function writeLoad(
  target: () => LoadTarget,
  options: { clients: number; attempts: number; observe?: (status: number, at: number) => void },
) {
  const statuses = new Map<number, number>();
  const badProblems: string[] = [];
  const count = (status: number) => {
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    options.observe?.(status, Date.now());
  };

  function api(method: string, url: string, body?: unknown, headers = {}) {
    const { base, token } = target();
    return call(base, token, method, url, body, headers);
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
        count(0);
        await sleep(200);
        continue;
      }
      count(res.status);
      const json = (await res.json()) as { id?: string };
      if (res.status === 201) return { key, id: json.id, ackedAt: Date.now() };
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

  return { api, submit, load, statuses, badProblems };
}
