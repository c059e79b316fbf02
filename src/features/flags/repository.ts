import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { Flag } from './schemas.js';

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

/** The municipality's flags, for the caller to filter, order and page. */
export function selectFlags(db: Executor, municipalityId: string) {
  return db.selectFrom('flags').select(flagColumns).where('municipality_id', '=', municipalityId);
}

export type FlagRow = Awaited<
  ReturnType<ReturnType<typeof selectFlags>['executeTakeFirstOrThrow']>
>;

export function toFlag(row: FlagRow): Flag {
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
