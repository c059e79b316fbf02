import { randomUUID } from 'node:crypto';
import { type Insertable, sql, type Transaction } from 'kysely';
import { z } from 'zod';
import { searchCriteria } from '../../audit/audit.js';
import type { DB, ParentNoticesTable } from '../../db/schema.js';
import type { GuideDefinition, Recommendation } from '../../domain/guides/definition.js';
import {
  closingRefusal,
  type ParentNoticeClosing,
  parentNoticeFor,
} from '../../domain/parent-information.js';
import {
  type Letter,
  type LetterLanguage,
  letterLanguages,
  type optionalLetterLanguages,
  parentLetter,
} from '../../domain/parent-letter.js';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ValidationFailedError,
} from '../../errors.js';

type OptionalLetterLanguage = (typeof optionalLetterLanguages)[number];

import { decodeCursor, toPage } from '../../http/pagination.js';
import type { Session } from '../../request/session.js';
import { appendEvents, type NewEvent } from '../events/outbox.js';
import {
  type NoticeRow,
  noticesVisibleTo,
  parentsWithheld,
  selectNotices,
  toNotice,
} from './repository.js';
import type {
  ParentNotice,
  ParentNoticeListQuery,
  RecordInformed,
  RecordNotInformed,
} from './schemas.js';

/** Said of a notice closed as the assessment was recorded with `parentsInformed: true`. */
export const INFORMED_WITH_ASSESSMENT = 'Recorded with the assessment (parentsInformed).';

/** Leaders decide not to inform the parents (and whether to, under a violence or abuse flag). */
const isLeader = (session: Session) =>
  session.principal.role === 'unit_leader' || session.principal.role === 'municipality_admin';

/**
 * The parent-information duty an assessment creates, if any (domain/parent-information.ts): the
 * row to insert and its event, for the caller to write with the assessment's recommendation (one
 * statement: the submission's round trips are counted). Recorded with `parentsInformed: true`,
 * it is closed at once as informed on the assessment's day. A correction keeps what was recorded
 * for the assessment it corrects when the duty is the same (same zone and previous zone) and
 * still holds for the new date; the corrected one's open duty was superseded by then
 * (`supersedeNotices`).
 */
export async function parentNoticeOf(
  session: Session,
  trx: Transaction<DB>,
  input: {
    assessment: { id: string; childId: string; unitId: string; parentsInformed: boolean };
    current: { assessedOn: string; redFlagCategories: string[] };
    recommendation: Pick<Recommendation, 'zone' | 'previousZone' | 'zoneChanged'>;
    guide: GuideDefinition;
    corrects?: string;
  },
): Promise<{ row: Insertable<ParentNoticesTable>; event: NewEvent } | undefined> {
  const { assessment, current } = input;
  const due = parentNoticeFor(current, input.recommendation, input.guide);
  if (due === null) return undefined;
  const municipalityId = session.municipalityId;
  let closing: Partial<Insertable<ParentNoticesTable>> = {};
  const carried = input.corrects
    ? await trx
        .selectFrom('parent_notices')
        .selectAll()
        .where('municipality_id', '=', municipalityId)
        .where('assessment_id', '=', input.corrects)
        .where('status', 'in', ['informed', 'not_informed_risk'])
        .executeTakeFirst()
    : undefined;
  // Under a violence or abuse flag only a leader's recording closes it (closingRefusal).
  const mayClose = due.riskCategories.length === 0 || isLeader(session);
  if (
    carried &&
    carried.zone === due.zone &&
    carried.previous_zone === due.previousZone &&
    (carried.status === 'not_informed_risk'
      ? due.riskCategories.length > 0
      : String(carried.informed_on) >= current.assessedOn &&
        (due.riskCategories.length === 0 || carried.risk_categories.length > 0))
  ) {
    closing = {
      status: carried.status,
      informed_on: carried.informed_on,
      method: carried.method,
      informed_by_name: carried.informed_by_name,
      informed_by_role: carried.informed_by_role,
      note: carried.note,
      closed_at: carried.closed_at,
      closed_by: carried.closed_by,
      risk_lifted_at: carried.risk_lifted_at,
    };
  } else if (assessment.parentsInformed && mayClose) {
    closing = {
      status: 'informed',
      informed_on: current.assessedOn,
      note: INFORMED_WITH_ASSESSMENT,
      closed_at: session.now,
      closed_by: session.principal.id,
      // A leader recording the assessment under such a flag with the parents informed.
      ...(due.riskCategories.length > 0 ? { risk_lifted_at: sql<Date>`now()` } : {}),
    };
  }
  const id = randomUUID();
  return {
    row: {
      id,
      municipality_id: municipalityId,
      child_id: assessment.childId,
      unit_id: assessment.unitId,
      assessment_id: assessment.id,
      reason: due.reason,
      zone: due.zone,
      previous_zone: due.previousZone,
      assessed_on: current.assessedOn,
      due_on: due.dueOn,
      risk_categories: due.riskCategories,
      ...closing,
    },
    event: {
      municipalityId,
      type: 'parent_notice.created',
      childId: assessment.childId,
      subjectType: 'parent_notice',
      subjectId: id,
      payload: {
        assessmentId: assessment.id,
        reason: due.reason,
        dueOn: due.dueOn,
        status: (closing.status as 'informed' | 'not_informed_risk' | undefined) ?? 'open',
      },
    },
  };
}

