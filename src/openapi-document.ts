import { fileURLToPath } from 'node:url';
import { buildApp } from './app.js';
import { openEmbeddedDatabase } from './db/pglite.js';
import { renderOpenApi } from './http/openapi.js';

export const openApiFile = fileURLToPath(new URL('../openapi/openapi.json', import.meta.url));

/** The OpenAPI document the code generates (on a throw-away in-memory database). */
export async function generateOpenApi(): Promise<string> {
  const database = await openEmbeddedDatabase();
  try {
    const app = await buildApp({
      config: { bodyLimitBytes: 1024 * 1024, trustProxy: false },
      cprSecret: 'openapi-generation-does-not-hash-anything',
      database,
    });
    const text = renderOpenApi(app);
    await app.close();
    return text;
  } finally {
    await database.close();
  }
}
