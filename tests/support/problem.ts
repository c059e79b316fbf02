import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { Problem } from '../../src/http/problem.js';

/** Asserts an RFC 9457 problem response with this status; returns its body. */
export function expectProblem(res: LightMyRequestResponse, status: number): Problem {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json() as Problem;
  expect(body.status).toBe(status);
  expect(typeof body.type).toBe('string');
  expect(body.title.length).toBeGreaterThan(0);
  expect(body.detail.length).toBeGreaterThan(0);
  expect(body.instance).toBe(new URL(res.raw.req.url ?? '/', 'http://x').pathname);
  expect(body.requestId).toBe(res.headers['x-request-id']);
  return body;
}

/** Asserts the 400 of the input-strings guard: exactly the one named field. */
export function expectBadText(res: LightMyRequestResponse, path: string) {
  const problem = expectProblem(res, 400);
  expect(problem.type).toBe('urn:lineal:problem:validation-error');
  expect(problem.errors, res.body).toEqual([
    { path, message: expect.any(String), code: 'invalid_characters' },
  ]);
  return problem;
}
