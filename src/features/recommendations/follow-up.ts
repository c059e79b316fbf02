import { randomUUID } from 'node:crypto';
import { type ExpressionBuilder, sql, type Transaction } from 'kysely';
import { z } from 'zod';
import { type AuditEntry, audit, auditSystem, searchCriteria } from '../../audit/audit.js';
import { isUnitLimited, municipalityOf, type Principal } from '../../auth/principal.js';
import { type Database, municipalityScope } from '../../db/database.js';
import { municipalityIds } from '../../db/municipality-ids.js';
import type { DB } from '../../db/schema.js';
import { localDate } from '../../domain/dates.js';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ValidationFailedError,
} from '../../errors.js';
import { decodeCursor, PgTimestampSchema, toPage } from '../../http/pagination.js';
import { findChild } from '../children/repository.js';
import { visibilityOf } from '../children/service.js';
import { appendEvents, readEvents } from '../events/outbox.js';
import { birthBounds } from '../rounds/repository.js';
import { requireRound } from '../rounds/service.js';
import { involvesSocialWork } from '../shared/visibility.js';
import { type StepRow, stepColumns, stepsVisibleTo } from './repository.js';
import type { CreateConcernReport, Flag } from './schemas.js';
import { audienceOf, toStep } from './service.js';

/** Whether the principal may see the child (unit-limited keys: enrolled in their units). */
export function childVisibleTo(principal: Principal, now: Date) {
  const v = visibilityOf(principal, now);
  return async (trx: Transaction<DB>, childId: string) =>
    (await findChild(trx, v, childId)) !== undefined;
}

const worklistCursor = z.tuple([z.string().regex(/^\d{4}-\d\d-\d\d$/), z.uuid()]);

/** Open steps by due date: what a leader or social worker opens every morning. */
export async function worklist(
  database: Database,
  principal: Principal,
  query: {
    limit: number;
    cursor?: string | undefined;
    unitId?: string | undefined;
    responsible?: string | undefined;
    zone?: string | undefined;
    dueBefore?: string | undefined;
    overdue?: boolean | undefined;
  },
  now: Date,
) {
  const audience = audienceOf(principal, now);
  const today = localDate(now);
  const after = query.cursor ? decodeCursor(query.cursor, worklistCursor) : undefined;
  const rows = await database.transaction(
    municipalityScope(audience.municipalityId),
    async (trx) => {
      let q = trx
        .selectFrom('recommendation_steps')
        .innerJoin('children', 'children.id', 'recommendation_steps.child_id')
        .select([
          ...stepColumns,
          'children.external_ref as child_external_ref',
          'children.given_name as child_given_name',
          'children.family_name as child_family_name',
        ])
        .where(stepsVisibleTo(audience))
        .where('recommendation_steps.status', '=', 'open')
        .orderBy('recommendation_steps.due_on')
        .orderBy('recommendation_steps.id')
        .limit(query.limit + 1);
      if (query.unitId) q = q.where('recommendation_steps.unit_id', '=', query.unitId);
      if (query.responsible)
        q = q.where('recommendation_steps.responsible', '=', query.responsible);
      if (query.zone) q = q.where('recommendation_steps.zone', '=', query.zone);
      if (query.dueBefore) q = q.where('recommendation_steps.due_on', '<=', query.dueBefore);
      if (query.overdue === true) q = q.where('recommendation_steps.due_on', '<', today);
      if (query.overdue === false) q = q.where('recommendation_steps.due_on', '>=', today);
      if (after) {
        q = q.where(
          sql<boolean>`(recommendation_steps.due_on, recommendation_steps.id) > (${after[0]}::date, ${after[1]}::uuid)`,
        );
      }
      const found = await q.execute();
      await audit(trx, principal, {
        action: 'search',
        resource: 'step',
        criteria: searchCriteria({ ...query, results: Math.min(found.length, query.limit) }),
      });
      return found;
    },
  );
  return toPage(
    rows,
    query.limit,
    (row) => ({
      ...toStep(row as StepRow, today),
      child: {
        id: row.child_id,
        externalRef: row.child_external_ref,
        givenName: row.child_given_name,
        familyName: row.child_family_name,
      },
    }),
    (row) => [row.due_on, row.id],
  );
}

// Flags

