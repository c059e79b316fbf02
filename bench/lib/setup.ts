import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { type Database, municipalityScope } from '../../src/db/database.js';
import { addDays, localDate } from '../../src/domain/dates.js';
import type { GuideDefinition } from '../../src/domain/guides/definition.js';
import { createPlatformAdminKey } from '../../src/features/api-keys/bootstrap.js';
import { resolveGuideVersion } from '../../src/features/guides/repository.js';
import { syncPresetGuides } from '../../src/features/guides/service.js';
import { syncPresetRulers } from '../../src/features/rulers/service.js';

/**
 * The municipality the benchmark measures, set up through the real API (in-process, with
 * `app.inject`): its keys, the six screening rounds and three template assessments (one per
 * TOPI level) whose stored rows the SQL data generator copies.
 */

export interface Key {
  id: string;
  token: string;
}

export interface RoundInfo {
  id: string;
  name: string;
  index: number;
  windowStart: string;
  windowEnd: string;
}

/** The stored columns of a real assessment at one level, as the data generator copies them. */
export interface LevelTemplate {
  level: 1 | 2 | 3;
  zone: string;
  raters: unknown;
  answers: unknown;
  explanation: unknown;
  score: number | null;
  overallLevel: number | null;
}

export interface Tenant {
  municipalityId: string;
  today: string;
  admin: Key;
  analyst: Key;
  /** The key submissions are made with: an integration (e.g. a school system), whole municipality. */
  submitter: Key;
  rulerVersionId: string;
  guideVersionId: string;
  guide: GuideDefinition;
  rounds: RoundInfo[];
  levels: LevelTemplate[];
}

export const RATERS = [
  { name: 'Pædagog', role: 'unit_staff' },
  { name: 'Leder', role: 'unit_leader' },
] as const;

/** The app as the server builds it, without a listener, rate limit or logger. */
export function buildBenchApp(database: Database, cprSecret: string): Promise<FastifyInstance> {
  return buildApp({
    config: {
      bodyLimitBytes: 1024 * 1024,
      trustProxy: false,
      rateLimit: { max: 0, windowMs: 60_000 },
    },
    database,
    cprSecret,
  });
}

export type Call = <T>(
  token: string,
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
) => Promise<T>;

export function caller(app: FastifyInstance): Call {
  return async <T>(token: string, method: 'GET' | 'POST', url: string, body?: unknown) => {
    const res = await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(body !== undefined ? { payload: body as object } : {}),
    });
    if (res.statusCode >= 300) {
      throw new Error(`${method} ${url} answered ${res.statusCode}: ${res.body}`);
    }
    return res.json() as T;
  };
}

/** Six rounds, half a year apart, four weeks long; the last one closed 45 days ago. */
function roundWindows(today: string, count: number) {
  const lastEnd = addDays(today, -45);
  return Array.from({ length: count }, (_, index) => {
    const windowEnd = addDays(lastEnd, -(count - 1 - index) * 182);
    const windowStart = addDays(windowEnd, -27);
    const month = Number(windowStart.slice(5, 7));
    const season = month <= 6 ? 'Forår' : 'Efterår';
    return { index, windowStart, windowEnd, name: `${season} ${windowStart.slice(0, 4)}` };
  });
}

