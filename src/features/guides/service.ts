import type { Transaction } from 'kysely';
import { municipalityOf, type Principal } from '../../auth/principal.js';
import { lockForTransaction } from '../../db/advisory-locks.js';
import { type Database, municipalityScope, platformScope } from '../../db/database.js';
import { isUniqueViolation } from '../../db/errors.js';
import type { DB } from '../../db/schema.js';
import type { GuideDefinition } from '../../domain/guides/definition.js';
import { presetGuides } from '../../domain/guides/presets.js';
import { guideDefects } from '../../domain/guides/validate.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../errors.js';
import { rejectDefects, syncPresets, versionSummaries } from '../shared/versioned.js';
import {
  findGuide,
  findGuideByKey,
  findGuideVersion,
  type GuideRow,
  type GuideVersionRow,
  insertGuide,
  insertGuideVersion,
  listGuides,
  listGuideVersions,
} from './repository.js';
import type { CreateGuide, Guide, GuideVersion } from './schemas.js';

function toGuide(row: GuideRow, versions: GuideVersionRow[]): Guide {
  return {
    id: row.id,
    key: row.key,
    rulerKey: row.ruler_key,
    name: row.name,
    description: row.description,
    preset: row.municipality_id === null,
    municipalityId: row.municipality_id,
    ...versionSummaries(versions, (v) => v.guide_id === row.id, `guide ${row.id}`),
  };
}

export function toGuideVersion(row: GuideVersionRow): GuideVersion {
  return {
    id: row.id,
    guideId: row.guide_id,
    guideKey: row.guide_key,
    version: row.version,
    definition: row.definition as GuideDefinition,
    createdAt: row.created_at.toISOString(),
  };
}

/** The preset guides: one per preset ruler, and `default` for rulers without one. */
function presetDefinitions() {
  const fallback = presetGuides.find((g) => g.rulerKey === 'topi-3') ?? presetGuides[0];
  if (!fallback) throw new Error('no preset guides');
  return [
    ...presetGuides.map((g) => ({ ...g, rulerKey: g.rulerKey as string | null })),
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
  return database.transaction(platformScope, async (trx) => {
    // Two instances starting together store each preset once: the second waits, then finds them.
    await lockForTransaction(trx, 'presets');
    return syncPresets(presetDefinitions(), {
      find: (key) => findGuideByKey(trx, null, key),
      insert: (preset) =>
        insertGuide(trx, {
          municipality_id: null,
          key: preset.key,
          ruler_key: preset.rulerKey,
          name: preset.name,
          description: preset.description,
        }),
      latestHash: async (guide) =>
        (await listGuideVersions(trx, [guide.id])).at(-1)?.definition_hash,
      insertVersion: (guide, definition) => insertGuideVersion(trx, guide, definition, null),
    });
  });
}

export async function listVisibleGuides(database: Database, principal: Principal) {
  const municipalityId = municipalityOf(principal);
  return database.transaction(municipalityScope(municipalityId), async (trx) => {
    const guides = await listGuides(trx, municipalityId);
    const versions = await listGuideVersions(
      trx,
      guides.map((g) => g.id),
    );
    return { items: guides.map((g) => toGuide(g, versions)) };
  });
}

export async function getGuide(database: Database, principal: Principal, id: string) {
  const municipalityId = municipalityOf(principal);
  return database.transaction(municipalityScope(municipalityId), async (trx) => {
    const guide = await findGuide(trx, municipalityId, id);
    if (!guide) throw new NotFoundError('action guide', id);
    return toGuide(guide, await listGuideVersions(trx, [id]));
  });
}

export async function getGuideVersion(database: Database, principal: Principal, id: string) {
  const municipalityId = municipalityOf(principal);
  const row = await database.transaction(municipalityScope(municipalityId), (trx) =>
    findGuideVersion(trx, municipalityId, id),
  );
  if (!row) throw new NotFoundError('action guide version', id);
  return toGuideVersion(row);
}

export async function createGuide(
  trx: Transaction<DB>,
  principal: Principal,
  input: CreateGuide,
): Promise<Guide> {
  const municipalityId = municipalityOf(principal);
  rejectDefects(guideDefects(input.definition), 'action guide');
  if (input.key === 'default' || presetGuides.some((g) => g.key === input.key)) {
    throw new ConflictError(
      `${input.key} is a preset guide's key; choose another.`,
      'duplicate-guide',
    );
  }
  let guide: GuideRow;
  try {
    guide = await insertGuide(trx, {
      municipality_id: municipalityId,
      key: input.key,
      ruler_key: input.rulerKey,
      name: input.name,
      description: input.description ?? null,
    });
  } catch (error) {
    if (isUniqueViolation(error, 'action_guides_key_unique')) {
      throw new ConflictError(`A guide with key ${input.key} already exists.`, 'duplicate-guide');
    }
    if (isUniqueViolation(error, 'action_guides_ruler_unique')) {
      throw new ConflictError(
        `You already have a guide for ${input.rulerKey ?? 'the default'}; add a version to it.`,
        'duplicate-guide',
      );
    }
    throw error;
  }
  await insertGuideVersion(trx, guide, input.definition, principal.id);
  return toGuide(guide, await listGuideVersions(trx, [guide.id]));
}

export async function createGuideVersion(
  trx: Transaction<DB>,
  principal: Principal,
  guideId: string,
  definition: GuideDefinition,
): Promise<GuideVersion> {
  const municipalityId = municipalityOf(principal);
  const guide = await findGuide(trx, municipalityId, guideId);
  if (!guide) throw new NotFoundError('action guide', guideId);
  if (guide.municipality_id === null) {
    throw new ForbiddenError(
      'Preset guides are maintained by lineal. Create your own guide for the ruler to change it.',
    );
  }
  rejectDefects(guideDefects(definition), 'action guide');
  let id: string;
  try {
    id = await insertGuideVersion(trx, guide, definition, principal.id);
  } catch (error) {
    if (isUniqueViolation(error, 'action_guide_versions_unique')) {
      throw new ConflictError('Another version was created at the same time; retry.');
    }
    throw error;
  }
  return toGuideVersion((await findGuideVersion(trx, municipalityId, id)) as GuideVersionRow);
}
