import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ProblemError } from '../errors.js';
import type { FieldError } from './problem.js';

/**
 * A NUL character, or a UTF-16 surrogate without its partner (in `u` mode a pair is one code
 * point, so `\p{Cs}` matches only lone halves). PostgreSQL cannot store NUL in `text` or
 * `jsonb`, and a lone surrogate has no UTF-8 form: it would fail in `jsonb` or be stored
 * silently as U+FFFD. Neither belongs in any field of this API.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL is the point
const UNSAFE = /[\u0000\p{Cs}]/u;

/** More than this many bad strings in one request are not all listed. */
const MAX_ERRORS = 20;

function reason(text: string): string {
  return text.includes('\u0000')
    ? 'contains a NUL character (U+0000)'
    : 'contains a lone UTF-16 surrogate (not valid Unicode text)';
}

/** One object or array still to visit, and how it was reached (for the error's path). */
interface Frame {
  value: object;
  key: string | number | undefined;
  parent: Frame | undefined;
}

function pathOf(frame: Frame | undefined, context: string): string {
  const segments: (string | number)[] = [];
  for (let f = frame; f && f.key !== undefined; f = f.parent) segments.push(f.key);
  return [context, ...segments.reverse()].join('.');
}

/**
 * Appends to `errors` every string (values and property names, at any depth) of `value` that
 * `UNSAFE` matches, with its path under `context` (`body.children.0.name`). A bad property name
 * is reported at its object, so the bad text is never echoed. Iterative: a deeply nested JSON
 * body cannot overflow the stack.
 */
export function collectUnsafeStrings(value: unknown, context: string, errors: FieldError[]): void {
  const add = (frame: Frame | undefined, key: string | number | undefined, message: string) => {
    if (errors.length >= MAX_ERRORS) return;
    const path = pathOf(frame, context);
    errors.push({
      path: key === undefined ? path : `${path}.${key}`,
      message,
      code: 'invalid_characters',
    });
  };
  if (typeof value === 'string') {
    if (UNSAFE.test(value)) add(undefined, undefined, reason(value));
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const stack: Frame[] = [{ value, key: undefined, parent: undefined }];
  const visit = (frame: Frame, key: string | number, child: unknown) => {
    if (typeof child === 'string') {
      if (UNSAFE.test(child)) add(frame, key, reason(child));
    } else if (typeof child === 'object' && child !== null) {
      stack.push({ value: child, key, parent: frame });
    }
  };
  for (let frame = stack.pop(); frame && errors.length < MAX_ERRORS; frame = stack.pop()) {
    if (Array.isArray(frame.value)) {
      for (let i = 0; i < frame.value.length; i++) visit(frame, i, frame.value[i]);
    } else {
      for (const [key, child] of Object.entries(frame.value)) {
        if (UNSAFE.test(key)) add(frame, undefined, `has a property name that ${reason(key)}`);
        visit(frame, key, child);
      }
    }
  }
}

/** Every bad string of a request, by where it is: path, query, header, body. */
export function unsafeStringsOf(request: FastifyRequest): FieldError[] {
  const errors: FieldError[] = [];
  collectUnsafeStrings(request.params, 'path', errors);
  collectUnsafeStrings(request.query, 'query', errors);
  collectUnsafeStrings(request.headers, 'header', errors);
  collectUnsafeStrings(request.body, 'body', errors);
  return errors;
}

/**
 * One guard for every route: a request with a NUL character or a lone surrogate in any string
 * (path parameters, query, headers, the parsed JSON body at any depth, property names included)
 * is answered 400 `validation-error`, naming each such field like a schema validation error
 * does, before the route's own validation and long before the database sees the text.
 *
 * Runs in `preValidation`, after authentication and authorisation (a caller without a key gets
 * 401, one whose role may not call the route 403, as for any other bad input).
 */
export const inputStringsPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('preValidation', async (request) => {
      const errors = unsafeStringsOf(request);
      if (errors.length === 0) return;
      const where = new Set(errors.map((e) => e.path.split('.', 1)[0]));
      const context = where.size === 1 ? [...where][0] : 'input';
      throw new ProblemError(
        400,
        'validation-error',
        'Bad Request',
        `The request ${context} is invalid: ${errors.length} problem(s).`,
        errors,
      );
    });
  },
  { name: 'lineal-input-strings', dependencies: ['lineal-errors'] },
);
