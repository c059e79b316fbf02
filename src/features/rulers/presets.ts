import type { Database } from '../../db/database.js';
import { presetRulers } from '../../domain/rulers/presets.js';
import { syncPresets } from '../catalogue/presets.js';
import { rulerCatalogue } from './repository.js';

/**
 * Makes the database hold every preset ruler as the code defines it (old versions stay, so old
 * classifications remain reproducible). Idempotent; run at start-up and after migrations.
 */
export function syncPresetRulers(database: Database): Promise<string[]> {
  return syncPresets(database, rulerCatalogue, presetRulers);
}
