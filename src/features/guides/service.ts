import type { GuideDefinition } from '../../domain/guides/definition.js';
import { guideDefects } from '../../domain/guides/validate.js';
import { catalogueServices } from '../catalogue/service.js';
import { presetDefinitions } from './presets.js';
import { guideCatalogue } from './repository.js';
import type { Guide, GuideVersion } from './schemas.js';

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

// Start-up, not a request service; imported from here by server.ts, the demo and the tests.
export { syncPresetGuides } from './presets.js';
