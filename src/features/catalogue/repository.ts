import { createHash } from 'node:crypto';
import {
  ColumnNode,
  type InferResult,
  type Insertable,
  type Kysely,
  type KyselyPlugin,
  OperationNodeTransformer,
  sql,
  TableNode,
} from 'kysely';
import type { Executor } from '../../db/database.js';
import type { ActionGuidesTable, DB, RulerVersionsTable } from '../../db/schema.js';

/**
 * A catalogue's two tables, under the names the queries below use: its entries (rulers, action
 * guides) and their immutable versions. Action guides' entries carry `ruler_key`, rulers' do not:
 * the queries touch it only for a catalogue that has it (`rulerKey`).
 */
type CatalogueTables = {
  entries: ActionGuidesTable;
  versions: Omit<RulerVersionsTable, 'ruler_id'> & { entry_id: string };
};

/** The real names of one catalogue's tables and of its versions' reference to their entry. */
export interface CatalogueNames {
  entries: 'rulers' | 'action_guides';
  versions: 'ruler_versions' | 'action_guide_versions';
  entryId: 'ruler_id' | 'guide_id';
  /** Whether entries carry the `ruler_key` they apply to (action guides). */
  rulerKey: boolean;
}

/**
 * Writes `entries`, `versions` and `entry_id` as one catalogue's real names, so one set of typed
 * queries serves every catalogue and sends the SQL a hand-written copy would. Only table and
 * column references are renamed, never aliases: select `versions.entry_id as entry_id`.
 */
class CatalogueRename extends OperationNodeTransformer {
  constructor(private readonly names: CatalogueNames) {
    super();
  }

  protected override transformTable(node: TableNode): TableNode {
    const name = node.table.identifier.name;
    if (name === 'entries') return TableNode.create(this.names.entries);
    if (name === 'versions') return TableNode.create(this.names.versions);
    return super.transformTable(node);
  }

  protected override transformColumn(node: ColumnNode): ColumnNode {
    if (node.column.name === 'entry_id') return ColumnNode.create(this.names.entryId);
    return super.transformColumn(node);
  }
}

function renamePlugin(names: CatalogueNames): KyselyPlugin {
  const rename = new CatalogueRename(names);
  return {
    transformQuery: ({ node }) => rename.transformNode(node),
    transformResult: async ({ result }) => result,
  };
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

/** The hash a definition is stored with: equal definitions, equal hashes (key order aside). */
export function definitionHash(definition: unknown): string {
  return createHash('sha256').update(canonicalJson(definition)).digest('hex');
}

const entryColumns = ['id', 'municipality_id', 'key', 'name', 'description'] as const;
const versionColumns = [
  'versions.id',
  'versions.entry_id as entry_id',
  'entries.key as entry_key',
  'versions.municipality_id',
  'versions.version',
  'versions.definition',
  'versions.definition_hash',
  'versions.created_at',
] as const;

/** Presets (municipality_id NULL) and, with a municipality, its own (row-level security agrees). */
function visibleTo(column: 'municipality_id' | 'versions.municipality_id', m: string | null) {
  const ref = sql.ref(column);
  return m === null
    ? sql<boolean>`${ref} IS NULL`
    : sql<boolean>`(${ref} IS NULL OR ${ref} = ${m})`;
}

/** The catalogue's tables on `db`, under their real names (`names`) when the SQL is sent. */
function view(db: Executor, plugin: KyselyPlugin) {
  const kysely: Kysely<DB> = db;
  return kysely.withPlugin(plugin).withTables<CatalogueTables>();
}
type View = ReturnType<typeof view>;

function selectEntries(v: View, rulerKey: boolean) {
  return v
    .selectFrom('entries')
    .select(entryColumns)
    .$if(rulerKey, (qb) => qb.select('ruler_key'));
}

function selectVersions(v: View) {
  return v
    .selectFrom('versions')
    .innerJoin('entries', 'entries.id', 'versions.entry_id')
    .select(versionColumns);
}

export type EntryRow = InferResult<ReturnType<typeof selectEntries>>[number];
export type VersionRow = InferResult<ReturnType<typeof selectVersions>>[number];

/** The queries of one catalogue: plain functions that take the executor first. */
export function catalogueRepository(names: CatalogueNames) {
  const plugin = renamePlugin(names);
  const on = (db: Executor) => view(db, plugin);
  const entries = (db: Executor) => selectEntries(on(db), names.rulerKey);
  const versions = (db: Executor) => selectVersions(on(db));

  return {
    names,

    /** The entries visible to a municipality: the presets first, then its own, by key. */
    list: (db: Executor, municipalityId: string | null) =>
      entries(db)
        .where(visibleTo('municipality_id', municipalityId))
        .orderBy(sql`municipality_id IS NOT NULL`)
        .orderBy('key')
        .execute(),

    find: (db: Executor, municipalityId: string | null, id: string) =>
      entries(db)
        .where('id', '=', id)
        .where(visibleTo('municipality_id', municipalityId))
        .executeTakeFirst(),

    /** The municipality's own entry with the key (a preset's, for null). */
    findByKey: (db: Executor, municipalityId: string | null, key: string) =>
      entries(db)
        .where('key', '=', key)
        .where((eb) =>
          municipalityId === null
            ? eb('municipality_id', 'is', null)
            : eb('municipality_id', '=', municipalityId),
        )
        .executeTakeFirst(),

    insert: (db: Executor, { ruler_key, ...values }: Insertable<ActionGuidesTable>) =>
      on(db)
        .insertInto('entries')
        .values(names.rulerKey ? { ...values, ruler_key } : values)
        .returning(entryColumns)
        .$if(names.rulerKey, (qb) => qb.returning('ruler_key'))
        .executeTakeFirstOrThrow(),

    /** The entries' versions, by entry and oldest first. */
    listVersions: (db: Executor, entryIds: readonly string[]): Promise<VersionRow[]> =>
      entryIds.length === 0
        ? Promise.resolve([])
        : versions(db)
            .where('versions.entry_id', 'in', entryIds)
            .orderBy('versions.entry_id')
            .orderBy('versions.version')
            .execute(),

    /** A version visible to the municipality (a preset's or its own). */
    findVersion: (db: Executor, municipalityId: string | null, id: string) =>
      versions(db)
        .where('versions.id', '=', id)
        .where(visibleTo('versions.municipality_id', municipalityId))
        .executeTakeFirst(),

    /** Stores the entry's next version; answers it as `findVersion` would read it. */
    async insertVersion(
      db: Executor,
      entry: EntryRow,
      definition: unknown,
      createdBy: string | null,
    ): Promise<VersionRow> {
      const latest = await on(db)
        .selectFrom('versions')
        .select(sql<number>`coalesce(max(version), 0)::int`.as('version'))
        .where('entry_id', '=', entry.id)
        .executeTakeFirstOrThrow();
      const row = await on(db)
        .insertInto('versions')
        .values({
          entry_id: entry.id,
          municipality_id: entry.municipality_id,
          version: latest.version + 1,
          definition: sql`${JSON.stringify(definition)}::jsonb`,
          definition_hash: definitionHash(definition),
          created_by: createdBy,
        })
        .returning([
          'id',
          'municipality_id',
          'version',
          'definition',
          'definition_hash',
          'created_at',
        ])
        .executeTakeFirstOrThrow();
      return { ...row, entry_id: entry.id, entry_key: entry.key };
    },
  };
}

export type CatalogueRepository = ReturnType<typeof catalogueRepository>;
