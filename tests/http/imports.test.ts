import { Readable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { Child } from '../../src/features/children/schemas.js';
import type { Enrolment } from '../../src/features/enrolments/schemas.js';
import type { ImportJob } from '../../src/features/imports/schemas.js';
import { type ImportWorkerOptions, processImports } from '../../src/jobs/imports.js';
import { describeEngines, TEST_CPR_SECRET } from '../support/engines.js';
import { createChild, createKey, createTenant, createUnit } from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

const HEADER =
  'externalRef,givenName,familyName,birthDate,sex,cpr,unitExternalRef,startDate,endDate';

let refSerial = 0;
/** A prefix of external refs unique in this file (a municipality's refs are its own anyway). */
const nextPrefix = () => `imp${++refSerial}`;

describeEngines('roster imports', (t) => {
  const upload = (
    token: string,
    payload: string | Readable,
    options: { type?: string; query?: string } = {},
  ) =>
    t.app.inject({
      method: 'POST',
      url: `/v1/imports${options.query ?? ''}`,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': options.type ?? 'text/csv',
      },
      payload,
    });
  const accepted = (res: LightMyRequestResponse): ImportJob => {
    expect(res.statusCode, res.body).toBe(202);
    const job = res.json() as ImportJob;
    expect(res.headers.location).toBe(`/v1/imports/${job.id}`);
    return job;
  };
  const work = (options: Partial<ImportWorkerOptions> = {}) =>
    processImports(t.database, {
      cprSecret: TEST_CPR_SECRET,
      workerId: 'test-worker',
      now: t.clock.now,
      ...options,
    });
  const getJob = async (token: string, id: string): Promise<ImportJob> => {
    const res = await t.call('GET', `/v1/imports/${id}`, { token });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  /** Uploads, runs the workers, and answers the finished job. */
  const run = async (
    token: string,
    payload: string,
    options: { type?: string; query?: string; chunkSize?: number } = {},
  ) => {
    const job = accepted(await upload(token, payload, options));
    expect(job.status).toBe('queued');
    expect(await work(options.chunkSize ? { chunkSize: options.chunkSize } : {})).toContain(job.id);
    return getJob(token, job.id);
  };
  const rowErrors = async (token: string, id: string) => {
    const all: { row: number; field: string; message: string }[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.call(
        'GET',
        `/v1/imports/${id}/errors?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { token },
      );
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json() as { items: typeof all; nextCursor: string | null };
      all.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return all;
  };
  const children = async (token: string, prefix: string): Promise<Child[]> => {
    const res = await t.call('GET', `/v1/children?limit=200&q=${prefix}-`, { token });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().items;
  };
  const enrolmentsOf = async (token: string, childId: string): Promise<Enrolment[]> => {
    const res = await t.call('GET', `/v1/children/${childId}/enrolments`, { token });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().items;
  };
  const auditCount = (jobId: string, resource: string, action: string) =>
    t.asOwner(async (db) => {
      const { rows } = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM audit_log
        WHERE criteria->>'importId' = ${jobId} AND resource_type = ${resource}
          AND action = ${action}
      `.execute(db);
      return rows[0]?.n;
    });
  const counts = (
    read: number,
    created: number,
    updated: number,
    unchanged: number,
    rejected: number,
    ended = 0,
  ) => ({ read, created, updated, unchanged, rejected, ended });

  it('imports a CSV file: exact counts, exact row errors, children and enrolments made', async () => {
    const { admin } = await createTenant(t);
    const unit = await createUnit(t, admin.token, { externalRef: 'inst-A' });
    const p = nextPrefix();
    const csv = [
      HEADER,
      `${p}-1,Ida,Holm,2021-05-10,female,100521-4001,inst-A,2024-08-01,`,
      `${p}-2,Bo,Lund,2020-01-15,male,,inst-A,2024-08-01,`,
      `${p}-3,,,2021-02-30,,,inst-A,2024-08-01,`,
      `${p}-4,,,2021-03-01,,,nowhere,2024-08-01,`,
      ',,,2021-03-01,,,inst-A,2024-08-01,',
      `${p}-6,,,2030-01-01,,,inst-A,2031-01-01,`,
      `${p}-7,,,2021-03-01,,020321-4002,inst-A,2020-01-01,`,
      `${p}-8,Eva,,2019-06-01,other,,inst-A,2023-08-01,2025-07-31`,
      '',
    ].join('\r\n');
    const job = await run(admin.token, csv);
    expect(job).toMatchObject({
      status: 'succeeded',
      format: 'csv',
      mode: 'upsert',
      dryRun: false,
      rowsTotal: 8,
      counts: counts(8, 3, 0, 0, 5),
      problem: null,
    });
    expect(job.finishedAt).not.toBeNull();
    expect((await rowErrors(admin.token, job.id)).map((e) => [e.row, e.field, e.message])).toEqual([
      [3, 'birthDate', 'must be a real calendar date as YYYY-MM-DD'],
      [4, 'unitExternalRef', 'no such unit in the municipality'],
      [5, 'externalRef', expect.any(String)],
      [6, 'birthDate', 'is in the future'],
      [7, 'cpr', 'its birth date does not match birthDate'],
      [7, 'startDate', 'is before the birth date'],
    ]);

    const made = await children(admin.token, p);
    expect(made.map((c) => c.externalRef).sort()).toEqual([`${p}-1`, `${p}-2`, `${p}-8`]);
    const ida = made.find((c) => c.externalRef === `${p}-1`);
    expect(ida).toMatchObject({
      givenName: 'Ida',
      familyName: 'Holm',
      birthDate: '2021-05-10',
      sex: 'female',
      hasCpr: true,
    });
    const eva = made.find((c) => c.externalRef === `${p}-8`) as Child;
    expect(
      (await enrolmentsOf(admin.token, eva.id)).map((e) => [e.unitId, e.startDate, e.endDate]),
    ).toEqual([[unit.id, '2023-08-01', '2025-07-31']]);
    // Audited like single writes: one entry per child and per enrolment made.
    expect(await auditCount(job.id, 'child', 'create')).toBe(3);
    expect(await auditCount(job.id, 'enrolment', 'create')).toBe(3);
    // The rows (names, CPR numbers) are gone once the job is done.
    const left = await t.asOwner(async (db) => {
      const { rows } = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM import_rows WHERE job_id = ${job.id}`.execute(db);
      return rows[0]?.n;
    });
    expect(left).toBe(0);

    // The same file again changes nothing.
    const again = await run(admin.token, csv);
    expect(again.counts).toEqual(counts(8, 0, 0, 3, 5));
    expect(await auditCount(again.id, 'child', 'create')).toBe(0);
    expect(await children(admin.token, p)).toHaveLength(3);

    // NDJSON: changes are updates; bad lines are row errors; the rest is applied.
    const ndjson = [
      JSON.stringify({
        externalRef: `${p}-1`,
        familyName: 'Holm-Berg',
        birthDate: '2021-05-10',
        unitExternalRef: 'inst-A',
        startDate: '2024-08-01',
      }),
      JSON.stringify({
        externalRef: `${p}-2`,
        birthDate: '2020-01-15',
        unitId: unit.id,
        startDate: '2024-08-01',
        endDate: '2026-07-31',
      }),
      '{not json',
      JSON.stringify({
        externalRef: `${p}-9`,
        birthDate: '2022-02-02',
        unitId: unit.id,
        startDate: '2025-08-01',
        nickname: 'x',
      }),
      JSON.stringify({
        externalRef: `${p}-8`,
        birthDate: '2019-06-01',
        unitExternalRef: 'inst-A',
        startDate: '2023-08-01',
        endDate: '2025-07-31',
      }),
    ].join('\n');
    const changed = await run(admin.token, ndjson, { type: 'application/x-ndjson' });
    expect(changed).toMatchObject({ format: 'ndjson', counts: counts(5, 0, 2, 1, 2) });
    expect(
      (await rowErrors(admin.token, changed.id)).map((e) => [e.row, e.field, e.message]),
    ).toEqual([
      [3, 'row', 'is not valid JSON'],
      [4, 'nickname', 'is not a known field'],
    ]);
    const after = await children(admin.token, p);
    expect(after.find((c) => c.externalRef === `${p}-1`)?.familyName).toBe('Holm-Berg');
    const bo = after.find((c) => c.externalRef === `${p}-2`) as Child;
    expect((await enrolmentsOf(admin.token, bo.id)).map((e) => e.endDate)).toEqual(['2026-07-31']);
    expect(await auditCount(changed.id, 'child', 'update')).toBe(1);
    expect(await auditCount(changed.id, 'enrolment', 'update')).toBe(1);
  });

  it('one child in several rows: school and after-school, a move, and an overlap refused', async () => {
    const { admin } = await createTenant(t);
    const kindergarten = await createUnit(t, admin.token, {
      externalRef: 'kg',
      kind: 'kindergarten',
    });
    const school = await createUnit(t, admin.token, { externalRef: 'sch', kind: 'school' });
    const sfo = await createUnit(t, admin.token, { externalRef: 'sfo', kind: 'after_school' });
    // A second school: a child is in one school at a time.
    await createUnit(t, admin.token, { externalRef: 'sch2', kind: 'school' });
    const p = nextPrefix();
    const csv = [
      HEADER,
      `${p}-1,Ida,,2020-05-10,,,kg,2023-08-01,2026-07-31`,
      `${p}-1,Ida,,2020-05-10,,,sch,2026-08-01,`,
      `${p}-1,Ida,,2020-05-10,,,sfo,2026-08-01,`,
      `${p}-1,Ida,,2020-05-10,,,sch2,2026-09-01,`,
    ].join('\n');
    const job = await run(admin.token, csv, {});
    expect(job.counts).toEqual(counts(4, 1, 2, 0, 1));
    expect((await rowErrors(admin.token, job.id)).map((e) => [e.row, e.field])).toEqual([
      [4, 'startDate'],
    ]);
    const [ida] = await children(admin.token, p);
    expect(
      (await enrolmentsOf(admin.token, (ida as Child).id)).map((e) => [
        e.unitId,
        e.startDate,
        e.endDate,
      ]),
    ).toEqual(
      // Enrolments starting the same day come in id order: compare as a set.
      expect.arrayContaining([
        [kindergarten.id, '2023-08-01', '2026-07-31'],
        [school.id, '2026-08-01', null],
        [sfo.id, '2026-08-01', null],
      ]),
    );
    expect(await enrolmentsOf(admin.token, (ida as Child).id)).toHaveLength(3);
    // Again: the three accepted rows are unchanged, the overlap is still refused.
    expect((await run(admin.token, csv)).counts).toEqual(counts(4, 0, 0, 3, 1));
  });

  it('a dry run reports the same counts and changes nothing', async () => {
    const { admin } = await createTenant(t);
    await createUnit(t, admin.token, { externalRef: 'inst-D' });
    const p = nextPrefix();
    await run(admin.token, [HEADER, `${p}-1,Ida,,2021-05-10,,,inst-D,2024-08-01,`].join('\n'));
    const csv = [
      HEADER,
      `${p}-1,Idun,,2021-05-10,,,inst-D,2024-08-01,`,
      `${p}-2,Bo,,2020-01-15,,,inst-D,2024-08-01,`,
      `${p}-3,,,2020-01-15,,,inst-X,2024-08-01,`,
    ].join('\n');
    const before = await t.asOwner(async (db) => {
      const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_log`.execute(
        db,
      );
      return rows[0]?.n ?? 0;
    });
    const dry = await run(admin.token, csv, { query: '?dryRun=true' });
    expect(dry).toMatchObject({ dryRun: true, status: 'succeeded', counts: counts(3, 1, 1, 0, 1) });
    const now = await children(admin.token, p);
    expect(now.map((c) => [c.externalRef, c.givenName])).toEqual([[`${p}-1`, 'Ida']]);
    // Only the upload's and the dry run's read entries were written, no change entries.
    expect(await auditCount(dry.id, 'child', 'create')).toBe(0);
    expect(await auditCount(dry.id, 'child', 'update')).toBe(0);
    expect(await auditCount(dry.id, 'child', 'read')).toBe(1);
    const total = await t.asOwner(async (db) => {
      const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_log`.execute(
        db,
      );
      return rows[0]?.n ?? 0;
    });
    // The POST's entry, the dry run's read, the GET of the job and the search in `children`
    // above: no changes.
    expect(total - before).toBe(4);
    // The real run then does what the dry run said.
    const real = await run(admin.token, csv);
    expect(real.counts).toEqual(counts(3, 1, 1, 0, 1));
  });

  it('a dry run over several chunks sees what its earlier chunks would have done', async () => {
    const { admin } = await createTenant(t);
    await createUnit(t, admin.token, { externalRef: 'inst-Q' });
    const p = nextPrefix();
    // Chunks of 2 rows: each later row depends on a row of an earlier chunk.
    const csv = [
      HEADER,
      `${p}-1,Ida,,2021-05-10,,100521-4001,inst-Q,2024-08-01,2025-07-31`,
      `${p}-2,Bo,,2020-01-15,,,inst-Q,2024-08-01,`,
      `${p}-1,Ida,,2021-05-10,,100521-4001,inst-Q,2025-08-01,`, // a new enrolment: updated
      `${p}-3,Eva,,2021-05-10,,100521-4001,inst-Q,2024-08-01,`, // Ida's CPR number: rejected
      `${p}-1,Ida,,2021-05-10,,100521-4001,inst-Q,2025-08-01,`, // the same again: unchanged
      `${p}-2,Bo,,2020-01-15,,,inst-Q,2024-09-01,`, // overlaps row 2's enrolment: rejected
    ].join('\n');
    const expected = counts(6, 2, 1, 1, 2);
    const dry = await run(admin.token, csv, { query: '?dryRun=true', chunkSize: 2 });
    expect(dry.counts).toEqual(expected);
    expect(await children(admin.token, p)).toEqual([]);
    // Row and field (an overlap's message names the enrolment, whose id differs per run).
    const where = async (id: string) =>
      (await rowErrors(admin.token, id)).map((e) => [e.row, e.field]);
    const dryErrors = await where(dry.id);
    expect(dryErrors).toEqual([
      [4, 'cpr'],
      [6, 'startDate'],
    ]);
    // Stopped after its first chunk and resumed by a worker without its state: from the top.
    const job = accepted(await upload(admin.token, csv, { query: '?dryRun=true' }));
    const start = t.clock.now().getTime();
    await work({ workerId: 'A', chunkSize: 2, maxChunks: 2, leaseMs: 60_000 });
    expect((await getJob(admin.token, job.id)).counts.read).toBe(4);
    expect(
      await work({ workerId: 'B', chunkSize: 2, now: () => new Date(start + 61_000) }),
    ).toEqual([job.id]);
    expect((await getJob(admin.token, job.id)).counts).toEqual(expected);
    expect(await where(job.id)).toEqual(dryErrors);
    // The real run does what the dry runs said.
    const real = await run(admin.token, csv, { chunkSize: 2 });
    expect(real.counts).toEqual(expected);
    expect(await where(real.id)).toEqual(dryErrors);
    expect(await children(admin.token, p)).toHaveLength(2);
  });

  it('full mode ends, on endDate, the enrolments in the units that are absent from the file', async () => {
    const { admin } = await createTenant(t);
    const school = await createUnit(t, admin.token, { externalRef: 'school-F' });
    const other = await createUnit(t, admin.token);
    const p = nextPrefix();
    const kept = await createChild(t, admin.token, {
      externalRef: `${p}-kept`,
      unitId: school.id,
      enrolledFrom: '2024-08-01',
    });
    const absent = await createChild(t, admin.token, {
      externalRef: `${p}-absent`,
      unitId: school.id,
      enrolledFrom: '2024-08-01',
    });
    const gone = await createChild(t, admin.token, {
      externalRef: `${p}-gone`,
      unitId: school.id,
      enrolledFrom: '2024-08-01',
      enrolledTo: '2025-01-31',
    });
    const elsewhere = await createChild(t, admin.token, {
      externalRef: `${p}-elsewhere`,
      unitId: other.id,
      enrolledFrom: '2024-08-01',
    });
    const csv = [HEADER, `${p}-kept,,,2021-05-10,,,school-F,2024-08-01,`].join('\n');
    const query = `?mode=full&unitIds=${school.id}&endDate=2026-07-31`;

    const dry = await run(admin.token, csv, { query: `${query}&dryRun=true` });
    expect(dry.counts).toEqual(counts(1, 0, 0, 1, 0, 1));
    expect((await enrolmentsOf(admin.token, absent.id))[0]?.endDate).toBeNull();

    const job = await run(admin.token, csv, { query });
    expect(job).toMatchObject({
      mode: 'full',
      unitIds: [school.id],
      endDate: '2026-07-31',
      counts: counts(1, 0, 0, 1, 0, 1),
    });
    const endOf = async (childId: string) =>
      (await enrolmentsOf(admin.token, childId)).map((e) => e.endDate);
    expect(await endOf(absent.id)).toEqual(['2026-07-31']);
    expect(await endOf(kept.id)).toEqual([null]);
    expect(await endOf(gone.id)).toEqual(['2025-01-31']);
    expect(await endOf(elsewhere.id)).toEqual([null]);
    expect(await auditCount(job.id, 'enrolment', 'update')).toBe(1);
    // Again: nothing left to end.
    expect((await run(admin.token, csv, { query })).counts).toEqual(counts(1, 0, 0, 1, 0, 0));

    // Full mode needs its units and date; upsert takes neither.
    const noDate = await upload(admin.token, csv, { query: `?mode=full&unitIds=${school.id}` });
    expect(expectProblem(noDate, 422).errors?.map((e) => e.path)).toEqual(['query.endDate']);
    const upsert = await upload(admin.token, csv, { query: `?unitIds=${school.id}` });
    expect(expectProblem(upsert, 422).errors?.map((e) => e.path)).toEqual(['query.unitIds']);
  });

  it('a unit-limited key imports into its own units only', async () => {
    const { municipality, admin } = await createTenant(t);
    const mine = await createUnit(t, admin.token, { externalRef: 'mine' });
    const theirs = await createUnit(t, admin.token, { externalRef: 'theirs' });
    const leader = await createKey(t, municipality.id, 'unit_leader', { unitIds: [mine.id] });
    const p = nextPrefix();
    const outsider = await createChild(t, admin.token, {
      externalRef: `${p}-outsider`,
      unitId: theirs.id,
    });
    const csv = [
      HEADER,
      `${p}-1,,,2021-05-10,,,mine,2024-08-01,`,
      `${p}-2,,,2021-05-10,,,theirs,2024-08-01,`,
      `${outsider.externalRef},,,2021-05-10,,,mine,2025-08-01,`,
    ].join('\n');
    const job = await run(leader.token, csv);
    expect(job.counts).toEqual(counts(3, 1, 0, 0, 2));
    expect((await rowErrors(leader.token, job.id)).map((e) => [e.row, e.field, e.message])).toEqual(
      [
        [2, 'unitExternalRef', "is not one of the key's units"],
        [3, 'externalRef', "belongs to a child outside the key's units"],
      ],
    );
    expect((await children(admin.token, p)).map((c) => c.externalRef).sort()).toEqual([
      `${p}-1`,
      `${p}-outsider`,
    ]);
    expect(await enrolmentsOf(admin.token, outsider.id)).toHaveLength(1);
    // Full mode over another unit is refused; another key's job is not found.
    expectProblem(
      await upload(leader.token, csv, {
        query: `?mode=full&unitIds=${theirs.id}&endDate=2026-07-31`,
      }),
      403,
    );
    const adminJob = accepted(await upload(admin.token, csv));
    expectProblem(await t.call('GET', `/v1/imports/${adminJob.id}`, { token: leader.token }), 404);
    await work();
    // Another municipality's job is not found either.
    const { admin: stranger } = await createTenant(t);
    expectProblem(
      await t.call('GET', `/v1/imports/${adminJob.id}`, { token: stranger.token }),
      404,
    );
  });

  it('refuses other content types (415), oversized files (413) and bad headers (failed job)', async () => {
    const { admin } = await createTenant(t);
    const json = await t.call('POST', '/v1/imports', { token: admin.token, body: { rows: [] } });
    expectProblem(json, 415);
    expectProblem(await upload(admin.token, 'a,b', { type: 'text/plain' }), 415);

    const bad = accepted(await upload(admin.token, 'externalRef,givenName,colour\nx,y,z\n'));
    expect(bad.status).toBe('failed');
    expect(bad.problem?.detail).toContain(
      'missing column(s): birthDate, startDate, unitId or unitExternalRef; unknown column(s): colour',
    );
    expect(bad.counts.read).toBe(0);

    const small = await buildApp({
      config: {
        bodyLimitBytes: 64 * 1024,
        trustProxy: false,
        rateLimit: { max: 1_000_000, windowMs: 60_000 },
        imports: { maxBytes: 2048, concurrency: 1, uploadTimeoutMs: 60_000 },
      },
      cprSecret: TEST_CPR_SECRET,
      database: t.database,
      now: t.clock.now,
    });
    try {
      const big = [
        HEADER,
        ...Array.from({ length: 100 }, (_, i) => `r${i},,,2021-05-10,,,u,2024-08-01,`),
      ];
      const res = await small.inject({
        method: 'POST',
        url: '/v1/imports',
        headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'text/csv' },
        payload: big.join('\n'),
      });
      expect(expectProblem(res, 413).detail).toContain('2048 bytes');
      // Streamed without a length: refused once the limit is passed; the job is failed.
      const streamed = await small.inject({
        method: 'POST',
        url: '/v1/imports',
        headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'text/csv' },
        payload: Readable.from(big.map((line) => `${line}\n`)),
      });
      expectProblem(streamed, 413);
    } finally {
      await small.close();
    }
  });

  it('fails jobs whose upload stalled', async () => {
    const { municipality, admin } = await createTenant(t);
    const id = crypto.randomUUID();
    await t.asOwner((db) =>
      db
        .insertInto('import_jobs')
        .values({
          id,
          municipality_id: municipality.id,
          status: 'uploading',
          format: 'csv',
          mode: 'upsert',
          dry_run: false,
          principal_kind: 'api_key',
          principal_id: admin.id,
          role: 'municipality_admin',
          request_id: 'stalled',
          created_at: '2026-11-22T08:00:00Z',
          updated_at: '2026-11-22T08:00:00Z',
        })
        .execute(),
    );
    await work({ uploadTimeoutMs: 30 * 60_000, now: () => new Date('2026-11-22T08:20:00Z') });
    expect((await getJob(admin.token, id)).status).toBe('uploading');
    await work({ uploadTimeoutMs: 30 * 60_000, now: () => new Date('2026-11-22T08:31:00Z') });
    const job = await getJob(admin.token, id);
    expect(job.status).toBe('failed');
    expect(job.problem?.title).toBe('The upload did not complete');
  });

  it('a job whose worker died is resumed after its lease, never applying a row twice', async () => {
    const { admin } = await createTenant(t);
    await createUnit(t, admin.token, { externalRef: 'inst-R' });
    const p = nextPrefix();
    const csv = [
      HEADER,
      ...Array.from({ length: 7 }, (_, i) => `${p}-${i + 1},,,2021-05-10,,,inst-R,2024-08-01,`),
    ].join('\n');
    const job = accepted(await upload(admin.token, csv));
    const start = t.clock.now().getTime();
    // Worker A commits one chunk of 2 rows and dies holding the lease.
    await work({ workerId: 'A', chunkSize: 2, maxChunks: 1, leaseMs: 60_000 });
    expect(await getJob(admin.token, job.id)).toMatchObject({
      status: 'running',
      counts: counts(2, 2, 0, 0, 0),
    });
    // While the lease holds, no one else takes the job.
    expect(
      await work({ workerId: 'B', chunkSize: 2, now: () => new Date(start + 30_000) }),
    ).toEqual([]);
    expect((await getJob(admin.token, job.id)).counts.read).toBe(2);
    // After it expires, worker B resumes after the last committed row.
    expect(
      await work({ workerId: 'B', chunkSize: 2, now: () => new Date(start + 61_000) }),
    ).toEqual([job.id]);
    expect((await getJob(admin.token, job.id)).counts).toEqual(counts(7, 7, 0, 0, 0));
    expect(await children(admin.token, p)).toHaveLength(7);
    expect(await auditCount(job.id, 'child', 'create')).toBe(7);
    // Worker A, back, finds nothing to do.
    expect(await work({ workerId: 'A' })).toEqual([]);
  });

  it('imports 100,000 rows streamed in', { timeout: 300_000 }, async () => {
    const { municipality, admin } = await createTenant(t);
    await createUnit(t, admin.token, { externalRef: 'inst-big' });
    const rows = 100_000;
    async function* file() {
      yield `${HEADER}\n`;
      for (let at = 0; at < rows; at += 1000) {
        let block = '';
        for (let i = at; i < at + 1000; i++) {
          const day = String((i % 28) + 1).padStart(2, '0');
          block += `big-${i},Barn,Nr ${i},2020-02-${day},,,inst-big,2024-08-01,\n`;
        }
        yield block;
      }
    }
    const started = Date.now();
    const job = accepted(await upload(admin.token, Readable.from(file())));
    expect(job.rowsTotal).toBe(rows);
    const uploaded = Date.now();
    await work();
    const done = Date.now();
    expect((await getJob(admin.token, job.id)).counts).toEqual(counts(rows, rows, 0, 0, 0));
    const stored = await t.asOwner(async (db) => {
      const { rows: found } = await sql<{ children: number; enrolments: number }>`
        SELECT (SELECT count(*)::int FROM children WHERE municipality_id = ${municipality.id})
                 AS children,
               (SELECT count(*)::int FROM enrolments WHERE municipality_id = ${municipality.id})
                 AS enrolments`.execute(db);
      return found[0];
    });
    expect(stored).toEqual({ children: rows, enrolments: rows });
    process.stdout.write(
      `[${t.engine}] 100,000 rows: upload ${uploaded - started} ms, processing ${done - uploaded} ms\n`,
    );
  });
});
