import type { ColumnType, Generated } from 'kysely';

/** Row types as the database stores them. Map them to API shapes at the edge. */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface MunicipalitiesTable {
  id: Generated<string>;
  code: string;
  name: string;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface ApiKeysTable {
  id: Generated<string>;
  key_id: string;
  key_hash: Uint8Array;
  municipality_id: string | null;
  name: string;
  role: string;
  unit_ids: ColumnType<string[], string[] | undefined, string[]>;
  created_at: Generated<Date>;
  created_by: string | null;
  expires_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
  last_used_at: Date | null;
}

export interface KyselyMigrationTable {
  name: string;
  timestamp: string;
}

export interface DB {
  municipalities: MunicipalitiesTable;
  api_keys: ApiKeysTable;
  kysely_migration: KyselyMigrationTable;
}
