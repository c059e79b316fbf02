import { z } from 'zod';
import { LabelSchema, redFlagCategories, ZoneSchema } from '../rulers/definition.js';

/**
 * An action guide (handleguide) as data: for each zone, the ordered steps to take — who to
 * involve, who is responsible, by when — plus the trajectory rules that compare an assessment
 * with the child's earlier ones. Guides are versioned per municipality; a version never changes.
 */

export const involvedRoles = [
  'parents',
  'child',
  'unit_staff',
  'unit_leader',
  'ppr',
  'health_visitor',
  'school_social_worker',
  'interdisciplinary_team',
  'child_services',
  'gp',
  'police',
] as const;
export const InvolvedRoleSchema = z.enum(involvedRoles).meta({ id: 'InvolvedRole' });
export type InvolvedRole = z.infer<typeof InvolvedRoleSchema>;

export const RedFlagCategorySchema = z.enum(redFlagCategories);

export const StepConditionsSchema = z
  .object({
    whenRedFlagCategories: z
      .array(RedFlagCategorySchema)
      .min(1)
      .optional()
      .describe('Only when a red flag of one of these categories is present.'),
    unlessRedFlagCategories: z
      .array(RedFlagCategorySchema)
      .min(1)
      .optional()
      .describe(
        'Never when a red flag of one of these categories is present (e.g. do not inform ' +
          'parents first when that could endanger the child).',
      ),
    firstEntryIntoZone: z
      .boolean()
      .optional()
      .describe('Only when the previous assessment was in another zone (or there was none).'),
  })
  .strict();
export type StepConditions = z.infer<typeof StepConditionsSchema>;

/** Marks the steps the system itself reacts to. */
export const stepPurposes = ['inform_parents', 'concern_report', 'other'] as const;

export const StepSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be snake_case (a-z, 0-9, _)'),
    title: LabelSchema,
    description: LabelSchema,
    involve: z.array(InvolvedRoleSchema).min(1).max(11),
    responsible: InvolvedRoleSchema,
    deadlineDays: z
      .number()
      .int()
      .min(0)
      .max(365)
      .describe('Days after the assessment; 0 = same day.'),
    mandatory: z.boolean().default(false),
    legalReference: z.string().trim().min(1).max(200).optional(),
    purpose: z
      .enum(stepPurposes)
      .default('other')
      .describe(
        '`concern_report` steps are completed by recording a concern report; ' +
          '`inform_parents` marks the step the zone-change rule adds.',
      ),
    conditions: StepConditionsSchema.default({}),
  })
  .strict()
  .meta({ id: 'GuideStep' });
export type Step = z.output<typeof StepSchema>;

export const TrajectoryRulesSchema = z
  .object({
    informParentsOnZoneChange: z
      .boolean()
      .default(true)
      .describe('Add the inform-parents step when the zone differs from the previous one.'),
    informParentsStep: StepSchema.describe('The step added when the zone changed.'),
    deteriorationLevelDrop: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(2)
      .describe(
        'Raise `deterioration` when the level got this many steps worse (or the zone worse).',
      ),
    persistentRounds: z
      .number()
      .int()
      .min(2)
      .max(10)
      .default(2)
      .describe(
        'The same non-green zone in this many consecutive rounds raises `persistent`; a round ' +
          'that covered the child and closed without an assessment breaks the series.',
      ),
    escalateOnPersistent: z
      .boolean()
      .default(true)
      .describe("When persistent, add the next worse zone's steps (yellow → red's)."),
  })
  .strict();

export const GuideDefinitionSchema = z
  .object({
    zones: z
      .object({
        green: z.array(StepSchema).max(30),
        yellow: z.array(StepSchema).max(30),
        red: z.array(StepSchema).max(30),
      })
      .strict(),
    trajectory: TrajectoryRulesSchema,
  })
  .strict()
  .meta({ id: 'GuideDefinition' });
export type GuideDefinition = z.output<typeof GuideDefinitionSchema>;

export const flagKinds = ['deterioration', 'persistent', 'not_assessed', 'red_flag'] as const;
/** A follow-up step's life: open until done, not applicable, or superseded by a correction. */
export const stepStatuses = ['open', 'done', 'not_applicable', 'superseded'] as const;
export type FlagKind = (typeof flagKinds)[number];
export const ZoneOrNull = ZoneSchema.nullable();

/** What `recommend` needs to know about one assessment (current or earlier). */
export interface AssessmentFacts {
  id: string;
  assessedOn: string;
  roundId: string | null;
  /** Start of the round's window, to order rounds; null without a round. */
  roundStart: string | null;
  rulerKey: string;
  higherIsBetter: boolean;
  zone: 'green' | 'yellow' | 'red' | null;
  level: number | null;
  /** Categories of the red flags present (violence, sexual_abuse, neglect, other). */
  redFlagCategories: string[];
  redFlags: string[];
}

/**
 * A round of the child's series on a ruler: a round using that ruler that covered the child
 * (enrolled in a unit it covers at some point of its window, within its age range), whether or
 * not the child was assessed in it. Lets `recommend` see the rounds a child missed.
 */
export interface RoundFacts {
  id: string;
  windowStart: string;
  windowEnd: string;
}

export interface RecommendedStep {
  stepId: string;
  title: { da: string; en: string };
  description: { da: string; en: string };
  involve: InvolvedRole[];
  responsible: InvolvedRole;
  mandatory: boolean;
  legalReference: string | null;
  purpose: (typeof stepPurposes)[number];
  /** assessedOn + deadlineDays. */
  dueOn: string;
  /** Why the step is here: the zone's guidance, the zone change, or an escalation. */
  source: 'zone' | 'zone_change' | 'escalation';
}

export interface RaisedFlag {
  kind: FlagKind;
  reason: string;
}

export interface Recommendation {
  zone: 'green' | 'yellow' | 'red' | null;
  previousZone: 'green' | 'yellow' | 'red' | null;
  zoneChanged: boolean;
  flags: RaisedFlag[];
  steps: RecommendedStep[];
  /** One English sentence summarising what to do. */
  summary: string;
}
