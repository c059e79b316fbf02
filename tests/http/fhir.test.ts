import type { FastifyRequest } from 'fastify';
import type { Bundle, Questionnaire, QuestionnaireResponse, Task } from 'fhir/r4.js';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { ApiKeyCache } from '../../src/auth/api-key-cache.js';
import type { Principal } from '../../src/auth/principal.js';
import { municipalityScope } from '../../src/db/database.js';
import { KL_TOPI_QUESTIONNAIRE } from '../../src/domain/fhir/kl-topi.js';
import { questionnaireToRuler } from '../../src/domain/fhir/questionnaire.js';
import { responseToAssessment } from '../../src/domain/fhir/response.js';
import { taskToStep } from '../../src/domain/fhir/task.js';
import { referencedId } from '../../src/domain/fhir/terms.js';
import { presetRulers } from '../../src/domain/rulers/presets.js';
import { openFhirExport } from '../../src/features/fhir/service.js';
import { Runner } from '../../src/request/runner.js';
import { Session } from '../../src/request/session.js';
import { describeEngines, type EngineContext, TEST_CPR_SECRET } from '../support/engines.js';
import {
  assessmentBody,
  createChild,
  createKey,
  createScreeningTenant,
  createTenant,
  createUnit,
  presetVersionId,
} from '../support/factories.js';
import { expectValidFhir } from '../support/fhir-schema.js';
import { expectProblem } from '../support/problem.js';

/**
 * FHIR R4 (issue 18, point 4): rulers as Questionnaires, a child's bundle for case exchange and
 * the municipality's bulk NDJSON — every resource valid against HL7's R4 JSON Schema, scoped
 * like the child's own reads, and mapping back to what was recorded.
 */