export async function setUpTenant(
  database: Database,
  app: FastifyInstance,
  options: { rounds: number; code: string },
): Promise<Tenant> {
  await syncPresetRulers(database);
  await syncPresetGuides(database);
  const today = localDate(new Date());
  const call = caller(app);
  const platform = await createPlatformAdminKey(database, 'Benchmark setup');

  const municipality = await call<{ id: string }>(platform.token, 'POST', '/v1/municipalities', {
    code: options.code,
    name: 'Benchmark Kommune',
  });
  const key = (role: string, name: string, unitIds: string[] = []) =>
    call<Key>(platform.token, 'POST', `/v1/municipalities/${municipality.id}/api-keys`, {
      name,
      role,
      unitIds,
    });
  const admin = await key('municipality_admin', 'Benchmark administrator');
  const analyst = await key('analyst', 'Benchmark analyst');
  const submitter = await key('integration', 'Benchmark school system');

  const rulers = await call<{ items: Array<{ key: string; latestVersion: { id: string } }> }>(
    admin.token,
    'GET',
    '/v1/rulers',
  );
  const topi = rulers.items.find((r) => r.key === 'topi-3');
  if (!topi) throw new Error('the preset ruler topi-3 is missing');
  const rulerVersionId = topi.latestVersion.id;

  const rounds: RoundInfo[] = [];
  for (const w of roundWindows(today, options.rounds)) {
    const round = await call<{ id: string }>(admin.token, 'POST', '/v1/rounds', {
      name: w.name,
      windowStart: w.windowStart,
      windowEnd: w.windowEnd,
      rulerVersionId,
      unitKinds: ['nursery', 'kindergarten', 'integrated_daycare', 'school'],
    });
    rounds.push({ id: round.id, ...w });
  }

  // Three real assessments, one per level: their stored rows are the generator's templates.
  const unit = await call<{ id: string }>(admin.token, 'POST', '/v1/units', {
    name: 'Skabelonskolen',
    kind: 'school',
    district: 'Nord',
    externalRef: 'bench-template-unit',
  });
  const child = await call<{ id: string }>(admin.token, 'POST', '/v1/children', {
    externalRef: 'bench-template-child',
    birthDate: addDays(today, -9 * 365),
    sex: 'female',
    enrolment: { unitId: unit.id, startDate: addDays(today, -400) },
  });
  const ids: string[] = [];
  for (const level of [1, 2, 3]) {
    const created = await call<{ id: string }>(submitter.token, 'POST', '/v1/assessments', {
      childId: child.id,
      unitId: unit.id,
      rulerVersionId,
      assessedOn: addDays(today, -10 + level),
      raters: RATERS,
      rating: { overallLevel: level },
      parentsInformed: true,
    });
    ids.push(created.id);
  }

  const { levels, guideVersion } = await database.transaction(
    municipalityScope(municipality.id),
    async (trx) => {
      const rows = await trx
        .selectFrom('assessments')
        .select([
          'id',
          'zone',
          'level',
          'raters',
          'answers',
          'explanation',
          'score',
          'overall_level',
        ])
        .where('id', 'in', ids)
        .orderBy('level')
        .execute();
      const guideVersion = await resolveGuideVersion(trx, municipality.id, 'topi-3');
      return {
        guideVersion,
        levels: rows.map(
          (row): LevelTemplate => ({
            level: row.level as 1 | 2 | 3,
            zone: row.zone ?? 'green',
            raters: row.raters,
            answers: row.answers,
            explanation: row.explanation,
            score: row.score,
            overallLevel: row.overall_level,
          }),
        ),
      };
    },
  );
  if (!guideVersion) throw new Error('no action guide for topi-3');
  if (levels.map((l) => l.zone).join() !== 'green,yellow,red') {
    throw new Error(`unexpected template zones: ${levels.map((l) => l.zone).join()}`);
  }

  return {
    municipalityId: municipality.id,
    today,
    admin,
    analyst,
    submitter,
    rulerVersionId,
    guideVersionId: guideVersion.id,
    guide: guideVersion.definition as GuideDefinition,
    rounds,
    levels,
  };
}

/** unit_leader keys, one per unit, for the worklist reads. */
export async function unitLeaderKeys(
  app: FastifyInstance,
  adminToken: string,
  municipalityId: string,
  unitIds: string[],
): Promise<Array<Key & { unitId: string }>> {
  const call = caller(app);
  const keys: Array<Key & { unitId: string }> = [];
  for (const unitId of unitIds) {
    const key = await call<Key>(
      adminToken,
      'POST',
      `/v1/municipalities/${municipalityId}/api-keys`,
      {
        name: `Benchmark unit leader ${unitId.slice(0, 8)}`,
        role: 'unit_leader',
        unitIds: [unitId],
      },
    );
    keys.push({ ...key, unitId });
  }
  return keys;
}
