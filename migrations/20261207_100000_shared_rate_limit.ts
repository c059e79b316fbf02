import { type Kysely, sql } from 'kysely';

/**
 * One rate limit across service instances (issue 14). Each instance counts requests in memory
 * and adds its counts to this table every few hundred milliseconds, learning the other
 * instances' counts in the same statement (src/http/shared-rate-limit.ts). Windows are aligned
 * to the epoch (`window_start` is a multiple of the window, in ms), so every instance agrees on
 * them without asking. Buckets are SHA-256 hashes of the limiter's key (a principal id, or a
 * client address without one): no address is stored.
 *
 * Only the owner touches the table; the application role calls `lineal_rate_limit_add`
 * (SECURITY DEFINER), which also forgets windows that ended.
 *
 * Frozen in time: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE UNLOGGED TABLE lineal_rate_limit_counts (
      bucket text NOT NULL,
      window_ms bigint NOT NULL,
      window_start bigint NOT NULL,
      count bigint NOT NULL,
      PRIMARY KEY (bucket, window_ms, window_start)
    )
  `.execute(db);
  await sql`CREATE INDEX lineal_rate_limit_counts_end_idx
    ON lineal_rate_limit_counts ((window_start + window_ms))`.execute(db);
  await sql`ALTER TABLE lineal_rate_limit_counts ENABLE ROW LEVEL SECURITY`.execute(db);
  await sql`REVOKE ALL ON lineal_rate_limit_counts FROM PUBLIC`.execute(db);
  await sql`
    CREATE FUNCTION lineal_rate_limit_add(
      p_buckets text[], p_window_ms bigint[], p_window_start bigint[], p_counts bigint[],
      p_now_ms bigint
    )
    RETURNS TABLE (bucket text, window_ms bigint, window_start bigint, count bigint)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    BEGIN
      DELETE FROM lineal_rate_limit_counts c WHERE c.window_start + c.window_ms <= p_now_ms;
      RETURN QUERY
        INSERT INTO lineal_rate_limit_counts AS c (bucket, window_ms, window_start, count)
        SELECT * FROM unnest(p_buckets, p_window_ms, p_window_start, p_counts)
        ON CONFLICT ON CONSTRAINT lineal_rate_limit_counts_pkey
          DO UPDATE SET count = c.count + EXCLUDED.count
        RETURNING c.bucket, c.window_ms, c.window_start, c.count;
    END $$;
  `.execute(db);
  await sql`REVOKE ALL ON FUNCTION lineal_rate_limit_add(text[], bigint[], bigint[], bigint[], bigint) FROM PUBLIC`.execute(
    db,
  );
  await sql`GRANT EXECUTE ON FUNCTION lineal_rate_limit_add(text[], bigint[], bigint[], bigint[], bigint) TO lineal_app`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION lineal_rate_limit_add(text[], bigint[], bigint[], bigint[], bigint)`.execute(
    db,
  );
  await sql`DROP TABLE lineal_rate_limit_counts`.execute(db);
}