/** The open duty of an assessment corrected or withdrawn: superseded (in its transaction). */
export async function supersedeNotices(
  session: Session,
  trx: Transaction<DB>,
  assessmentId: string,
  reason: string,
): Promise<void> {
  await trx
    .updateTable('parent_notices')
    .set({
      status: 'superseded',
      note: `The assessment was ${reason}.`,
      closed_at: session.now,
      closed_by: session.principal.id,
    })
    .where('municipality_id', '=', session.municipalityId)
    .where('assessment_id', '=', assessmentId)
    .where('status', '=', 'open')
    .execute();
}

const noticeCursor = z.tuple([z.string().regex(/^\d{4}-\d\d-\d\d$/), z.uuid()]);

/** The parent-information duties by due date: open ones by default (a unit's to-do list). */
export async function listNotices(
  session: Session,
  trx: Transaction<DB>,
  query: ParentNoticeListQuery,
) {
  const { today } = session;
  const after = query.cursor ? decodeCursor(query.cursor, noticeCursor) : undefined;
  let q = selectNotices(trx, session.municipalityId)
    .where(noticesVisibleTo(session.principal.unitIds, today))
    .orderBy('parent_notices.due_on')
    .orderBy('parent_notices.id')
    .limit(query.limit + 1);
  if (query.status !== 'all') q = q.where('parent_notices.status', '=', query.status);
  if (query.unitId) q = q.where('parent_notices.unit_id', '=', query.unitId);
  if (query.childId) q = q.where('parent_notices.child_id', '=', query.childId);
  if (query.overdue !== undefined) {
    q = q
      .where('parent_notices.status', '=', 'open')
      .where('parent_notices.due_on', query.overdue ? '<' : '>=', today);
  }
  if (after) {
    q = q.where(
      sql<boolean>`(parent_notices.due_on, parent_notices.id) > (${after[0]}::date, ${after[1]}::uuid)`,
    );
  }
  const rows = await q.execute();
  session.audit({
    childId: query.childId ?? null,
    criteria: searchCriteria({ ...query, results: Math.min(rows.length, query.limit) }),
  });
  return toPage(
    rows,
    query.limit,
    (row) => toNotice(row, today),
    (row) => [row.due_on, row.id],
  );
}

/** One visible notice, locked for a change when `forUpdate`; 404 when not visible. */
async function requireNotice(
  session: Session,
  trx: Transaction<DB>,
  noticeId: string,
  forUpdate = false,
) {
  let q = selectNotices(trx, session.municipalityId)
    .where('parent_notices.id', '=', noticeId)
    .where(noticesVisibleTo(session.principal.unitIds, session.today));
  if (forUpdate) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  if (!row || !(await session.access.seesChild(trx, row.child_id))) {
    throw new NotFoundError('parent notice', noticeId);
  }
  return row;
}

export async function getNotice(
  session: Session,
  trx: Transaction<DB>,
  noticeId: string,
): Promise<ParentNotice> {
  const row = await requireNotice(session, trx, noticeId);
  session.audit({ resourceId: row.id, childId: row.child_id });
  return toNotice(row, session.today);
}

