import { z } from 'zod';
import { guidelineCategories } from '../../domain/sharing.js';
import { UnitKindSchema } from '../units/schemas.js';

const uniqueItems = <T>(items: T[]) => new Set(items).size === items.length;

export const GuidelineSchema = z
  .object({
    id: z.uuid(),
    fromUnitKind: UnitKindSchema,
    toUnitKind: UnitKindSchema,
    enabled: z.boolean(),
    categories: z.array(z.enum(guidelineCategories)),
    reference: z.string().nullable().describe('E.g. the council decision the guideline rests on.'),
    updatedAt: z.iso.datetime(),
    updatedBy: z.string(),
  })
  .meta({ id: 'TransitionGuideline' });
export type Guideline = z.infer<typeof GuidelineSchema>;

export const PutGuidelineSchema = z
  .object({
    enabled: z.boolean(),
    categories: z
      .array(z.enum(guidelineCategories))
      .min(1)
      .max(guidelineCategories.length)
      .refine(uniqueItems, 'must not repeat a category')
      .default([...guidelineCategories])
      .describe('What moves with the child (never free text). Default: both.'),
    reference: z.string().trim().min(1).max(500).nullable().optional(),
  })
  .strict()
  .meta({ id: 'PutTransitionGuideline' });

export const GuidelineParamsSchema = z.object({
  fromUnitKind: UnitKindSchema,
  toUnitKind: UnitKindSchema,
});

export type PutGuideline = z.infer<typeof PutGuidelineSchema>;
export type GuidelineParams = z.infer<typeof GuidelineParamsSchema>;
