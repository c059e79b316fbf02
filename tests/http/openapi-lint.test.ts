import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { openApiFile } from '../../src/openapi-document.js';

const run = promisify(execFile);

interface LintProblem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location: { pointer: string }[];
}

type Headers = Record<string, { $ref?: string }>;
interface Operation {
  parameters?: { in: string; name: string }[];
  responses: Record<string, { description?: string; headers?: Headers }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { headers: Record<string, unknown>; schemas: Record<string, unknown> };
}

describe('OpenAPI document for generators', () => {
  it('redocly lint (recommended rules) finds no error and no warning', async () => {
    // --format=json lists every problem; the exit code is non-zero only on errors.
    const result = await run('node_modules/.bin/redocly', ['lint', openApiFile, '--format=json'], {
      maxBuffer: 64 * 1024 * 1024,
    }).catch((error: { stdout: string }) => error);
    const report = JSON.parse(result.stdout) as { problems: LintProblem[] };
    const problems = report.problems.map(
      (p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`,
    );
    expect(problems).toEqual([]);
  }, 60_000);

  it('declares the response headers the service sends', async () => {
    const doc = JSON.parse(await readFile(openApiFile, 'utf8')) as Document;
    const ref = (name: string) => ({ $ref: `#/components/headers/${name}` });
    let created = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const idempotent = op.parameters?.some((p) => p.name === 'idempotency-key');
        for (const [status, response] of Object.entries(op.responses)) {
          const where = `${method.toUpperCase()} ${path} ${status}`;
          expect(response.description, where).not.toBe('Default Response');
          expect(response.description, where).toBeTruthy();
          const headers = response.headers ?? {};
          if (status === '201') {
            created += 1;
            expect(headers.Location, where).toEqual(ref('Location'));
            if (idempotent) {
              expect(headers['Idempotency-Replayed'], where).toEqual(ref('IdempotencyReplayed'));
            }
          }
          if (status === '429' || status === '503') {
            expect(headers['Retry-After'], where).toEqual(ref('RetryAfter'));
          }
          if (path.startsWith('/v1') && !['401', '414', '431'].includes(status)) {
            expect(headers['RateLimit-Remaining'], where).toEqual(ref('RateLimitRemaining'));
          }
        }
      }
    }
    expect(created).toBeGreaterThanOrEqual(15);
    expect(Object.keys(doc.components.headers).sort()).toEqual([
      'IdempotencyReplayed',
      'Location',
      'RateLimitLimit',
      'RateLimitRemaining',
      'RateLimitReset',
      'RetryAfter',
    ]);
  });

  it('types the event feed: a union by event type, each with its own data', async () => {
    const doc = JSON.parse(await readFile(openApiFile, 'utf8')) as Document;
    const event = doc.components.schemas.Event as {
      oneOf: { $ref: string }[];
      discriminator: { propertyName: string; mapping: Record<string, string> };
    };
    expect(event.discriminator.propertyName).toBe('type');
    expect(Object.keys(event.discriminator.mapping).sort()).toEqual([
      'concern_report.recorded',
      'flag.acknowledged',
      'flag.raised',
      'parent_notice.closed',
      'parent_notice.created',
      'recommendation.created',
      'step.status_changed',
    ]);
    expect(event.oneOf).toHaveLength(7);
    for (const { $ref } of event.oneOf) {
      const name = $ref.split('/').pop() as string;
      const variant = doc.components.schemas[name] as {
        properties: { type: { const: string }; data: { $ref: string } };
      };
      expect(event.discriminator.mapping[variant.properties.type.const]).toBe($ref);
      expect(variant.properties.data.$ref).toMatch(/Data$/);
    }
  });
});
