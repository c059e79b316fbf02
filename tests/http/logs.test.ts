import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { createLogger, loggerOptions } from '../../src/logging.js';
import { describeEngines } from '../support/engines.js';
import { createChild, createKey, createScreeningTenant } from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

/** Every log line of the apps of this file, at level trace. */
const lines: string[] = [];
const sink = new Writable({
  write(chunk, _encoding, done) {
    lines.push(String(chunk));
    done();
  },
});

const child = {
  givenName: 'Lykke-Marie',
  familyName: 'Quistgaard',
  cpr: '170321-4187',
  birthDate: '2021-03-17',
};
const notes = {
  justification: 'Virker ked af det efter weekenderne hos faren.',
  childPerspective: 'Jeg kan ikke lide at sove hos Kasper.',
  correction: 'Niveauet blev tastet forkert af Hanne.',
  withdrawal: 'Registreret på den forkerte elev i 2.B.',
  reference: 'SAG-2026-88771',
  reporter: 'Birthe Underretter',
};

describeEngines(
  'no child data in logs',
  (t) => {
    it('logs a full scenario by route pattern only: no names, CPR, birth date, ids or notes', async () => {
      lines.length = 0;
      const s = await createScreeningTenant(t);
      const created = await createChild(t, s.admin.token, {
        ...child,
        unitId: s.unit.id,
        enrolledFrom: '2024-08-01',
      });
      const raters = [
        { name: 'Anna Pædagog', role: 'unit_staff', rating: { overallLevel: 2 } },
        { name: 'Bo Leder', role: 'unit_leader', rating: { overallLevel: 3 } },
      ];
      const assessment = {
        childId: created.id,
        unitId: s.unit.id,
        rulerVersionId: s.topi,
        assessedOn: '2026-11-20',
        raters,
        rating: { overallLevel: 3 },
        justification: notes.justification,
        childPerspective: notes.childPerspective,
        parentsInformed: true,
      };
      const first = await t.call('POST', '/v1/assessments', {
        token: s.admin.token,
        body: assessment,
        headers: { 'idempotency-key': `logs-${t.engine}` },
      });
      expect(first.statusCode, first.body).toBe(201);
      const v1 = first.json() as { id: string };

      const { childId: _childId, ...correctionFields } = assessment;
      const correction = await t.call('POST', `/v1/assessments/${v1.id}/corrections`, {
        token: s.admin.token,
        body: { ...correctionFields, rating: { overallLevel: 2 }, reason: notes.correction },
      });
      expect(correction.statusCode, correction.body).toBe(201);
      const v2 = correction.json() as { id: string };

      const timeline = await t.call('GET', `/v1/children/${created.id}/timeline`, {
        token: s.admin.token,
      });
      expect(timeline.statusCode, timeline.body).toBe(200);
      expect(timeline.body).toContain(notes.correction);

      const report = await t.call('POST', `/v1/children/${created.id}/concern-reports`, {
        token: s.admin.token,
        body: {
          reportedOn: '2026-11-21',
          reportedBy: { name: notes.reporter, role: 'unit_leader' },
          reference: notes.reference,
        },
      });
      expect(report.statusCode, report.body).toBe(201);

      const lookup = await t.call('POST', '/v1/children/lookup', {
        token: s.admin.token,
        body: { cpr: child.cpr },
      });
      expect(lookup.statusCode, lookup.body).toBeLessThan(500);

      const analyst = await createKey(t, s.municipality.id, 'analyst', { token: s.admin.token });
      const csv = await t.call('GET', '/v1/exports/assessments.csv?from=2026-01-01', {
        token: analyst.token,
      });
      expect(csv.statusCode, csv.body).toBe(200);

      // Failing requests carrying child data in the URL, the query string and the body.
      const digits = child.cpr.replace('-', '');
      expectProblem(
        await t.call('GET', `/v1/children/${child.cpr}`, { token: s.admin.token }),
        400,
      );
      expectProblem(
        await t.call('GET', `/v1/children/${digits}/timeline`, { token: s.admin.token }),
        400,
      );
      // The platform key may not read children: a 403 is logged too.
      expectProblem(await t.call('GET', `/v1/children/${created.id}`), 403);
      expectProblem(await t.call('GET', `/v1/cpr/${digits}?name=${child.givenName}`), 404);
      expectProblem(
        await t.call('DELETE', `/v1/children/${created.id}`, { body: { reason: 'x' } }),
        403,
      );
      expectProblem(
        await t.call('GET', `/v1/children?cursor=${encodeURIComponent(child.familyName)}`, {
          token: s.admin.token,
        }),
        400,
      );
      expectProblem(
        await t.call('POST', '/v1/children', {
          token: s.admin.token,
          body: { ...child, externalRef: 'x', birthDate: `${child.birthDate}T00:00`, extra: 1 },
        }),
        400,
      );
      expectProblem(
        await t.call('POST', `/v1/assessments/${v2.id}/withdraw`, {
          token: null,
          body: { reason: notes.withdrawal },
        }),
        401,
      );

      const log = lines.join('');
      const secrets = [
        child.givenName,
        child.familyName,
        child.cpr,
        digits,
        child.cpr.slice(0, 6),
        child.birthDate,
        created.id,
        v1.id,
        v2.id,
        ...Object.values(notes),
      ];
      for (const secret of secrets) {
        expect(log, `the log contains ${secret}`).not.toContain(secret);
      }

      // Requests were logged, by route pattern (and unmatched ones without any path).
      expect(lines.length).toBeGreaterThanOrEqual(30);
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
      expect(log).toContain('"route":"/v1/children/:childId/timeline"');
      expect(log).toContain('"route":"/v1/assessments/:assessmentId/corrections"');
      expect(log).toContain('"route":"/v1/exports/assessments.csv"');
      expect(log).toContain('"route":null');
      expect(log).toContain('"statusCode":201');
      expect(log).not.toContain('"path"');
      expect(log).not.toContain('"url"');
    });
  },
  { logger: createLogger('trace', sink) },
);

it('redacts values PostgreSQL quotes in error messages, keeping the identifiers', () => {
  const serialize = loggerOptions('info').serializers?.err as (error: unknown) => {
    message: string;
    stack?: string;
    constraint?: string;
    detail?: unknown;
    where?: unknown;
  };
  const error = Object.assign(new Error('invalid input syntax for type uuid: "170321-4187"'), {
    severity: 'ERROR',
    code: '22P02',
    detail: 'Failing row contains (Lykke-Marie, Quistgaard, 2021-03-17).',
    where: "unnamed portal parameter $1 = '170321-4187'",
    constraint: 'children_pkey',
  });
  const logged = serialize(error);
  expect(JSON.stringify(logged)).not.toMatch(/170321|Lykke|Quistgaard|2021-03-17/);
  expect(logged.message).toBe('invalid input syntax for type uuid: "[redacted]"');
  expect(logged.stack).toContain('invalid input syntax for type uuid: "[redacted]"');
  expect(logged.constraint).toBe('children_pkey');
  expect(logged.detail).toBeUndefined();
  expect(logged.where).toBeUndefined();
});
