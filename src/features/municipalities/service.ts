import type { Transaction } from 'kysely';
import { z } from 'zod';
import { type Principal, requireMunicipalityAccess } from '../../auth/principal.js';
import { type Database, municipalityScope, platformScope } from '../../db/database.js';
import { isUniqueViolation } from '../../db/errors.js';
import type { DB } from '../../db/schema.js';
import { ConflictError } from '../../errors.js';
import { decodeCursor, toPage } from '../../http/pagination.js';
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

export async function createMunicipality(
  trx: Transaction<DB>,
  input: CreateMunicipality,
): Promise<Municipality> {
  try {
    const row = await insertMunicipality(trx, input);
    return toMunicipality(row);
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ConflictError(`A municipality with code ${input.code} already exists.`);
    }
    throw error;
  }
}

export async function getMunicipality(
  database: Database,
  principal: Principal,
  id: string,
): Promise<Municipality> {
  requireMunicipalityAccess(principal, id);
  const row = await database.transaction(municipalityScope(id), (trx) =>
    requireMunicipality(trx, id),
  );
  return toMunicipality(row);
}

const cursorSchema = z.tuple([z.string()]);

export async function listAllMunicipalities(
  database: Database,
  query: { limit: number; cursor?: string | undefined },
) {
  const afterCode = query.cursor ? decodeCursor(query.cursor, cursorSchema)[0] : undefined;
  const rows = await database.transaction(platformScope, (trx) =>
    listMunicipalities(trx, { limit: query.limit, ...(afterCode ? { afterCode } : {}) }),
  );
  return toPage(rows, query.limit, toMunicipality, (row) => [row.code]);
}
