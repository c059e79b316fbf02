import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';

export interface RulerRow {
  id: string;
  municipality_id: string | null;
  key: string;
  name: string;
  description: string | null;
}

export interface RulerVersionRow {
  id: string;
  ruler_id: string;
  ruler_key: string;
  municipality_id: string | null;
  version: number;
  definition: unknown;
  definition_hash: string;
  created_at: Date;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function definitionHash(definition: unknown): string {
  return createHash('sha256').update(canonicalJson(definition)).digest('hex');
}

const rulerColumns = ['id', 'municipality_id', 'key', 'name', 'description'] as const;

/** Rulers visible to a municipality: the presets and its own (RLS agrees). */
export function listRulers(db: Executor, municipalityId: string | null): Promise<RulerRow[]> {
  return db
    .selectFrom('rulers')
    .select(rulerColumns)
    .where((eb) =>
      municipalityId === null
        ? eb('municipality_id', 'is', null)
        : eb.or([eb('municipality_id', 'is', null), eb('municipality_id', '=', municipalityId)]),
    )
    .orderBy(sql`municipality_id IS NOT NULL`)
    .orderBy('key')
    .execute();
}

export function findRuler(
  db: Executor,
  municipalityId: string | null,
  id: string,
): Promise<RulerRow | undefined> {
  return db
    .selectFrom('rulers')
    .select(rulerColumns)
    .where('id', '=', id)
    .where((eb) =>
      municipalityId === null
        ? eb('municipality_id', 'is', null)
        : eb.or([eb('municipality_id', 'is', null), eb('municipality_id', '=', municipalityId)]),
    )
    .executeTakeFirst();
}

export function findRulerByKey(
  db: Executor,
  municipalityId: string | null,
  key: string,
): Promise<RulerRow | undefined> {
  return db
    .selectFrom('rulers')
    .select(rulerColumns)
    .where('key', '=', key)
    .where((eb) =>
      municipalityId === null
        ? eb('municipality_id', 'is', null)
        : eb('municipality_id', '=', municipalityId),
    )
    .executeTakeFirst();
}

export async function insertRuler(
  db: Executor,
  values: { municipality_id: string | null; key: string; name: string; description: string | null },
): Promise<RulerRow> {
  return db.insertInto('rulers').values(values).returning(rulerColumns).executeTakeFirstOrThrow();
}

const versionColumns = [
  'ruler_versions.id',
  'ruler_versions.ruler_id',
  'rulers.key as ruler_key',
  'ruler_versions.municipality_id',
  'ruler_versions.version',
  'ruler_versions.definition',
  'ruler_versions.definition_hash',
  'ruler_versions.created_at',
] as const;

export function listVersions(
  db: Executor,
  rulerIds: readonly string[],
): Promise<RulerVersionRow[]> {
  if (rulerIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('ruler_versions')
    .innerJoin('rulers', 'rulers.id', 'ruler_versions.ruler_id')
    .select(versionColumns)
    .where('ruler_versions.ruler_id', 'in', rulerIds)
    .orderBy('ruler_versions.ruler_id')
    .orderBy('ruler_versions.version')
    .execute();
}

/** A version visible to the municipality (a preset's or its own). */
export function findVersion(
  db: Executor,
  municipalityId: string | null,
  id: string,
): Promise<RulerVersionRow | undefined> {
  return db
    .selectFrom('ruler_versions')
    .innerJoin('rulers', 'rulers.id', 'ruler_versions.ruler_id')
    .select(versionColumns)
    .where('ruler_versions.id', '=', id)
    .where((eb) =>
      municipalityId === null
        ? eb('ruler_versions.municipality_id', 'is', null)
        : eb.or([
            eb('ruler_versions.municipality_id', 'is', null),
            eb('ruler_versions.municipality_id', '=', municipalityId),
          ]),
    )
    .executeTakeFirst();
}

export async function insertVersion(
  db: Executor,
  ruler: RulerRow,
  definition: unknown,
  createdBy: string | null,
): Promise<string> {
  const latest = await db
    .selectFrom('ruler_versions')
    .select(sql<number>`coalesce(max(version), 0)::int`.as('version'))
    .where('ruler_id', '=', ruler.id)
    .executeTakeFirstOrThrow();
  const { id } = await db
    .insertInto('ruler_versions')
    .values({
      ruler_id: ruler.id,
      municipality_id: ruler.municipality_id,
      version: latest.version + 1,
      definition: sql`${JSON.stringify(definition)}::jsonb`,
      definition_hash: definitionHash(definition),
      created_by: createdBy,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}
