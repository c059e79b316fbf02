import { z } from 'zod';
import { InvolvedRoleSchema } from '../../domain/guides/definition.js';
import { IsoDateSchema } from '../../http/schemas.js';

export const ConcernReportSchema = z
  .object({
    id: z.uuid(),
    childId: z.uuid(),
    reportedOn: z.string(),
    reportedBy: z.object({ name: z.string(), role: InvolvedRoleSchema }),
    reference: z.string().nullable().describe("Child and family services' reference number."),
    completedStepIds: z.array(z.uuid()),
    createdAt: z.iso.datetime(),
    createdBy: z.uuid(),
  })
  .meta({ id: 'ConcernReport' });

export const CreateConcernReportSchema = z
  .object({
    reportedOn: IsoDateSchema,
    reportedBy: z
      .object({ name: z.string().trim().min(1).max(200), role: InvolvedRoleSchema })
      .strict(),
    reference: z.string().trim().min(1).max(200).optional(),
    stepIds: z
      .array(z.uuid())
      .max(20)
      .optional()
      .describe(
        "The concern-report steps this report completes; default: all the child's open ones.",
      ),
  })
  .strict()
  .meta({ id: 'CreateConcernReport' });
export type CreateConcernReport = z.infer<typeof CreateConcernReportSchema>;
