import { z } from 'zod';
import { RulerDefinitionSchema } from '../../domain/rulers/definition.js';
import { entryKey, VersionSummarySchema } from '../catalogue/schemas.js';

export const RulerSchema = z
  .object({
    id: z.uuid(),
    key: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    preset: z.boolean().describe('Shipped with lineal and available to every municipality.'),
    municipalityId: z.uuid().nullable(),
    latestVersion: VersionSummarySchema,
    versions: z.array(VersionSummarySchema).describe('Oldest first.'),
  })
  .meta({ id: 'Ruler' });
export type Ruler = z.infer<typeof RulerSchema>;

export const RulerVersionSchema = z
  .object({
    id: z.uuid(),
    rulerId: z.uuid(),
    rulerKey: z.string(),
    version: z.number().int(),
    definition: RulerDefinitionSchema,
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'RulerVersion' });
export type RulerVersion = z.infer<typeof RulerVersionSchema>;

export const CreateRulerSchema = z
  .object({
    key: z.string().regex(entryKey, 'must be lower-case letters, digits and dashes'),
    name: z.string().trim().min(1).max(200),
    description: z.string().trim().min(1).max(2000).optional(),
    definition: RulerDefinitionSchema,
  })
  .strict()
  .meta({ id: 'CreateRuler' });
export type CreateRuler = z.infer<typeof CreateRulerSchema>;

export const CreateRulerVersionSchema = z
  .object({ definition: RulerDefinitionSchema })
  .strict()
  .meta({ id: 'CreateRulerVersion' });
