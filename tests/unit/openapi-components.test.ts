import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reachableSchemas, tidySchemaComponents } from '../../src/http/openapi-components.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const body = (schema: object) => ({ content: { 'application/json': { schema } } });

/** A document with one operation reading `request` and answering `response`. */
function documentOf(request: object, response: object, schemas: Record<string, object>) {
  return {
    openapi: '3.1.0',
    paths: { '/x': { post: { requestBody: body(request), responses: { 200: body(response) } } } },
    components: { securitySchemes: { bearerAuth: { type: 'http' } }, schemas },
  };
}

describe('tidySchemaComponents', () => {
  it('drops the schemas no operation reaches, directly or through another schema', () => {
    const doc = documentOf(ref('CreateInput'), ref('Thing'), {
      CreateInput: { type: 'object', properties: { kind: ref('Kind') } },
      Create: { type: 'object' },
      Thing: { type: 'object' },
      ThingInput: { type: 'object', properties: { x: { type: 'string' } } },
      Kind: { enum: ['a'] },
      Orphan: { type: 'string' },
    });
    const tidy = tidySchemaComponents(doc);
    expect(Object.keys(tidy.components.schemas)).toEqual(['Create', 'Kind', 'Thing']);
    // CreateInput was renamed Create (the unused output copy of that name was dropped).
    expect(tidy.paths['/x'].post.requestBody).toEqual(body(ref('Create')));
    expect(tidy.components.securitySchemes).toEqual(doc.components.securitySchemes);
  });

  it('merges an input copy equal to its output copy, also once its own references merge', () => {
    const doc = documentOf(ref('OuterInput'), ref('Outer'), {
      OuterInput: { type: 'object', properties: { zone: ref('ZoneInput') } },
      Outer: { type: 'object', properties: { zone: ref('Zone') } },
      ZoneInput: { enum: ['green', 'red'] },
      Zone: { enum: ['green', 'red'] },
    });
    const tidy = tidySchemaComponents(doc);
    expect(Object.keys(tidy.components.schemas)).toEqual(['Outer', 'Zone']);
    expect(tidy.paths['/x'].post.requestBody).toEqual(body(ref('Outer')));
  });

  it('keeps both copies when the server reads and writes a schema differently', () => {
    const doc = documentOf(ref('RaterInput'), ref('Rater'), {
      RaterInput: { type: 'object', properties: { role: { type: 'string' } } },
      Rater: { type: 'object', properties: { role: { type: 'string' } }, required: ['role'] },
    });
    expect(Object.keys(tidySchemaComponents(doc).components.schemas)).toEqual([
      'Rater',
      'RaterInput',
    ]);
  });

  it('unwraps a one-branch anyOf', () => {
    const doc = documentOf({ type: 'array', items: { anyOf: [ref('Item')] } }, ref('Item'), {
      Item: { type: 'object' },
    });
    expect(tidySchemaComponents(doc).paths['/x'].post.requestBody).toEqual(
      body({ type: 'array', items: ref('Item') }),
    );
  });

  it('property: every reference resolves, nothing unreachable is kept, and it is idempotent', () => {
    const names = ['A', 'AInput', 'B', 'BInput', 'C', 'CInput'];
    const schema = fc.oneof(
      fc.constantFrom(...names).map(ref),
      fc.constantFrom({ type: 'string' }, { type: 'integer' }, { enum: ['x', 'y'] }),
      fc.uniqueArray(fc.constantFrom(...names), { maxLength: 2 }).map((refs) => ({
        type: 'object',
        properties: Object.fromEntries(refs.map((n) => [n.toLowerCase(), ref(n)])),
      })),
    );
    fc.assert(
      fc.property(
        // Every name is defined (the generator never writes a dangling reference).
        fc
          .tuple(...names.map(() => schema))
          .map((list) => Object.fromEntries(list.map((value, i) => [names[i] as string, value]))),
        fc.constantFrom(...names),
        fc.constantFrom(...names),
        (schemas, request, response) => {
          const tidy = tidySchemaComponents(documentOf(ref(request), ref(response), schemas));
          const kept = tidy.components.schemas as Record<string, object>;
          const { components: _c, ...rest } = tidy;
          const reached = reachableSchemas(rest, kept);
          for (const name of reached) expect(kept[name]).toBeDefined();
          expect([...reached].sort()).toEqual(Object.keys(kept).sort());
          const text = JSON.stringify(tidy);
          for (const match of text.matchAll(/#\/components\/schemas\/(\w+)/g)) {
            expect(kept[match[1] as string], match[1]).toBeDefined();
          }
          expect(tidySchemaComponents(tidy)).toEqual(tidy);
        },
      ),
    );
  });
});
