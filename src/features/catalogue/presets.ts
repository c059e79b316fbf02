import { lockForTransaction } from '../../db/advisory-locks.js';
import { type Database, platformScope } from '../../db/database.js';
import { type CatalogueRepository, definitionHash } from './repository.js';

/** An entry as the code defines it, stored and kept equal by `syncPresets`. */
export interface Preset<D> {
  key: string;
  name: string;
  description: string;
  rulerKey?: string | null;
  definition: D;
}

/**
 * Makes the database hold every preset as the code defines it: a missing preset is created,
 * a changed one gets a new version (old versions stay, so what they produced stays
 * reproducible). Idempotent; run at start-up and after migrations (not a request: it opens its
 * own transaction, in the platform's scope). Returns the keys of the presets that got a new
 * version.
 */
export function syncPresets<D>(
  database: Database,
  repository: CatalogueRepository,
  presets: readonly Preset<D>[],
): Promise<string[]> {
  return database.transaction(platformScope, async (trx) => {
    // Two instances starting together store each preset once: the second waits, then finds them.
    await lockForTransaction(trx, 'presets');
    const changed: string[] = [];
    for (const preset of presets) {
      const entry =
        (await repository.findByKey(trx, null, preset.key)) ??
        (await repository.insert(trx, {
          municipality_id: null,
          key: preset.key,
          ruler_key: preset.rulerKey,
          name: preset.name,
          description: preset.description,
        }));
      const latest = (await repository.listVersions(trx, [entry.id])).at(-1);
      if (latest?.definition_hash !== definitionHash(preset.definition)) {
        await repository.insertVersion(trx, entry, preset.definition, null);
        changed.push(preset.key);
      }
    }
    return changed;
  });
}
