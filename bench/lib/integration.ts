import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { promisify } from 'node:util';
import { CompiledQuery, type Kysely } from 'kysely';
import type { DB } from '../../src/db/schema.js';
import { createRng } from '../../src/demo/random.js';
import { checkWrites, type WriteCheck } from './integrity.js';
import type { ServiceProcess } from './service.js';

import type { Tenant } from './setup.js';
import { type Enrolled, submission, submissionSubject } from './workload.js';

const run = promisify(execFile);

/** Bulk against single submissions of the same kind of assessments at the same concurrency. */
export interface BulkCase {
  items: number;
  concurrency: number;
  batch: number;
  single: { seconds: number; itemsPerSecond: number; writes: WriteCheck };
  /** The same one by one without Idempotency-Keys (fewer guarantees): for reference. */
  singleWithoutKeys: { seconds: number; itemsPerSecond: number } | null;
  bulk: { seconds: number; itemsPerSecond: number; requests: number; writes: WriteCheck };
  ratio: number;
}

/** The roster import against COPY of the same rows into the same tables. */
export interface ImportCase {
  rows: number;
  fileBytes: number;
  import: {
    /** POST to the job's success, end to end. */
    seconds: number;
    rowsPerSecond: number;
    /** The upload alone (POST until 202). */
    uploadSeconds: number;
    counts: Record<string, number>;
    /**
     * The service's RSS: before the upload, its peak, after; and the peaks of the job's first and
     * second half (flat: the second half needs no more than the first, whatever the file size).
     */
    rssKiB: {
      before: number;
      peak: number;
      after: number;
      samples: number;
      firstHalfPeak: number;
      secondHalfPeak: number;
    };
  };
  copy: { seconds: number; rowsPerSecond: number; children: number; enrolments: number };
  ratio: number;
}

export interface IntegrationResults {
  bulk: BulkCase;
  import: ImportCase;
}

interface Context {
  service: ServiceProcess;
  owner: Kysely<DB>;
  tenant: Tenant;
  children: readonly Enrolled[];
  seed: number;
  work: string;
  psql: string;
  /** The database owner's URL: COPY runs as the owner (the service's role needs a key's scope). */
  ownerUrl: string;
  log: (message: string) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `jobs` with `concurrency` workers; answers the seconds it took. */
async function pool<T>(
  jobs: readonly T[],
  concurrency: number,
  work: (job: T) => Promise<void>,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < jobs.length; i = next++) await work(jobs[i] as T);
    }),
  );
  return (performance.now() - started) / 1000;
}

/**
 * `items` assessments sent one by one (POST /v1/assessments) and as many sent in bulk requests
 * of `batch` (POST /v1/assessments/bulk), both with `concurrency` requests in flight. The two
 * runs use the same sequence of subjects (levels, dates) over disjoint children, so they do the
 * same work; each is checked for what it wrote (an assessment, a recommendation, its event and
 * audit entries per acknowledged item).
 */
