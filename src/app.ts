import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import packageJson from '../package.json' with { type: 'json' };
import { ApiKeyCache } from './auth/api-key-cache.js';
import { authPlugin } from './auth/plugin.js';
import {
  type Config,
  DEFAULT_CPR_LOOKUP_LIMIT,
  DEFAULT_IMPORTS,
  DEFAULT_RATE_LIMIT,
  DEFAULT_WEBHOOK_CONFIG,
  type OidcConfig,
} from './config.js';
import type { Database } from './db/database.js';
import { analyticsRoutes } from './features/analytics/routes.js';
import { apiKeyRoutes } from './features/api-keys/routes.js';
import { bulkAssessmentRoutes } from './features/assessments/bulk-routes.js';
import { assessmentRoutes } from './features/assessments/routes.js';
import { auditLogRoutes } from './features/audit/routes.js';
import { childRoutes } from './features/children/routes.js';
import { concernReportRoutes } from './features/concern-reports/routes.js';
import { consentRoutes } from './features/consents/routes.js';
import { dossierRoutes } from './features/dossier/routes.js';
import { enrolmentRoutes } from './features/enrolments/routes.js';
import { erasureRoutes } from './features/erasure/routes.js';
import { eventRoutes } from './features/events/routes.js';
import { exportRoutes } from './features/exports/routes.js';
import { fhirRoutes } from './features/fhir/routes.js';
import { flagRoutes } from './features/flags/routes.js';
import { guidelineRoutes } from './features/guidelines/routes.js';
import { guideRoutes } from './features/guides/routes.js';
import { handoverRoutes } from './features/handover/routes.js';
import { healthRoutes } from './features/health/routes.js';
import { importRoutes } from './features/imports/routes.js';
import { meRoutes } from './features/me/routes.js';
import { municipalityRoutes } from './features/municipalities/routes.js';
import { parentNoticeRoutes } from './features/parent-notices/routes.js';
import { parentViewRoutes } from './features/parent-view/routes.js';
import { recommendationRoutes } from './features/recommendations/routes.js';
import { roundRoutes } from './features/rounds/routes.js';
import { rulerRoutes } from './features/rulers/routes.js';
import { selfReportRoutes } from './features/self-reports/routes.js';
import { socialWorkerRoutes } from './features/social-workers/routes.js';
import { unitRoutes } from './features/units/routes.js';
import { webRoutes } from './features/web/routes.js';
import { signInRoutes } from './features/web/sign-in.js';
import { webhookRoutes } from './features/webhooks/routes.js';
import { worklistRoutes } from './features/worklist/routes.js';
import { bodyLimitsPlugin } from './http/body-limits.js';
import { requireIfMatchPlugin } from './http/conditional.js';
import { errorHandlerPlugin } from './http/error-handler.js';
import { inputStringsPlugin } from './http/input-strings.js';
import { Metrics, metricsPlugin, metricsRoute } from './http/metrics.js';
import { openApiPlugin } from './http/openapi.js';
import {
  clientErrorHandler,
  MAX_PARAM_LENGTH,
  routerErrorHandler,
} from './http/pre-routing-errors.js';
import { rateLimitPlugin } from './http/rate-limit.js';
import { requestProblemDocsPlugin } from './http/request-problem-docs.js';
import { securityPlugin } from './http/security.js';
import { auditFailuresPlugin } from './request/audit-failures.js';
import { idempotencyDocsPlugin } from './request/idempotency.js';
import type { RouteDeps } from './request/route-deps.js';
import { Runner } from './request/runner.js';
import { sessionPlugin } from './request/session.js';

const { version } = packageJson;

export interface AppDeps {
  /**
   * `rateLimit` defaults to DEFAULT_RATE_LIMIT, `cprLookupLimit` to DEFAULT_CPR_LOOKUP_LIMIT,
   * `corsOrigins` to none (no CORS).
   */
  config: Pick<Config, 'bodyLimitBytes' | 'trustProxy'> &
    Partial<Pick<Config, 'rateLimit' | 'cprLookupLimit' | 'corsOrigins' | 'metricsToken'>> &
    Partial<Pick<Config, 'etag' | 'webhooks' | 'imports' | 'retention'>>;
  database: Database;
  /** A pino logger; omit for a silent app (tests). */
  logger?: FastifyBaseLogger;
  /** The clock; tests inject one to move time. */
  now?: () => Date;
  /** Key of the HMAC CPR numbers are stored as (see Config.cprSecret). */
  cprSecret: string;
  /** Sign-in with an identity provider (see Config.oidc); omit to accept API keys only. */
  oidc?: OidcConfig | undefined;
  /**
   * The metrics GET /metrics serves when `config.metricsToken` is set (the server shares them
   * with its jobs); a new set of the app's own when omitted. Unused without a token.
   */
  metrics?: Metrics | undefined;
  /** The built front end (default: dist/web of this package). */
  webRoot?: string | undefined;
}

