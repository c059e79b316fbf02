import { z } from 'zod';
import { GuideDefinitionSchema } from '../../domain/guides/definition.js';
import { entryKey, VersionSummarySchema } from '../catalogue/schemas.js';

export const GuideSchema = z
  .object({
    id: z.uuid(),
    key: z.string(),
    rulerKey: z
      .string()
      .nullable()
      .describe('The ruler whose assessments it guides; null = the default for other rulers.'),
    name: z.string(),
    description: z.string().nullable(),
    preset: z.boolean(),
    municipalityId: z.uuid().nullable(),
    latestVersion: VersionSummarySchema,
    versions: z.array(VersionSummarySchema),
  })
  .meta({ id: 'ActionGuide' });
export type Guide = z.infer<typeof GuideSchema>;

export const GuideVersionSchema = z
  .object({
    id: z.uuid(),
    guideId: z.uuid(),
    guideKey: z.string(),
    version: z.number().int(),
    definition: GuideDefinitionSchema,
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'ActionGuideVersion' });
export type GuideVersion = z.infer<typeof GuideVersionSchema>;

export const CreateGuideSchema = z
  .object({
    key: z.string().regex(entryKey, 'must be lower-case letters, digits, dashes'),
    rulerKey: z
      .string()
      .regex(entryKey)
      .nullable()
      .describe("The ruler it applies to (replacing the preset's guide); null = default."),
    name: z.string().trim().min(1).max(200),
    description: z.string().trim().min(1).max(2000).optional(),
    definition: GuideDefinitionSchema,
  })
  .strict()
  .meta({ id: 'CreateActionGuide' });
export type CreateGuide = z.infer<typeof CreateGuideSchema>;

export const CreateGuideVersionSchema = z
  .object({ definition: GuideDefinitionSchema })
  .strict()
  .meta({ id: 'CreateActionGuideVersion' });
