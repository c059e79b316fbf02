import { z } from 'zod';
import { roles } from '../../auth/permissions.js';
import { PageQuerySchema, pageSchema } from '../../http/pagination.js';

export const RoleSchema = z.enum(roles).meta({ id: 'Role' });

export const ApiKeySchema = z
  .object({
    id: z.uuid(),
    keyId: z.string().describe('The public part of the key (`lnl_<16 hex>`), safe to show.'),
    name: z.string(),
    role: RoleSchema,
    municipalityId: z.uuid().nullable().describe('Null only for platform administrator keys.'),
    unitIds: z.array(z.uuid()).describe('Units the key is limited to; empty = whole municipality.'),
    status: z.enum(['active', 'revoked', 'expired']),
    createdAt: z.iso.datetime(),
    createdBy: z.uuid().nullable().describe('The key that created this one (null: the CLI).'),
    expiresAt: z.iso.datetime().nullable(),
    revokedAt: z.iso.datetime().nullable(),
    revokedBy: z.uuid().nullable(),
    lastUsedAt: z.iso
      .datetime()
      .nullable()
      .describe('Last successful authentication, updated at most once a minute.'),
  })
  .meta({ id: 'ApiKey' });
export type ApiKey = z.infer<typeof ApiKeySchema>;

export const CreatedApiKeySchema = ApiKeySchema.extend({
  token: z
    .string()
    .describe('The secret key. Shown only in this response; only its hash is stored.'),
}).meta({ id: 'CreatedApiKey' });

export const CreateApiKeySchema = z
  .object({
    name: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .describe('What the key is for, e.g. "Unit Solsikken iPad".'),
    role: RoleSchema.exclude(['platform_admin']),
    unitIds: z
      .array(z.uuid())
      .max(100)
      .default([])
      .describe(
        'Required for unit_leader and unit_staff; not allowed for municipality-wide roles.',
      ),
    expiresAt: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('Optional expiry, in the future.'),
  })
  .strict()
  .meta({ id: 'CreateApiKey' });
export type CreateApiKey = z.infer<typeof CreateApiKeySchema>;

export const ApiKeyParamsSchema = z.object({ municipalityId: z.uuid(), apiKeyId: z.uuid() });

export const ApiKeyListQuerySchema = PageQuerySchema.extend({
  status: z
    .enum(['active', 'revoked', 'expired', 'all'])
    .default('all')
    .describe('Only keys in this state.'),
});

export const ApiKeyPageSchema = pageSchema(ApiKeySchema).meta({ id: 'ApiKeyPage' });
