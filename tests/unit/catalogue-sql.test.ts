import {
  type DatabaseConnection,
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
} from 'kysely';
import { describe, expect, it } from 'vitest';
import type { DB } from '../../src/db/schema.js';
import type { CatalogueRepository } from '../../src/features/catalogue/repository.js';
import { guideCatalogue } from '../../src/features/guides/repository.js';
import { rulerCatalogue } from '../../src/features/rulers/repository.js';

/**
 * The catalogue's queries name `entries`, `versions` and `entry_id`; each catalogue's SQL must
 * name its own tables and columns instead (no database: the queries are only compiled).
 */
/** Answers every statement with one row: enough for each query to send its SQL. */
class OneRowDriver extends DummyDriver {
  override async acquireConnection(): Promise<DatabaseConnection> {
    return {
      // The row answers `max(version)` and stands in for every other row (its fields unread).
      executeQuery: async <R>() => ({ rows: [{ version: 0 } as unknown as R] }),
      streamQuery: async function* () {},
    };
  }
}

async function sqlOf(repository: CatalogueRepository): Promise<string[]> {
  const sent: string[] = [];
  const db = new Kysely<DB>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new OneRowDriver(),
      createIntrospector: (k) => new PostgresIntrospector(k),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
    log: (event) => {
      sent.push(event.query.sql);
    },
  });
  const entry = { id: 'e', municipality_id: 'm', key: 'k', name: 'n', description: null };
  await repository.list(db, 'm');
  await repository.find(db, 'm', 'e');
  await repository.findByKey(db, null, 'k');
  await repository.insert(db, { ...entry, ruler_key: 'topi-3' });
  await repository.listVersions(db, ['e']);
  await repository.findVersion(db, 'm', 'v');
  await repository.insertVersion(db, entry, {}, null);
  return sent;
}

describe('catalogue SQL', () => {
  it.each([
    { repository: rulerCatalogue, entries: 'rulers' },
    { repository: guideCatalogue, entries: 'action_guides' },
  ])('$entries', async ({ repository }) => {
    const { entries, versions, entryId, rulerKey } = repository.names;
    const sent = await sqlOf(repository);
    expect(sent).toHaveLength(8);
    const all = sent.join('\n');
    // Only aliases keep the catalogue's names (the row fields the services read).
    const named = all.replaceAll(' as "entry_id"', '').replaceAll(' as "entry_key"', '');
    expect(named).not.toMatch(/"entries"|"versions"|"entry_id"|"entry_key"/);
    expect(sent[0]).toBe(
      `select "id", "municipality_id", "key", "name", "description"${rulerKey ? ', "ruler_key"' : ''} ` +
        `from "${entries}" where ("municipality_id" IS NULL OR "municipality_id" = $1) ` +
        'order by municipality_id IS NOT NULL, "key"',
    );
    expect(sent[4]).toContain(
      `from "${versions}" inner join "${entries}" on "${entries}"."id" = "${versions}"."${entryId}"`,
    );
    expect(sent[4]).toContain(`"${versions}"."${entryId}" as "entry_id"`);
    expect(sent.at(-1)).toMatch(new RegExp(`^insert into "${versions}" \\("${entryId}", `));
    expect(all.includes('ruler_key')).toBe(rulerKey);
  });
});
