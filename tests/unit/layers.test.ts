import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The import arrows point one way: a layer imports only from layers below it, and a feature
 * folder only from features below it (never in a circle). Type-only imports count too: a type
 * that runs back up a layer is the same tangle.
 */

const SRC = path.resolve(import.meta.dirname, '../../src');

/** Layers, lowest first. A file is in the layer of its first path segment under src/. */
const LAYERS: Record<string, number> = {
  'errors.ts': 0,
  'connection-string.ts': 0,
  domain: 0,
  // The browser code (staff app, dashboard): it may import nothing of the server.
  web: 0,
  'config.ts': 1,
  'logging.ts': 1,
  db: 2,
  http: 3,
  auth: 4,
  access: 5,
  audit: 5,
  request: 6,
  features: 7,
  jobs: 8,
  'openapi-document.ts': 9,
  'app.ts': 9,
  demo: 10,
  'server.ts': 11,
  'cli.ts': 12,
};

/**
 * Feature folders, lowest first: a feature may import only from features listed before it.
 * `shared` holds what several features' schemas and repositories share.
 */
const FEATURES = [
  'shared',
  'catalogue',
  'rulers',
  'guides',
  'health',
  'municipalities',
  'units',
  'api-keys',
  'me',
  'children',
  'enrolments',
  'imports',
  'social-workers',
  'rounds',
  'events',
  'consents',
  'guidelines',
  'parent-notices',
  'self-reports',
  'parent-view',
  'recommendations',
  'flags',
  'concern-reports',
  'worklist',
  'assessments',
  'handover',
  'audit',
  'dossier',
  'erasure',
  'analytics',
  'exports',
  'fhir',
  'web',
  'webhooks',
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:import|export)\s[^'";]*?from\s+'(\.[^']+)'/g)].map(
    (m) => m[1] as string,
  );
  return specifiers.map((s) =>
    path.relative(SRC, path.resolve(path.dirname(file), s.replace(/\.js$/, '.ts'))),
  );
}

const layerOf = (rel: string) => rel.split(path.sep)[0] as string;
const featureOf = (rel: string) => (layerOf(rel) === 'features' ? rel.split(path.sep)[1] : null);

const files = sourceFiles(SRC).map((f) => path.relative(SRC, f));

describe('layers', () => {
  it('every file is in a known layer, every feature folder in the feature order', () => {
    expect(files.map(layerOf).filter((l) => !(l in LAYERS))).toEqual([]);
    const features = [...new Set(files.map(featureOf).filter((f) => f !== null))];
    expect(features.filter((f) => !FEATURES.includes(f as string))).toEqual([]);
  });

  it('no import runs back up a layer', () => {
    const upward: string[] = [];
    for (const file of files) {
      const from = LAYERS[layerOf(file)] ?? -1;
      for (const target of importsOf(path.join(SRC, file))) {
        if (target.startsWith('..')) continue; // outside src (package.json)
        const to = LAYERS[layerOf(target)] ?? -1;
        if (to > from) upward.push(`${file} → ${target}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('feature folders import only features below them (no circles)', () => {
    const backward: string[] = [];
    for (const file of files) {
      const from = featureOf(file);
      if (!from) continue;
      for (const target of importsOf(path.join(SRC, file))) {
        const to = featureOf(target);
        if (!to || to === from) continue;
        if (FEATURES.indexOf(to) >= FEATURES.indexOf(from)) backward.push(`${file} → ${target}`);
      }
    }
    expect(backward).toEqual([]);
  });
});
