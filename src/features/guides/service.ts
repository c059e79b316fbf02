import type { Database } from '../../db/database.js';
import type { GuideDefinition } from '../../domain/guides/definition.js';
import { presetGuides } from '../../domain/guides/presets.js';
import { guideDefects } from '../../domain/guides/validate.js';
import { catalogueServices, type Preset } from '../catalogue/service.js';
import { guideCatalogue } from './repository.js';
import type { Guide, GuideVersion } from './schemas.js';

/** The preset guides: one per preset ruler, and `default` for rulers without one. */
function presetDefinitions(): Preset<GuideDefinition>[] {
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

export const guides = catalogueServices<GuideDefinition, Guide, GuideVersion>({
  repository: guideCatalogue,
  noun: 'action guide',
  definitionNoun: 'action guide',
  defects: guideDefects,
  presetKeys: presetDefinitions().map((p) => p.key),
  duplicate: 'duplicate-guide',
  messages: {
    presetKey: (key) => `${key} is a preset guide's key; choose another.`,
    duplicateKey: (key) => `A guide with key ${key} already exists.`,
    presetReadOnly:
      'Preset guides are maintained by lineal. Create your own guide for the ruler to change it.',
  },
  uniqueness: {
    action_guides_ruler_unique: (input) =>
      `You already have a guide for ${input.rulerKey ?? 'the default'}; add a version to it.`,
  },
  entry: (fields, row) => ({ ...fields, rulerKey: row.ruler_key ?? null }),
  version: (fields, row) => ({ ...fields, guideId: row.entry_id, guideKey: row.entry_key }),
});

/** Stores every preset guide as the code defines it (new version when it changed). */
export function syncPresetGuides(database: Database): Promise<string[]> {
  return guides.sync(database, presetDefinitions());
}
