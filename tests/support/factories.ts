import { expect } from 'vitest';
import type { Role } from '../../src/auth/permissions.js';
import type { ApiKey } from '../../src/features/api-keys/schemas.js';
import type { Assessment } from '../../src/features/assessments/schemas.js';
import type { Child } from '../../src/features/children/schemas.js';
import type { Municipality } from '../../src/features/municipalities/schemas.js';
import type { Round } from '../../src/features/rounds/schemas.js';
import type { Unit } from '../../src/features/units/schemas.js';
import type { EngineContext } from './engines.js';

let codeCounter = 0;

/** A municipality code unused in this test file's database. */
function nextCode(): string {
  codeCounter += 1;
  if (codeCounter > 999) throw new Error('out of municipality codes in one test file');
  return String(codeCounter).padStart(3, '0');
}

export async function createMunicipality(
  t: EngineContext,
  overrides: Partial<{ code: string; name: string }> = {},
): Promise<Municipality> {
  const code = overrides.code ?? nextCode();
  const res = await t.call('POST', '/v1/municipalities', {
    body: { code, name: overrides.name ?? `Test Kommune ${code}` },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** A unit of the municipality, inserted directly: a key may be limited only to its own units. */
export async function bareUnit(t: EngineContext, municipalityId: string): Promise<string> {
  const id = crypto.randomUUID();
  await t.asOwner((db) =>
    db
      .insertInto('units')
      .values({
        id,
        municipality_id: municipalityId,
        name: `Unit ${id.slice(0, 8)}`,
        kind: 'kindergarten',
      })
      .execute(),
  );
  return id;
}

export async function createKey(
  t: EngineContext,
  municipalityId: string,
  role: Exclude<Role, 'platform_admin'>,
  options: { unitIds?: string[]; token?: string; expiresAt?: string; name?: string } = {},
): Promise<ApiKey & { token: string }> {
  const unitIds =
    options.unitIds ??
    (role === 'unit_leader' || role === 'unit_staff' ? [await bareUnit(t, municipalityId)] : []);
  const res = await t.call('POST', `/v1/municipalities/${municipalityId}/api-keys`, {
    ...(options.token ? { token: options.token } : {}),
    body: {
      name: options.name ?? `${role} key`,
      role,
      unitIds,
      ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}),
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** A municipality with an administrator key: the usual starting point of a test. */
export async function createTenant(t: EngineContext) {
  const municipality = await createMunicipality(t);
  const admin = await createKey(t, municipality.id, 'municipality_admin');
  return { municipality, admin };
}

let refCounter = 0;
const nextRef = (prefix: string) => `${prefix}-${process.pid}-${++refCounter}`;

/** A unit in the municipality of `token` (a municipality admin or integration key). */
export async function createUnit(
  t: EngineContext,
  token: string,
  overrides: Partial<{ name: string; kind: string; district: string; externalRef: string }> = {},
): Promise<Unit> {
  const res = await t.call('POST', '/v1/units', {
    token,
    body: {
      name: overrides.name ?? nextRef('Unit'),
      kind: overrides.kind ?? 'kindergarten',
      ...overrides,
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** A child, enrolled in `unitId` from `enrolledFrom` when given. */
export async function createChild(
  t: EngineContext,
  token: string,
  options: {
    birthDate?: string;
    unitId?: string;
    enrolledFrom?: string;
    enrolledTo?: string;
    givenName?: string;
    familyName?: string;
    externalRef?: string;
    cpr?: string;
    sex?: 'female' | 'male' | 'other';
  } = {},
): Promise<Child> {
  const { unitId, enrolledFrom, enrolledTo, ...rest } = options;
  const res = await t.call('POST', '/v1/children', {
    token,
    body: {
      externalRef: options.externalRef ?? nextRef('child'),
      birthDate: options.birthDate ?? '2021-05-10',
      ...rest,
      ...(unitId
        ? {
            enrolment: {
              unitId,
              startDate: enrolledFrom ?? '2024-08-01',
              ...(enrolledTo ? { endDate: enrolledTo } : {}),
            },
          }
        : {}),
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** The id of the latest version of a preset ruler. */
export async function presetVersionId(
  t: EngineContext,
  token: string,
  key: string,
): Promise<string> {
  const res = await t.call('GET', '/v1/rulers', { token });
  expect(res.statusCode, res.body).toBe(200);
  const ruler = res.json().items.find((r: { key: string }) => r.key === key);
  if (!ruler) throw new Error(`no preset ${key}`);
  return ruler.latestVersion.id;
}

/** A municipality with an admin key, one kindergarten and the topi-3 ruler's version id. */
export async function createScreeningTenant(t: EngineContext) {
  const tenant = await createTenant(t);
  const unit = await createUnit(t, tenant.admin.token);
  const topi = await presetVersionId(t, tenant.admin.token, 'topi-3');
  return { ...tenant, unit, topi };
}

// ---------------------------------------------------------------------------------------------
// Rounds and assessments: a valid request body with every field overridable (a field set to
// undefined is left out), and the same created through the API (201 asserted).

/** The body of POST /v1/rounds: a window around the test clock's today (2026-11-22). */
export function roundBody(
  rulerVersionId: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name: nextRef('Round'),
    windowStart: '2026-10-01',
    windowEnd: '2026-11-30',
    rulerVersionId,
    ...overrides,
  };
}

/** A round of `rulerVersionId` in the municipality of `token`. */
export async function createRound(
  t: EngineContext,
  token: string,
  rulerVersionId: string,
  overrides: Record<string, unknown> = {},
): Promise<Round> {
  const res = await t.call('POST', '/v1/rounds', {
    token,
    body: roundBody(rulerVersionId, overrides),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** Two raters, as a joint topi-3 assessment needs. */
export const TEST_RATERS = [
  { name: 'Anna Pædagog', role: 'unit_staff' },
  { name: 'Bo Leder', role: 'unit_leader' },
];

/**
 * The body of POST /v1/assessments: green (overall level 1) by the two test raters on
 * 2026-11-01, parents informed. Give the child and unit, and a roundId or a rulerVersionId.
 */
export function assessmentBody(
  fields: { childId: string; unitId: string } & Record<string, unknown>,
): Record<string, unknown> {
  return {
    assessedOn: '2026-11-01',
    raters: TEST_RATERS,
    rating: { overallLevel: 1 },
    parentsInformed: true,
    ...fields,
  };
}

/** An assessment recorded with `token`, with its recommendation as the response has it. */
export async function createAssessment(
  t: EngineContext,
  token: string,
  fields: { childId: string; unitId: string } & Record<string, unknown>,
): Promise<Assessment & { recommendation: { steps: { id: string; stepKey: string }[] } }> {
  const res = await t.call('POST', '/v1/assessments', { token, body: assessmentBody(fields) });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}
