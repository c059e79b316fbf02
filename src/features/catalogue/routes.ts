import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Action } from '../../auth/permissions.js';
import { problemResponses } from '../../http/problem.js';
import { jsonResponse } from '../../http/schemas.js';
import { IdempotencyHeadersSchema } from '../../request/idempotency.js';
import type { RouteDeps } from '../../request/route-deps.js';
import type { CatalogueServices, NewEntry } from './service.js';

interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  /** What the success response is (its description in the OpenAPI document). */
  response: string;
}

export interface CatalogueRoutesSpec<D, E, V> {
  /** The entries' collection, e.g. `/v1/rulers`; an entry is `${path}/:${idParam}`. */
  path: string;
  idParam: string;
  /** Where versions are read, e.g. `/v1/ruler-versions` (`/:versionId`). */
  versionPath: string;
  tags: string[];
  permissions: { read: Action; write: Action };
  schemas: {
    entry: z.ZodType<E>;
    version: z.ZodType<V>;
    create: z.ZodType<NewEntry<D>>;
    createVersion: z.ZodType<{ definition: D }>;
  };
  operations: Record<'list' | 'create' | 'get' | 'createVersion' | 'getVersion', Operation>;
  services: CatalogueServices<D, E, V>;
}

/** An operation's OpenAPI fields besides its response. */
function docsOf({ response: _response, ...docs }: Operation): Omit<Operation, 'response'> {
  return docs;
}

/**
 * The routes of one catalogue: list and create entries, read one with its versions, add a
 * version, read a version. Every create takes an Idempotency-Key.
 */
export function catalogueRoutes<D, E extends { id: string }, V extends { id: string }>(
  spec: CatalogueRoutesSpec<D, E, V>,
): FastifyPluginAsyncZod<RouteDeps> {
  const { path, idParam, versionPath, tags, permissions, schemas, operations, services } = spec;
  const params = z.object({ [idParam]: z.uuid() });
  const versionParams = z.object({ versionId: z.uuid() });
  /** The entry's id in the path (the params schema requires it). */
  const idOf = (values: Record<string, string>): string => {
    const id = values[idParam];
    if (id === undefined) throw new Error(`${path}: no ${idParam} in the path`);
    return id;
  };
  return async (app, { runner }) => {
    app.get(
      path,
      {
        config: { permission: permissions.read },
        schema: {
          ...docsOf(operations.list),
          tags,
          response: {
            200: jsonResponse(
              z.object({ items: z.array(schemas.entry) }),
              operations.list.response,
            ),
          },
        },
      },
      async (request) => runner.run(request, services.list, undefined),
    );

    app.post(
      path,
      {
        config: { permission: permissions.write },
        schema: {
          ...docsOf(operations.create),
          tags,
          headers: IdempotencyHeadersSchema,
          body: schemas.create,
          response: {
            201: jsonResponse(schemas.entry, operations.create.response),
            ...problemResponses(404, 409, 422),
          },
        },
      },
      async (request, reply) =>
        runner.create(request, reply, services.create, request.body, {
          location: (created) => `${path}/${created.id}`,
        }),
    );

    app.get(
      `${path}/:${idParam}`,
      {
        config: { permission: permissions.read },
        schema: {
          ...docsOf(operations.get),
          tags,
          params,
          response: {
            200: jsonResponse(schemas.entry, operations.get.response),
            ...problemResponses(404),
          },
        },
      },
      async (request) => runner.run(request, services.get, idOf(request.params)),
    );

    app.post(
      `${path}/:${idParam}/versions`,
      {
        config: { permission: permissions.write },
        schema: {
          ...docsOf(operations.createVersion),
          tags,
          headers: IdempotencyHeadersSchema,
          params,
          body: schemas.createVersion,
          response: {
            201: jsonResponse(schemas.version, operations.createVersion.response),
            ...problemResponses(404, 409, 422),
          },
        },
      },
      async (request, reply) =>
        runner.create(
          request,
          reply,
          services.createVersion,
          { id: idOf(request.params), definition: request.body.definition },
          { location: (created) => `${versionPath}/${created.id}` },
        ),
    );

    app.get(
      `${versionPath}/:versionId`,
      {
        config: { permission: permissions.read },
        schema: {
          ...docsOf(operations.getVersion),
          tags,
          params: versionParams,
          response: {
            200: jsonResponse(schemas.version, operations.getVersion.response),
            ...problemResponses(404),
          },
        },
      },
      async (request) => runner.run(request, services.getVersion, request.params.versionId),
    );
  };
}