const flagColumns = [
  'id',
  'child_id',
  'unit_id',
  'kind',
  'reason',
  'assessment_id',
  'round_id',
  'raised_at',
  sql<string>`raised_at::text`.as('raised_at_key'),
  'acknowledged_at',
  'acknowledged_by',
  'acknowledgement_note',
] as const;

interface FlagRow {
  id: string;
  child_id: string;
  unit_id: string;
  kind: string;
  reason: string;
  assessment_id: string | null;
  round_id: string | null;
  raised_at: Date;
  raised_at_key: string;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  acknowledgement_note: string | null;
}

function toFlag(row: FlagRow): Flag {
  return {
    id: row.id,
    childId: row.child_id,
    unitId: row.unit_id,
    kind: row.kind as Flag['kind'],
    reason: row.reason,
    assessmentId: row.assessment_id,
    roundId: row.round_id,
    raisedAt: row.raised_at.toISOString(),
    status: row.acknowledged_at ? 'acknowledged' : 'raised',
    acknowledgedAt: row.acknowledged_at?.toISOString() ?? null,
    acknowledgedBy: row.acknowledged_by,
    acknowledgementNote: row.acknowledgement_note,
  };
}

const flagCursor = z.tuple([PgTimestampSchema, z.uuid()]);

/** Unit-limited keys see the flags of children currently enrolled in their units. */
function flagsOfVisibleChildren(principal: Principal, now: Date) {
  const today = localDate(now);
  return (eb: ExpressionBuilder<DB, 'flags'>) =>
    eb.exists(
      eb
        .selectFrom('enrolments as visible')
        .select('visible.id')
        .whereRef('visible.child_id', '=', 'flags.child_id')
        .where('visible.unit_id', 'in', principal.unitIds)
        .where((e) =>
          e.or([e('visible.end_date', 'is', null), e('visible.end_date', '>=', today)]),
        ),
    );
}

export async function listFlags(
  database: Database,
  principal: Principal,
  now: Date,
  query: {
    limit: number;
    cursor?: string | undefined;
    unitId?: string | undefined;
    childId?: string | undefined;
    kind?: string | undefined;
    status: 'raised' | 'acknowledged' | 'all';
  },
) {
  const municipalityId = municipalityOf(principal);
  const after = query.cursor ? decodeCursor(query.cursor, flagCursor) : undefined;
  const rows = await database.transaction(municipalityScope(municipalityId), async (trx) => {
    let q = trx
      .selectFrom('flags')
      .select(flagColumns)
      .where('municipality_id', '=', municipalityId)
      .orderBy('raised_at')
      .orderBy('id')
      .limit(query.limit + 1);
    if (principal.unitIds.length > 0) {
      // Flags raised in the key's own units, about children enrolled there now.
      q = q.where('unit_id', 'in', principal.unitIds).where(flagsOfVisibleChildren(principal, now));
    }
    if (principal.role === 'social_worker') {
      // Social workers: the flags of the children they are involved with.
      q = q.where(involvesSocialWork('flags.child_id', municipalityId, principal));
    }
    if (query.unitId) q = q.where('unit_id', '=', query.unitId);
    if (query.childId) q = q.where('child_id', '=', query.childId);
    if (query.kind) q = q.where('kind', '=', query.kind);
    if (query.status === 'raised') q = q.where('acknowledged_at', 'is', null);
    if (query.status === 'acknowledged') q = q.where('acknowledged_at', 'is not', null);
    if (after) {
      q = q.where(sql<boolean>`(raised_at, id) > (${after[0]}::timestamptz, ${after[1]}::uuid)`);
    }
    const found = await q.execute();
    await audit(trx, principal, {
      action: 'search',
      resource: 'flag',
      childId: query.childId ?? null,
      criteria: searchCriteria({ ...query, results: Math.min(found.length, query.limit) }),
    });
    return found;
  });
  return toPage(rows, query.limit, toFlag, (row) => [row.raised_at_key, row.id]);
}