async function setup(t: EngineContext) {
  t.clock.set('2026-11-22T09:00:00.000Z');
  const s = await createScreeningTenant(t);
  const boerne = await presetVersionId(t, s.admin.token, 'boernelineal-5');
  const wellbeing = await presetVersionId(t, s.admin.token, 'wellbeing-1-5');
  const child = await createChild(t, s.admin.token, {
    unitId: s.unit.id,
    enrolledFrom: '2024-01-01',
    givenName: 'Ida',
    familyName: 'Jensen',
    sex: 'female',
  });
  const assess = async (fields: Record<string, unknown>, childId = child.id) => {
    const res = await t.call('POST', '/v1/assessments', {
      token: s.admin.token,
      body: assessmentBody({ childId, unitId: s.unit.id, rulerVersionId: s.topi, ...fields }),
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as {
      id: string;
      lineageId: string;
      recommendation: { steps: { id: string }[] };
    };
  };
  return { ...s, boerne, wellbeing, child, assess };
}

function ndjson(body: string): Record<string, unknown>[] {
  expect(body.endsWith('\n') || body === '').toBe(true);
  return body
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
}

describeEngines('FHIR', (t) => {
  it('a ruler version is a valid Questionnaire that maps back to its definition', async () => {
    const s = await setup(t);
    for (const preset of presetRulers) {
      const id = await presetVersionId(t, s.admin.token, preset.key);
      const res = await t.call('GET', `/v1/fhir/Questionnaire/${id}`, { token: s.admin.token });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
      const q = res.json() as Questionnaire;
      expectValidFhir(q);
      expect([q.id, q.url, q.version]).toEqual([
        id,
        `urn:lineal:fhir:Questionnaire:${preset.key}`,
        '1',
      ]);
      expect(questionnaireToRuler(q)).toEqual(preset.definition);
    }
    // An analyst reads rulers too (no child data); a random id and another municipality's own
    // ruler are 404.
    const analyst = await createKey(t, s.municipality.id, 'analyst');
    const ok = await t.call('GET', `/v1/fhir/Questionnaire/${s.topi}`, { token: analyst.token });
    expect(ok.statusCode).toBe(200);
    const own = await t.call('POST', '/v1/rulers', {
      token: s.admin.token,
      body: {
        key: `own-${t.engine}`,
        name: 'Vores lineal',
        definition: presetRulers[1]?.definition,
      },
    });
    expect(own.statusCode, own.body).toBe(201);
    const ownVersion = own.json().latestVersion.id as string;
    const mine = await t.call('GET', `/v1/fhir/Questionnaire/${ownVersion}`, {
      token: s.admin.token,
    });
    expect(mine.json().url).toBe(
      `urn:lineal:fhir:municipality:${s.municipality.id}:Questionnaire:own-${t.engine}`,
    );
    const other = await createTenant(t);
    expectProblem(
      await t.call('GET', `/v1/fhir/Questionnaire/${ownVersion}`, { token: other.admin.token }),
      404,
    );
    expectProblem(
      await t.call('GET', `/v1/fhir/Questionnaire/${crypto.randomUUID()}`, {
        token: s.admin.token,
      }),
      404,
    );
  });

  it("a child's bundle: Patient, Questionnaires, responses and Tasks that map back", async () => {
    const s = await setup(t);
    const rating = { overallLevel: 2, answers: { social_skills: 2, self_esteem: 'na' } };
    const yellow = await s.assess({
      assessedOn: '2026-11-10',
      rating,
      justification: 'Trækker sig fra legen.',
    });
    const boerne = await s.assess({
      assessedOn: '2026-11-20',
      rulerVersionId: s.boerne,
      rating: { overallLevel: 4, answers: {} },
      redFlags: ['violence'],
    });
    const res = await t.call('GET', `/v1/children/${s.child.id}/fhir`, { token: s.admin.token });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    const bundle = res.json() as Bundle;
    expectValidFhir(bundle);
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    const entries = bundle.entry ?? [];
    for (const entry of entries) {
      expectValidFhir(entry.resource);
      expect(entry.fullUrl).toBe(`urn:uuid:${entry.resource?.id}`);
    }
    const of = <T>(type: string) =>
      entries.map((e) => e.resource).filter((r) => r?.resourceType === type) as T[];

    // The child, identified for case exchange, never by CPR.
    expect(of('Patient')).toEqual([
      expect.objectContaining({
        id: s.child.id,
        name: [{ use: 'official', family: 'Jensen', given: ['Ida'] }],
        birthDate: s.child.birthDate,
        gender: 'female',
      }),
    ]);
    // The two rulers used.
    expect(
      of<Questionnaire>('Questionnaire')
        .map((q) => q.id)
        .sort(),
    ).toEqual([s.topi, s.boerne].sort());
    // lineal's responses (id = lineage) and KL's TOPI response for the topi-3 one.
    const responses = of<QuestionnaireResponse>('QuestionnaireResponse');
    const own = responses.filter((r) => r.questionnaire?.startsWith('urn:lineal:'));
    expect(own.map((r) => r.id).sort()).toEqual([yellow.lineageId, boerne.lineageId].sort());
    const topiResponse = own.find((r) => r.id === yellow.lineageId) as QuestionnaireResponse;
    expect(topiResponse.subject).toEqual({ type: 'Patient', reference: `urn:uuid:${s.child.id}` });
    const back = responseToAssessment(topiResponse);
    expect(back).toMatchObject({
      assessmentId: yellow.id,
      rating,
      redFlags: [],
      zone: 'yellow',
      justification: 'Trækker sig fra legen.',
      assessedOn: '2026-11-10',
    });
    const flagged = responseToAssessment(
      own.find((r) => r.id === boerne.lineageId) as QuestionnaireResponse,
    );
    expect(flagged).toMatchObject({ redFlags: ['violence'], zone: 'red' });
    const kl = responses.filter((r) => r.questionnaire === KL_TOPI_QUESTIONNAIRE);
    expect(kl.map((r) => r.item?.[0]?.answer?.[0]?.valueString)).toEqual(['Gul']);

    // Every step of both recommendations, focused on its response.
    const tasks = of<Task>('Task');
    const stepIds = [...yellow.recommendation.steps, ...boerne.recommendation.steps].map(
      (x) => x.id,
    );
    expect(tasks.map((x) => x.id).sort()).toEqual(stepIds.sort());
    for (const task of tasks) {
      expect(task.for).toEqual({ type: 'Patient', reference: `urn:uuid:${s.child.id}` });
      expect(task.focus?.reference).toMatch(/^urn:uuid:/);
      const step = taskToStep(task);
      expect([yellow.lineageId, boerne.lineageId]).toContain(step.assessmentLineageId);
      expect(task.status).toBe('requested');
    }

    // Audited as a read of the child.
    const audited = await t.asOwner((db) =>
      sql<{ action: string; resource_type: string; criteria: string | null }>`
        SELECT action, resource_type, criteria::text AS criteria FROM audit_log
        WHERE child_id = ${s.child.id} AND resource_type = 'child' AND action = 'read'`
        .execute(db)
        .then((r) => r.rows),
    );
    expect(audited).toHaveLength(1);
    expect(JSON.parse(audited[0]?.criteria ?? '{}')).toMatchObject({
      format: 'fhir',
      assessments: 2,
      tasks: tasks.length,
    });
  });

  it('a corrected assessment is the same response, amended; a withdrawn one entered-in-error', async () => {
    const s = await setup(t);
    const first = await s.assess({ rating: { overallLevel: 1, answers: {} } });
    const corrected = await t.call('POST', `/v1/assessments/${first.id}/corrections`, {
      token: s.admin.token,
      body: {
        ...assessmentBody({ childId: s.child.id, unitId: s.unit.id, rulerVersionId: s.topi }),
        childId: undefined,
        rating: { overallLevel: 3, answers: {} },
        reason: 'Forkert niveau.',
      },
    });
    expect(corrected.statusCode, corrected.body).toBe(201);
    const bundle = (
      await t.call('GET', `/v1/children/${s.child.id}/fhir`, { token: s.admin.token })
    ).json() as Bundle;
    const responses = (bundle.entry ?? [])
      .map((e) => e.resource as QuestionnaireResponse)
      .filter((r) => r.resourceType === 'QuestionnaireResponse');
    const own = responses.filter((r) => r.questionnaire?.startsWith('urn:lineal:'));
    expect(own.map((r) => [r.id, r.meta?.versionId, r.status])).toEqual([
      [first.lineageId, '2', 'amended'],
    ]);
    // The first version's steps are superseded: cancelled Tasks.
    const cancelled = (bundle.entry ?? [])
      .map((e) => e.resource as Task)
      .filter((r) => r.resourceType === 'Task' && r.status === 'cancelled');
    expect(cancelled.map((x) => x.id).sort()).toEqual(
      first.recommendation.steps.map((x) => x.id).sort(),
    );
    const withdraw = await t.call('POST', `/v1/assessments/${corrected.json().id}/withdraw`, {
      token: s.admin.token,
      body: { reason: 'Registreret på det forkerte barn.' },
    });
    expect(withdraw.statusCode, withdraw.body).toBe(200);
    const after = (
      await t.call('GET', `/v1/children/${s.child.id}/fhir`, { token: s.admin.token })
    ).json() as Bundle;
    const statuses = (after.entry ?? [])
      .map((e) => e.resource as QuestionnaireResponse)
      .filter((r) => r.resourceType === 'QuestionnaireResponse')
      .map((r) => r.status);
    expect(statuses).toEqual(['entered-in-error', 'entered-in-error']);
  });

  it("is scoped like the child's reads: other municipality 404, other unit 404, analyst 403", async () => {
    const s = await setup(t);
    await s.assess({});
    const url = `/v1/children/${s.child.id}/fhir`;
    const staff = await createKey(t, s.municipality.id, 'unit_staff', { unitIds: [s.unit.id] });
    expect((await t.call('GET', url, { token: staff.token })).statusCode).toBe(200);
    const otherUnit = await createUnit(t, s.admin.token);
    const stranger = await createKey(t, s.municipality.id, 'unit_staff', {
      unitIds: [otherUnit.id],
    });
    expectProblem(await t.call('GET', url, { token: stranger.token }), 404);
    const other = await createTenant(t);
    expectProblem(await t.call('GET', url, { token: other.admin.token }), 404);
    const analyst = await createKey(t, s.municipality.id, 'analyst');
    expectProblem(await t.call('GET', url, { token: analyst.token }), 403);
    expectProblem(await t.call('GET', '/v1/fhir/export', { token: analyst.token }), 403);
    // A unit-limited key may not export the municipality.
    const leader = await createKey(t, s.municipality.id, 'unit_leader', { unitIds: [s.unit.id] });
    expectProblem(await t.call('GET', '/v1/fhir/export', { token: leader.token }), 403);
    // An unknown child is 404 too.
    expectProblem(
      await t.call('GET', `/v1/children/${crypto.randomUUID()}/fhir`, { token: s.admin.token }),
      404,
    );
  });

  it("the bulk export: one valid resource a line, as many as the municipality's rows", async () => {
    const s = await setup(t);
    const second = await createChild(t, s.admin.token, { unitId: s.unit.id });
    await s.assess({ rating: { overallLevel: 2, answers: {} } });
    await s.assess({ rating: { overallLevel: 1, answers: {} } }, second.id);
    await s.assess({
      rulerVersionId: s.wellbeing,
      assessedOn: '2026-11-15',
      rating: { answers: { happy: 2, safe: 3, has_friends: 2, takes_part: 1 } },
    });
    // Another municipality's data never appears.
    const other = await setup(t);
    await other.assess({});

    const integration = await createKey(t, s.municipality.id, 'integration');
    const res = await t.call('GET', '/v1/fhir/export', { token: integration.token });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+ndjson/);
    const lines = ndjson(res.body);
    for (const resource of lines) expectValidFhir(resource);

    const m = s.municipality.id;
    const counts = await t.asOwner(async (db) => {
      const one = (q: ReturnType<typeof sql<{ n: number }>>) =>
        q.execute(db).then((r) => Number(r.rows[0]?.n));
      return {
        questionnaires: await one(sql`SELECT count(*)::int AS n FROM ruler_versions
          WHERE municipality_id IS NULL OR municipality_id = ${m}`),
        responses: await one(sql`SELECT count(*)::int AS n FROM assessments
          WHERE municipality_id = ${m} AND status IN ('current', 'withdrawn')`),
        topiWithZone: await one(sql`SELECT count(*)::int AS n FROM assessments a
          JOIN ruler_versions rv ON rv.id = a.ruler_version_id JOIN rulers r ON r.id = rv.ruler_id
          WHERE a.municipality_id = ${m} AND a.status IN ('current', 'withdrawn')
            AND r.key = 'topi-3' AND r.municipality_id IS NULL AND a.zone IS NOT NULL`),
        tasks: await one(sql`SELECT count(*)::int AS n FROM recommendation_steps
          WHERE municipality_id = ${m}`),
      };
    });
    const byType = (type: string) => lines.filter((r) => r.resourceType === type);
    expect(byType('Questionnaire')).toHaveLength(counts.questionnaires);
    expect(byType('QuestionnaireResponse')).toHaveLength(counts.responses + counts.topiWithZone);
    expect(byType('Task')).toHaveLength(counts.tasks);
    expect(lines).toHaveLength(
      counts.questionnaires + counts.responses + counts.topiWithZone + counts.tasks,
    );
    expect(counts).toMatchObject({ responses: 3, topiWithZone: 2 });
    // Logical references only: no Patient, no names.
    expect(byType('Patient')).toEqual([]);
    expect(res.body).not.toContain('"reference"');
    const subjects = byType('QuestionnaireResponse').map((r) =>
      referencedId((r as unknown as QuestionnaireResponse).subject),
    );
    expect(new Set(subjects)).toEqual(new Set([s.child.id, second.id]));
    // The score ruler's response carries its score and zone.
    const scored = byType('QuestionnaireResponse')
      .map((r) => responseToAssessment(r as unknown as QuestionnaireResponse))
      .find((r) => r.score !== null);
    expect(scored).toMatchObject({ score: 2, zone: 'red' });

    // _since: only what changed at or after it, by the database's clock (the rulers and the
    // assessments above were made before).
    await new Promise((resolve) => setTimeout(resolve, 20));
    const mark = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Not informed with it: a step completed at once would carry the test clock's time.
    const late = await s.assess({
      rating: { overallLevel: 3, answers: {} },
      parentsInformed: false,
    });
    const since = await t.call('GET', `/v1/fhir/export?_since=${mark}`, {
      token: integration.token,
    });
    expect(since.statusCode, since.body).toBe(200);
    const changed = ndjson(since.body);
    for (const resource of changed) expectValidFhir(resource);
    expect(changed.filter((r) => r.resourceType === 'Questionnaire')).toEqual([]);
    expect(
      changed
        .filter((r) => r.resourceType === 'QuestionnaireResponse')
        .map((r) => (r.questionnaire === KL_TOPI_QUESTIONNAIRE ? 'kl' : r.id)),
    ).toEqual([late.lineageId, 'kl']);
    expect(
      changed
        .filter((r) => r.resourceType === 'Task')
        .map((r) => r.id)
        .sort(),
    ).toEqual(late.recommendation.steps.map((x) => x.id).sort());
    // Audited once per export, as an export.
    const audited = await t.asOwner((db) =>
      sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_log
        WHERE municipality_id = ${m} AND resource_type = 'export' AND action = 'export'`
        .execute(db)
        .then((r) => Number(r.rows[0]?.n)),
    );
    expect(audited).toBe(2);
    const bad = await t.call('GET', '/v1/fhir/export?_since=yesterday', {
      token: integration.token,
    });
    expectProblem(bad, 400);
  });

  it('the bulk export reads page by page, each page in its own short transaction', async () => {
    const s = await setup(t);
    const children = [s.child.id];
    for (let i = 0; i < 2; i++)
      children.push((await createChild(t, s.admin.token, { unitId: s.unit.id })).id);
    for (const id of children) await s.assess({ rating: { overallLevel: 2, answers: {} } }, id);
    const principal: Principal = {
      kind: 'api_key',
      id: s.admin.id,
      role: 'municipality_admin',
      municipalityId: s.municipality.id,
      unitIds: [],
      requestId: `fhir-pages-${t.engine}`,
    };
    const request = {
      session: new Session(principal, t.clock.now(), TEST_CPR_SECRET),
      method: 'GET',
      params: {},
      routeOptions: {
        url: '/v1/fhir/export',
        config: { audit: { resource: 'export', action: 'export' } },
      },
    } as unknown as FastifyRequest;
    const summaries: { resources: number; completed: boolean }[] = [];
    const stream = await new Runner(t.database, TEST_CPR_SECRET, new ApiKeyCache()).runThen(
      request,
      openFhirExport,
      {
        query: {},
        signal: new AbortController().signal,
        pageSize: 1,
        onClose: (summary) => summaries.push(summary),
      },
    );
    let body = '';
    for await (const chunk of stream) {
      body += String(chunk);
      // No transaction is held between pages (PGlite's one connection would be kept).
      await t.database.transaction(municipalityScope(s.municipality.id), (trx) =>
        sql`SELECT 1`.execute(trx),
      );
    }
    const lines = ndjson(body);
    const full = ndjson((await t.call('GET', '/v1/fhir/export', { token: s.admin.token })).body);
    expect(lines.map((r) => `${r.resourceType}/${r.id}`).sort()).toEqual(
      full.map((r) => `${r.resourceType}/${r.id}`).sort(),
    );
    expect(lines.filter((r) => r.resourceType === 'QuestionnaireResponse')).toHaveLength(6);
    expect(summaries).toEqual([{ resources: lines.length, completed: true }]);
  });
});
