import { z } from 'zod';
import { RoleSchema } from '../api-keys/schemas.js';

export const MeSchema = z
  .object({
    principal: z.object({
      kind: z
        .enum(['api_key', 'oidc'])
        .describe('An API key, or a user signed in with the identity provider (OIDC).'),
      id: z
        .string()
        .describe("The API key's id, or the identity provider's subject (`sub`) of the user."),
      role: RoleSchema,
      municipalityId: z.uuid().nullable(),
      unitIds: z.array(z.uuid()),
    }),
    permissions: z.array(z.string()).describe('The actions this principal may perform.'),
  })
  .meta({ id: 'Me' });
