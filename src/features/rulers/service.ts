import type { Transaction } from 'kysely';
import { municipalityOf, type Principal } from '../../auth/principal.js';
import { type Database, municipalityScope, platformScope } from '../../db/database.js';
import { isUniqueViolation } from '../../db/errors.js';
import type { DB } from '../../db/schema.js';
import type { RulerDefinition } from '../../domain/rulers/definition.js';
import { presetRulers } from '../../domain/rulers/presets.js';
import { rulerDefects } from '../../domain/rulers/validate.js';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ValidationFailedError,
} from '../../http/errors.js';
import {
  definitionHash,
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
  const own = versions
    .filter((v) => v.ruler_id === row.id)
    .map((v) => ({ id: v.id, version: v.version, createdAt: v.created_at.toISOString() }));
  const latest = own[own.length - 1];
  if (!latest) throw new Error(`ruler ${row.id} has no version`);
  return {
    id: row.id,
    key: row.key,
    name: row.name,
    description: row.description,
    preset: row.municipality_id === null,
    municipalityId: row.municipality_id,
    latestVersion: latest,
    versions: own,
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
export async function syncPresetRulers(database: Database): Promise<string[]> {
  return database.transaction(platformScope, async (trx) => {
    const changed: string[] = [];
    for (const preset of presetRulers) {
      const ruler =
        (await findRulerByKey(trx, null, preset.key)) ??
        (await insertRuler(trx, {
          municipality_id: null,
          key: preset.key,
          name: preset.name,
          description: preset.description,
        }));
      const versions = await listVersions(trx, [ruler.id]);
      const latest = versions[versions.length - 1];
      if (latest?.definition_hash !== definitionHash(preset.definition)) {
        await insertVersion(trx, ruler, preset.definition, null);
        changed.push(preset.key);
      }
    }
    return changed;
  });
}

function requireSoundDefinition(definition: RulerDefinition, path: string): void {
  const defects = rulerDefects(definition);
  if (defects.length > 0) {
    throw new ValidationFailedError(
      `The ruler definition has ${defects.length} defect(s).`,
      defects.map((d) => ({ path: `${path}.${d.path}`, message: d.message, code: d.code })),
    );
  }
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
  requireSoundDefinition(input.definition, 'body.definition');
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
  requireSoundDefinition(definition, 'body.definition');
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