export async function acknowledgeFlag(
  database: Database,
  principal: Principal,
  flagId: string,
  note: string,
  now: Date,
): Promise<Flag> {
  const municipalityId = municipalityOf(principal);
  return database.transaction(municipalityScope(municipalityId), async (trx) => {
    let q = trx
      .selectFrom('flags')
      .select(flagColumns)
      .where('municipality_id', '=', municipalityId)
      .where('id', '=', flagId)
      .forUpdate();
    if (principal.unitIds.length > 0) {
      // Flags raised in the key's own units, about children enrolled there now.
      q = q.where('unit_id', 'in', principal.unitIds).where(flagsOfVisibleChildren(principal, now));
    }
    const flag = await q.executeTakeFirst();
    if (!flag || !(await childVisibleTo(principal, now)(trx, flag.child_id))) {
      throw new NotFoundError('flag', flagId);
    }
    if (flag.acknowledged_at) {
      throw new ConflictError(
        `The flag was already acknowledged at ${flag.acknowledged_at.toISOString()}.`,
        'flag-acknowledged',
      );
    }
    await trx
      .updateTable('flags')
      .set({ acknowledged_at: now, acknowledged_by: principal.id, acknowledgement_note: note })
      .where('id', '=', flagId)
      .execute();
    await appendEvents(trx, [
      {
        municipalityId,
        type: 'flag.acknowledged',
        childId: flag.child_id,
        subjectType: 'flag',
        subjectId: flagId,
        payload: { kind: flag.kind, note },
      },
    ]);
    await audit(trx, principal, {
      action: 'update',
      resource: 'flag',
      resourceId: flagId,
      childId: flag.child_id,
    });
    return toFlag({
      ...flag,
      acknowledged_at: now,
      acknowledged_by: principal.id,
      acknowledgement_note: note,
    });
  });
}

/**
 * Raises `not_assessed` for every child enrolled in a covered unit during a closed round's
 * window without a current assessment there. Idempotent: a flag is raised once per child, unit
 * and round.
 */
/** Rows per INSERT of not-assessed flags (7 parameters each). */
const FLAG_INSERT_CHUNK = 1000;

export async function raiseNotAssessedFlags(
  trx: Transaction<DB>,
  municipalityId: string,
  roundId: string,
  now: Date,
  writeAudit: (entries: AuditEntry[]) => Promise<void>,
): Promise<number> {
  const round = await requireRound(trx, municipalityId, roundId);
  const today = localDate(now);
  if (round.window_end >= today) {
    throw new ConflictError(
      `The round's window is still open (until ${round.window_end}); children can still be assessed.`,
      'round-open',
    );
  }
  // One flag per child (not per unit): a child who moved between covered units during the
  // window and was assessed in either is not missing. The unit is the latest enrolment's.
  const { bornFrom, bornTo } = birthBounds(round);
  const missing = await sql<{ child_id: string; unit_id: string }>`
    SELECT DISTINCT ON (e.child_id) e.child_id, e.unit_id
    FROM enrolments e
    JOIN units u ON u.id = e.unit_id
    JOIN children c ON c.id = e.child_id
    WHERE e.municipality_id = ${municipalityId}
      AND e.start_date <= ${round.window_end} AND (e.end_date IS NULL OR e.end_date >= ${round.window_start})
      AND (cardinality(${round.unit_ids}::uuid[]) = 0 OR u.id = ANY(${round.unit_ids}::uuid[]))
      AND (cardinality(${round.unit_kinds}::text[]) = 0 OR u.kind = ANY(${round.unit_kinds}::text[]))
      AND (${bornTo ?? null}::date IS NULL OR c.birth_date <= ${bornTo ?? null}::date)
      AND (${bornFrom ?? null}::date IS NULL OR c.birth_date > ${bornFrom ?? null}::date)
      AND NOT EXISTS (
        SELECT 1 FROM assessments a
        WHERE a.child_id = e.child_id AND a.round_id = ${round.id} AND a.status = 'current')
    ORDER BY e.child_id, e.start_date DESC, e.id
  `.execute(trx);
  const reason = `Enrolled during round "${round.name}" (${round.window_start} – ${round.window_end}) but not assessed.`;
  // In chunks: one INSERT's bind parameters are limited (65,535), a large round has more.
  const inserted: { id: string; child_id: string }[] = [];
  for (let at = 0; at < missing.rows.length; at += FLAG_INSERT_CHUNK) {
    const chunk = missing.rows.slice(at, at + FLAG_INSERT_CHUNK);
    inserted.push(
      ...(await trx
        .insertInto('flags')
        .values(
          chunk.map((m) => ({
            municipality_id: municipalityId,
            child_id: m.child_id,
            unit_id: m.unit_id,
            kind: 'not_assessed',
            reason,
            round_id: round.id,
            raised_at: now,
          })),
        )
        // The index predicate as a literal: a bind parameter there cannot be matched to the
        // partial unique index by a generic plan (42P10 from a prepared statement's sixth run).
        .onConflict((oc) =>
          oc
            .columns(['child_id', 'unit_id', 'round_id'])
            .where('kind', '=', sql.lit('not_assessed'))
            .doNothing(),
        )
        .returning(['id', 'child_id'])
        .execute()),
    );
  }
  await appendEvents(
    trx,
    inserted.map((flag) => ({
      municipalityId,
      type: 'flag.raised' as const,
      childId: flag.child_id,
      subjectType: 'flag' as const,
      subjectId: flag.id,
      payload: { kind: 'not_assessed', reason, roundId: round.id },
    })),
  );
  const raised = inserted.length;
  // One audit entry per child flagged (the trail of each child shows it), or one saying none.
  await writeAudit(
    inserted.length > 0
      ? inserted.map((flag) => ({
          action: 'create' as const,
          resource: 'flag' as const,
          resourceId: flag.id,
          childId: flag.child_id,
          criteria: { roundId: round.id, kind: 'not_assessed' },
        }))
      : [
          {
            action: 'create',
            resource: 'flag',
            criteria: { roundId: round.id, kind: 'not_assessed', results: 0 },
          },
        ],
  );
  await trx
    .updateTable('rounds')
    .set({ not_assessed_flagged_at: now })
    .where('id', '=', round.id)
    .where('not_assessed_flagged_at', 'is', null)
    .execute();
  return raised;
}

