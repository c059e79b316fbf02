import { z } from 'zod';
import { pageSchema } from '../../http/pagination.js';

export const MunicipalitySchema = z
  .object({
    id: z.uuid(),
    code: z.string().describe('The 3-digit Danish municipality code, e.g. "751" for Aarhus.'),
    name: z.string(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Municipality' });
export type Municipality = z.infer<typeof MunicipalitySchema>;

export const CreateMunicipalitySchema = z
  .object({
    code: z
      .string()
      .regex(/^[0-9]{3}$/, 'must be a 3-digit municipality code')
      .describe('The 3-digit municipality code (kommunekode).'),
    name: z.string().trim().min(1).max(200),
  })
  .strict()
  .meta({ id: 'CreateMunicipality' });
export type CreateMunicipality = z.infer<typeof CreateMunicipalitySchema>;

export const MunicipalityParamsSchema = z.object({ municipalityId: z.uuid() });

export const MunicipalityPageSchema = pageSchema(MunicipalitySchema).meta({
  id: 'MunicipalityPage',
});
