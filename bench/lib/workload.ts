import type { Request } from 'autocannon';
import { CompiledQuery, type Kysely } from 'kysely';
import type { DB } from '../../src/db/schema.js';
import { createRng } from '../../src/demo/random.js';
import { addDays, maxDate } from '../../src/domain/dates.js';
import type { Subject } from './replay.js';
import { RATERS, type Tenant } from './setup.js';

/** A child with an open enrolment: who submissions are about, whose timeline is read. */
export interface Enrolled {
  childId: string;
  unitId: string;
  startDate: string;
}

/** Children enrolled now (since at least two days), in a seeded random order. */
export async function enrolledChildren(
  db: Kysely<DB>,
  tenant: Tenant,
  seed: number,
): Promise<Enrolled[]> {
  const { rows } = await db.executeQuery<{
    child_id: string;
    unit_id: string;
    start_date: string | Date;
  }>(
    CompiledQuery.raw(
      `SELECT e.child_id, e.unit_id, e.start_date::text AS start_date
       FROM enrolments e JOIN children c ON c.id = e.child_id
       WHERE e.municipality_id = $1 AND e.end_date IS NULL AND e.start_date <= $2::date - 2
         AND c.external_ref LIKE 'bench-c-%'
       ORDER BY c.external_ref`,
      [tenant.municipalityId, tenant.today],
    ),
  );
  const list = rows.map((r) => ({
    childId: r.child_id,
    unitId: r.unit_id,
    startDate: String(r.start_date),
  }));
  const rng = createRng(seed).fork('enrolled');
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [list[i], list[j]] = [list[j] as Enrolled, list[i] as Enrolled];
  }
  if (list.length === 0) throw new Error('the data set has no enrolled children');
  return list;
}

/** A number in [0, 1) for request n: the same n always gives the same submission. */
function unit(seed: number, n: number, salt: number): number {
  let t = (Math.imul(n, 0x9e3779b1) ^ Math.imul(seed + salt, 0x85ebca6b)) >>> 0;
  t = Math.imul(t ^ (t >>> 16), 0x7feb352d) >>> 0;
  t = Math.imul(t ^ (t >>> 15), 0x846ca68b) >>> 0;
  return ((t ^ (t >>> 16)) >>> 0) / 4294967296;
}

/** Submission n: a child, its unit, a date in the last 60 days of its enrolment, a level. */
export function submissionSubject(
  children: readonly Enrolled[],
  today: string,
  seed: number,
  n: number,
): Subject & { level: 1 | 2 | 3 } {
  const child = children[n % children.length] as Enrolled;
  const from = maxDate(child.startDate, addDays(today, -60));
  const span = Math.max(0, daysBetween(from, addDays(today, -1)));
  const r = unit(seed, n, 1);
  return {
    childId: child.childId,
    unitId: child.unitId,
    assessedOn: addDays(from, Math.floor(unit(seed, n, 2) * (span + 1))),
    // Mostly green, some yellow, few red, as in a real round.
    level: r < 0.8 ? 1 : r < 0.95 ? 2 : 3,
  };
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000);
}

/** The request body of a submission; the tag goes into the first rater's personId. */
export function submissionBody(tenant: Tenant, subject: Subject & { level: number }, tag: string) {
  return JSON.stringify(submission(tenant, subject, tag));
}

/** A submission (its body as an object). */
export function submission(tenant: Tenant, subject: Subject & { level: number }, tag: string) {
  return {
    childId: subject.childId,
    unitId: subject.unitId,
    rulerVersionId: tenant.rulerVersionId,
    assessedOn: subject.assessedOn,
    raters: [{ personId: tag, ...RATERS[0] }, RATERS[1]],
    rating: { overallLevel: subject.level },
    parentsInformed: true,
  };
}

/**
 * POST /v1/assessments with a different child each time. Every request carries a tag
 * (`<prefix><n>`); the tags of the 2xx answers are collected, so the rows written can be matched
 * with the answers received afterwards.
 */
export function submissionRequests(options: {
  tenant: Tenant;
  children: readonly Enrolled[];
  seed: number;
  prefix: string;
  counter: { n: number };
  acknowledged: Set<string>;
  errorSamples: string[];
}): Request[] {
  const { tenant, children, seed, prefix, counter, acknowledged, errorSamples } = options;
  return [
    {
      method: 'POST',
      path: '/v1/assessments',
      headers: {
        authorization: `Bearer ${tenant.submitter.token}`,
        'content-type': 'application/json',
      },
      setupRequest: (request, context) => {
        const n = counter.n++;
        const tag = `${prefix}${n}`;
        context.tag = tag;
        const subject = submissionSubject(children, tenant.today, seed, n);
        return { ...request, body: submissionBody(tenant, subject, tag) };
      },
      onResponse: (status, body, context) => {
        if (status >= 200 && status < 300) acknowledged.add(String(context.tag));
        else if (errorSamples.length < 3) errorSamples.push(`${status} ${body.slice(0, 300)}`);
      },
    },
  ];
}

/** GET requests rotating over paths (and keys), recording failures. */
export function getRequests(
  paths: ReadonlyArray<{ path: string; token: string }>,
  errorSamples: string[],
): Request[] {
  let n = 0;
  return [
    {
      method: 'GET',
      setupRequest: (request) => {
        const next = paths[n++ % paths.length] as { path: string; token: string };
        return {
          ...request,
          path: next.path,
          headers: next.token
            ? { authorization: `Bearer ${next.token}` }
            : ({} as Record<string, string>),
        };
      },
      onResponse: (status, body) => {
        if ((status < 200 || status >= 300) && errorSamples.length < 3) {
          errorSamples.push(`${status} ${body.slice(0, 300)}`);
        }
      },
    },
  ];
}
