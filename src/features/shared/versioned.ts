import { ValidationFailedError } from '../../errors.js';
import { definitionHash } from '../rulers/repository.js';

/**
 * What rulers and action guides share: both are catalogues of versioned, immutable definitions,
 * with presets kept equal to the code and municipality-owned entries.
 */

interface VersionRow {
  id: string;
  version: number;
  created_at: Date;
}

/** One entry's versions (oldest first) and its latest, from a list over several entries. */
export function versionSummaries<V extends VersionRow>(
  versions: readonly V[],
  belongsTo: (version: V) => boolean,
  what: string,
) {
  const own = versions
    .filter(belongsTo)
    .map((v) => ({ id: v.id, version: v.version, createdAt: v.created_at.toISOString() }));
  const latest = own[own.length - 1];
  if (!latest) throw new Error(`${what} has no version`);
  return { versions: own, latestVersion: latest };
}

/**
 * Makes the database hold every preset as the code defines it (run inside one transaction by
 * the caller, whose `store` functions use it): a missing preset is created, a
 * changed one gets a new version (old versions stay, so what they produced stays reproducible).
 * Idempotent; returns the keys of the presets that got a new version.
 */
export async function syncPresets<P extends { key: string; definition: unknown }, R>(
  presets: readonly P[],
  store: {
    find(key: string): Promise<R | undefined>;
    insert(preset: P): Promise<R>;
    latestHash(entry: R): Promise<string | undefined>;
    insertVersion(entry: R, definition: unknown): Promise<unknown>;
  },
): Promise<string[]> {
  const changed: string[] = [];
  for (const preset of presets) {
    const entry = (await store.find(preset.key)) ?? (await store.insert(preset));
    if ((await store.latestHash(entry)) !== definitionHash(preset.definition)) {
      await store.insertVersion(entry, preset.definition);
      changed.push(preset.key);
    }
  }
  return changed;
}

/** 422 listing every defect of a submitted definition, under `body.definition.`. */
export function rejectDefects(
  defects: readonly { path: string; message: string; code: string }[],
  what: string,
): void {
  if (defects.length === 0) return;
  throw new ValidationFailedError(
    `The ${what} has ${defects.length} defect(s).`,
    defects.map((d) => ({ path: `body.definition.${d.path}`, message: d.message, code: d.code })),
  );
}
