import { type Kysely, sql } from 'kysely';

/**
 * The languages a municipality offers parent letters in besides Danish (issue 18, point 1):
 * English by default, as before; Ukrainian when enabled. Set by the municipality's
 * administrator (PUT /v1/parent-letter-languages).
 *
 * Frozen in time: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE municipalities ADD COLUMN parent_letter_languages text[] NOT NULL
      DEFAULT '{en}' CHECK (parent_letter_languages <@ ARRAY['en', 'uk']::text[])
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE municipalities DROP COLUMN parent_letter_languages`.execute(db);
}
