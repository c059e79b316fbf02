import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { Visibility } from '../../access/policy.js';
import { searchCriteria } from '../../audit/audit.js';
import type { Executor } from '../../db/database.js';
import { isUniqueViolation } from '../../db/errors.js';
import type { DB } from '../../db/schema.js';
import { birthDateErrors, cprErrors } from '../../domain/children.js';
import { hashCpr, parseCpr } from '../../domain/cpr.js';
import { latestBirthDateForAge } from '../../domain/dates.js';
import { enrolmentPeriodErrors } from '../../domain/enrolments.js';
import {
  ConflictError,
  type FieldError,
  NotFoundError,
  ValidationFailedError,
} from '../../errors.js';
import { requireIfMatch } from '../../http/etag.js';
import { decodeCursor, PgTimestampSchema, toPage } from '../../http/pagination.js';
import type { Session } from '../../request/session.js';
import { requireUnit } from '../units/repository.js';
import {
  type ChildRow,
  findChild,
  findChildByCprHash,
  insertChild,
  insertEnrolment,
  listChildren,
  listEnrolments,
  updateChild,
} from './repository.js';
import type { Child, CreateChild, UpdateChild } from './schemas.js';

export function toChild(row: ChildRow): Child {
  return {
    id: row.id,
    externalRef: row.external_ref,
    givenName: row.given_name,
    familyName: row.family_name,
    birthDate: row.birth_date,
    sex: row.sex as Child['sex'],
    hasCpr: row.has_cpr,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The child, if the principal may see it; 404 otherwise (also for other municipalities). */
export async function requireChild(
  db: Executor,
  v: Visibility,
  id: string,
  options: { lock?: boolean } = {},
): Promise<ChildRow> {
  const row = await findChild(db, v, id, options);
  if (!row) throw new NotFoundError('child', id);
  return row;
}

/** CPR rules (src/domain/children.ts); returns the number's hash when it passes them. */
function cprHashFor(
  cpr: string,
  birthDate: string,
  municipalityId: string,
  secret: string,
  path: string,
): { hash?: Buffer; errors: FieldError[] } {
  const checked = cprErrors(cpr, birthDate, path);
  if (checked.digits === undefined) return { errors: checked.errors };
  return { hash: hashCpr(checked.digits, municipalityId, secret), errors: [] };
}

function childConflict(error: unknown): never {
  if (isUniqueViolation(error, 'children_external_ref_unique')) {
    throw new ConflictError('A child with this externalRef already exists.', 'duplicate-child');
  }
  if (isUniqueViolation(error, 'children_cpr_unique')) {
    throw new ConflictError('A child with this CPR number already exists.', 'duplicate-child');
  }
  throw error;
}

export async function createChild(
  session: Session,
  trx: Transaction<DB>,
  input: CreateChild,
): Promise<Child> {
  const municipalityId = session.municipalityId;
  const errors: FieldError[] = [];
  errors.push(...birthDateErrors(input.birthDate, session.today, 'body.birthDate'));
  if (session.access.isUnitLimited && !input.enrolment) {
    errors.push({
      path: 'body.enrolment',
      message: 'a unit-limited key must enrol the child in one of its units',
      code: 'required_for_key',
    });
  }
  const cpr =
    input.cpr !== undefined
      ? cprHashFor(input.cpr, input.birthDate, municipalityId, session.cprSecret, 'body.cpr')
      : { errors: [] };
  errors.push(...cpr.errors);
  if (input.enrolment && input.enrolment.startDate < input.birthDate) {
    errors.push({
      path: 'body.enrolment.startDate',
      message: 'is before the birth date',
      code: 'before_birth',
    });
  }
  if (errors.length > 0) throw new ValidationFailedError('The child cannot be created.', errors);
  if (input.enrolment) {
    await requireUnit(trx, municipalityId, input.enrolment.unitId);
    session.access.requireUnit(input.enrolment.unitId);
  }

  let row: ChildRow;
  try {
    row = await insertChild(trx, {
      municipality_id: municipalityId,
      external_ref: input.externalRef,
      given_name: input.givenName ?? null,
      family_name: input.familyName ?? null,
      birth_date: input.birthDate,
      sex: input.sex ?? null,
      cpr_hash: cpr.hash ?? null,
    });
  } catch (error) {
    return childConflict(error);
  }
  if (input.enrolment) {
    const { unitId, startDate, endDate } = input.enrolment;
    const period = { start: startDate, end: endDate ?? null };
    const periodErrors = enrolmentPeriodErrors(period, row.birth_date, 'body.enrolment');
    if (periodErrors.length > 0) {
      throw new ValidationFailedError('The enrolment cannot be made.', periodErrors);
    }
    await insertEnrolment(trx, {
      municipality_id: municipalityId,
      child_id: row.id,
      unit_id: unitId,
      start_date: period.start,
      end_date: period.end,
    });
  }
  session.audit({ resourceId: row.id, childId: row.id });
  return toChild(row);
}

export async function getChild(session: Session, trx: Transaction<DB>, id: string): Promise<Child> {
  const child = await requireChild(trx, session.access.children(), id);
  session.audit({ resourceId: id, childId: id });
  return toChild(child);
}

export async function changeChild(
  session: Session,
  trx: Transaction<DB>,
  { id, body: input, ifMatch }: { id: string; body: UpdateChild; ifMatch?: string | undefined },
): Promise<Child> {
  const v = session.access.childrenToChange();
  const current = await requireChild(trx, v, id, { lock: true });
  // On the locked row: of two changes sent with the same ETag, the second finds it changed.
  requireIfMatch(ifMatch, toChild(current), 'child');
  const birthDate = input.birthDate ?? current.birth_date;
  const errors: FieldError[] = [];
  errors.push(...birthDateErrors(birthDate, session.today, 'body.birthDate'));
  let cprHash: Buffer | null | undefined;
  if (input.cpr === null) cprHash = null;
  else if (input.cpr !== undefined) {
    const cpr = cprHashFor(input.cpr, birthDate, v.municipalityId, session.cprSecret, 'body.cpr');
    errors.push(...cpr.errors);
    cprHash = cpr.hash;
  } else if (
    input.birthDate !== undefined &&
    current.has_cpr &&
    input.birthDate !== current.birth_date
  ) {
    errors.push({
      path: 'body.birthDate',
      message: 'differs from the CPR number on file; send the matching cpr too, or cpr: null',
      code: 'cpr_birth_date_mismatch',
    });
  }
  if (input.birthDate !== undefined) {
    const early = (await listEnrolments(trx, v.municipalityId, id)).filter(
      (e) => e.start_date < birthDate,
    );
    if (early.length > 0) {
      errors.push({
        path: 'body.birthDate',
        message: `is after the start of enrolment(s) ${early.map((e) => `${e.id} (${e.start_date})`).join(', ')}`,
        code: 'after_enrolment_start',
      });
    }
  }
  if (errors.length > 0) throw new ValidationFailedError('The child cannot be changed.', errors);
  let row: ChildRow;
  try {
    row = await updateChild(
      trx,
      v.municipalityId,
      id,
      {
        ...(input.externalRef !== undefined ? { external_ref: input.externalRef } : {}),
        ...(input.givenName !== undefined ? { given_name: input.givenName } : {}),
        ...(input.familyName !== undefined ? { family_name: input.familyName } : {}),
        ...(input.birthDate !== undefined ? { birth_date: input.birthDate } : {}),
        ...(input.sex !== undefined ? { sex: input.sex } : {}),
        ...(cprHash !== undefined ? { cpr_hash: cprHash } : {}),
      },
      session.now,
    );
  } catch (error) {
    return childConflict(error);
  }
  session.audit({ resourceId: id, childId: id });
  return toChild(row);
}

const cursorSchema = z.tuple([PgTimestampSchema, z.uuid()]);

export async function listMunicipalityChildren(
  session: Session,
  trx: Transaction<DB>,
  query: {
    limit: number;
    cursor?: string | undefined;
    unitId?: string | undefined;
    minAge?: number | undefined;
    maxAge?: number | undefined;
    q?: string | undefined;
    externalRef?: string | undefined;
    updatedSince?: string | undefined;
    asOf?: string | undefined;
  },
) {
  const v = session.access.children();
  const asOf = query.asOf ?? v.today;
  const after = query.cursor ? decodeCursor(query.cursor, cursorSchema) : undefined;
  if (query.minAge !== undefined && query.maxAge !== undefined && query.minAge > query.maxAge) {
    throw new ValidationFailedError('The age range is empty.', [
      { path: 'query.minAge', message: 'is greater than maxAge', code: 'empty_range' },
    ]);
  }
  // Age in whole years as ageInYears counts it (month-end rule included); a child born after
  // asOf has no age yet and matches no age filter.
  const ageFiltered = query.minAge !== undefined || query.maxAge !== undefined;
  const bornTo = ageFiltered ? latestBirthDateForAge(asOf, 12 * (query.minAge ?? 0)) : undefined;
  const bornAfter =
    query.maxAge !== undefined ? latestBirthDateForAge(asOf, 12 * (query.maxAge + 1)) : undefined;
  const rows = await listChildren(trx, v, {
    unitId: query.unitId,
    bornAfter,
    bornTo,
    q: query.q,
    externalRef: query.externalRef,
    updatedSince: query.updatedSince,
    asOf,
    after: after ? { at: after[0], id: after[1] } : undefined,
    limit: query.limit,
  });
  session.audit({
    criteria: searchCriteria({ ...query, results: Math.min(rows.length, query.limit) }),
  });
  return toPage(rows, query.limit, toChild, (row) => [
    query.updatedSince !== undefined ? row.updated_at_key : row.created_at_key,
    row.id,
  ]);
}

export async function lookupChildByCpr(
  session: Session,
  trx: Transaction<DB>,
  cpr: string,
): Promise<Child> {
  const v = session.access.children();
  const parsed = parseCpr(cpr);
  if (!parsed.ok) {
    throw new ValidationFailedError('The CPR number is not valid.', [
      {
        path: 'body.cpr',
        message: 'is not a valid CPR number',
        code: `invalid_cpr_${parsed.reason}`,
      },
    ]);
  }
  const hash = hashCpr(parsed.digits, v.municipalityId, session.cprSecret);
  const found = await findChildByCprHash(trx, v, hash);
  // Not found: the failure path records the search (404) once.
  if (!found) throw new NotFoundError('child with that CPR number');
  // A search by CPR number: recorded with the child found (the number itself never).
  session.audit({
    resourceId: found.id,
    childId: found.id,
    criteria: searchCriteria({ cpr, results: 1 }),
  });
  return toChild(found);
}
