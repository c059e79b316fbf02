import {
  HandleEmptyInListsPlugin,
  type KyselyPlugin,
  replaceWithNoncontingentExpression,
} from 'kysely';

/**
 * Kysely plugins of every database handle the service uses (both engines).
 *
 * `IN ()` is a syntax error in SQL, so a query given an empty list (`where('id', 'in', [])`,
 * e.g. a concern report with `"stepIds": []`) failed with a 500. Here `x IN ()` becomes
 * `1 = 0` (matches nothing) and `x NOT IN ()` becomes `1 = 1`, as Knex, Prisma and SQLAlchemy
 * do: what the empty list means, at every call site at once. Code where an empty list means
 * "no limit" (a key without units sees the whole municipality) says so explicitly, as before.
 */
export const queryPlugins: KyselyPlugin[] = [
  new HandleEmptyInListsPlugin({ strategy: replaceWithNoncontingentExpression }),
];