export async function measureBulk(
  ctx: Context,
  options: { items: number; batch: number; concurrency: number; warmup: number },
): Promise<BulkCase> {
  const { items, batch, concurrency, warmup } = options;
  const need = 2 * (items + warmup);
  if (ctx.children.length < need) {
    throw new Error(`bulk case: ${need} enrolled children needed, ${ctx.children.length} exist`);
  }
  // Children at the end of the list: the submission section uses it from the start.
  const pool1 = ctx.children.slice(-need, -need + items + warmup);
  const pool2 = ctx.children.slice(-(items + warmup));
  const headers = {
    authorization: `Bearer ${ctx.tenant.submitter.token}`,
    'content-type': 'application/json',
  };
  const subjects = (children: readonly Enrolled[], from: number, count: number) =>
    Array.from({ length: count }, (_, i) =>
      // n indexes the subject sequence; the child is the i-th of this run's own children.
      ({ ...submissionSubject(children, ctx.tenant.today, ctx.seed, from + i) }),
    );

  const single = async (
    prefix: string,
    list: ReturnType<typeof subjects>,
    keyed = true,
    offset = 0,
  ) => {
    const acknowledged = new Set<string>();
    const since = new Date(Date.now() - 5000);
    const seconds = await pool(
      list.map((s, i) => ({ s, tag: `${prefix}${offset + i}` })),
      concurrency,
      async ({ s, tag }) => {
        // Each with its Idempotency-Key, as each bulk item has its key: the same guarantees.
        const res = await fetch(`${ctx.service.baseUrl}/v1/assessments`, {
          method: 'POST',
          headers: keyed ? { ...headers, 'idempotency-key': tag } : headers,
          body: JSON.stringify(submission(ctx.tenant, s, tag)),
        });
        if (res.status !== 201) throw new Error(`single: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
        acknowledged.add(tag);
      },
    );
    return { seconds, acknowledged, since };
  };
  const bulk = async (prefix: string, list: ReturnType<typeof subjects>, offset = 0) => {
    const acknowledged = new Set<string>();
    const since = new Date(Date.now() - 5000);
    const batches: { s: (typeof list)[number]; tag: string }[][] = [];
    for (let at = 0; at < list.length; at += batch) {
      batches.push(
        list.slice(at, at + batch).map((s, i) => ({ s, tag: `${prefix}${offset + at + i}` })),
      );
    }
    const seconds = await pool(batches, concurrency, async (group) => {
      const res = await fetch(`${ctx.service.baseUrl}/v1/assessments/bulk`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          items: group.map(({ s, tag }) => ({ key: tag, ...submission(ctx.tenant, s, tag) })),
        }),
      });
      const answer = (await res.json()) as { items?: { outcome: string }[] };
      if (res.status !== 200) throw new Error(`bulk: ${res.status} ${JSON.stringify(answer)}`);
      for (const [i, item] of (answer.items ?? []).entries()) {
        if (item.outcome !== 'created') {
          throw new Error(`bulk item: ${JSON.stringify(item).slice(0, 300)}`);
        }
        acknowledged.add(group[i]?.tag as string);
      }
    });
    return { seconds, acknowledged, since, requests: batches.length };
  };

  const stamp = Date.now().toString(36);
  ctx.log(`  warm-up: ${warmup} single and ${warmup} in bulk`);
  await single(`bs-w${stamp}-`, subjects(pool1.slice(items), 0, warmup));
  await bulk(`bb-w${stamp}-`, subjects(pool2.slice(items), 0, warmup));
  const check = async (prefix: string, r: { since: Date; acknowledged: Set<string> }) => {
    const writes = await checkWrites(ctx.owner, {
      municipalityId: ctx.tenant.municipalityId,
      prefix,
      since: r.since,
      acknowledged: r.acknowledged,
      connections: concurrency,
    });
    if (!writes.ok) throw new Error(`${prefix}: ${writes.problems.join('; ')}`);
    return writes;
  };
  // In rounds, the kinds taking turns: a drift of the machine (autovacuum after the seeding, a
  // neighbour) falls on all of them alike rather than on whichever ran first.
  const third = ctx.children.slice(-(need + items), -need);
  const withUnkeyed = third.length === items;
  const rounds = 3;
  const per = Math.ceil(items / rounds);
  const s = { seconds: 0, acknowledged: new Set<string>(), since: new Date(Date.now() - 5000) };
  const b = { ...s, acknowledged: new Set<string>(), requests: 0 };
  const u = { seconds: 0 };
  ctx.log(
    `  ${items} assessments one by one with keys, in bulk requests of ${batch}` +
      `${withUnkeyed ? ', one by one without keys' : ''}; c=${concurrency}, ${rounds} rounds`,
  );
  for (let r = 0; r < rounds; r++) {
    const from = r * per;
    const count = Math.min(per, items - from);
    const one = await single(
      `bs-${stamp}-`,
      subjects(pool1.slice(from, from + count), 1000 + from, count),
      true,
      from,
    );
    s.seconds += one.seconds;
    for (const tag of one.acknowledged) s.acknowledged.add(tag);
    const many = await bulk(
      `bb-${stamp}-`,
      subjects(pool2.slice(from, from + count), 1000 + from, count),
      from,
    );
    b.seconds += many.seconds;
    b.requests += many.requests;
    for (const tag of many.acknowledged) b.acknowledged.add(tag);
    if (withUnkeyed) {
      const plain = await single(
        `bu-${stamp}-`,
        subjects(third.slice(from, from + count), 1000 + from, count),
        false,
        from,
      );
      u.seconds += plain.seconds;
    }
  }
  const unkeyed: BulkCase['singleWithoutKeys'] = withUnkeyed
    ? { seconds: u.seconds, itemsPerSecond: items / u.seconds }
    : null;
  ctx.log(
    `  one by one ${(items / s.seconds).toFixed(1)} items/s, bulk ${(items / b.seconds).toFixed(1)}` +
      `${unkeyed ? `, without keys ${unkeyed.itemsPerSecond.toFixed(1)}` : ''}`,
  );
  const singleWrites = await check(`bs-${stamp}-`, s);
  const bulkWrites = await check(`bb-${stamp}-`, b);
  for (const key of ['written', 'recommendations', 'events', 'audited'] as const) {
    if (singleWrites[key] !== bulkWrites[key]) {
      throw new Error(
        `bulk and single wrote different ${key}: ${bulkWrites[key]} and ${singleWrites[key]}`,
      );
    }
  }
  return {
    items,
    concurrency,
    batch,
    single: { seconds: s.seconds, itemsPerSecond: items / s.seconds, writes: singleWrites },
    singleWithoutKeys: unkeyed,
    bulk: {
      seconds: b.seconds,
      itemsPerSecond: items / b.seconds,
      requests: b.requests,
      writes: bulkWrites,
    },
    ratio: s.seconds / b.seconds,
  };
}

/** Writes `rows` roster rows (CSV) for the import, and the same children for COPY. */
async function rosterFiles(
  ctx: Context,
  rows: number,
  units: readonly { id: string; ref: string }[],
): Promise<{ roster: string; children: string; enrolments: string }> {
  const roster = path.join(ctx.work, 'roster.csv');
  const children = path.join(ctx.work, 'copy-children.csv');
  const enrolments = path.join(ctx.work, 'copy-enrolments.csv');
  const rng = createRng(ctx.seed).fork('roster');
  const names = ['Ida', 'Bo', 'Eva', 'Noah', 'Alma', 'Oscar', 'Freja', 'Karl', 'Ella', 'Aksel'];
  const families = ['Hansen', 'Nielsen', 'Jensen', 'Pedersen', 'Larsen', 'Holm', 'Lund'];
  const out = [roster, children, enrolments].map((file) => createWriteStream(file));
  const [r, c, e] = out as [
    ReturnType<typeof createWriteStream>,
    ReturnType<typeof createWriteStream>,
    ReturnType<typeof createWriteStream>,
  ];
  r.write('externalRef,givenName,familyName,birthDate,sex,cpr,unitExternalRef,startDate,endDate\n');
  const m = ctx.tenant.municipalityId;
  for (let i = 0; i < rows; i++) {
    const given = names[Math.floor(rng.next() * names.length)] as string;
    const family = families[Math.floor(rng.next() * families.length)] as string;
    const year = 2019 + Math.floor(rng.next() * 5);
    const birth = `${year}-${String(1 + Math.floor(rng.next() * 12)).padStart(2, '0')}-${String(
      1 + Math.floor(rng.next() * 28),
    ).padStart(2, '0')}`;
    const unit = units[i % units.length] as { id: string; ref: string };
    const start = `${year + 1}-08-01`;
    if (!r.write(`roster-i-${i},${given},${family},${birth},,,${unit.ref},${start},\n`)) {
      await new Promise<void>((resolve) => r.once('drain', () => resolve()));
    }
    const child = randomUUID();
    c.write(`${child},${m},roster-c-${i},${given},${family},${birth}\n`);
    if (!e.write(`${randomUUID()},${m},${child},${unit.id},${start}\n`)) {
      await new Promise<void>((resolve) => e.once('drain', () => resolve()));
    }
  }
  for (const s of out) s.end();
  await Promise.all(out.map((s) => finished(s)));
  return { roster, children, enrolments };
}

/**
 * The roster import of `rows` rows (a new child and its enrolment each) through the service,
 * end to end (streamed upload, the job processed by the service's import worker), the
 * service's memory sampled throughout; then the same rows loaded with COPY (psql \copy, one
 * transaction, as the database owner) into the same tables of the same municipality under
 * other external refs: the same triggers, indexes and constraints, none of the import's checks.
 */
export async function measureImport(ctx: Context, options: { rows: number }): Promise<ImportCase> {
  const { rows } = options;
  const { rows: unitRows } = await ctx.owner.executeQuery<{ id: string; external_ref: string }>(
    CompiledQuery.raw(
      `SELECT id, external_ref FROM units WHERE municipality_id = $1
       AND external_ref LIKE 'bench-u-%' ORDER BY external_ref LIMIT 20`,
      [ctx.tenant.municipalityId],
    ),
  );
  const units = unitRows.map((u) => ({ id: u.id, ref: u.external_ref }));
  ctx.log(`  writing ${rows} roster rows (CSV) and the same for COPY`);
  const files = await rosterFiles(ctx, rows, units);
  const fileBytes = (await stat(files.roster)).size;

  const rss = {
    before: ctx.service.rssKiB(),
    peak: 0,
    after: 0,
    samples: 0,
    firstHalfPeak: 0,
    secondHalfPeak: 0,
  };
  const samples: { at: number; kib: number }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push({ at: performance.now(), kib: ctx.service.rssKiB() });
      await sleep(100);
    }
  })();
  ctx.log(`  import: POST /v1/imports with ${(fileBytes / 2 ** 20).toFixed(1)} MiB`);
  const started = performance.now();
  const res = await fetch(`${ctx.service.baseUrl}/v1/imports`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${ctx.tenant.admin.token}`,
      'content-type': 'text/csv',
      'content-length': String(fileBytes),
    },
    body: Readable.toWeb(createReadStream(files.roster)) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  const uploadSeconds = (performance.now() - started) / 1000;
  if (res.status !== 202) throw new Error(`import: ${res.status} ${await res.text()}`);
  const job = (await res.json()) as { id: string };
  let current: { status: string; counts: Record<string, number> } | undefined;
  for (let i = 0; i < 6000; i++) {
    const got = await fetch(`${ctx.service.baseUrl}/v1/imports/${job.id}`, {
      headers: { authorization: `Bearer ${ctx.tenant.admin.token}` },
    });
    current = (await got.json()) as typeof current;
    if (current?.status === 'succeeded' || current?.status === 'failed') break;
    await sleep(100);
  }
  const seconds = (performance.now() - started) / 1000;
  sampling = false;
  await sampler;
  rss.after = ctx.service.rssKiB();
  const middle = started + (performance.now() - started) / 2;
  for (const sample of samples) {
    rss.peak = Math.max(rss.peak, sample.kib);
    if (sample.at < middle) rss.firstHalfPeak = Math.max(rss.firstHalfPeak, sample.kib);
    else rss.secondHalfPeak = Math.max(rss.secondHalfPeak, sample.kib);
  }
  rss.samples = samples.length;
  if (current?.status !== 'succeeded' || current.counts.created !== rows) {
    throw new Error(`import: ${JSON.stringify(current)}`);
  }
  ctx.log(`  ${(rows / seconds).toFixed(0)} rows/s (upload ${uploadSeconds.toFixed(1)} s)`);

  ctx.log('  COPY of the same rows (psql \\copy, one transaction)');
  const copyStarted = performance.now();
  await run(ctx.psql, [
    ctx.ownerUrl,
    '-v',
    'ON_ERROR_STOP=1',
    '-1',
    '-c',
    `\\copy children (id, municipality_id, external_ref, given_name, family_name, birth_date) FROM '${files.children}' WITH (FORMAT csv)`,
    '-c',
    `\\copy enrolments (id, municipality_id, child_id, unit_id, start_date) FROM '${files.enrolments}' WITH (FORMAT csv)`,
  ]);
  const copySeconds = (performance.now() - copyStarted) / 1000;
  const count = async (table: string, like: string) => {
    const { rows: r } = await ctx.owner.executeQuery<{ n: string }>(
      CompiledQuery.raw(
        table === 'children'
          ? `SELECT count(*)::text AS n FROM children WHERE municipality_id = $1 AND external_ref LIKE $2`
          : `SELECT count(*)::text AS n FROM enrolments e JOIN children c ON c.id = e.child_id
             WHERE e.municipality_id = $1 AND c.external_ref LIKE $2`,
        [ctx.tenant.municipalityId, like],
      ),
    );
    return Number(r[0]?.n ?? 0);
  };
  const copied = { children: await count('children', 'roster-c-%'), enrolments: 0 };
  copied.enrolments = await count('enrolments', 'roster-c-%');
  const imported = await count('enrolments', 'roster-i-%');
  if (copied.children !== rows || copied.enrolments !== rows || imported !== rows) {
    throw new Error(
      `rows: COPY ${copied.children} children and ${copied.enrolments} enrolments, import ${imported} enrolments; ${rows} expected`,
    );
  }
  ctx.log(`  ${(rows / copySeconds).toFixed(0)} rows/s`);
  return {
    rows,
    fileBytes,
    import: {
      seconds,
      rowsPerSecond: rows / seconds,
      uploadSeconds,
      counts: current.counts,
      rssKiB: rss,
    },
    copy: { seconds: copySeconds, rowsPerSecond: rows / copySeconds, ...copied },
    ratio: copySeconds / seconds,
  };
}