/** The origin of a URL, or undefined when it is not one. */
function originOf(url: string): string | undefined {
  return URL.canParse(url) ? new URL(url).origin : undefined;
}

/** Accept a caller's request id only when it is short and harmless in logs. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Builds the application, ready for `inject()` or `listen()`. Never listens itself. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: deps.config.bodyLimitBytes,
    trustProxy: deps.config.trustProxy,
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming)
        ? incoming
        : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    return503OnClosing: true,
    // Errors raised before routing (no hook runs for them) answer problem+json too.
    frameworkErrors: routerErrorHandler,
    clientErrorHandler,
  }).withTypeProvider<ZodTypeProvider>();

  // JSON only: any other body type is answered 415 (Fastify would parse text/plain too).
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  const token = deps.config.metricsToken;
  const metrics = token ? (deps.metrics ?? new Metrics()) : undefined;
  const apiKeys = new ApiKeyCache();
  const routeDeps: RouteDeps = {
    runner: new Runner(deps.database, deps.cprSecret, apiKeys),
    database: deps.database,
    now: deps.now ?? (() => new Date()),
    cprSecret: deps.cprSecret,
    metrics,
  };

  // Security headers and CORS first (root hooks reach only what is registered after them),
  // then external plugins, then application plugins, then routes.
  await app.register(securityPlugin, { corsOrigins: deps.config.corsOrigins ?? [] });
  // Off without a token: /metrics is then an unknown route (404) and nothing is counted.
  if (metrics) await app.register(metricsPlugin, { metrics, database: deps.database });
  await app.register(openApiPlugin, { version });
  await app.register(errorHandlerPlugin);
  if (metrics && token) await app.register(metricsRoute, { metrics, token });
  await app.register(authPlugin, { ...routeDeps, apiKeys, oidc: deps.oidc });
  await app.register(sessionPlugin, routeDeps);
  await app.register(auditFailuresPlugin, routeDeps);
  await app.register(rateLimitPlugin, {
    ...(deps.config.rateLimit ?? DEFAULT_RATE_LIMIT),
    cprLookup: deps.config.cprLookupLimit ?? DEFAULT_CPR_LOOKUP_LIMIT,
    database: deps.database,
    now: routeDeps.now,
  });
  await app.register(bodyLimitsPlugin, { bodyLimitBytes: deps.config.bodyLimitBytes });
  await app.register(idempotencyDocsPlugin);
  await app.register(requestProblemDocsPlugin);
  // No NUL or lone surrogate in any string of any request (400, before validation).
  await app.register(inputStringsPlugin);
  if (deps.config.etag?.requireIfMatch) await app.register(requireIfMatchPlugin);

  await app.register(healthRoutes, routeDeps);
  await app.register(signInRoutes, { oidc: deps.oidc });
  await app.register(municipalityRoutes, routeDeps);
  await app.register(apiKeyRoutes, routeDeps);
  await app.register(meRoutes, routeDeps);
  await app.register(unitRoutes, routeDeps);
  await app.register(childRoutes, routeDeps);
  await app.register(enrolmentRoutes, routeDeps);
  await app.register(rulerRoutes, routeDeps);
  await app.register(roundRoutes, routeDeps);
  await app.register(assessmentRoutes, routeDeps);
  await app.register(bulkAssessmentRoutes, routeDeps);
  await app.register(guideRoutes, routeDeps);
  await app.register(recommendationRoutes, routeDeps);
  await app.register(worklistRoutes, routeDeps);
  await app.register(flagRoutes, routeDeps);
  await app.register(parentNoticeRoutes, {
    ...routeDeps,
    retentionYears: deps.config.retention?.years ?? 5,
  });
  await app.register(parentViewRoutes, routeDeps);
  await app.register(selfReportRoutes, routeDeps);
  await app.register(concernReportRoutes, routeDeps);
  await app.register(eventRoutes, routeDeps);
  await app.register(consentRoutes, routeDeps);
  await app.register(handoverRoutes, routeDeps);
  await app.register(guidelineRoutes, routeDeps);
  await app.register(socialWorkerRoutes, routeDeps);
  await app.register(analyticsRoutes, routeDeps);
  await app.register(exportRoutes, routeDeps);
  await app.register(fhirRoutes, routeDeps);
  await app.register(auditLogRoutes, routeDeps);
  await app.register(dossierRoutes, routeDeps);
  await app.register(erasureRoutes, routeDeps);
  await app.register(webhookRoutes, {
    ...routeDeps,
    webhooks: {
      allowHosts: (deps.config.webhooks ?? DEFAULT_WEBHOOK_CONFIG).allowHosts,
      deploymentSecret: deps.cprSecret,
    },
  });
  await app.register(importRoutes, {
    ...routeDeps,
    importMaxBytes: deps.config.imports?.maxBytes ?? DEFAULT_IMPORTS.maxBytes,
  });
  await app.register(webRoutes, {
    root: deps.webRoot,
    identityProviderOrigin: deps.oidc?.app ? originOf(deps.oidc.issuer) : undefined,
  });

  await app.ready();
  return app;
}
