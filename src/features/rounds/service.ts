import type { Transaction } from 'kysely';
import { z } from 'zod';
import { audit } from '../../audit/audit.js';
import { municipalityOf, type Principal, requireUnitAccess } from '../../auth/principal.js';
import { type Database, municipalityScope } from '../../db/database.js';
import type { DB } from '../../db/schema.js';
import { isIsoDate, localDate } from '../../domain/dates.js';
import { NotFoundError, ValidationFailedError } from '../../errors.js';
import { decodeCursor, toPage } from '../../http/pagination.js';
import type { FieldError } from '../../http/problem.js';
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

export async function requireRound(trx: Transaction<DB>, municipalityId: string, id: string) {
  const row = await findRound(trx, municipalityId, id);
  if (!row) throw new NotFoundError('round', id);
  return row;
}

export async function createRound(
  trx: Transaction<DB>,
  principal: Principal,
  input: CreateRound,
  now: Date,
): Promise<Round> {
  const municipalityId = municipalityOf(principal);
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
  return toRound(row, localDate(now));
}

export async function getRound(database: Database, principal: Principal, id: string, now: Date) {
  const municipalityId = municipalityOf(principal);
  const row = await database.transaction(municipalityScope(municipalityId), (trx) =>
    requireRound(trx, municipalityId, id),
  );
  return toRound(row, localDate(now));
}

const cursorSchema = z.tuple([z.string().refine(isIsoDate), z.uuid()]);

export async function listMunicipalityRounds(
  database: Database,
  principal: Principal,
  query: { limit: number; cursor?: string | undefined },
  now: Date,
) {
  const municipalityId = municipalityOf(principal);
  const after = query.cursor ? decodeCursor(query.cursor, cursorSchema) : undefined;
  const rows = await database.transaction(municipalityScope(municipalityId), (trx) =>
    listRounds(trx, municipalityId, {
      limit: query.limit,
      after: after ? { windowStart: after[0], id: after[1] } : undefined,
    }),
  );
  const today = localDate(now);
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
export async function roundCoverage(database: Database, principal: Principal, roundId: string) {
  const municipalityId = municipalityOf(principal);
  return database.transaction(municipalityScope(municipalityId), async (trx) => {
    const round = await requireRound(trx, municipalityId, roundId);
    const rows = await coverageByUnit(trx, municipalityId, round, principal.unitIds);
    const units = rows.map((r) => ({
      unitId: r.unit_id,
      unitName: r.unit_name,
      unitKind: r.unit_kind as UnitKind,
      enrolled: r.enrolled,
      assessed: r.assessed,
      missing: r.enrolled - r.assessed,
      coverage: ratio(r.assessed, r.enrolled),
    }));
    const { enrolled, assessed } = await coverageTotal(
      trx,
      municipalityId,
      round,
      principal.unitIds,
    );
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
  });
}

export async function unitCoverage(
  database: Database,
  principal: Principal,
  roundId: string,
  unitId: string,
) {
  const municipalityId = municipalityOf(principal);
  return database.transaction(municipalityScope(municipalityId), async (trx) => {
    const round = await requireRound(trx, municipalityId, roundId);
    await requireUnit(trx, municipalityId, unitId);
    requireUnitAccess(principal, unitId);
    const [counts] = await coverageByUnit(trx, municipalityId, round, [unitId]);
    const missing = await missingChildren(trx, municipalityId, round, unitId);
    // The missing list names children: one search entry for the list.
    await audit(trx, principal, {
      action: 'search',
      resource: 'coverage',
      criteria: { roundId, unitId, results: missing.length },
    });
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
  });
}