/** Closes a notice as informed or as not informed (risk to the child), once. */
async function closeNotice(
  session: Session,
  trx: Transaction<DB>,
  noticeId: string,
  closing: ParentNoticeClosing,
  fields: Record<string, unknown>,
): Promise<ParentNotice> {
  const row = await requireNotice(session, trx, noticeId, true);
  session.audit({ resourceId: row.id, childId: row.child_id });
  const childAtRisk = await parentsWithheld(trx, row.child_id);
  const refusal = closingRefusal(
    {
      status: row.status,
      riskCategories: row.risk_categories,
      createdOn: row.assessed_on,
      childAtRisk,
    },
    closing,
    { isLeader: isLeader(session) },
    session.today,
  );
  if (refusal?.kind === 'forbidden') throw new ForbiddenError(refusal.detail);
  if (refusal) throw new ConflictError(refusal.detail, 'parent-notice-refused');
  const closed = {
    status: closing.outcome,
    closed_at: session.now,
    closed_by: session.principal.id,
    // A leader's recording under risk lifts it (src/domain/parent-view.ts), by the database's
    // clock, which also dates when the flagged assessments were recorded.
    ...(closing.outcome === 'informed' && (childAtRisk || row.risk_categories.length > 0)
      ? { risk_lifted_at: sql<Date>`now()` }
      : {}),
  };
  await trx
    .updateTable('parent_notices')
    .set({ ...closed, ...fields })
    .where('id', '=', row.id)
    .execute();
  await appendEvents(trx, [
    {
      municipalityId: session.municipalityId,
      type: 'parent_notice.closed',
      childId: row.child_id,
      subjectType: 'parent_notice',
      subjectId: row.id,
      payload: {
        assessmentId: row.assessment_id,
        status: closing.outcome,
        ...(closing.outcome === 'informed'
          ? { informedOn: closing.informedOn, method: closing.method }
          : {}),
      },
    },
  ]);
  return toNotice({ ...row, ...closed, ...fields } as NoticeRow, session.today);
}

/**
 * Records how and when the parents were informed. The assessment's open inform-parents steps
 * are done with it (the duty and the guide's step are one fact).
 */
export async function recordInformed(
  session: Session,
  trx: Transaction<DB>,
  input: { id: string; body: RecordInformed },
): Promise<ParentNotice> {
  const { body } = input;
  const notice = await closeNotice(
    session,
    trx,
    input.id,
    { outcome: 'informed', informedOn: body.informedOn, method: body.method },
    {
      informed_on: body.informedOn,
      method: body.method,
      informed_by_name: body.informedBy.name,
      informed_by_role: body.informedBy.role,
      note: body.note ?? null,
    },
  );
  const reason = `Parents informed (${body.method}) on ${body.informedOn}.`;
  const steps = await trx
    .updateTable('recommendation_steps')
    .set({
      status: 'done',
      status_reason: reason,
      status_changed_at: session.now,
      status_changed_by: session.principal.id,
    })
    .where('municipality_id', '=', session.municipalityId)
    .where('purpose', '=', 'inform_parents')
    .where('status', '=', 'open')
    .where('recommendation_id', 'in', (eb) =>
      eb
        .selectFrom('recommendations')
        .select('recommendations.id')
        .where('recommendations.municipality_id', '=', session.municipalityId)
        .where('recommendations.assessment_id', '=', notice.assessmentId),
    )
    .returning(['id', 'step_key'])
    .execute();
  await appendEvents(
    trx,
    steps.map((step) => ({
      municipalityId: session.municipalityId,
      type: 'step.status_changed' as const,
      childId: notice.childId,
      subjectType: 'step' as const,
      subjectId: step.id,
      payload: { stepKey: step.step_key, from: 'open' as const, to: 'done' as const, reason },
    })),
  );
  return notice;
}

/** A leader's decision not to inform the parents: a violence or abuse flag, with a reason. */
export function recordNotInformed(
  session: Session,
  trx: Transaction<DB>,
  input: { id: string; body: RecordNotInformed },
): Promise<ParentNotice> {
  return closeNotice(
    session,
    trx,
    input.id,
    { outcome: 'not_informed_risk', reason: input.body.reason },
    { note: input.body.reason },
  );
}

/**
 * The letter to the parents for a notice (domain/parent-letter.ts), from what is recorded: the
 * municipality, unit, child's given name, ruler, zone, and the assessment's steps that involve
 * the parents. None while a violence or abuse flag leaves the decision to a leader (or a leader
 * decided not to inform), nor for a superseded notice.
 */
