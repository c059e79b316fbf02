import type { Transaction } from 'kysely';
import { z } from 'zod';
import { audit, searchCriteria } from '../../audit/audit.js';
import {
  isUnitLimited,
  municipalityOf,
  type Principal,
  requireUnitAccess,
} from '../../auth/principal.js';
import { type Database, municipalityScope } from '../../db/database.js';
import { isUniqueViolation } from '../../db/errors.js';
import type { DB } from '../../db/schema.js';
import { hashCpr, parseCpr } from '../../domain/cpr.js';
import { latestBirthDateForAge, localDate } from '../../domain/dates.js';
import {
  conflictingEnrolments,
  type EnrolmentLike,
  periodContains,
} from '../../domain/enrolments.js';
import { ConflictError, NotFoundError, ValidationFailedError } from '../../errors.js';
import { decodeCursor, PgTimestampSchema, toPage } from '../../http/pagination.js';
import type { FieldError } from '../../http/problem.js';
import type { RouteDeps } from '../../request/route-deps.js';
import { requireUnit } from '../units/repository.js';
import type { UnitKind } from '../units/schemas.js';
import {
  type ChildRow,
  type EnrolmentRow,
  findChild,
  findChildByCprHash,
  insertChild,
  insertEnrolment,
  listChildren,
  listEnrolments,
  updateChild,
  updateEnrolment,
  type Visibility,
} from './repository.js';
import type {
  Child,
  CreateChild,
  CreateEnrolment,
  Enrolment,
  UpdateChild,
  UpdateEnrolment,
} from './schemas.js';

type Deps = Pick<RouteDeps, 'now' | 'cprSecret'>;

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

