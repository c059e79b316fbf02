import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { generateOpenApi, openApiFile } from '../../src/openapi-document.js';
import { describeEngines } from '../support/engines.js';

interface Operation {
  operationId?: string;
  tags?: string[];
  summary?: string;
  security?: unknown[];
  parameters?: { in: string; name: string }[];
  responses: Record<string, { description?: string; content?: Record<string, unknown> }>;
}
type Document = { paths: Record<string, Record<string, Operation>> };

const operations = (doc: Document) =>
  Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method, op })),
  );

describe('OpenAPI document', () => {
  it('the committed openapi/openapi.json equals the generated one (run npm run openapi)', async () => {
    const committed = await readFile(openApiFile, 'utf8');
    expect(committed).toBe(await generateOpenApi());
    // Generating builds the app on a fresh embedded database: slow on a busy machine.
  }, 90_000);

  it('every operation has an operationId, tags, a summary and its problem responses', async () => {
    const doc = JSON.parse(await readFile(openApiFile, 'utf8')) as Document & {
      openapi: string;
    };
    expect(doc.openapi).toBe('3.1.0');
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThanOrEqual(9);
    const ids = ops.map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, method, op } of ops) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(op.operationId, where).toMatch(/^[a-z][A-Za-z]+$/);
      expect(op.tags?.length, where).toBeGreaterThan(0);
      expect(op.summary, where).toBeTruthy();
      if (path.startsWith('/v1')) {
        // The one operation without credentials: opening a parent link (its code is one).
        expect(op.security, where).toEqual(
          where === 'POST /v1/parent-sessions' ? [] : [{ bearerAuth: [] }],
        );
        for (const status of ['400', '401', '403', '500']) {
          expect(Object.keys(op.responses[status]?.content ?? {}), `${where} ${status}`).toEqual([
            'application/problem+json',
          ]);
        }
      }
    }
  });

  it('every operation taking an Idempotency-Key documents its 409 and 422 problems', async () => {
    const doc = JSON.parse(await readFile(openApiFile, 'utf8')) as Document;
    // A bulk request's keys are per item: their problems are in the items' results, never the
    // whole request's status.
    const perItem = ['/v1/assessments/bulk'];
    const idempotent = operations(doc).filter(
      ({ path, op }) =>
        !perItem.includes(path) &&
        op.parameters?.some((p) => p.in === 'header' && p.name === 'idempotency-key'),
    );
    expect(idempotent.length).toBeGreaterThanOrEqual(10);
    for (const { path, method, op } of idempotent) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(op.responses['409']?.description, where).toContain('idempotency-in-progress');
      expect(op.responses['422']?.description, where).toContain('idempotency-key-reused');
    }
  });
});

describeEngines('OpenAPI serving', (t) => {
  it('serves the document at /openapi.json and the docs UI at /docs', async () => {
    const doc = await t.call('GET', '/openapi.json', { token: null });
    expect(doc.statusCode).toBe(200);
    expect(doc.json()).toEqual(JSON.parse(await readFile(openApiFile, 'utf8')));
    const ui = await t.call('GET', '/docs/', { token: null });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
    expect(ui.body).toContain('swagger');
  });
});
