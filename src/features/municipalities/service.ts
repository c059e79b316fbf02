import type { Transaction } from 'kysely';
import { z } from 'zod';
import { isUniqueViolation } from '../../db/errors.js';
import type { DB } from '../../db/schema.js';
import { ConflictError } from '../../errors.js';
import { decodeCursor, toPage } from '../../http/pagination.js';
import type { Session } from '../../request/session.js';
import {
  insertMunicipality,
  listMunicipalities,
  type MunicipalityRow,
  requireMunicipality,
} from './repository.js';
import type { CreateMunicipality, Municipality } from './schemas.js';

export function toMunicipality(row: MunicipalityRow): Municipality {
  return { id: row.id, code: row.code, name: row.name, createdAt: row.created_at.toISOString() };
}

/** Platform scope: platform administrators only (the route's permission). */
export async function createMunicipality(
  _session: Session,
  trx: Transaction<DB>,
  input: CreateMunicipality,
): Promise<Municipality> {
  try {
    return toMunicipality(await insertMunicipality(trx, input));
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ConflictError(`A municipality with code ${input.code} already exists.`);
    }
    throw error;
  }
}

/** Path scope: the runner has already answered 404 for another municipality's caller. */
export async function getMunicipality(
  _session: Session,
  trx: Transaction<DB>,
  id: string,
): Promise<Municipality> {
  return toMunicipality(await requireMunicipality(trx, id));
}

const cursorSchema = z.tuple([z.string()]);

export async function listAllMunicipalities(
  _session: Session,
  trx: Transaction<DB>,
  query: { limit: number; cursor?: string | undefined },
) {
  const afterCode = query.cursor ? decodeCursor(query.cursor, cursorSchema)[0] : undefined;
  const rows = await listMunicipalities(trx, {
    limit: query.limit,
    ...(afterCode ? { afterCode } : {}),
  });
  return toPage(rows, query.limit, toMunicipality, (row) => [row.code]);
}
