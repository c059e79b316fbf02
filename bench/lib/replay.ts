import { randomUUID } from 'node:crypto';
import type { LogEvent } from 'kysely';
import type pg from 'pg';
import { type CpuMeters, type CpuUse, startCpu } from './cpu.js';
import { type LatencySummary, summarise } from './stats.js';

/**
 * The direct-pg baselines: the SQL statements one real request (POST /v1/assessments, a
 * timeline read) issues, recorded through Kysely's log hook in an in-process app, then replayed
 * with plain `pg` — no HTTP, no validation, no classification, no JSON — at the same
 * concurrency. Whatever the statements are, they are replayed as recorded (only the subject and
 * the ids the request created change), so the baseline follows the service's SQL.
 */

export interface Statement {
  sql: string;
  parameters: readonly unknown[];
}

export type Segment =
  | { kind: 'single'; statement: Statement }
  | { kind: 'transaction'; statements: Statement[] };

/** What a recorded submission was about: replays substitute these for another child's. */
export interface Subject {
  childId: string;
  unitId: string;
  assessedOn: string;
}

export interface Template {
  level: number;
  subject: Subject;
  segments: Segment[];
  /** Ids the submission created (uuids first seen as parameters of an INSERT): fresh per replay. */
  created: string[];
  statements: number;
}

/** Collects the statements Kysely runs while `recording` is on. */
export class StatementRecorder {
  #on = false;
  #statements: Statement[] = [];

  readonly log = (event: LogEvent): void => {
    if (this.#on && event.level === 'query') {
      this.#statements.push({ sql: event.query.sql, parameters: [...event.query.parameters] });
    }
  };

  start(): void {
    this.#statements = [];
    this.#on = true;
  }

  stop(): Statement[] {
    this.#on = false;
    return this.#statements;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function strings(value: unknown, out: string[]): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  return out;
}

/**
 * The commands of one statement's text, lower-cased: a simple-protocol statement may carry
 * several (e.g. `BEGIN; SELECT lineal_enter_scope('…')`). Splitting on `;` is enough here: the
 * first word of each command is all that is looked at.
 */
function commands(text: string): string[] {
  return text
    .split(';')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c.length > 0);
}

const opens = (c: string) => c.startsWith('begin') || c.startsWith('start transaction');
const closes = (c: string) =>
  c === 'commit' || c === 'rollback' || c === 'end' || c.startsWith('commit ');

/**
 * Splits recorded statements into transactions (from the statement that begins one to the one
 * that ends it) and single statements, keeping every statement exactly as recorded — however the
 * service combines its commands — so the replay follows the service's SQL when it changes.
 */
export function toTemplate(level: number, subject: Subject, statements: Statement[]): Template {
  const segments: Segment[] = [];
  let open: Statement[] | undefined;
  for (const statement of statements) {
    const parts = commands(statement.sql);
    // Within one statement, the last transaction command counts (`BEGIN; …; COMMIT` is whole).
    let state: 'open' | 'closed' | undefined;
    for (const part of parts) {
      if (opens(part)) state = 'open';
      else if (closes(part)) state = 'closed';
    }
    if (open) {
      open.push(statement);
      if (state === 'closed') {
        segments.push({ kind: 'transaction', statements: open });
        open = undefined;
      }
    } else if (state === 'open') {
      open = [statement];
    } else {
      segments.push({ kind: 'single', statement });
    }
  }
  if (open) throw new Error('a recorded transaction did not end');
  const seen = new Set<string>([subject.childId, subject.unitId]);
  const created: string[] = [];
  for (const statement of statements) {
    const insert = /\binsert\s+into\b/i.test(statement.sql);
    for (const s of strings(statement.parameters, [])) {
      if (!UUID.test(s) || seen.has(s)) continue;
      seen.add(s);
      if (insert) created.push(s);
    }
  }
  return { level, subject, segments, created, statements: statements.length };
}

