import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import { migrationStatus } from '../../db/migrations.js';
import { buildProblem, sendProblem } from '../../http/error-handler.js';
import { ProblemSchema, problemResponse } from '../../http/problem.js';
import { jsonResponse } from '../../http/schemas.js';
import type { RouteDeps } from '../../request/route-deps.js';

const tags = ['Health'];

const ChecksSchema = z.object({
  engine: z.enum(['pglite', 'postgres']),
  database: z.enum(['ok', 'unreachable']),
  migrations: z.enum(['current', 'pending', 'ahead', 'unknown']),
  pendingMigrations: z.array(z.string()),
});

const ReadySchema = z.object({ status: z.literal('ready'), checks: ChecksSchema }).meta({
  id: 'Readiness',
});

const NotReadySchema = ProblemSchema.extend({ checks: ChecksSchema }).meta({
  id: 'NotReadyProblem',
});

const READY_TIMEOUT_MS = 3_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export const healthRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { database }) => {
  app.get(
    '/healthz',
    {
      schema: {
        operationId: 'getHealth',
        tags,
        summary: 'Liveness: the process is up',
        response: { 200: jsonResponse(z.object({ status: z.literal('ok') }), 'The process is up') },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'getReadiness',
        tags,
        summary: 'Readiness: the database answers and its schema is current',
        response: {
          200: jsonResponse(ReadySchema, 'Ready: the database answers and its schema is current'),
          503: problemResponse(503, NotReadySchema),
        },
      },
    },
    async (request, reply) => {
      const checks: z.infer<typeof ChecksSchema> = {
        engine: database.engine,
        database: 'ok',
        migrations: 'unknown',
        pendingMigrations: [],
      };
      try {
        await withTimeout(sql`SELECT 1`.execute(database.db), READY_TIMEOUT_MS);
        const status = await withTimeout(migrationStatus(database.db), READY_TIMEOUT_MS);
        checks.pendingMigrations = status.pending;
        checks.migrations =
          status.pending.length > 0 ? 'pending' : status.unknown.length > 0 ? 'ahead' : 'current';
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check failed');
        checks.database = 'unreachable';
      }
      if (checks.database === 'ok' && checks.migrations !== 'pending') {
        return { status: 'ready' as const, checks };
      }
      const detail =
        checks.database !== 'ok'
          ? 'The database does not answer.'
          : `Migrations are pending: ${checks.pendingMigrations.join(', ')}. Run npm run migrate.`;
      return sendProblem(reply, {
        ...buildProblem(request, 503, 'not-ready', detail),
        checks,
      } as ReturnType<typeof buildProblem>);
    },
  );
};
