import { z } from 'zod';

export const AssignmentPrincipalSchema = z
  .object({
    kind: z
      .enum(['api_key', 'oidc'])
      .describe(
        'api_key: a social_worker key of the municipality; oidc: an identity-provider user.',
      ),
    id: z
      .string()
      .trim()
      .min(1)
      .max(500)
      .describe("The key's `id` (not its keyId) or the user's `sub` claim."),
  })
  .strict();

export const CreateAssignmentSchema = z
  .object({ principal: AssignmentPrincipalSchema })
  .strict()
  .meta({ id: 'CreateSocialWorkerAssignment' });
export type CreateAssignment = z.infer<typeof CreateAssignmentSchema>;

export const AssignmentSchema = z
  .object({
    id: z.uuid(),
    childId: z.uuid(),
    principal: z.object({ kind: z.enum(['api_key', 'oidc']), id: z.string() }),
    createdAt: z.iso.datetime(),
    createdBy: z.string(),
  })
  .meta({ id: 'SocialWorkerAssignment' });
export type Assignment = z.infer<typeof AssignmentSchema>;

export const AssignmentParamsSchema = z.object({ childId: z.uuid(), assignmentId: z.uuid() });
