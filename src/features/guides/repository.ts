import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import { definitionHash } from '../rulers/repository.js';

export interface GuideRow {
  id: string;
  municipality_id: string | null;
  key: string;
  ruler_key: string | null;
  name: string;
  description: string | null;
}

export interface GuideVersionRow {
  id: string;
  guide_id: string;
  guide_key: string;
  municipality_id: string | null;
  version: number;
  definition: unknown;
  definition_hash: string;
  created_at: Date;
}

const guideColumns = ['id', 'municipality_id', 'key', 'ruler_key', 'name', 'description'] as const;
const versionColumns = [
  'action_guide_versions.id',
  'action_guide_versions.guide_id',
  'action_guides.key as guide_key',
  'action_guide_versions.municipality_id',
  'action_guide_versions.version',
  'action_guide_versions.definition',
  'action_guide_versions.definition_hash',
  'action_guide_versions.created_at',
] as const;

/** Presets (municipality_id NULL) and, with a municipality, its own. */
const visibleTo = (municipalityId: string | null) =>
  municipalityId === null
    ? sql<boolean>`municipality_id IS NULL`
    : sql<boolean>`(municipality_id IS NULL OR municipality_id = ${municipalityId})`;

export function listGuides(db: Executor, municipalityId: string): Promise<GuideRow[]> {
  return db
    .selectFrom('action_guides')
    .select(guideColumns)
    .where(visibleTo(municipalityId))
    .orderBy(sql`municipality_id IS NOT NULL`)
    .orderBy('key')
    .execute();
}

export function findGuide(
  db: Executor,
  municipalityId: string | null,
  id: string,
): Promise<GuideRow | undefined> {
  return db
    .selectFrom('action_guides')
    .select(guideColumns)
    .where('id', '=', id)
    .where(visibleTo(municipalityId))
    .executeTakeFirst();
}

export function findGuideByKey(
  db: Executor,
  municipalityId: string | null,
  key: string,
): Promise<GuideRow | undefined> {
  return db
    .selectFrom('action_guides')
    .select(guideColumns)
    .where('key', '=', key)
    .where((eb) =>
      municipalityId === null
        ? eb('municipality_id', 'is', null)
        : eb('municipality_id', '=', municipalityId),
    )
    .executeTakeFirst();
}

export function insertGuide(db: Executor, values: Omit<GuideRow, 'id'>): Promise<GuideRow> {
  return db
    .insertInto('action_guides')
    .values(values)
    .returning(guideColumns)
    .executeTakeFirstOrThrow();
}

export function listGuideVersions(
  db: Executor,
  guideIds: readonly string[],
): Promise<GuideVersionRow[]> {
  if (guideIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('action_guide_versions')
    .innerJoin('action_guides', 'action_guides.id', 'action_guide_versions.guide_id')
    .select(versionColumns)
    .where('action_guide_versions.guide_id', 'in', guideIds)
    .orderBy('action_guide_versions.guide_id')
    .orderBy('action_guide_versions.version')
    .execute();
}

export function findGuideVersion(
  db: Executor,
  municipalityId: string | null,
  id: string,
): Promise<GuideVersionRow | undefined> {
  return db
    .selectFrom('action_guide_versions')
    .innerJoin('action_guides', 'action_guides.id', 'action_guide_versions.guide_id')
    .select(versionColumns)
    .where('action_guide_versions.id', '=', id)
    .where((eb) =>
      municipalityId === null
        ? eb('action_guide_versions.municipality_id', 'is', null)
        : eb.or([
            eb('action_guide_versions.municipality_id', 'is', null),
            eb('action_guide_versions.municipality_id', '=', municipalityId),
          ]),
    )
    .executeTakeFirst();
}

export async function insertGuideVersion(
  db: Executor,
  guide: GuideRow,
  definition: unknown,
  createdBy: string | null,
): Promise<string> {
  const latest = await db
    .selectFrom('action_guide_versions')
    .select(sql<number>`coalesce(max(version), 0)::int`.as('version'))
    .where('guide_id', '=', guide.id)
    .executeTakeFirstOrThrow();
  const { id } = await db
    .insertInto('action_guide_versions')
    .values({
      guide_id: guide.id,
      municipality_id: guide.municipality_id,
      version: latest.version + 1,
      definition: sql`${JSON.stringify(definition)}::jsonb`,
      definition_hash: definitionHash(definition),
      created_by: createdBy,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}

/**
 * The guide version that applies to an assessment on `rulerKey`: the municipality's own guide
 * for that ruler, else the preset for it, else the municipality's default, else the preset
 * default. Always the latest version.
 */
export async function resolveGuideVersion(
  db: Executor,
  municipalityId: string,
  rulerKey: string,
): Promise<GuideVersionRow | undefined> {
  const candidates = await db
    .selectFrom('action_guides')
    .select(['id', 'municipality_id', 'ruler_key'])
    .where(visibleTo(municipalityId))
    .where((eb) => eb.or([eb('ruler_key', '=', rulerKey), eb('ruler_key', 'is', null)]))
    .execute();
  const rank = (g: { municipality_id: string | null; ruler_key: string | null }) =>
    (g.ruler_key === rulerKey ? 0 : 2) + (g.municipality_id ? 0 : 1);
  const best = candidates.sort((a, b) => rank(a) - rank(b))[0];
  if (!best) return undefined;
  const versions = await listGuideVersions(db, [best.id]);
  return versions[versions.length - 1];
}
