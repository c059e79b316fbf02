import { z } from 'zod';
import { ZoneSchema } from '../../domain/rulers/definition.js';
import { PageQuerySchema, pageSchema } from '../../http/pagination.js';
import { IsoDateSchema } from '../../http/schemas.js';
import { SexSchema } from '../children/schemas.js';
import { UnitKindSchema } from '../units/schemas.js';

export const RoundSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    windowStart: z.string(),
    windowEnd: z.string(),
    status: z.enum(['upcoming', 'open', 'closed']).describe('By today’s date and the window.'),
    rulerVersionId: z.uuid(),
    unitKinds: z.array(UnitKindSchema).describe('Unit kinds covered; empty = all kinds.'),
    unitIds: z.array(z.uuid()).describe('Units covered; empty = all units (of the kinds).'),
    minAgeMonths: z.number().int().nullable().describe('Age at window start, inclusive.'),
    maxAgeMonths: z.number().int().nullable().describe('Age at window start, inclusive.'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Round' });
export type Round = z.infer<typeof RoundSchema>;

export const CreateRoundSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    windowStart: IsoDateSchema,
    windowEnd: IsoDateSchema,
    rulerVersionId: z.uuid(),
    unitKinds: z.array(UnitKindSchema).max(8).default([]),
    unitIds: z.array(z.uuid()).max(1000).default([]),
    minAgeMonths: z.number().int().min(0).max(360).optional(),
    maxAgeMonths: z.number().int().min(0).max(360).optional(),
  })
  .strict()
  .meta({ id: 'CreateRound' });
export type CreateRound = z.infer<typeof CreateRoundSchema>;

export const RoundParamsSchema = z.object({ roundId: z.uuid() });
export const RoundUnitParamsSchema = z.object({ roundId: z.uuid(), unitId: z.uuid() });
export const RoundListQuerySchema = PageQuerySchema.extend({
  unitId: z
    .uuid()
    .optional()
    .describe(
      'Only rounds covering this unit (its id or kind is covered, or the round covers all).',
    ),
  status: z
    .enum(['upcoming', 'open', 'closed'])
    .optional()
    .describe("Only rounds with this status today (`open`: today's date is in the window)."),
});
export const RoundPageSchema = pageSchema(RoundSchema).meta({ id: 'RoundPage' });

const Counts = {
  enrolled: z.number().int().describe('Children enrolled during the window and in the age range.'),
  assessed: z.number().int().describe('Of those, children with a current assessment in the round.'),
  missing: z.number().int(),
  coverage: z.number().nullable().describe('assessed / enrolled, or null when none enrolled.'),
};

export const RoundCoverageSchema = z
  .object({
    roundId: z.uuid(),
    units: z.array(
      // Every covered unit, also those with nobody enrolled (coverage null).
      z.object({ unitId: z.uuid(), unitName: z.string(), unitKind: UnitKindSchema, ...Counts }),
    ),
    total: z
      .object(Counts)
      .describe('Distinct children: one enrolled in two covered units counts once.'),
  })
  .meta({ id: 'RoundCoverage' });

export const MissingChildSchema = z.object({
  childId: z.uuid(),
  externalRef: z.string(),
  givenName: z.string().nullable(),
  familyName: z.string().nullable(),
  birthDate: z.string(),
});

export const UnitCoverageSchema = z
  .object({
    roundId: z.uuid(),
    unitId: z.uuid(),
    ...Counts,
    missingChildren: z.array(MissingChildSchema).describe('Enrolled but not yet assessed.'),
  })
  .meta({ id: 'UnitCoverage' });

export const RosterChildSchema = z.object({
  childId: z.uuid(),
  externalRef: z.string(),
  givenName: z.string().nullable(),
  familyName: z.string().nullable(),
  birthDate: z.string(),
  sex: SexSchema.nullable(),
  status: z
    .enum(['missing', 'assessed', 'corrected'])
    .describe(
      'missing: no current assessment in the round; corrected: the current one is a correction.',
    ),
  assessment: z
    .object({
      id: z.uuid(),
      lineageId: z.uuid(),
      version: z.number().int(),
      zone: ZoneSchema.nullable(),
      assessedOn: z.string(),
    })
    .nullable()
    .describe("The child's current assessment in this round and unit."),
  openFlags: z
    .number()
    .int()
    .describe('Flags raised for the child in this unit, not yet acknowledged.'),
  openSteps: z.number().int().describe("Open steps of the child's action plans in this unit."),
  overdueSteps: z.number().int().describe('Of those, past their due date (today in Copenhagen).'),
});

export const RoundRosterSchema = z
  .object({
    roundId: z.uuid(),
    unitId: z.uuid(),
    rulerVersionId: z.uuid(),
    ...Counts,
    children: z
      .array(RosterChildSchema)
      .describe('Every child the round covers in the unit, by family name.'),
  })
  .meta({ id: 'RoundRoster' });