export function toEnrolment(row: EnrolmentRow): Enrolment {
  return {
    id: row.id,
    childId: row.child_id,
    unitId: row.unit_id,
    unitKind: row.unit_kind as UnitKind,
    startDate: row.start_date,
    endDate: row.end_date,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function visibilityOf(principal: Principal, now: Date): Visibility {
  return {
    municipalityId: municipalityOf(principal),
    unitIds: principal.unitIds,
    today: localDate(now),
    involvedWith:
      principal.role === 'social_worker' ? { kind: principal.kind, id: principal.id } : undefined,
  };
}

/**
 * Visibility for changing what is recorded about the child (the child, enrolments, assessments,
 * consents): a unit that only still owes steps for a child who left may close them, nothing more.
 */
export function enrolledVisibilityOf(principal: Principal, now: Date): Visibility {
  return { ...visibilityOf(principal, now), enrolledOnly: true };
}

/** The child, if the principal may see it; 404 otherwise (also for other municipalities). */
export async function requireChild(
  trx: Transaction<DB>,
  v: Visibility,
  id: string,
  options: { lock?: boolean } = {},
): Promise<ChildRow> {
  const row = await findChild(trx, v, id, options);
  if (!row) throw new NotFoundError('child', id);
  return row;
}

/** CPR rules: a valid number whose date part is the child's birth date. Returns its hash. */
function cprHashFor(
  cpr: string,
  birthDate: string,
  municipalityId: string,
  secret: string,
  path: string,
): { hash?: Buffer; errors: FieldError[] } {
  const parsed = parseCpr(cpr);
  if (!parsed.ok) {
    return {
      errors: [
        {
          path,
          message:
            parsed.reason === 'format'
              ? 'must be a CPR number: DDMMYY-SSSS or 10 digits'
              : 'does not contain a real birth date',
          code: `invalid_cpr_${parsed.reason}`,
        },
      ],
    };
  }
  if (parsed.birthDate !== birthDate) {
    return {
      errors: [
        {
          path,
          message: 'its birth date does not match birthDate',
          code: 'cpr_birth_date_mismatch',
        },
      ],
    };
  }
  return { hash: hashCpr(parsed.digits, municipalityId, secret), errors: [] };
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
  trx: Transaction<DB>,
  principal: Principal,
  input: CreateChild,
  deps: Deps,
): Promise<Child> {
  const now = deps.now();
  const municipalityId = municipalityOf(principal);
  const today = localDate(now);
  const errors: FieldError[] = [];
  if (input.birthDate > today) {
    errors.push({ path: 'body.birthDate', message: 'is in the future', code: 'future_date' });
  }
  if (isUnitLimited(principal) && !input.enrolment) {
    errors.push({
      path: 'body.enrolment',
      message: 'a unit-limited key must enrol the child in one of its units',
      code: 'required_for_key',
    });
  }
  const cpr =
    input.cpr !== undefined
      ? cprHashFor(input.cpr, input.birthDate, municipalityId, deps.cprSecret, 'body.cpr')
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
    requireUnitAccess(principal, input.enrolment.unitId);
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
    await addEnrolment(trx, principal, row, input.enrolment, 'body.enrolment');
  }
  await audit(trx, principal, {
    action: 'create',
    resource: 'child',
    resourceId: row.id,
    childId: row.id,
  });
  return toChild(row);
}

export async function getChild(
  database: Database,
  principal: Principal,
  id: string,
  now: Date,
): Promise<Child> {
  const v = visibilityOf(principal, now);
  const row = await database.transaction(municipalityScope(v.municipalityId), async (trx) => {
    const child = await requireChild(trx, v, id);
    await audit(trx, principal, { action: 'read', resource: 'child', resourceId: id, childId: id });
    return child;
  });
  return toChild(row);
}

export async function changeChild(
  database: Database,
  principal: Principal,
  id: string,
  input: UpdateChild,
  deps: Deps,
): Promise<Child> {
  const now = deps.now();
  const v = enrolledVisibilityOf(principal, now);
  return database.transaction(municipalityScope(v.municipalityId), async (trx) => {
    const current = await requireChild(trx, v, id, { lock: true });
    const birthDate = input.birthDate ?? current.birth_date;
    const errors: FieldError[] = [];
    if (birthDate > v.today) {
      errors.push({ path: 'body.birthDate', message: 'is in the future', code: 'future_date' });
    }
    let cprHash: Buffer | null | undefined;
    if (input.cpr === null) cprHash = null;
    else if (input.cpr !== undefined) {
      const cpr = cprHashFor(input.cpr, birthDate, v.municipalityId, deps.cprSecret, 'body.cpr');
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
    try {
      const row = await updateChild(
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
        now,
      );
      await audit(trx, principal, {
        action: 'update',
        resource: 'child',
        resourceId: id,
        childId: id,
      });
      return toChild(row);
    } catch (error) {
      return childConflict(error);
    }
  });
}

const cursorSchema = z.tuple([PgTimestampSchema, z.uuid()]);

export async function listMunicipalityChildren(
  database: Database,
  principal: Principal,
  query: {
    limit: number;
    cursor?: string | undefined;
    unitId?: string | undefined;
    minAge?: number | undefined;
    maxAge?: number | undefined;
    q?: string | undefined;
    asOf?: string | undefined;
  },
  now: Date,
) {
  const v = visibilityOf(principal, now);
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
  const rows = await database.transaction(municipalityScope(v.municipalityId), async (trx) => {
    const found = await listChildren(trx, v, {
      unitId: query.unitId,
      bornAfter,
      bornTo,
      q: query.q,
      asOf,
      after: after ? { createdAt: after[0], id: after[1] } : undefined,
      limit: query.limit,
    });
    await audit(trx, principal, {
      action: 'search',
      resource: 'child',
      criteria: searchCriteria({ ...query, results: Math.min(found.length, query.limit) }),
    });
    return found;
  });
  return toPage(rows, query.limit, toChild, (row) => [row.created_at_key, row.id]);
}

export async function lookupChildByCpr(
  database: Database,
  principal: Principal,
  cpr: string,
  deps: Deps,
): Promise<Child> {
  const v = visibilityOf(principal, deps.now());
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
  const hash = hashCpr(parsed.digits, v.municipalityId, deps.cprSecret);
  const row = await database.transaction(municipalityScope(v.municipalityId), async (trx) => {
    const found = await findChildByCprHash(trx, v, hash);
    // Not found: the failure path records the search (404) once.
    if (!found) throw new NotFoundError('child with that CPR number');
    // A search by CPR number: recorded with the child found (the number itself never).
    await audit(trx, principal, {
      action: 'search',
      resource: 'child',
      resourceId: found.id,
      childId: found.id,
      criteria: searchCriteria({ cpr, results: 1 }),
    });
    return found;
  });
  return toChild(row);
}

// Enrolments

function overlapProblem(principal: Principal, conflicts: EnrolmentLike[]): never {
  // Keys limited to units are not told about the child's enrolments in other units.
  const visible = conflicts.filter(
    (c) => !isUnitLimited(principal) || principal.unitIds.includes(c.unitId),
  );
  const list = visible
    .map((c) => `${c.id} (unit ${c.unitId}, ${c.start} – ${c.end ?? 'open'})`)
    .join(', ');
  throw new ConflictError(
    `The enrolment overlaps ${list ? `enrolment ${list}` : 'another enrolment of the child'} in ` +
      'the same unit or another unit of the same kind (one daycare place, one school and one ' +
      'after-school offer at a time). End that one first.',
    'enrolment-overlap',
  );
}

const asPeriod = (e: EnrolmentRow): EnrolmentLike => ({
  id: e.id,
  unitId: e.unit_id,
  unitKind: e.unit_kind,
  start: e.start_date,
  end: e.end_date,
});

async function addEnrolment(
  trx: Transaction<DB>,
  principal: Principal,
  child: ChildRow,
  input: CreateEnrolment,
  path: string,
): Promise<Enrolment> {
  const municipalityId = municipalityOf(principal);
  const unit = await requireUnit(trx, municipalityId, input.unitId);
  requireUnitAccess(principal, input.unitId);
  const errors: FieldError[] = [];
  if (input.endDate && input.endDate < input.startDate) {
    errors.push({ path: `${path}.endDate`, message: 'is before startDate', code: 'before_start' });
  }
  if (input.startDate < child.birth_date) {
    errors.push({
      path: `${path}.startDate`,
      message: 'is before the birth date',
      code: 'before_birth',
    });
  }
  if (errors.length > 0) throw new ValidationFailedError('The enrolment cannot be made.', errors);
  const existing = await listEnrolments(trx, municipalityId, child.id);
  const conflicts = conflictingEnrolments(
    { unitId: unit.id, unitKind: unit.kind, start: input.startDate, end: input.endDate ?? null },
    existing.map(asPeriod),
  );
  if (conflicts.length > 0) overlapProblem(principal, conflicts);
  const id = await insertEnrolment(trx, {
    municipality_id: municipalityId,
    child_id: child.id,
    unit_id: unit.id,
    start_date: input.startDate,
    end_date: input.endDate ?? null,
  });
  const rows = await listEnrolments(trx, municipalityId, child.id);
  return toEnrolment(rows.find((r) => r.id === id) as EnrolmentRow);
}

export async function createEnrolment(
  trx: Transaction<DB>,
  principal: Principal,
  childId: string,
  input: CreateEnrolment,
  now: Date,
): Promise<Enrolment> {
  const child = await requireChild(trx, enrolledVisibilityOf(principal, now), childId, {
    lock: true,
  });
  const enrolment = await addEnrolment(trx, principal, child, input, 'body');
  await audit(trx, principal, {
    action: 'create',
    resource: 'enrolment',
    resourceId: enrolment.id,
    childId,
  });
  return enrolment;
}

/** The child's enrolments the principal may see, read (and audited) in one transaction. */
function visibleEnrolments(
  database: Database,
  principal: Principal,
  childId: string,
  now: Date,
  enrolmentId: string | null,
): Promise<Enrolment[]> {
  const v = visibilityOf(principal, now);
  return database.transaction(municipalityScope(v.municipalityId), async (trx) => {
    await requireChild(trx, v, childId);
    // Keys limited to units see the child's enrolments in their own units only.
    const visible = (await listEnrolments(trx, v.municipalityId, childId))
      .filter((e) => !isUnitLimited(principal) || principal.unitIds.includes(e.unit_id))
      .filter((e) => enrolmentId === null || e.id === enrolmentId)
      .map(toEnrolment);
    if (enrolmentId !== null && visible.length === 0) {
      throw new NotFoundError('enrolment', enrolmentId);
    }
    await audit(trx, principal, {
      action: 'read',
      resource: 'enrolment',
      resourceId: enrolmentId,
      childId,
    });
    return visible;
  });
}

export function childEnrolments(
  database: Database,
  principal: Principal,
  childId: string,
  now: Date,
): Promise<Enrolment[]> {
  return visibleEnrolments(database, principal, childId, now, null);
}

export async function getEnrolment(
  database: Database,
  principal: Principal,
  childId: string,
  enrolmentId: string,
  now: Date,
): Promise<Enrolment> {
  const [enrolment] = await visibleEnrolments(database, principal, childId, now, enrolmentId);
  return enrolment as Enrolment;
}

export async function changeEnrolment(
  database: Database,
  principal: Principal,
  childId: string,
  enrolmentId: string,
  input: UpdateEnrolment,
  now: Date,
): Promise<Enrolment> {
  const v = enrolledVisibilityOf(principal, now);
  return database.transaction(municipalityScope(v.municipalityId), async (trx) => {
    const child = await requireChild(trx, v, childId, { lock: true });
    const existing = await listEnrolments(trx, v.municipalityId, childId);
    const current = existing.find((e) => e.id === enrolmentId);
    // Enrolments in units outside a unit-limited key's units are invisible to it.
    if (!current || (isUnitLimited(principal) && !principal.unitIds.includes(current.unit_id))) {
      throw new NotFoundError('enrolment', enrolmentId);
    }
    const start = input.startDate ?? current.start_date;
    const end = input.endDate === undefined ? current.end_date : input.endDate;
    const errors: FieldError[] = [];
    if (end !== null && end < start) {
      errors.push({ path: 'body.endDate', message: 'is before startDate', code: 'before_start' });
    }
    if (start < child.birth_date) {
      errors.push({
        path: 'body.startDate',
        message: 'is before the birth date',
        code: 'before_birth',
      });
    }
    if (errors.length > 0)
      throw new ValidationFailedError('The enrolment cannot be changed.', errors);
    const conflicts = conflictingEnrolments(
      { id: current.id, unitId: current.unit_id, unitKind: current.unit_kind, start, end },
      existing.map(asPeriod),
    );
    if (conflicts.length > 0) overlapProblem(principal, conflicts);
    // Assessments made in this unit must stay inside the enrolment.
    const stranded = await trx
      .selectFrom('assessments')
      .select(['id', 'assessed_on'])
      .where('child_id', '=', childId)
      .where('unit_id', '=', current.unit_id)
      .where('status', '=', 'current')
      .where('assessed_on', '>=', current.start_date)
      .where((eb) =>
        current.end_date === null ? eb.val(true) : eb('assessed_on', '<=', current.end_date),
      )
      .execute();
    const outside = stranded.filter((a) => !periodContains({ start, end }, a.assessed_on));
    if (outside.length > 0) {
      throw new ConflictError(
        `The change would leave assessment(s) ${outside.map((a) => `${a.id} (${a.assessed_on})`).join(', ')} ` +
          'outside the enrolment. Correct or withdraw them first.',
        'assessments-outside-enrolment',
      );
    }
    await updateEnrolment(
      trx,
      v.municipalityId,
      enrolmentId,
      {
        ...(input.startDate !== undefined ? { start_date: input.startDate } : {}),
        ...(input.endDate !== undefined ? { end_date: input.endDate } : {}),
      },
      now,
    );
    await audit(trx, principal, {
      action: 'update',
      resource: 'enrolment',
      resourceId: enrolmentId,
      childId,
    });
    const rows = await listEnrolments(trx, v.municipalityId, childId);
    return toEnrolment(rows.find((r) => r.id === enrolmentId) as EnrolmentRow);
  });
}
