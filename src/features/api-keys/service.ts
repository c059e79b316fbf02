import type { Transaction } from 'kysely';
import { z } from 'zod';
import { generateToken } from '../../auth/api-key-token.js';
import { municipalityWideRoles, type StaffRole, unitLimitedRoles } from '../../auth/permissions.js';
import type { DB } from '../../db/schema.js';
import { ConflictError, NotFoundError, ValidationFailedError } from '../../errors.js';
import { decodeCursor, PgTimestampSchema, toPage } from '../../http/pagination.js';
import type { FieldError } from '../../http/problem.js';
import type { Session } from '../../request/session.js';
import { requireMunicipality } from '../municipalities/repository.js';
import { unknownUnitErrors } from '../units/repository.js';
import {
  type ApiKeyRow,
  findApiKey,
  insertApiKey,
  type KeyState,
  listApiKeys,
  revokeApiKey,
} from './repository.js';
import type { ApiKey, CreateApiKey } from './schemas.js';

export function toApiKey(row: ApiKeyRow, now: Date): ApiKey {
  const status = row.revoked_at
    ? 'revoked'
    : row.expires_at && row.expires_at <= now
      ? 'expired'
      : 'active';
  return {
    id: row.id,
    keyId: `lnl_${row.key_id}`,
    name: row.name,
    role: row.role as StaffRole,
    municipalityId: row.municipality_id,
    unitIds: row.unit_ids,
    status,
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
    expiresAt: row.expires_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
    revokedBy: row.revoked_by,
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
  };
}

/** The rules a new key must satisfy beyond its schema; every broken rule is reported. */
export function apiKeyRuleViolations(input: CreateApiKey, now: Date): FieldError[] {
  const errors: FieldError[] = [];
  if (unitLimitedRoles.includes(input.role) && input.unitIds.length === 0) {
    errors.push({
      path: 'body.unitIds',
      message: `a ${input.role} key must be limited to at least one unit`,
      code: 'required_for_role',
    });
  }
  if (municipalityWideRoles.includes(input.role) && input.unitIds.length > 0) {
    errors.push({
      path: 'body.unitIds',
      message: `a ${input.role} key acts for the whole municipality and cannot be limited to units`,
      code: 'not_allowed_for_role',
    });
  }
  if (new Set(input.unitIds).size !== input.unitIds.length) {
    errors.push({ path: 'body.unitIds', message: 'lists a unit twice', code: 'duplicate' });
  }
  if (input.expiresAt && new Date(input.expiresAt) <= now) {
    errors.push({ path: 'body.expiresAt', message: 'must be in the future', code: 'not_future' });
  }
  return errors;
}

/**
 * A key may be limited only to units of its own municipality (as an identity provider's token
 * is): a unit that is unknown or another municipality's is a 422, not a key that silently
 * grants nothing (or, were the unit ever visible, another municipality's unit).
 */
async function requireOwnUnits(
  trx: Transaction<DB>,
  municipalityId: string,
  unitIds: string[],
): Promise<void> {
  const errors = await unknownUnitErrors(trx, municipalityId, unitIds);
  if (errors.length > 0) throw new ValidationFailedError('The key cannot be created.', errors);
}

/** Path scope: the runner has already answered 404 for another municipality's caller. */
export async function createApiKey(
  session: Session,
  trx: Transaction<DB>,
  { municipalityId, body: input }: { municipalityId: string; body: CreateApiKey },
): Promise<ApiKey & { token: string }> {
  const errors = apiKeyRuleViolations(input, session.now);
  if (errors.length > 0) throw new ValidationFailedError('The key cannot be created.', errors);
  const generated = generateToken();
  await requireMunicipality(trx, municipalityId);
  await requireOwnUnits(trx, municipalityId, input.unitIds);
  const row = await insertApiKey(trx, {
    key_id: generated.keyId,
    key_hash: generated.hash,
    municipality_id: municipalityId,
    name: input.name,
    role: input.role,
    unit_ids: input.unitIds,
    created_by: session.principal.id,
    expires_at: input.expiresAt ? new Date(input.expiresAt) : null,
  });
  return { ...toApiKey(row, session.now), token: generated.token };
}

export async function getApiKey(
  session: Session,
  trx: Transaction<DB>,
  { municipalityId, id }: { municipalityId: string; id: string },
): Promise<ApiKey> {
  const row = await findApiKey(trx, municipalityId, id);
  if (!row) throw new NotFoundError('API key', id);
  return toApiKey(row, session.now);
}

const cursorSchema = z.tuple([PgTimestampSchema, z.uuid()]);

export async function listMunicipalityApiKeys(
  session: Session,
  trx: Transaction<DB>,
  {
    municipalityId,
    query,
  }: {
    municipalityId: string;
    query: { limit: number; cursor?: string | undefined; status: KeyState };
  },
) {
  const now = session.now;
  const after = query.cursor ? decodeCursor(query.cursor, cursorSchema) : undefined;
  await requireMunicipality(trx, municipalityId);
  const rows = await listApiKeys(trx, municipalityId, {
    state: query.status,
    now,
    limit: query.limit,
    ...(after ? { after: { createdAt: after[0], id: after[1] } } : {}),
  });
  return toPage(
    rows,
    query.limit,
    (row) => toApiKey(row, now),
    (row) => [row.created_at_key, row.id],
  );
}

export async function revokeMunicipalityApiKey(
  session: Session,
  trx: Transaction<DB>,
  { municipalityId, id }: { municipalityId: string; id: string },
): Promise<ApiKey> {
  const revoked = await revokeApiKey(trx, municipalityId, id, session.principal.id, session.now);
  if (revoked) return toApiKey(revoked, session.now);
  if (await findApiKey(trx, municipalityId, id)) {
    throw new ConflictError(`The API key ${id} is already revoked.`, 'already-revoked');
  }
  throw new NotFoundError('API key', id);
}
