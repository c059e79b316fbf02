import { z } from 'zod';
import { isIsoDate } from '../domain/dates.js';

/** A calendar date, 'YYYY-MM-DD', that exists. */
export const IsoDateSchema = z
  .string()
  .refine(isIsoDate, 'must be a real calendar date as YYYY-MM-DD')
  .meta({ id: 'IsoDate', format: 'date', example: '2026-11-22' });

export const ExternalRefSchema = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .describe("The integrating system's id, unique in the municipality.");

/** A route's JSON response with its description (what the OpenAPI document says it is). */
export function jsonResponse<S extends z.ZodType>(schema: S, description: string) {
  return { description, content: { 'application/json': { schema } } };
}