/**
 * Raises the not-assessed flags of every round that closed and was not processed yet, one
 * municipality's scope at a time (at most 500 rounds of each per call).
 */
export async function flagClosedRounds(database: Database, now: Date): Promise<number> {
  const today = localDate(now);
  let raised = 0;
  const runId = randomUUID();
  for (const municipalityId of await municipalityIds(database)) {
    const scope = municipalityScope(municipalityId);
    const rounds = await database.transaction(scope, (trx) =>
      trx
        .selectFrom('rounds')
        .select('id')
        .where('municipality_id', '=', municipalityId)
        .where('window_end', '<', today)
        .where('not_assessed_flagged_at', 'is', null)
        .orderBy('window_end')
        .limit(500)
        .execute(),
    );
    for (const round of rounds) {
      raised += await database.transaction(scope, (trx) =>
        raiseNotAssessedFlags(trx, municipalityId, round.id, now, (entries) =>
          auditSystem(trx, { job: 'not-assessed-flags', runId, municipalityId }, ...entries),
        ),
      );
    }
  }
  return raised;
}

// Concern reports

interface ConcernReportRow {
  id: string;
  child_id: string;
  reported_on: string;
  reported_by_name: string;
  reported_by_role: string;
  reference: string | null;
  completed_step_ids: string[];
  created_at: Date;
  created_by: string;
}

function toConcernReport(row: ConcernReportRow) {
  return {
    id: row.id,
    childId: row.child_id,
    reportedOn: row.reported_on,
    reportedBy: { name: row.reported_by_name, role: row.reported_by_role as 'unit_leader' },
    reference: row.reference,
    completedStepIds: row.completed_step_ids,
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
  };
}

const concernColumns = [
  'id',
  'child_id',
  'reported_on',
  'reported_by_name',
  'reported_by_role',
  'reference',
  'completed_step_ids',
  'created_at',
  'created_by',
] as const;

