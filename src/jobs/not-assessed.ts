import { randomUUID } from 'node:crypto';
import { auditSystem } from '../audit/audit.js';
import { type Database, municipalityScope } from '../db/database.js';
import { municipalityIds } from '../db/municipality-ids.js';
import { localDate } from '../domain/dates.js';
import { notAssessedAuditSubjects, raiseNotAssessedFlags } from '../features/flags/not-assessed.js';

/**
 * The not-assessed sweep: raises the not-assessed flags of every round that closed and was not
 * processed yet, one municipality's scope at a time (at most 500 rounds of each per call). A
 * job, not a request: it opens its own transactions and audits as the system.
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
      raised += await database.transaction(scope, async (trx) => {
        const { flags } = await raiseNotAssessedFlags(trx, municipalityId, round.id, now);
        await auditSystem(
          trx,
          { job: 'not-assessed-flags', runId, municipalityId },
          ...notAssessedAuditSubjects(round.id, flags).map((subject) => ({
            action: 'create' as const,
            resource: 'flag' as const,
            ...subject,
          })),
        );
        return flags.length;
      });
    }
  }
  return raised;
}
