import { z } from 'zod';
import { IsoDateSchema } from '../../http/schemas.js';

/** A period bound: PostgreSQL has no year 0, so the calendar starts at 0001-01-01 here. */
const PeriodDateSchema = IsoDateSchema.refine(
  (d) => d >= '0001-01-01',
  'must be in year 1 or later',
);

import { SexSchema } from '../children/schemas.js';
import { UnitKindSchema } from '../units/schemas.js';

export const ageBands = ['0-2', '3-5', '6-9', '10-13', '14-17'] as const;
export const AgeBandSchema = z.enum(ageBands);
export const dimensions = [
  'round',
  'unit',
  'district',
  'unitKind',
  'ageBand',
  'sex',
  'cohort',
  'year',
] as const;
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
  from: PeriodDateSchema.optional().describe(
    'Period start: rounds whose window starts on or after this date (zone distribution, ' +
      'coverage); assessments, steps or reports dated on or after it (other aggregates).',
  ),
  to: PeriodDateSchema.optional().describe('Period end (inclusive), as for `from`.'),
  unitIds: csv(z.uuid()).optional(),
  districts: csv(z.string().min(1).max(200)).optional(),
  unitKinds: csv(UnitKindSchema).optional(),
  ageBands: csv(AgeBandSchema)
    .optional()
    .describe(
      "Age in whole years at the round's window start (zone distribution, coverage, " +
        'transitions) or on the date of the assessment, step or report counted.',
    ),
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
    round: z
      .object({ id: z.uuid(), name: z.string(), windowStart: z.string() })
      .nullable()
      .optional()
      .describe('Null for an assessment outside any round.'),
    unit: z
      .object({ id: z.uuid(), name: z.string() })
      .nullable()
      .optional()
      .describe('Null for a concern report about a child not enrolled on its date.'),
    district: z.string().nullable().optional(),
    unitKind: UnitKindSchema.nullable().optional(),
    ageBand: AgeBandSchema.nullable().optional().describe('Null: outside 0–17 years.'),
    sex: SexSchema.nullable().optional(),
    cohort: z.number().int().optional().describe('Birth year.'),
    year: z
      .number()
      .int()
      .optional()
      .describe(
        "Calendar year of the period: the round's window start (zone distribution, coverage, " +
          'transitions) or the date of the assessment, step or report counted.',
      ),
  })
  .describe('The values of the groupBy dimensions; a total row has none of them.')
  .meta({ id: 'AnalyticsGroup' });

/** `groupBy`: some of `allowed`, comma-separated, defaulting to `fallback`. */
export const groupByParam = (allowed: readonly Dimension[], fallback: Dimension[]) =>
  csv(DimensionSchema)
    .refine((dims) => dims.every((d) => allowed.includes(d)), {
      message: `groupBy takes any of: ${allowed.join(', ')}`,
    })
    .default(fallback)
    .describe(
      `Dimensions to group by, comma-separated, any of ${allowed.join(', ')} ` +
        `(default: ${fallback.join(',') || 'none'}).`,
    );
const withoutRound = dimensions.filter((d) => d !== 'round');

const zoneKeys = ['green', 'yellow', 'red', 'none'] as const;
export const ZoneKeySchema = z.enum(zoneKeys);

const ZoneFigures = z.object({
  counts: z.object({
    green: CellSchema,
    yellow: CellSchema,
    red: CellSchema,
    none: CellSchema,
  }),
  total: CellSchema.describe('Children assessed in the group: always published.'),
  shares: z.object({
    green: z.number().nullable(),
    yellow: z.number().nullable(),
    red: z.number().nullable(),
    none: z.number().nullable(),
  }),
});

export const ZoneDistributionSchema = z
  .object({
    groupBy: z.array(DimensionSchema),
    rows: z.array(
      ZoneFigures.extend({
        group: GroupSchema,
        coarser: ZoneFigures.extend({ group: GroupSchema })
          .optional()
          .describe(
            'Only when a count of this row is hidden: the next coarser group containing it ' +
              'whose counts are all published (a unit becomes its district; then birth year, ' +
              'sex, age band, unit kind and district are given up in turn).',
          ),
      }),
    ),
  })
  .meta({ id: 'ZoneDistribution' });

export const ZoneDistributionQuerySchema = AnalyticsFilterSchema.extend({
  groupBy: groupByParam(dimensions, ['round']),
});

export const TransitionsQuerySchema = AnalyticsFilterSchema.omit({
  roundIds: true,
  from: true,
  to: true,
}).extend({
  fromRoundId: z.uuid(),
  toRoundId: z.uuid(),
  groupBy: groupByParam(withoutRound, []),
});

const Matrix = z.object({
  matrix: z.array(z.array(CellSchema)).describe('matrix[from][to]: children assessed in both.'),
  fromTotals: z.array(CellSchema),
  toTotals: z.array(CellSchema),
  total: CellSchema,
});

