import type { Transaction } from 'kysely';
import { stepsVisibleTo } from '../../access/policy.js';
import type { DB } from '../../db/schema.js';
import { NotFoundError, ValidationFailedError } from '../../errors.js';
import type { Session } from '../../request/session.js';
import { appendEvents } from '../events/outbox.js';
import { stepColumns } from '../recommendations/repository.js';
import { concernColumns, toConcernReport } from './repository.js';
import type { CreateConcernReport } from './schemas.js';

/** Records a concern report (underretning) and completes the child's concern-report steps. */
export async function recordConcernReport(
  session: Session,
  trx: Transaction<DB>,
  input: { childId: string; body: CreateConcernReport },
) {
  const { childId, body } = input;
  const { access, now } = session;
  const municipalityId = session.municipalityId;
  if (!(await access.seesChild(trx, childId))) throw new NotFoundError('child', childId);
  if (body.reportedOn > session.today) {
    throw new ValidationFailedError('The concern report cannot be recorded.', [
      { path: 'body.reportedOn', message: 'is in the future', code: 'future_date' },
    ]);
  }
  let q = trx
    .selectFrom('recommendation_steps')
    .select(stepColumns)
    .where(stepsVisibleTo(access.steps()))
    .where('recommendation_steps.child_id', '=', childId)
    .where('recommendation_steps.purpose', '=', 'concern_report')
    .where('recommendation_steps.status', '=', 'open')
    .forUpdate();
  if (body.stepIds) q = q.where('recommendation_steps.id', 'in', body.stepIds);
  const steps = await q.execute();
  const missing = (body.stepIds ?? []).filter((id) => !steps.some((s) => s.id === id));
  if (missing.length > 0) {
    throw new ValidationFailedError('The concern report cannot complete those steps.', [
      ...missing.map((id) => ({
        path: `body.stepIds.${body.stepIds?.indexOf(id)}`,
        message: `${id} is not an open concern-report step of this child`,
        code: 'not_open_concern_report_step',
      })),
    ]);
  }
  const stepIds = steps.map((s) => s.id);
  const report = await trx
    .insertInto('concern_reports')
    .values({
      municipality_id: municipalityId,
      child_id: childId,
      reported_on: body.reportedOn,
      reported_by_name: body.reportedBy.name,
      reported_by_role: body.reportedBy.role,
      reference: body.reference ?? null,
      completed_step_ids: stepIds,
      created_by: session.principal.id,
    })
    .returning(concernColumns)
    .executeTakeFirstOrThrow();
  if (stepIds.length > 0) {
    await trx
      .updateTable('recommendation_steps')
      .set({
        status: 'done',
        status_reason: `Concern report ${report.id}${body.reference ? ` (${body.reference})` : ''}`,
        status_changed_at: now,
        status_changed_by: session.principal.id,
      })
      .where('id', 'in', stepIds)
      .execute();
  }
  await appendEvents(trx, [
    {
      municipalityId,
      type: 'concern_report.recorded',
      childId,
      subjectType: 'concern_report',
      subjectId: report.id,
      payload: { reportedOn: body.reportedOn, reference: body.reference ?? null, stepIds },
    },
    ...steps.map((s) => ({
      municipalityId,
      type: 'step.status_changed' as const,
      childId,
      subjectType: 'step' as const,
      subjectId: s.id,
      payload: {
        stepKey: s.step_key,
        from: 'open' as const,
        to: 'done' as const,
        concernReportId: report.id,
      },
    })),
  ]);
  session.audit({ resourceId: report.id, childId });
  return toConcernReport(report);
}

export async function listConcernReports(session: Session, trx: Transaction<DB>, childId: string) {
  if (!(await session.access.seesChild(trx, childId))) throw new NotFoundError('child', childId);
  const rows = await trx
    .selectFrom('concern_reports')
    .select(concernColumns)
    .where('municipality_id', '=', session.municipalityId)
    .where('child_id', '=', childId)
    .orderBy('reported_on')
    .orderBy('created_at')
    .execute();
  session.audit({ childId });
  return { items: rows.map(toConcernReport) };
}
