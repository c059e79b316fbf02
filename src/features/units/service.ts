import type { Transaction } from 'kysely';
import { z } from 'zod';
import { municipalityOf, type Principal } from '../../auth/principal.js';
import { type Database, municipalityScope } from '../../db/database.js';
import { isUniqueViolation } from '../../db/errors.js';
import type { DB } from '../../db/schema.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import { decodeCursor, toPage } from '../../http/pagination.js';
import { insertUnit, listUnits, requireUnit, type UnitRow, updateUnit } from './repository.js';
import type { CreateUnit, Unit, UnitKind, UpdateUnit } from './schemas.js';

export function toUnit(row: UnitRow): Unit {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as UnitKind,
    district: row.district,
    externalRef: row.external_ref,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function duplicateRef(error: unknown, externalRef: string | null | undefined): never {
  if (isUniqueViolation(error, 'units_external_ref_unique')) {
    throw new ConflictError(`A unit with externalRef ${externalRef} already exists.`);
  }
  throw error;
}

export async function createUnit(
  trx: Transaction<DB>,
  principal: Principal,
  input: CreateUnit,
): Promise<Unit> {
  try {
    const row = await insertUnit(trx, {
      municipality_id: municipalityOf(principal),
      name: input.name,
      kind: input.kind,
      district: input.district ?? null,
      external_ref: input.externalRef ?? null,
    });
    return toUnit(row);
  } catch (error) {
    return duplicateRef(error, input.externalRef);
  }
}

export async function getUnit(database: Database, principal: Principal, id: string) {
  const municipalityId = municipalityOf(principal);
  const row = await database.transaction(municipalityScope(municipalityId), (trx) =>
    requireUnit(trx, municipalityId, id),
  );
  return toUnit(row);
}

export async function changeUnit(
  database: Database,
  principal: Principal,
  id: string,
  input: UpdateUnit,
  now: Date,
): Promise<Unit> {
  const municipalityId = municipalityOf(principal);
  try {
    const row = await database.transaction(municipalityScope(municipalityId), (trx) =>
      updateUnit(
        trx,
        municipalityId,
        id,
        {
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.kind !== undefined ? { kind: input.kind } : {}),
          ...(input.district !== undefined ? { district: input.district } : {}),
          ...(input.externalRef !== undefined ? { external_ref: input.externalRef } : {}),
        },
        now,
      ),
    );
    if (!row) throw new NotFoundError('unit', id);
    return toUnit(row);
  } catch (error) {
    return duplicateRef(error, input.externalRef);
  }
}

const cursorSchema = z.tuple([z.string(), z.uuid()]);

export async function listMunicipalityUnits(
  database: Database,
  principal: Principal,
  query: {
    limit: number;
    cursor?: string | undefined;
    kind?: string | undefined;
    district?: string | undefined;
    externalRef?: string | undefined;
  },
) {
  const municipalityId = municipalityOf(principal);
  const after = query.cursor ? decodeCursor(query.cursor, cursorSchema) : undefined;
  const rows = await database.transaction(municipalityScope(municipalityId), (trx) =>
    listUnits(trx, municipalityId, {
      ...query,
      after: after ? { name: after[0], id: after[1] } : undefined,
    }),
  );
  return toPage(rows, query.limit, toUnit, (row) => [row.name, row.id]);
}
