import { expect } from 'vitest';
import type { Role } from '../../src/auth/permissions.js';
import type { ApiKey } from '../../src/features/api-keys/schemas.js';
import type { Municipality } from '../../src/features/municipalities/schemas.js';
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

export async function createKey(
  t: EngineContext,
  municipalityId: string,
  role: Exclude<Role, 'platform_admin'>,
  options: { unitIds?: string[]; token?: string; expiresAt?: string; name?: string } = {},
): Promise<ApiKey & { token: string }> {
  const unitIds =
    options.unitIds ??
    (role === 'unit_leader' || role === 'unit_staff' ? [crypto.randomUUID()] : []);
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
