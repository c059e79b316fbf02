import { type Kysely, sql } from 'kysely';

/**
 * A receiving unit cannot grant itself access (issue 12, point 9): a consent that a key limited
 * to units records for one of its own units (or for a role, which every unit has) takes effect
 * only when a unit leader of the recipient unit or an administrator other than the recorder
 * confirms it.
 *
 * - `confirmation_required`: set when the consent is recorded, never changed;
 * - `confirmed_at`, `confirmed_by`: set once, together, on a consent that requires it and is not
 *   revoked.
 *
 * Consents recorded before this migration by such a key (API keys whose unit list holds the
 * recipient unit, or any unit-limited key for a role-only consent) are marked as requiring
 * confirmation: they stop being a basis until a leader or administrator confirms them.
 *
 * Frozen in time: never import application code here.
 */

/** The content trigger of 20261122_140000, with `mutable` columns and, optionally, the rule that a
 * confirmation is set once. */
const frozen = (mutable: string, confirmedOnce: boolean) => `
  CREATE OR REPLACE FUNCTION lineal_consent_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE
    mutable text[] := ARRAY[${mutable}];
  BEGIN
    IF (to_jsonb(NEW) - mutable) IS DISTINCT FROM (to_jsonb(OLD) - mutable) THEN
      RAISE EXCEPTION 'consent content is immutable; revoke it and record a new one'
        USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.revoked_at IS NOT NULL AND to_jsonb(NEW) IS DISTINCT FROM to_jsonb(OLD) THEN
      RAISE EXCEPTION 'a revoked consent stays revoked'
        USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    ${confirmedOnce ? CONFIRMED_ONCE : ''}
    RETURN NEW;
  END $$;
`;

const CONFIRMED_ONCE = `IF OLD.confirmed_at IS NOT NULL
       AND (NEW.confirmed_at IS DISTINCT FROM OLD.confirmed_at
            OR NEW.confirmed_by IS DISTINCT FROM OLD.confirmed_by) THEN
      RAISE EXCEPTION 'a consent is confirmed once'
        USING ERRCODE = 'integrity_constraint_violation';
    END IF;`;

const revocation =
  "'revoked_at', 'revoked_by_name', 'revoked_by_relation', 'revocation_reason', 'revocation_recorded_by'";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('consents')
    .addColumn('confirmation_required', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('confirmed_at', 'timestamptz')
    .addColumn('confirmed_by', 'text', (c) =>
      c.check(sql`char_length(confirmed_by) BETWEEN 1 AND 500`),
    )
    .execute();
  await db.schema
    .alterTable('consents')
    .addCheckConstraint(
      'consents_confirmation_complete',
      sql`(confirmed_at IS NULL) = (confirmed_by IS NULL)
          AND (confirmed_at IS NULL OR confirmation_required)`,
    )
    .execute();

  // Consents a unit-limited key recorded for its own units were never confirmed: they wait now.
  await sql`ALTER TABLE consents DISABLE TRIGGER consents_content_frozen`.execute(db);
  await sql`
    UPDATE consents c SET confirmation_required = true
    FROM api_keys k
    WHERE k.id::text = c.created_by
      AND cardinality(k.unit_ids) > 0
      AND (c.recipient_unit_id IS NULL OR c.recipient_unit_id = ANY (k.unit_ids))
  `.execute(db);
  await sql`ALTER TABLE consents ENABLE TRIGGER consents_content_frozen`.execute(db);

  await sql.raw(frozen(`${revocation}, 'confirmed_at', 'confirmed_by'`, true)).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw(frozen(revocation, false)).execute(db);
  await db.schema.alterTable('consents').dropConstraint('consents_confirmation_complete').execute();
  await db.schema
    .alterTable('consents')
    .dropColumn('confirmation_required')
    .dropColumn('confirmed_at')
    .dropColumn('confirmed_by')
    .execute();
}
