import type { RulerDefinition } from '../../domain/rulers/definition.js';
import { presetRulers } from '../../domain/rulers/presets.js';
import { rulerDefects } from '../../domain/rulers/validate.js';
import { catalogueServices } from '../catalogue/service.js';
import { rulerCatalogue } from './repository.js';
import type { Ruler, RulerVersion } from './schemas.js';

export const rulers = catalogueServices<RulerDefinition, Ruler, RulerVersion>({
  repository: rulerCatalogue,
  noun: 'ruler',
  definitionNoun: 'ruler definition',
  defects: rulerDefects,
  presetKeys: presetRulers.map((p) => p.key),
  duplicate: 'duplicate-ruler',
  messages: {
    presetKey: (key) => `${key} is a preset's key; choose another key for your own ruler.`,
    duplicateKey: (key) => `A ruler with key ${key} already exists.`,
    presetReadOnly:
      'Preset rulers are maintained by lineal. Create a ruler of your own to change it.',
  },
  entry: (fields) => fields,
  version: (fields, row) => ({ ...fields, rulerId: row.entry_id, rulerKey: row.entry_key }),
});

// Start-up, not a request service; imported from here by server.ts, the demo and the tests.
export { syncPresetRulers } from './presets.js';
