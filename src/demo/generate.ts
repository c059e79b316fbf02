import type { FastifyInstance } from 'fastify';
import { type Database, platformScope } from '../db/database.js';
import { localDate } from '../domain/dates.js';
import { createPlatformAdminKey } from '../features/api-keys/bootstrap.js';
import { DEMO_GENERATOR_KEY_NAME } from './cleanup.js';
import { type AssessmentPlan, DEMO_MUNICIPALITY, planDemo, SCREENED_KINDS } from './plan.js';
import { createRng } from './random.js';

/**
 * The demo municipality ("Demo Kommune", code 999): 3 districts, 8 units, a few hundred children
 * aged 0–12 moving from daycare to school, three screening rounds on the topi-3 ruler with
 * mostly green, some yellow and few red children, their recommendations, concern reports, steps
 * followed up and not-assessed flags. Everything goes through `app.inject`, so validation,
 * classification and recommendations run exactly as in production; only a temporary platform
 * administrator key (revoked at the end) is created directly.
 *
 * Deterministic: the same seed, size and `today` give the same data (ids and timestamps aside).
 * The municipality is created once: when code 999 exists already, DemoMunicipalityExistsError.
 */

export const DEFAULT_DEMO_SEED = 42;
export const DEFAULT_DEMO_CHILDREN = 300;

export interface DemoOptions {
  seed?: number;
  children?: number;
  /** "Today" for the plan (default: now). The app's clock must not be earlier. */
  today?: Date;
  /** Stops the run before its next request (Ctrl-C in the demo command). */
  signal?: AbortSignal;
}

type ZoneCounts = { green: number; yellow: number; red: number; none: number };

export interface DemoCounts {
  municipalities: number;
  districts: number;
  units: number;
  children: number;
  enrolments: number;
  rounds: number;
  assessments: number;
  assessmentsPerRound: number[];
  zonesPerRound: ZoneCounts[];
  /** Per round from GET /v1/rounds/{id}/coverage: children enrolled and assessed. */
  coveragePerRound: Array<{ enrolled: number; assessed: number }>;
  redFlagAssessments: number;
  recommendations: number;
  steps: number;
  stepsDone: number;
  stepsNotApplicable: number;
  concernReports: number;
  notAssessedFlags: number;
  flagsAcknowledged: number;
}

export interface DemoResult {
  municipalityId: string;
  municipalityName: string;
  adminToken: string;
  analystToken: string;
  rounds: Array<{ id: string; name: string; windowStart: string; windowEnd: string }>;
  counts: DemoCounts;
}

export class DemoDataError extends Error {}

export class DemoMunicipalityExistsError extends DemoDataError {
  constructor() {
    super(
      `${DEMO_MUNICIPALITY.name} (municipality code ${DEMO_MUNICIPALITY.code}) already exists in ` +
        'this database; the demo data is created only once. Use a fresh data directory ' +
        '(LINEAL_DATA_DIR) or database to create it again.',
    );
    this.name = 'DemoMunicipalityExistsError';
  }
}

type Method = 'GET' | 'POST' | 'PATCH';

interface StepView {
  id: string;
  stepKey: string;
  purpose: 'inform_parents' | 'concern_report' | 'other';
  mandatory: boolean;
  position: number;
  status: string;
}
interface AssessmentView {
  id: string;
  zone: 'green' | 'yellow' | 'red' | null;
  recommendation: { id: string; steps: StepView[] };
}
interface FlagView {
  id: string;
  childId: string;
  kind: string;
  assessmentId: string | null;
  roundId: string | null;
}

function client(app: FastifyInstance, signal?: AbortSignal) {
  return async <T>(token: string, method: Method, url: string, body?: unknown): Promise<T> => {
    if (signal?.aborted) throw new DemoDataError('interrupted');
    const res = await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(body !== undefined ? { payload: body as object } : {}),
    });
    if (res.statusCode === 409 && method === 'POST' && url === '/v1/municipalities') {
      throw new DemoMunicipalityExistsError();
    }
    if (res.statusCode >= 300) {
      throw new DemoDataError(`${method} ${url} answered ${res.statusCode}: ${res.body}`);
    }
    return res.json() as T;
  };
}

/** Share of a round's open follow-up steps done by now: older rounds are further along. */
function doneShare(roundsAgo: number): number {
  return roundsAgo >= 2 ? 0.85 : roundsAgo === 1 ? 0.6 : 0.3;
}