/** Tables the recorded statements insert into. */
export function insertedTables(template: Template): Set<string> {
  const tables = new Set<string>();
  for (const segment of template.segments) {
    const statements = segment.kind === 'single' ? [segment.statement] : segment.statements;
    for (const s of statements) {
      // Also an INSERT inside a WITH clause or after another command.
      for (const match of s.sql.matchAll(/\binsert\s+into\s+"?(\w+)"?/gi)) {
        if (match[1]) tables.add(match[1]);
      }
    }
  }
  return tables;
}

/**
 * Drops from `created` the ids that name rows which existed before (e.g. the action guide
 * version a recommendation refers to): `exists(id, excluded)` tells whether `id` is the id of a
 * row in a table the submission does not insert into.
 */
export async function withoutPreexisting(
  template: Template,
  exists: (id: string, insertedInto: Set<string>) => Promise<boolean>,
): Promise<Template> {
  const tables = insertedTables(template);
  const created: string[] = [];
  for (const id of template.created) if (!(await exists(id, tables))) created.push(id);
  return { ...template, created };
}

/** The template's parameters with its subject and created ids replaced. */
function substitute(
  value: unknown,
  exact: Map<string, string>,
  inside: Array<[string, string]>,
): unknown {
  if (typeof value === 'string') {
    const hit = exact.get(value);
    if (hit !== undefined) return hit;
    if (value.length > 36 && (value.startsWith('{') || value.startsWith('['))) {
      // JSON (event payloads): ids inside it.
      let out = value;
      for (const [from, to] of inside) if (out.includes(from)) out = out.replaceAll(from, to);
      return out;
    }
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, exact, inside));
  return value;
}

export async function replayOnce(
  pool: pg.Pool,
  template: Template,
  subject: Subject,
): Promise<void> {
  const exact = new Map<string, string>([
    [template.subject.childId, subject.childId],
    [template.subject.unitId, subject.unitId],
    [template.subject.assessedOn, subject.assessedOn],
  ]);
  for (const id of template.created) exact.set(id, randomUUID());
  const inside = [...exact].filter(([from]) => UUID.test(from));
  const params = (s: Statement) => s.parameters.map((p) => substitute(p, exact, inside));
  // An id written into the text itself (a simple-protocol statement has no parameters).
  const text = (s: Statement) => {
    let out = s.sql;
    for (const [from, to] of inside) if (out.includes(from)) out = out.replaceAll(from, to);
    return out;
  };
  for (const segment of template.segments) {
    if (segment.kind === 'single') {
      await pool.query(text(segment.statement), params(segment.statement));
      continue;
    }
    const client = await pool.connect();
    try {
      for (const statement of segment.statements)
        await client.query(text(statement), params(statement));
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }
}

export interface ReplayStats extends LatencySummary {
  completed: number;
  errors: number;
  seconds: number;
  rps: number;
  cpu: CpuUse;
  errorSamples: string[];
}

/**
 * `connections` workers replay submissions back to back for `seconds`; a worker starts no new
 * one after the deadline and finishes the one in flight, so every counted replay committed.
 */
export async function replayLoad(
  pool: pg.Pool,
  next: (n: number) => { template: Template; subject: Subject },
  options: { connections: number; seconds: number; counter: { n: number }; meters?: CpuMeters },
): Promise<ReplayStats> {
  const latencies: number[] = [];
  const cpu = startCpu(options.meters ?? {});
  const errorSamples: string[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const { template, subject } = next(options.counter.n++);
      const t0 = performance.now();
      try {
        await replayOnce(pool, template, subject);
        latencies.push(performance.now() - t0);
      } catch (error) {
        errors += 1;
        if (errorSamples.length < 3) errorSamples.push(String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, worker));
  const seconds = (performance.now() - started) / 1000;
  return {
    ...summarise(latencies),
    completed: latencies.length,
    errors,
    seconds,
    rps: latencies.length / seconds,
    cpu: cpu(),
    errorSamples,
  };
}
