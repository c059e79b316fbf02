import { CompiledQuery, type Kysely } from 'kysely';
import type { DB } from '../../src/db/schema.js';

/**
 * What a submission case wrote, matched with what it was told: every acknowledged (2xx) request
 * must have its assessment, and each of those its recommendation, its recommendation.created
 * event (the outbox) and its audit entry. Rows without an answer are requests that were in
 * flight when autocannon stopped (it does not wait for them): at most one per connection.
 */
export interface WriteCheck {
  acknowledged: number;
  written: number;
  /** Acknowledged but not in the database: must be 0. */
  lost: number;
  /** Written but not acknowledged (in flight when the load generator stopped). */
  unacknowledged: number;
  recommendations: number;
  events: number;
  audited: number;
  ok: boolean;
  problems: string[];
}

async function count(db: Kysely<DB>, text: string, params: unknown[]): Promise<number> {
  const { rows } = await db.executeQuery<{ n: number | string }>(CompiledQuery.raw(text, params));
  return Number(rows[0]?.n ?? 0);
}

export async function checkWrites(
  db: Kysely<DB>,
  options: {
    municipalityId: string;
    prefix: string;
    since: Date;
    acknowledged: ReadonlySet<string>;
    connections: number;
  },
): Promise<WriteCheck> {
  const { municipalityId: m, prefix, since, acknowledged } = options;
  const tagged = `SELECT id, raters->0->>'personId' AS tag FROM assessments
    WHERE municipality_id = $1 AND created_at >= $2 AND raters->0->>'personId' LIKE $3`;
  const params = [m, since.toISOString(), `${prefix}%`];
  const { rows } = await db.executeQuery<{ tag: string }>(CompiledQuery.raw(tagged, params));
  const written = new Set(rows.map((r) => r.tag));
  let lost = 0;
  for (const tag of acknowledged) if (!written.has(tag)) lost += 1;
  let unacknowledged = 0;
  for (const tag of written) if (!acknowledged.has(tag)) unacknowledged += 1;
  const recommendations = await count(
    db,
    `WITH a AS (${tagged}) SELECT count(*) AS n FROM a JOIN recommendations r ON r.assessment_id = a.id`,
    params,
  );
  const events = await count(
    db,
    `WITH a AS (${tagged})
     SELECT count(*) AS n FROM a
     JOIN recommendations r ON r.assessment_id = a.id
     JOIN (SELECT subject_id FROM events
           WHERE municipality_id = $1 AND created_at >= $2 AND type = 'recommendation.created') e
       ON e.subject_id = r.id`,
    params,
  );
  const audited = await count(
    db,
    `WITH a AS (${tagged})
     SELECT count(*) AS n FROM a
     JOIN (SELECT resource_id FROM audit_log
           WHERE municipality_id = $1 AND occurred_at >= $2 AND resource_type = 'assessment'
             AND action = 'create' AND outcome = 'success') l
       ON l.resource_id = a.id::text`,
    params,
  );
  const problems: string[] = [];
  if (lost > 0) problems.push(`${lost} acknowledged submissions are not in the database`);
  if (unacknowledged > options.connections) {
    problems.push(
      `${unacknowledged} assessments were written without a 2xx answer (more than the ${options.connections} connections could have in flight)`,
    );
  }
  if (recommendations !== written.size)
    problems.push(`${written.size} assessments but ${recommendations} recommendations`);
  if (events !== written.size)
    problems.push(`${written.size} assessments but ${events} recommendation.created events`);
  if (audited !== written.size)
    problems.push(`${written.size} assessments but ${audited} audit entries`);
  return {
    acknowledged: acknowledged.size,
    written: written.size,
    lost,
    unacknowledged,
    recommendations,
    events,
    audited,
    ok: problems.length === 0,
    problems,
  };
}

/** Rows in a table of the municipality (the owner sees every row). */
export function countRows(db: Kysely<DB>, table: string, municipalityId: string): Promise<number> {
  return count(db, `SELECT count(*) AS n FROM ${table} WHERE municipality_id = $1`, [
    municipalityId,
  ]);
}

/** Current assessments of the municipality: what a full export must stream. */
export function currentAssessments(db: Kysely<DB>, municipalityId: string): Promise<number> {
  return count(
    db,
    `SELECT count(*) AS n FROM assessments WHERE municipality_id = $1 AND status = 'current'`,
    [municipalityId],
  );
}

/** Assessments written since `since` whose first rater's personId starts with `prefix`. */
export function countTagged(
  db: Kysely<DB>,
  municipalityId: string,
  prefix: string,
  since: Date,
): Promise<number> {
  return count(
    db,
    `SELECT count(*) AS n FROM assessments
     WHERE municipality_id = $1 AND created_at >= $2 AND raters->0->>'personId' LIKE $3`,
    [municipalityId, since.toISOString(), `${prefix}%`],
  );
}

/** Audit entries of assessment reads (timelines) written since `since`. */
export function countReadAudits(
  db: Kysely<DB>,
  municipalityId: string,
  since: Date,
): Promise<number> {
  return count(
    db,
    `SELECT count(*) AS n FROM audit_log
     WHERE municipality_id = $1 AND occurred_at >= $2 AND resource_type = 'assessment'
       AND action = 'read' AND outcome = 'success'`,
    [municipalityId, since.toISOString()],
  );
}

/**
 * Waits until no more assessments appear: requests the load generator abandoned when it stopped
 * may still be committing in the service.
 */
export async function settle(db: Kysely<DB>, municipalityId: string, since: Date): Promise<void> {
  let last = -1;
  for (let i = 0; i < 40; i++) {
    const now = await count(
      db,
      'SELECT count(*) AS n FROM assessments WHERE municipality_id = $1 AND created_at >= $2',
      [municipalityId, since.toISOString()],
    );
    if (now === last) return;
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
