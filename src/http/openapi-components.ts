import { isDeepStrictEqual } from 'node:util';

/**
 * Tidies the components fastify-type-provider-zod registers: it writes every schema with a
 * `meta({ id })` twice, once as the server reads it (`XInput`: fields with defaults optional)
 * and once as it writes it (`X`), whether or not an operation uses either. Generators and
 * linters then see dozens of unused and duplicate components. This keeps what the operations
 * reach, gives a request-only schema its plain name, and merges the two copies wherever they
 * are the same. It also unwraps a one-branch `anyOf` (a union narrowed for the document).
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const PREFIX = '#/components/schemas/';

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A deep copy of `value` with each `$ref` renamed by `rename` and one-branch anyOfs unwrapped. */
function rewrite(value: Json, rename: (name: string) => string): Json {
  if (Array.isArray(value)) return value.map((item) => rewrite(item, rename));
  if (!isObject(value)) return value;
  const anyOf = value.anyOf;
  if (Array.isArray(anyOf) && anyOf.length === 1 && Object.keys(value).length === 1) {
    return rewrite(anyOf[0] as Json, rename);
  }
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    out[key] =
      key === '$ref' && typeof child === 'string' && child.startsWith(PREFIX)
        ? `${PREFIX}${rename(child.slice(PREFIX.length))}`
        : rewrite(child, rename);
  }
  return out;
}

/** The schema names reachable from `roots` through `$ref`s, including through other schemas. */
export function reachableSchemas(roots: unknown, schemas: Record<string, unknown>): Set<string> {
  const seen = new Set<string>();
  const stack: Json[] = [roots as Json];
  while (stack.length > 0) {
    const value = stack.pop() as Json;
    if (Array.isArray(value)) {
      stack.push(...value);
    } else if (isObject(value)) {
      for (const [key, child] of Object.entries(value)) {
        if (key === '$ref' && typeof child === 'string' && child.startsWith(PREFIX)) {
          const name = child.slice(PREFIX.length);
          if (!seen.has(name) && schemas[name] !== undefined) {
            seen.add(name);
            stack.push(schemas[name] as Json);
          }
        } else {
          stack.push(child);
        }
      }
    }
  }
  return seen;
}

/**
 * The document with only the component schemas its operations reach; `XInput` named `X` when
 * `X` is not used, and replaced by `X` when both are used and the same. Other components
 * (security schemes) are kept as they are.
 */
export function tidySchemaComponents<D extends object>(document: D): D {
  const doc = document as unknown as JsonObject;
  const components = isObject(doc.components) ? doc.components : undefined;
  const original = components && isObject(components.schemas) ? components.schemas : undefined;
  if (!components || !original) return document;
  const { components: _omit, ...rest } = doc;
  let schemas: JsonObject = {};
  for (const name of reachableSchemas(rest as Json, original)) {
    schemas[name] = original[name] as Json;
  }
  // Merge or rename input copies until nothing changes: merging one pair can make the pairs
  // that refer to it equal too.
  for (let changed = true; changed; ) {
    changed = false;
    const renames = new Map<string, string>();
    for (const name of Object.keys(schemas)) {
      if (!name.endsWith('Input')) continue;
      const plain = name.slice(0, -'Input'.length);
      if (schemas[plain] === undefined || isDeepStrictEqual(schemas[plain], schemas[name])) {
        renames.set(name, plain);
      }
    }
    if (renames.size === 0) break;
    changed = true;
    const rename = (name: string) => renames.get(name) ?? name;
    const next: JsonObject = {};
    for (const [name, schema] of Object.entries(schemas)) {
      const target = rename(name);
      // A merged pair keeps the plain copy (identical by the test above).
      if (target !== name && schemas[target] !== undefined) continue;
      next[target] = rewrite(schema, rename);
    }
    schemas = next;
    for (const key of Object.keys(rest)) rest[key] = rewrite(rest[key] as Json, rename);
  }
  const sorted = Object.fromEntries(
    Object.keys(schemas)
      .sort()
      .map((name) => [name, rewrite(schemas[name] as Json, (n) => n)]),
  );
  for (const key of Object.keys(rest)) rest[key] = rewrite(rest[key] as Json, (n) => n);
  const tidy = { ...rest, components: { ...components, schemas: sorted } };
  // Keep the document's key order (openapi, info, …, paths, components).
  const ordered: JsonObject = {};
  for (const key of Object.keys(doc)) ordered[key] = (tidy as JsonObject)[key] as Json;
  return ordered as unknown as D;
}