export const TransitionsSchema = z
  .object({
    fromRound: z.object({ id: z.uuid(), name: z.string() }),
    toRound: z.object({ id: z.uuid(), name: z.string() }),
    zones: z.array(ZoneKeySchema).describe('Row and column order of the matrices.'),
    groupBy: z.array(DimensionSchema),
    rows: z
      .array(Matrix.extend({ group: GroupSchema }))
      .describe(
        'One matrix per group (one with an empty group without groupBy). A child is grouped ' +
          'by its assessment in the second round.',
      ),
  })
  .meta({ id: 'Transitions' });

const Quartiles = z.object({
  children: CellSchema.describe('Children in the group (suppressed below 5; then no quartiles).'),
  q1: z.number().nullable(),
  median: z.number().nullable(),
  q3: z.number().nullable(),
});

export const EarlyDetectionQuerySchema = AnalyticsFilterSchema.extend({
  groupBy: groupByParam(dimensions, ['cohort', 'district']),
});

export const EarlyDetectionSchema = z
  .object({
    groupBy: z.array(DimensionSchema),
    rows: z.array(z.object({ group: GroupSchema, ageMonthsAtFirstConcern: Quartiles })),
    overall: z.object({ ageMonthsAtFirstConcern: Quartiles }),
  })
  .describe(
    "Age in months at each child's first yellow or red assessment; a child is grouped and " +
      'filtered by that assessment (its unit, round, date and age).',
  )
  .meta({ id: 'EarlyDetection' });

export const CoverageQuerySchema = AnalyticsFilterSchema.extend({
  groupBy: groupByParam(dimensions, ['unit']).describe(
    'Dimensions to group each round by, comma-separated, any of unit, district, unitKind, ' +
      'ageBand, sex, cohort, year (default: unit; rounds are always separate).',
  ),
});

export const CoverageAnalyticsSchema = z
  .object({
    groupBy: z.array(DimensionSchema),
    rows: z.array(
      z.object({
        group: GroupSchema,
        roundTotal: z
          .boolean()
          .describe("The round's total row: the sum of its group rows (see enrolled)."),
        enrolled: CellSchema.describe(
          'Children the round covers (enrolled in a covered unit during the window, in the age ' +
            'range); a child enrolled in two units of different groups counts in each.',
        ),
        assessed: CellSchema,
        missing: CellSchema,
        coverage: z.number().nullable(),
      }),
    ),
  })
  .describe(
    'Never suppressed: how many children a round covers and how many were assessed is about ' +
      "the staff's work, not a finding about a child (the zone is not part of it).",
  )
  .meta({ id: 'CoverageAnalytics' });

export const FollowThroughQuerySchema = AnalyticsFilterSchema.extend({
  groupBy: groupByParam(dimensions, ['unit']),
});

const FollowThroughMeasures = z.object({
  stepsDue: CellSchema.describe('Steps due by today or done.'),
  doneByDeadline: CellSchema,
  shareDoneByDeadline: z.number().nullable(),
  open: CellSchema,
  overdue: CellSchema,
  parentsInformed: z
    .object({
      due: CellSchema.describe('Parent-information duties closed, or open past the deadline.'),
      informedByDeadline: CellSchema,
      shareInformedByDeadline: z.number().nullable(),
      open: CellSchema,
      overdue: CellSchema,
      notInformedRisk: CellSchema.describe(
        'Closed by a leader as not informed: a risk to the child (violence or abuse).',
      ),
    })
    .describe(
      "The duty to inform the parents of a child's first assessment and of every zone change.",
    ),
  daysFromRedToConcernReport: Quartiles.describe(
    "Days from a child's first red assessment to the first concern report about the child " +
      'on or after it; one value per child, grouped by that red assessment.',
  ),
});

export const FollowThroughSchema = z
  .object({
    groupBy: z.array(DimensionSchema),
    rows: z.array(FollowThroughMeasures.extend({ group: GroupSchema })),
    overall: FollowThroughMeasures,
  })
  .describe(
    'Steps are grouped by their unit and the assessment behind them (round, date, age band).',
  )
  .meta({ id: 'FollowThrough' });

export const ConcernReportQuerySchema = AnalyticsFilterSchema.omit({ roundIds: true }).extend({
  groupBy: groupByParam(withoutRound, []),
});

const ReportMeasures = z.object({
  reports: CellSchema,
  reportsAboutChildrenUnder8: CellSchema,
  shareUnder8: z.number().nullable(),
  childrenReported: CellSchema,
  childrenWithRepeatReports: CellSchema.describe('Children with two or more reports.'),
  childrenAged0To17: CellSchema.describe(
    'Children aged 0–17 enrolled at some point of the period (the rate denominator).',
  ),
  childrenReportedPer1000: z
    .number()
    .nullable()
    .describe('Children reported per 1,000 children aged 0–17, one decimal.'),
  reportsPer1000: z.number().nullable(),
});

export const ConcernReportStatsSchema = z
  .object({
    groupBy: z.array(DimensionSchema),
    rows: z.array(ReportMeasures.extend({ group: GroupSchema })),
    overall: ReportMeasures,
  })
  .describe(
    "A report is grouped by the child's unit and age on its date; children are counted once " +
      'per group.',
  )
  .meta({ id: 'ConcernReportStats' });
