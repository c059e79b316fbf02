import { sql, type Transaction } from 'kysely';
import type { DB } from '../../db/schema.js';
import { localDate } from '../../domain/dates.js';
import { birthBounds } from '../../domain/rounds.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import { appendEvents } from '../events/outbox.js';
import { findRound } from '../rounds/repository.js';

/** Rows per INSERT of not-assessed flags (7 parameters each). */
const FLAG_INSERT_CHUNK = 1000;

/**
 * Raises `not_assessed` for every child enrolled in a covered unit during a closed round's
 * window without a current assessment there. Idempotent: a flag is raised once per child, unit
 * and round. Used by the route (POST /v1/rounds/:roundId/not-assessed-flags) and by the sweep
 * (src/jobs/not-assessed.ts); each writes the audit entries of the flags it returns.
 */
export async function raiseNotAssessedFlags(
  trx: Transaction<DB>,
  municipalityId: string,
  roundId: string,
  now: Date,
): Promise<{ flags: { id: string; child_id: string }[] }> {
  const round = await findRound(trx, municipalityId, roundId);
  if (!round) throw new NotFoundError('round', roundId);
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
  await trx
    .updateTable('rounds')
    .set({ not_assessed_flagged_at: now })
    .where('id', '=', round.id)
    .where('not_assessed_flagged_at', 'is', null)
    .execute();
  return { flags: inserted };
}

/**
 * The audit subjects of a not-assessed run: one per child flagged (the trail of each child
 * shows it), or one saying none.
 */
export function notAssessedAuditSubjects(
  roundId: string,
  flags: { id: string; child_id: string }[],
) {
  return flags.length > 0
    ? flags.map((flag) => ({
        resourceId: flag.id,
        childId: flag.child_id,
        criteria: { roundId, kind: 'not_assessed' },
      }))
    : [{ criteria: { roundId, kind: 'not_assessed', results: 0 } }];
}
