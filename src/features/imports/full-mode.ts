import { sql, type Transaction } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { ChunkContext } from './apply.js';

/**
 * Full mode, after the last row: ends, on `endDate`, the enrolments in `unitIds` that are open
 * on that date and whose child is absent from the file. Never deletes; leaves alone enrolments
 * with assessments after `endDate` in the unit (ending them would strand the assessments) and
 * enrolments that start after `endDate`. Returns the ended enrolments (in a dry run: those that
 * would be ended).
 */
export async function endAbsentEnrolments(
  trx: Transaction<DB>,
  ctx: ChunkContext & { unitIds: readonly string[]; endDate: string },
): Promise<{ id: string; child_id: string }[]> {
  const { municipalityId, jobId, unitIds, endDate } = ctx;
  if (unitIds.length === 0) return [];
  const absent = await trx
    .selectFrom('enrolments as e')
    .innerJoin('children as c', 'c.id', 'e.child_id')
    .select(['e.id', 'e.child_id'])
    .where('e.municipality_id', '=', municipalityId)
    .where('e.unit_id', 'in', [...unitIds])
    .where('e.start_date', '<=', endDate)
    .where((eb) => eb.or([eb('e.end_date', 'is', null), eb('e.end_date', '>', endDate)]))
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('import_rows as r')
            .select(sql`1`.as('one'))
            .where('r.municipality_id', '=', municipalityId)
            .where('r.job_id', '=', jobId)
            .where(sql<boolean>`btrim(r.data->>'externalRef') = c.external_ref`),
        ),
      ),
    )
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('assessments as a')
            .select(sql`1`.as('one'))
            .whereRef('a.child_id', '=', 'e.child_id')
            .whereRef('a.unit_id', '=', 'e.unit_id')
            .where('a.status', '=', 'current')
            .where('a.assessed_on', '>', endDate),
        ),
      ),
    )
    .orderBy('e.id')
    .execute();
  if (absent.length === 0 || ctx.dryRun) return absent;
  const ids = absent.map((e) => e.id);
  for (let at = 0; at < ids.length; at += 1000) {
    await trx
      .updateTable('enrolments')
      .set({ end_date: endDate, updated_at: ctx.now })
      .where('municipality_id', '=', municipalityId)
      .where('id', 'in', ids.slice(at, at + 1000))
      .execute();
  }
  return absent;
}
