import { generateToken } from '../../auth/api-key-token.js';
import { type Database, platformScope } from '../../db/database.js';
import { countApiKeys, insertApiKey } from './repository.js';
import type { ApiKey } from './schemas.js';
import { toApiKey } from './service.js';

// Outside any request: the first start and the CLI create platform keys in their own
// transaction (request services never open one; see src/request/runner.ts).

/** Creates a platform administrator key (CLI and first start); returns the secret once. */
export async function createPlatformAdminKey(
  database: Database,
  name: string,
  now = new Date(),
): Promise<ApiKey & { token: string }> {
  const generated = generateToken();
  const row = await database.transaction(platformScope, (trx) =>
    insertApiKey(trx, {
      key_id: generated.keyId,
      key_hash: generated.hash,
      municipality_id: null,
      name,
      role: 'platform_admin',
      unit_ids: [],
      created_by: null,
      expires_at: null,
    }),
  );
  return { ...toApiKey(row, now), token: generated.token };
}

export function countAllApiKeys(database: Database): Promise<number> {
  return database.transaction(platformScope, (trx) => countApiKeys(trx));
}