export async function createDemoData(
  app: FastifyInstance,
  database: Database,
  options: DemoOptions = {},
): Promise<DemoResult> {
  const seed = options.seed ?? DEFAULT_DEMO_SEED;
  const today = localDate(options.today ?? new Date());
  const plan = planDemo({ seed, children: options.children ?? DEFAULT_DEMO_CHILDREN, today });
  const call = client(app, options.signal);
  const counts: DemoCounts = {
    municipalities: 0,
    districts: new Set(plan.units.map((u) => u.district)).size,
    units: 0,
    children: 0,
    enrolments: 0,
    rounds: 0,
    assessments: 0,
    assessmentsPerRound: plan.rounds.map(() => 0),
    zonesPerRound: plan.rounds.map(() => ({ green: 0, yellow: 0, red: 0, none: 0 })),
    coveragePerRound: [],
    redFlagAssessments: 0,
    recommendations: 0,
    steps: 0,
    stepsDone: 0,
    stepsNotApplicable: 0,
    concernReports: 0,
    notAssessedFlags: 0,
    flagsAcknowledged: 0,
  };

  const platformKey = await createPlatformAdminKey(database, DEMO_GENERATOR_KEY_NAME);
  try {
    // Municipality and its keys.
    const municipality = await call<{ id: string; name: string }>(
      platformKey.token,
      'POST',
      '/v1/municipalities',
      { code: DEMO_MUNICIPALITY.code, name: DEMO_MUNICIPALITY.name },
    );
    counts.municipalities = 1;
    const keyFor = (name: string, role: string) =>
      call<{ token: string }>(
        platformKey.token,
        'POST',
        `/v1/municipalities/${municipality.id}/api-keys`,
        { name, role, unitIds: [] },
      );
    const admin = (await keyFor('Demo Kommune administrator', 'municipality_admin')).token;
    const analyst = (await keyFor('Demo Kommune analyst', 'analyst')).token;

    // Units.
    const unitIds = new Map<string, string>();
    for (const unit of plan.units) {
      const created = await call<{ id: string }>(admin, 'POST', '/v1/units', {
        name: unit.name,
        kind: unit.kind,
        district: unit.district,
        externalRef: unit.externalRef,
      });
      unitIds.set(unit.key, created.id);
      counts.units += 1;
    }
    const unitId = (key: string) => {
      const id = unitIds.get(key);
      if (!id) throw new DemoDataError(`unknown unit ${key}`);
      return id;
    };

    // Children, enrolled in age-appropriate units (daycare → kindergarten → school and SFO).
    const childIds: string[] = [];
    const childIndexById = new Map<string, number>();
    for (const child of plan.children) {
      const [first, ...rest] = child.enrolments;
      const enrolment = (e: NonNullable<typeof first>) => ({
        unitId: unitId(e.unitKey),
        startDate: e.start,
        ...(e.end !== null ? { endDate: e.end } : {}),
      });
      const created = await call<{ id: string }>(admin, 'POST', '/v1/children', {
        externalRef: child.externalRef,
        givenName: child.givenName,
        familyName: child.familyName,
        birthDate: child.birthDate,
        ...(child.sex ? { sex: child.sex } : {}),
        ...(first ? { enrolment: enrolment(first) } : {}),
      });
      counts.children += 1;
      if (first) counts.enrolments += 1;
      for (const e of rest) {
        await call(admin, 'POST', `/v1/children/${created.id}/enrolments`, enrolment(e));
        counts.enrolments += 1;
      }
      childIds.push(created.id);
      childIndexById.set(created.id, child.index);
    }
    const childId = (index: number) => childIds[index] as string;

    // Rounds, all on the topi-3 preset (a joint assessment by two professionals).
    const rulers = await call<{ items: Array<{ key: string; latestVersion: { id: string } }> }>(
      admin,
      'GET',
      '/v1/rulers?limit=200',
    );
    const topi = rulers.items.find((r) => r.key === 'topi-3');
    if (!topi)
      throw new DemoDataError('the topi-3 preset ruler is missing: sync the presets first');
    const rounds: DemoResult['rounds'] = [];
    for (const round of plan.rounds) {
      const created = await call<{ id: string }>(admin, 'POST', '/v1/rounds', {
        name: round.name,
        windowStart: round.windowStart,
        windowEnd: round.windowEnd,
        rulerVersionId: topi.latestVersion.id,
        unitKinds: SCREENED_KINDS,
      });
      rounds.push({ id: created.id, ...round });
      counts.rounds += 1;
    }
    const roundIndexById = new Map(rounds.map((r, i) => [r.id, i]));

    // Assessments round by round, so that trajectories (zone changes, deterioration,
    // persistence) are computed against the earlier rounds as in real use.
    const assessmentRound = new Map<string, number>();
    const lastRound = plan.rounds.length - 1;
    for (const [roundIndex, planned] of plan.assessments.entries()) {
      const round = rounds[roundIndex];
      if (!round) continue;
      const recorded: Array<{ plan: AssessmentPlan; view: AssessmentView }> = [];
      for (const a of planned) {
        const view = await call<AssessmentView>(admin, 'POST', '/v1/assessments', {
          childId: childId(a.childIndex),
          unitId: unitId(a.unitKey),
          roundId: round.id,
          assessedOn: a.assessedOn,
          raters: a.raters,
          rating: { overallLevel: a.level, answers: a.answers },
          redFlags: a.redFlags,
          ...(a.justification ? { justification: a.justification } : {}),
          ...(a.childPerspective ? { childPerspective: a.childPerspective } : {}),
          parentsInformed: a.parentsInformed,
        });
        recorded.push({ plan: a, view });
        assessmentRound.set(view.id, roundIndex);
        counts.assessments += 1;
        (counts.assessmentsPerRound[roundIndex] as number) += 1;
        (counts.zonesPerRound[roundIndex] as ZoneCounts)[view.zone ?? 'none'] += 1;
        if (a.redFlags.length > 0) counts.redFlagAssessments += 1;
        if (view.recommendation) {
          counts.recommendations += 1;
          counts.steps += view.recommendation.steps.length;
        }
      }

      // Concern reports (underretninger) for most red children: they complete the open
      // concern-report steps.
      for (const { plan: a } of recorded) {
        if (!a.concernReport) continue;
        await call(admin, 'POST', `/v1/children/${childId(a.childIndex)}/concern-reports`, {
          reportedOn: a.concernReport.reportedOn,
          reportedBy: { name: a.concernReport.reportedBy, role: 'unit_leader' },
          reference: a.concernReport.reference,
        });
        counts.concernReports += 1;
      }

      // Follow-up: older rounds' steps are mostly done, the latest round's mostly open.
      const share = doneShare(lastRound - roundIndex);
      for (const { plan: a, view } of recorded) {
        const rng = createRng(seed).fork(`steps:${a.childIndex}:${roundIndex}`);
        const steps = [...view.recommendation.steps].sort((x, y) => x.position - y.position);
        for (const step of steps) {
          if (step.purpose === 'concern_report' || step.status !== 'open') continue;
          const r = rng.next();
          if (r < share) {
            await call(admin, 'PATCH', `/v1/steps/${step.id}`, { status: 'done' });
            counts.stepsDone += 1;
          } else if (!step.mandatory && r < share + 0.15) {
            await call(admin, 'PATCH', `/v1/steps/${step.id}`, {
              status: 'not_applicable',
              reason: 'Vurderet ikke relevant for barnet efter dialog med forældrene.',
            });
            counts.stepsNotApplicable += 1;
          }
        }
      }
    }

    // Every round's window has closed: flag the enrolled children who were not assessed.
    for (const round of rounds) {
      const { raised } = await call<{ raised: number }>(
        admin,
        'POST',
        `/v1/rounds/${round.id}/not-assessed-flags`,
      );
      counts.notAssessedFlags += raised;
    }

    // Acknowledge most flags of older rounds, few of the latest.
    const flags: FlagView[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: FlagView[]; nextCursor: string | null } = await call(
        admin,
        'GET',
        `/v1/flags?status=raised&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      flags.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    for (const flag of flags) {
      const roundIndex =
        (flag.roundId !== null ? roundIndexById.get(flag.roundId) : undefined) ??
        (flag.assessmentId !== null ? assessmentRound.get(flag.assessmentId) : undefined) ??
        lastRound;
      const childIndex = childIndexById.get(flag.childId) ?? -1;
      const rng = createRng(seed).fork(`flag:${childIndex}:${flag.kind}:${roundIndex}`);
      if (!rng.chance(roundIndex < lastRound ? 0.7 : 0.25)) continue;
      await call(admin, 'POST', `/v1/flags/${flag.id}/acknowledge`, {
        note:
          flag.kind === 'not_assessed'
            ? 'Barnet var syg i perioden; vurderes i næste runde.'
            : 'Drøftet på personalemøde; opfølgning aftalt med forældrene.',
      });
      counts.flagsAcknowledged += 1;
    }

    for (const round of rounds) {
      const coverage = await call<{ total: { enrolled: number; assessed: number } }>(
        admin,
        'GET',
        `/v1/rounds/${round.id}/coverage`,
      );
      counts.coveragePerRound.push({
        enrolled: coverage.total.enrolled,
        assessed: coverage.total.assessed,
      });
    }

    return {
      municipalityId: municipality.id,
      municipalityName: municipality.name,
      adminToken: admin,
      analystToken: analyst,
      rounds,
      counts,
    };
  } finally {
    // The temporary platform key is never shown; revoke it so that it cannot be used.
    await database.transaction(platformScope, (trx) =>
      trx
        .updateTable('api_keys')
        .set({ revoked_at: new Date(), revoked_by: platformKey.id })
        .where('id', '=', platformKey.id)
        .execute(),
    );
  }
}