export async function noticeLetter(
  session: Session,
  trx: Transaction<DB>,
  input: { id: string; language: LetterLanguage; retentionYears: number },
): Promise<Letter> {
  const row = await requireNotice(session, trx, input.id);
  session.audit({ resourceId: row.id, childId: row.child_id });
  const offered = await offeredLanguages(trx, session.municipalityId);
  if (!offered.includes(input.language)) {
    throw new ValidationFailedError('The municipality does not offer letters in this language.', [
      {
        path: 'query.language',
        message: `is not offered: choose one of ${offered.join(', ')}`,
        code: 'language_not_offered',
      },
    ]);
  }
  if (row.status === 'superseded') {
    throw new ConflictError('The assessment was corrected or withdrawn: no letter.', 'superseded');
  }
  // Under a violence or abuse flag of this or a later assessment, until a leader records the
  // parents informed of an assessment on or after it (src/domain/parent-view.ts).
  if (await parentsWithheld(trx, row.child_id)) {
    throw new ConflictError(
      'A red flag of violence or abuse: no letter unless a leader has recorded that the ' +
        'parents are informed.',
      'parent-notice-risk',
    );
  }
  const m = session.municipalityId;
  const facts = await trx
    .selectFrom('parent_notices as n')
    .innerJoin('municipalities as mu', 'mu.id', 'n.municipality_id')
    .innerJoin('units as u', 'u.id', 'n.unit_id')
    .innerJoin('children as c', 'c.id', 'n.child_id')
    .innerJoin('assessments as a', 'a.id', 'n.assessment_id')
    .innerJoin('ruler_versions as rv', 'rv.id', 'a.ruler_version_id')
    .innerJoin('rulers as r', 'r.id', 'rv.ruler_id')
    .select([
      'mu.name as municipality',
      'u.name as unit',
      'c.given_name',
      'r.name as ruler',
      'a.status as assessment_status',
    ])
    .where('n.municipality_id', '=', m)
    .where('n.id', '=', row.id)
    .executeTakeFirstOrThrow();
  if (facts.assessment_status !== 'current') {
    throw new ConflictError('The assessment was corrected or withdrawn: no letter.', 'superseded');
  }
  const steps = await trx
    .selectFrom('recommendation_steps as s')
    .innerJoin('recommendations as rec', 'rec.id', 's.recommendation_id')
    .select(['s.title', sql<string>`s.due_on::text`.as('due_on')])
    .where('s.municipality_id', '=', m)
    .where('rec.assessment_id', '=', row.assessment_id)
    .where('s.status', '<>', 'superseded')
    .where(sql<boolean>`'parents' = ANY(s.involve)`)
    .where('s.purpose', '<>', 'inform_parents')
    .orderBy('s.position')
    .execute();
  return parentLetter({
    language: input.language,
    municipality: facts.municipality,
    unit: facts.unit,
    childGivenName: facts.given_name,
    assessedOn: row.assessed_on,
    ruler: facts.ruler,
    zone: row.zone as 'green' | 'yellow' | 'red',
    previousZone: row.previous_zone as 'green' | 'yellow' | 'red' | null,
    reason: row.reason as 'first_assessment' | 'zone_change',
    steps: steps.map((s) => ({
      // Guides label steps in Danish and English: other languages show the English title.
      title:
        (s.title as Partial<Record<LetterLanguage, string>>)[input.language] ??
        (s.title as { en: string }).en,
      dueOn: s.due_on,
    })),
    retentionYears: input.retentionYears,
    today: session.today,
  });
}

/** The languages the municipality offers letters in: Danish, then those it enabled. */
async function offeredLanguages(trx: Transaction<DB>, municipalityId: string) {
  const row = await trx
    .selectFrom('municipalities')
    .select('parent_letter_languages')
    .where('id', '=', municipalityId)
    .executeTakeFirstOrThrow();
  return ['da', ...row.parent_letter_languages] as LetterLanguage[];
}

export async function getLetterLanguages(session: Session, trx: Transaction<DB>, _input: null) {
  return {
    languages: await offeredLanguages(trx, session.municipalityId),
    available: [...letterLanguages],
  };
}

export async function setLetterLanguages(
  session: Session,
  trx: Transaction<DB>,
  input: { languages: OptionalLetterLanguage[] },
) {
  await trx
    .updateTable('municipalities')
    .set({ parent_letter_languages: input.languages })
    .where('id', '=', session.municipalityId)
    .execute();
  return getLetterLanguages(session, trx, null);
}
