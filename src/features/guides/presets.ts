import type { Database } from '../../db/database.js';
import type { GuideDefinition } from '../../domain/guides/definition.js';
import { presetGuides } from '../../domain/guides/presets.js';
import { type Preset, syncPresets } from '../catalogue/presets.js';
import { guideCatalogue } from './repository.js';

/** The preset guides: one per preset ruler, and `default` for rulers without one. */
export function presetDefinitions(): Preset<GuideDefinition>[] {
  const fallback = presetGuides.find((g) => g.rulerKey === 'topi-3') ?? presetGuides[0];
  if (!fallback) throw new Error('no preset guides');
  return [
    ...presetGuides,
    {
      key: 'default',
      rulerKey: null,
      name: 'Standard handleguide',
      description: "Used for rulers that have no guide of their own (the TOPI guide's steps).",
      definition: fallback.definition,
    },
  ];
}

/** Stores every preset guide as the code defines it (new version when it changed). */
export function syncPresetGuides(database: Database): Promise<string[]> {
  return syncPresets(database, guideCatalogue, presetDefinitions());
}
