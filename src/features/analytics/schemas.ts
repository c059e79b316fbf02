import { z } from 'zod';
import { SexSchema } from '../children/schemas.js';
import { UnitKindSchema } from '../units/schemas.js';

export const ageBands = ['0-2', '3-5', '6-9', '10-13', '14-17'] as const;
export const AgeBandSchema = z.enum(ageBands);
export const dimensions = ['round', 'unit', 'district', 'unitKind', 'ageBand', 'sex'] as const;
export const DimensionSchema = z.enum(dimensions);
export type Dimension = z.infer<typeof DimensionSchema>;

/** A comma-separated list in a query string, e.g. `?unitKinds=nursery,kindergarten`. */
const csv = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .string()
    .max(4000)
    .transform((value) =>
      value
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item).max(200));

export const AnalyticsFilterSchema = z.object({
  roundIds: csv(z.uuid()).optional().describe('Comma-separated round ids (default: all rounds).'),
  from: z.iso.date().optional().describe('Rounds whose window starts on or after this date.'),
  to: z.iso.date().optional().describe('Rounds whose window starts on or before this date.'),
  unitIds: csv(z.uuid()).optional(),
  districts: csv(z.string().min(1).max(200)).optional(),
  unitKinds: csv(UnitKindSchema).optional(),
  ageBands: csv(AgeBandSchema).optional().describe('Age in whole years at the window start.'),
  sex: csv(SexSchema).optional(),
});
export type AnalyticsFilter = z.output<typeof AnalyticsFilterSchema>;

export const CellSchema = z
  .object({
    value: z.number().int().nullable().describe('The count, or null when suppressed.'),
    suppressed: z.boolean().describe('Hidden: a count of 1–4, or a cell that would reveal one.'),
  })
  .meta({ id: 'Cell' });

export const GroupSchema = z
  .object({
    round: z.object({ id: z.uuid(), name: z.string(), windowStart: z.string() }).optional(),
    unit: z.object({ id: z.uuid(), name: z.string() }).optional(),
    district: z.string().nullable().optional(),
    unitKind: UnitKindSchema.optional(),
    ageBand: AgeBandSchema.nullable().optional(),
    sex: SexSchema.nullable().optional(),
  })
  .meta({ id: 'AnalyticsGroup' });

const zoneKeys = ['green', 'yellow', 'red', 'none'] as const;
export const ZoneKeySchema = z.enum(zoneKeys);

export const ZoneDistributionSchema = z
  .object({
    groupBy: z.array(DimensionSchema),
    rows: z.array(
      z.object({
        group: GroupSchema,
        counts: z.object({
          green: CellSchema,
          yellow: CellSchema,
          red: CellSchema,
          none: CellSchema,
        }),
        total: CellSchema,
        shares: z.object({
          green: z.number().nullable(),
          yellow: z.number().nullable(),
          red: z.number().nullable(),
          none: z.number().nullable(),
        }),
      }),
    ),
  })
  .meta({ id: 'ZoneDistribution' });

export const ZoneDistributionQuerySchema = AnalyticsFilterSchema.extend({
  groupBy: csv(DimensionSchema)
    .default(['round'])
    .describe('Dimensions to group by, comma-separated (default: round).'),
});

export const TransitionsQuerySchema = AnalyticsFilterSchema.omit({
  roundIds: true,
  from: true,
  to: true,
}).extend({
  fromRoundId: z.uuid(),
  toRoundId: z.uuid(),
});

export const TransitionsSchema = z
  .object({
    fromRound: z.object({ id: z.uuid(), name: z.string() }),
    toRound: z.object({ id: z.uuid(), name: z.string() }),
    zones: z.array(ZoneKeySchema).describe('Row and column order of the matrix.'),
    matrix: z.array(z.array(CellSchema)).describe('matrix[from][to]: children assessed in both.'),
    fromTotals: z.array(CellSchema),
    toTotals: z.array(CellSchema),
    total: CellSchema,
  })
  .meta({ id: 'Transitions' });

const Quartiles = z.object({
  children: CellSchema.describe('Children in the group (suppressed below 5; then no quartiles).'),
  q1: z.number().nullable(),
  median: z.number().nullable(),
  q3: z.number().nullable(),
});

export const EarlyDetectionSchema = z
  .object({
    rows: z.array(
      z.object({
        birthYear: z.number().int(),
        district: z.string().nullable(),
        ageMonthsAtFirstConcern: Quartiles,
      }),
    ),
  })
  .meta({ id: 'EarlyDetection' });

export const CoverageAnalyticsSchema = z
  .object({
    rows: z.array(
      z.object({
        round: z.object({ id: z.uuid(), name: z.string(), windowStart: z.string() }),
        unit: z.object({ id: z.uuid(), name: z.string(), kind: UnitKindSchema }).nullable(),
        enrolled: CellSchema,
        assessed: CellSchema,
        missing: CellSchema,
        coverage: z.number().nullable(),
      }),
    ),
  })
  .meta({ id: 'CoverageAnalytics' });

export const FollowThroughSchema = z
  .object({
    units: z.array(
      z.object({
        unit: z.object({ id: z.uuid(), name: z.string() }),
        stepsDue: CellSchema.describe('Steps due by today or done.'),
        doneByDeadline: CellSchema,
        shareDoneByDeadline: z.number().nullable(),
        open: CellSchema,
        overdue: CellSchema,
      }),
    ),
    daysFromRedToConcernReport: Quartiles.describe(
      "Days from a child's first red assessment to the first concern report about the child " +
        'on or after it; one value per child.',
    ),
  })
  .meta({ id: 'FollowThrough' });

export const ConcernReportStatsSchema = z
  .object({
    reports: CellSchema,
    reportsAboutChildrenUnder8: CellSchema,
    shareUnder8: z.number().nullable(),
    childrenReported: CellSchema,
    childrenWithRepeatReports: CellSchema,
  })
  .meta({ id: 'ConcernReportStats' });

export const PeriodQuerySchema = z.object({
  from: z.iso.date().optional().describe('On or after this date.'),
  to: z.iso.date().optional().describe('On or before this date.'),
  unitIds: AnalyticsFilterSchema.shape.unitIds,
  districts: AnalyticsFilterSchema.shape.districts,
});
