import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { Executor } from '../../db/database.js';
import type { DB } from '../../db/schema.js';
import { isIsoDate } from '../../domain/dates.js';
import type { Zone } from '../../domain/rulers/definition.js';
import { NotFoundError, ValidationFailedError } from '../../errors.js';
import { decodeCursor, toPage } from '../../http/pagination.js';
import type { FieldError } from '../../http/problem.js';
import type { Session } from '../../request/session.js';
import type { Sex } from '../children/schemas.js';
import { findVersion } from '../rulers/repository.js';
import { findUnit, requireUnit } from '../units/repository.js';
import type { UnitKind } from '../units/schemas.js';
import {
  coverageByUnit,
  coverageTotal,
  findRound,
  insertRound,
  listRounds,
  missingChildren,
  type RoundRow,
  rosterOfUnit,
} from './repository.js';
import type { CreateRound, Round } from './schemas.js';

export function toRound(row: RoundRow, today: string): Round {
  return {
    id: row.id,
    name: row.name,
    windowStart: row.window_start,
    windowEnd: row.window_end,
    status: today < row.window_start ? 'upcoming' : today > row.window_end ? 'closed' : 'open',
    rulerVersionId: row.ruler_version_id,
    unitKinds: row.unit_kinds as UnitKind[],
    unitIds: row.unit_ids,
    minAgeMonths: row.min_age_months,
    maxAgeMonths: row.max_age_months,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The round of the municipality; 404 otherwise. */
export async function requireRound(
  db: Executor,
  municipalityId: string,
  id: string,
): Promise<RoundRow> {
  const row = await findRound(db, municipalityId, id);
  if (!row) throw new NotFoundError('round', id);
  return row;
}

export async function createRound(
  session: Session,
  trx: Transaction<DB>,
  input: CreateRound,
): Promise<Round> {
  const municipalityId = session.municipalityId;
  const errors: FieldError[] = [];
  if (input.windowEnd < input.windowStart) {
    errors.push({ path: 'body.windowEnd', message: 'is before windowStart', code: 'before_start' });
  }
  if (
    input.minAgeMonths !== undefined &&
    input.maxAgeMonths !== undefined &&
    input.maxAgeMonths < input.minAgeMonths
  ) {
    errors.push({
      path: 'body.maxAgeMonths',
      message: 'is below minAgeMonths',
      code: 'empty_range',
    });
  }
  if (!(await findVersion(trx, municipalityId, input.rulerVersionId))) {
    errors.push({
      path: 'body.rulerVersionId',
      message: 'is not a ruler version you can use',
      code: 'unknown',
    });
  }
  for (const [index, unitId] of input.unitIds.entries()) {
    if (!(await findUnit(trx, municipalityId, unitId))) {
      errors.push({
        path: `body.unitIds.${index}`,
        message: 'is not a unit of your municipality',
        code: 'unknown',
      });
    }
  }
  const unitIds = [...new Set(input.unitIds)];
  if (errors.length > 0) throw new ValidationFailedError('The round cannot be created.', errors);
  const row = await insertRound(trx, {
    municipality_id: municipalityId,
    name: input.name,
    window_start: input.windowStart,
    window_end: input.windowEnd,
    ruler_version_id: input.rulerVersionId,
    unit_kinds: [...new Set(input.unitKinds)],
    unit_ids: unitIds,
    min_age_months: input.minAgeMonths ?? null,
    max_age_months: input.maxAgeMonths ?? null,
  });
  return toRound(row, session.today);
}

export async function getRound(session: Session, trx: Transaction<DB>, id: string): Promise<Round> {
  return toRound(await requireRound(trx, session.municipalityId, id), session.today);
}

const cursorSchema = z.tuple([z.string().refine(isIsoDate), z.uuid()]);

export async function listMunicipalityRounds(
  session: Session,
  trx: Transaction<DB>,
  query: {
    limit: number;
    cursor?: string | undefined;
    unitId?: string | undefined;
    status?: Round['status'] | undefined;
  },
) {
  const after = query.cursor ? decodeCursor(query.cursor, cursorSchema) : undefined;
  const today = session.today;
  const unit = query.unitId
    ? await requireUnit(trx, session.municipalityId, query.unitId)
    : undefined;
  const rows = await listRounds(trx, session.municipalityId, {
    limit: query.limit,
    after: after ? { windowStart: after[0], id: after[1] } : undefined,
    unit: unit ? { id: unit.id, kind: unit.kind } : undefined,
    status: query.status ? { is: query.status, today } : undefined,
  });
  return toPage(
    rows,
    query.limit,
    (row) => toRound(row, today),
    (row) => [row.window_start, row.id],
  );
}

const ratio = (assessed: number, enrolled: number) =>
  enrolled === 0 ? null : Math.round((assessed / enrolled) * 10_000) / 10_000;

/** Coverage per unit: enrolled vs assessed; unit-limited keys see their own units only. */
export async function roundCoverage(session: Session, trx: Transaction<DB>, roundId: string) {
  const municipalityId = session.municipalityId;
  const { unitIds } = session.access;
  const round = await requireRound(trx, municipalityId, roundId);
  const rows = await coverageByUnit(trx, municipalityId, round, unitIds);
  const units = rows.map((r) => ({
    unitId: r.unit_id,
    unitName: r.unit_name,
    unitKind: r.unit_kind as UnitKind,
    enrolled: r.enrolled,
    assessed: r.assessed,
    missing: r.enrolled - r.assessed,
    coverage: ratio(r.assessed, r.enrolled),
  }));
  const { enrolled, assessed } = await coverageTotal(trx, municipalityId, round, unitIds);
  return {
    roundId,
    units,
    total: {
      enrolled,
      assessed,
      missing: enrolled - assessed,
      coverage: ratio(assessed, enrolled),
    },
  };
}

/** The round and one of its units, as the caller may see them (404 / 403 otherwise). */
async function requireRoundUnit(
  session: Session,
  trx: Transaction<DB>,
  { roundId, unitId }: { roundId: string; unitId: string },
) {
  const round = await requireRound(trx, session.municipalityId, roundId);
  await requireUnit(trx, session.municipalityId, unitId);
  session.access.requireUnit(unitId);
  return round;
}

export async function unitCoverage(
  session: Session,
  trx: Transaction<DB>,
  { roundId, unitId }: { roundId: string; unitId: string },
) {
  const municipalityId = session.municipalityId;
  const round = await requireRoundUnit(session, trx, { roundId, unitId });
  const [counts] = await coverageByUnit(trx, municipalityId, round, [unitId]);
  const missing = await missingChildren(trx, municipalityId, round, unitId);
  // The missing list names children: one search entry for the list.
  session.audit({ criteria: { roundId, unitId, results: missing.length } });
  const enrolled = counts?.enrolled ?? 0;
  const assessed = counts?.assessed ?? 0;
  return {
    roundId,
    unitId,
    enrolled,
    assessed,
    missing: enrolled - assessed,
    coverage: ratio(assessed, enrolled),
    missingChildren: missing.map((c) => ({
      childId: c.id,
      externalRef: c.external_ref,
      givenName: c.given_name,
      familyName: c.family_name,
      birthDate: c.birth_date,
    })),
  };
}

/**
 * A unit's round roster: every child the round covers there, with the current assessment,
 * open flags and open / overdue steps. What a round in the staff app starts from.
 */
export async function unitRoster(
  session: Session,
  trx: Transaction<DB>,
  { roundId, unitId }: { roundId: string; unitId: string },
) {
  const round = await requireRoundUnit(session, trx, { roundId, unitId });
  const rows = await rosterOfUnit(trx, session.municipalityId, round, unitId, session.today);
  // The roster names children and their zones: one search entry for the list.
  session.audit({ criteria: { roundId, unitId, results: rows.length } });
  const assessed = rows.filter((r) => r.assessment_id !== null).length;
  return {
    roundId,
    unitId,
    rulerVersionId: round.ruler_version_id,
    enrolled: rows.length,
    assessed,
    missing: rows.length - assessed,
    coverage: ratio(assessed, rows.length),
    children: rows.map((r) => ({
      childId: r.id,
      externalRef: r.external_ref,
      givenName: r.given_name,
      familyName: r.family_name,
      birthDate: r.birth_date,
      sex: r.sex as Sex | null,
      status:
        r.assessment_id === null
          ? ('missing' as const)
          : (r.version ?? 1) > 1
            ? ('corrected' as const)
            : ('assessed' as const),
      assessment:
        r.assessment_id !== null && r.lineage_id !== null && r.assessed_on !== null
          ? {
              id: r.assessment_id,
              lineageId: r.lineage_id,
              version: r.version ?? 1,
              zone: r.zone as Zone | null,
              assessedOn: r.assessed_on,
            }
          : null,
      openFlags: r.open_flags,
      openSteps: r.open_steps,
      overdueSteps: r.overdue_steps,
    })),
  };
}
