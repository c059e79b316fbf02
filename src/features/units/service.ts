import type { Transaction } from 'kysely';
import { z } from 'zod';
import { isUniqueViolation } from '../../db/errors.js';
import type { DB } from '../../db/schema.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import { requireIfMatch } from '../../http/etag.js';
import { changedCursorSchema, decodeCursor, toPage } from '../../http/pagination.js';
import type { Session } from '../../request/session.js';
import {
  insertUnit,
  listUnits,
  lockUnit,
  requireUnit,
  type UnitRow,
  updateUnit,
} from './repository.js';
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
  session: Session,
  trx: Transaction<DB>,
  input: CreateUnit,
): Promise<Unit> {
  try {
    const row = await insertUnit(trx, {
      municipality_id: session.municipalityId,
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

export async function getUnit(session: Session, trx: Transaction<DB>, id: string): Promise<Unit> {
  return toUnit(await requireUnit(trx, session.municipalityId, id));
}

export async function changeUnit(
  session: Session,
  trx: Transaction<DB>,
  { id, body: input, ifMatch }: { id: string; body: UpdateUnit; ifMatch?: string | undefined },
): Promise<Unit> {
  const municipalityId = session.municipalityId;
  if (ifMatch !== undefined) {
    // Compared on the locked row: a concurrent change waits, then finds the version changed.
    const current = await lockUnit(trx, municipalityId, id);
    if (!current) throw new NotFoundError('unit', id);
    requireIfMatch(ifMatch, toUnit(current), 'unit');
  }
  let row: UnitRow | undefined;
  try {
    row = await updateUnit(
      trx,
      municipalityId,
      id,
      {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.kind !== undefined ? { kind: input.kind } : {}),
        ...(input.district !== undefined ? { district: input.district } : {}),
        ...(input.externalRef !== undefined ? { external_ref: input.externalRef } : {}),
      },
      session.now,
    );
  } catch (error) {
    return duplicateRef(error, input.externalRef);
  }
  if (!row) throw new NotFoundError('unit', id);
  return toUnit(row);
}

const cursorSchema = z.tuple([z.string(), z.uuid()]);

export async function listMunicipalityUnits(
  session: Session,
  trx: Transaction<DB>,
  query: {
    limit: number;
    cursor?: string | undefined;
    kind?: string | undefined;
    district?: string | undefined;
    externalRef?: string | undefined;
    updatedSince?: string | undefined;
  },
) {
  // In change order the key is (updated_at, id); a cursor of the other order does not parse.
  const byChange = query.updatedSince !== undefined;
  const after = query.cursor
    ? decodeCursor(query.cursor, byChange ? changedCursorSchema : cursorSchema)
    : undefined;
  const rows = await listUnits(trx, session.municipalityId, {
    ...query,
    after: after ? { name: after[0], id: after[1] } : undefined,
  });
  return toPage(rows, query.limit, toUnit, (row) => [
    byChange ? row.updated_at_key : row.name,
    row.id,
  ]);
}