/** Records a concern report (underretning) and completes the child's concern-report steps. */
export async function recordConcernReport(
  trx: Transaction<DB>,
  principal: Principal,
  childId: string,
  input: CreateConcernReport,
  now: Date,
) {
  const audience = audienceOf(principal, now);
  if (!(await childVisibleTo(principal, now)(trx, childId)))
    throw new NotFoundError('child', childId);
  if (input.reportedOn > localDate(now)) {
    throw new ValidationFailedError('The concern report cannot be recorded.', [
      { path: 'body.reportedOn', message: 'is in the future', code: 'future_date' },
    ]);
  }
  let q = trx
    .selectFrom('recommendation_steps')
    .select(stepColumns)
    .where(stepsVisibleTo(audience))
    .where('recommendation_steps.child_id', '=', childId)
    .where('recommendation_steps.purpose', '=', 'concern_report')
    .where('recommendation_steps.status', '=', 'open')
    .forUpdate();
  if (input.stepIds) q = q.where('recommendation_steps.id', 'in', input.stepIds);
  const steps = (await q.execute()) as StepRow[];
  const missing = (input.stepIds ?? []).filter((id) => !steps.some((s) => s.id === id));
  if (missing.length > 0) {
    throw new ValidationFailedError('The concern report cannot complete those steps.', [
      ...missing.map((id) => ({
        path: `body.stepIds.${input.stepIds?.indexOf(id)}`,
        message: `${id} is not an open concern-report step of this child`,
        code: 'not_open_concern_report_step',
      })),
    ]);
  }
  const stepIds = steps.map((s) => s.id);
  const report = (await trx
    .insertInto('concern_reports')
    .values({
      municipality_id: audience.municipalityId,
      child_id: childId,
      reported_on: input.reportedOn,
      reported_by_name: input.reportedBy.name,
      reported_by_role: input.reportedBy.role,
      reference: input.reference ?? null,
      completed_step_ids: stepIds,
      created_by: principal.id,
    })
    .returning(concernColumns)
    .executeTakeFirstOrThrow()) as ConcernReportRow;
  if (stepIds.length > 0) {
    await trx
      .updateTable('recommendation_steps')
      .set({
        status: 'done',
        status_reason: `Concern report ${report.id}${input.reference ? ` (${input.reference})` : ''}`,
        status_changed_at: now,
        status_changed_by: principal.id,
      })
      .where('id', 'in', stepIds)
      .execute();
  }
  await appendEvents(trx, [
    {
      municipalityId: audience.municipalityId,
      type: 'concern_report.recorded',
      childId,
      subjectType: 'concern_report',
      subjectId: report.id,
      payload: { reportedOn: input.reportedOn, reference: input.reference ?? null, stepIds },
    },
    ...steps.map((s) => ({
      municipalityId: audience.municipalityId,
      type: 'step.status_changed' as const,
      childId,
      subjectType: 'step' as const,
      subjectId: s.id,
      payload: { stepKey: s.step_key, from: 'open', to: 'done', concernReportId: report.id },
    })),
  ]);
  await audit(trx, principal, {
    action: 'create',
    resource: 'concern_report',
    resourceId: report.id,
    childId,
  });
  return toConcernReport(report);
}

export async function listConcernReports(
  database: Database,
  principal: Principal,
  childId: string,
  now: Date,
) {
  const municipalityId = municipalityOf(principal);
  return database.transaction(municipalityScope(municipalityId), async (trx) => {
    if (!(await childVisibleTo(principal, now)(trx, childId)))
      throw new NotFoundError('child', childId);
    const rows = (await trx
      .selectFrom('concern_reports')
      .select(concernColumns)
      .where('municipality_id', '=', municipalityId)
      .where('child_id', '=', childId)
      .orderBy('reported_on')
      .orderBy('created_at')
      .execute()) as ConcernReportRow[];
    await audit(trx, principal, { action: 'read', resource: 'concern_report', childId });
    return { items: rows.map(toConcernReport) };
  });
}

export async function eventFeed(
  database: Database,
  principal: Principal,
  query: { after?: string | undefined; limit: number },
) {
  const municipalityId = municipalityOf(principal);
  if (isUnitLimited(principal)) {
    throw new ForbiddenError(
      'The event feed covers the whole municipality; this key is limited to units.',
    );
  }
  const page = await database.transaction(municipalityScope(municipalityId), async (trx) => {
    // The feed names children by id: one search entry per page.
    await audit(trx, principal, {
      action: 'search',
      resource: 'event',
      criteria: { after: query.after ?? null, limit: query.limit },
    });
    return readEvents(trx, municipalityId, { cursor: query.after, limit: query.limit });
  });
  return {
    items: page.items.map((e) => ({
      id: Number(e.id),
      type: e.type,
      occurredAt: e.created_at.toISOString(),
      childId: e.child_id,
      subject: { type: e.subject_type, id: e.subject_id },
      data: e.payload as Record<string, unknown>,
    })),
    nextCursor: page.nextCursor,
    hasMore: page.hasMore,
  };
}
