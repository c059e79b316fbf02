import type { Transaction } from 'kysely';
import { municipalityOf, type Principal } from '../../auth/principal.js';
import { lockForTransaction } from '../../db/advisory-locks.js';
import { type Database, municipalityScope, platformScope } from '../../db/database.js';
import { isUniqueViolation } from '../../db/errors.js';
import type { DB } from '../../db/schema.js';
import type { RulerDefinition } from '../../domain/rulers/definition.js';
import { presetRulers } from '../../domain/rulers/presets.js';
import { rulerDefects } from '../../domain/rulers/validate.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../errors.js';
import { rejectDefects, syncPresets, versionSummaries } from '../shared/versioned.js';
import {
  findRuler,
  findRulerByKey,
  findVersion,
  insertRuler,
  insertVersion,
  listRulers,
  listVersions,
  type RulerRow,
  type RulerVersionRow,
} from './repository.js';
import type { CreateRuler, Ruler, RulerVersion } from './schemas.js';

function toRuler(row: RulerRow, versions: RulerVersionRow[]): Ruler {
  return {
    id: row.id,
    key: row.key,
    name: row.name,
    description: row.description,
    preset: row.municipality_id === null,
    municipalityId: row.municipality_id,
    ...versionSummaries(versions, (v) => v.ruler_id === row.id, `ruler ${row.id}`),
  };
}

export function toRulerVersion(row: RulerVersionRow): RulerVersion {
  return {
    id: row.id,
    rulerId: row.ruler_id,
    rulerKey: row.ruler_key,
    version: row.version,
    definition: row.definition as RulerDefinition,
    createdAt: row.created_at.toISOString(),
  };
}

/**
 * Makes the database hold every preset ruler as the code defines it: a missing preset is
 * created, a changed one gets a new version (old versions stay, so old classifications remain
 * reproducible). Idempotent; run at start-up and after migrations.
 */
export function syncPresetRulers(database: Database): Promise<string[]> {
  return database.transaction(platformScope, async (trx) => {
    // Two instances starting together store each preset once: the second waits, then finds them.
    await lockForTransaction(trx, 'presets');
    return syncPresets(presetRulers, {
      find: (key) => findRulerByKey(trx, null, key),
      insert: (preset) =>
        insertRuler(trx, {
          municipality_id: null,
          key: preset.key,
          name: preset.name,
          description: preset.description,
        }),
      latestHash: async (ruler) => (await listVersions(trx, [ruler.id])).at(-1)?.definition_hash,
      insertVersion: (ruler, definition) => insertVersion(trx, ruler, definition, null),
    });
  });
}

export async function listVisibleRulers(database: Database, principal: Principal) {
  const municipalityId = municipalityOf(principal);
  return database.transaction(municipalityScope(municipalityId), async (trx) => {
    const rulers = await listRulers(trx, municipalityId);
    const versions = await listVersions(
      trx,
      rulers.map((r) => r.id),
    );
    return { items: rulers.map((r) => toRuler(r, versions)) };
  });
}

export async function getRuler(database: Database, principal: Principal, id: string) {
  const municipalityId = municipalityOf(principal);
  return database.transaction(municipalityScope(municipalityId), async (trx) => {
    const ruler = await findRuler(trx, municipalityId, id);
    if (!ruler) throw new NotFoundError('ruler', id);
    return toRuler(ruler, await listVersions(trx, [id]));
  });
}

export async function getRulerVersion(database: Database, principal: Principal, id: string) {
  const municipalityId = municipalityOf(principal);
  const row = await database.transaction(municipalityScope(municipalityId), (trx) =>
    findVersion(trx, municipalityId, id),
  );
  if (!row) throw new NotFoundError('ruler version', id);
  return toRulerVersion(row);
}

export async function createRuler(
  trx: Transaction<DB>,
  principal: Principal,
  input: CreateRuler,
): Promise<Ruler> {
  const municipalityId = municipalityOf(principal);
  rejectDefects(rulerDefects(input.definition), 'ruler definition');
  if (presetRulers.some((p) => p.key === input.key)) {
    throw new ConflictError(
      `${input.key} is a preset's key; choose another key for your own ruler.`,
      'duplicate-ruler',
    );
  }
  let ruler: RulerRow;
  try {
    ruler = await insertRuler(trx, {
      municipality_id: municipalityId,
      key: input.key,
      name: input.name,
      description: input.description ?? null,
    });
  } catch (error) {
    if (isUniqueViolation(error, 'rulers_key_unique')) {
      throw new ConflictError(`A ruler with key ${input.key} already exists.`, 'duplicate-ruler');
    }
    throw error;
  }
  await insertVersion(trx, ruler, input.definition, principal.id);
  return toRuler(ruler, await listVersions(trx, [ruler.id]));
}

export async function createRulerVersion(
  trx: Transaction<DB>,
  principal: Principal,
  rulerId: string,
  definition: RulerDefinition,
): Promise<RulerVersion> {
  const municipalityId = municipalityOf(principal);
  const ruler = await findRuler(trx, municipalityId, rulerId);
  if (!ruler) throw new NotFoundError('ruler', rulerId);
  if (ruler.municipality_id === null) {
    throw new ForbiddenError(
      'Preset rulers are maintained by lineal. Create a ruler of your own to change it.',
    );
  }
  rejectDefects(rulerDefects(definition), 'ruler definition');
  let id: string;
  try {
    id = await insertVersion(trx, ruler, definition, principal.id);
  } catch (error) {
    if (isUniqueViolation(error, 'ruler_versions_unique')) {
      throw new ConflictError('Another version was created at the same time; retry.');
    }
    throw error;
  }
  return toRulerVersion((await findVersion(trx, municipalityId, id)) as RulerVersionRow);
}
