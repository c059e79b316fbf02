import type { z } from 'zod';
import { type GuideDefinition, GuideDefinitionSchema, type StepSchema } from './definition.js';

/**
 * The preset action guides of the domain brief, one per preset ruler (the guide's key is the
 * ruler's key): sensible defaults a municipality copies and adjusts, not law. Each definition is
 * parsed through `GuideDefinitionSchema`, so defaults apply, and has no `guideDefects`.
 */
export interface PresetGuide {
  key: string;
  rulerKey: string;
  name: string;
  description: string;
  definition: GuideDefinition;
}

type StepInput = z.input<typeof StepSchema>;

/** Red flags that make informing the parents first dangerous for the child. */
const abuse = ['violence', 'sexual_abuse'] as const;

const yellowSteps: StepInput[] = [
  {
    id: 'parents_dialogue',
    title: { da: 'Dialogmøde med forældrene', en: 'Dialogue meeting with the parents' },
    description: {
      da: 'Tal med forældrene om bekymringen og barnets trivsel, og få barnets eget perspektiv med.',
      en: "Talk with the parents about the concern and the child's well-being, and include the child's own perspective.",
    },
    involve: ['parents', 'unit_staff', 'child'],
    responsible: 'unit_staff',
    deadlineDays: 14,
    conditions: { unlessRedFlagCategories: [...abuse] },
  },
  {
    id: 'inform_unit_leader',
    title: { da: 'Orientér lederen', en: 'Inform the unit leader' },
    description: {
      da: 'Orientér lederen om bekymringen for barnet.',
      en: 'Tell the unit leader about the concern for the child.',
    },
    involve: ['unit_leader'],
    responsible: 'unit_staff',
    deadlineDays: 7,
  },
  {
    id: 'focus_plan',
    title: { da: 'Aftal en fokusplan', en: 'Agree a focus plan' },
    description: {
      da: 'Aftal en fokusplan med konkrete mål og indsatser sammen med forældrene og barnet.',
      en: 'Agree a focus plan with concrete goals and actions together with the parents and the child.',
    },
    involve: ['parents', 'unit_staff', 'child'],
    responsible: 'unit_leader',
    deadlineDays: 30,
  },
  {
    id: 'consider_sparring',
    title: { da: 'Overvej sparring', en: 'Consider sparring' },
    description: {
      da: 'Overvej sparring med PPR, sundhedsplejersken eller den fremskudte socialrådgiver, som udgangspunkt i dialog med forældrene.',
      en: 'Consider sparring with PPR, the health visitor or the school social worker, as a rule in dialogue with the parents.',
    },
    involve: ['ppr', 'health_visitor', 'school_social_worker'],
    responsible: 'unit_leader',
    deadlineDays: 30,
    mandatory: false,
  },
  {
    id: 'reassess',
    title: { da: 'Vurdér barnet igen', en: 'Reassess the child' },
    description: {
      da: 'Lav en ny trivselsvurdering inden for tre måneder.',
      en: 'Make a new well-being assessment within three months.',
    },
    involve: ['unit_staff'],
    responsible: 'unit_staff',
    deadlineDays: 90,
  },
];

const redSteps: StepInput[] = [
  {
    id: 'involve_unit_leader',
    title: { da: 'Inddrag lederen samme dag', en: 'Involve the unit leader the same day' },
    description: {
      da: 'Inddrag lederen i bekymringen samme dag.',
      en: 'Involve the unit leader in the concern the same day.',
    },
    involve: ['unit_leader'],
    responsible: 'unit_staff',
    deadlineDays: 0,
    mandatory: true,
  },
  {
    id: 'parents_meeting',
    title: { da: 'Møde med forældrene', en: 'Meeting with the parents' },
    description: {
      da: 'Hold et møde med forældrene om bekymringen og den videre plan.',
      en: 'Hold a meeting with the parents about the concern and the plan ahead.',
    },
    involve: ['parents', 'unit_leader', 'unit_staff'],
    responsible: 'unit_leader',
    deadlineDays: 7,
    conditions: { unlessRedFlagCategories: [...abuse] },
  },
  {
    id: 'interdisciplinary_meeting',
    title: { da: 'Tværfagligt møde (TVÆRS)', en: 'Interdisciplinary meeting (TVÆRS)' },
    description: {
      da: 'Drøft barnet i det tværfaglige team med PPR, sundhedsplejen og den fremskudte socialrådgiver.',
      en: 'Discuss the child in the interdisciplinary team with PPR, the health visitor and the school social worker.',
    },
    involve: ['interdisciplinary_team', 'ppr', 'health_visitor', 'school_social_worker'],
    responsible: 'unit_leader',
    deadlineDays: 14,
  },
  {
    id: 'concern_report',
    title: {
      da: 'Underretning til familieafdelingen',
      en: 'Concern report to child and family services',
    },
    description: {
      da: 'Underret familieafdelingen, når barnet kan have behov for særlig støtte. Underretningspligten er personlig.',
      en: 'Report to child and family services when the child may need special support. The duty to report is personal.',
    },
    involve: ['child_services'],
    responsible: 'unit_leader',
    deadlineDays: 3,
    mandatory: true,
    legalReference: 'Barnets Lov § 133',
    purpose: 'concern_report',
    conditions: { unlessRedFlagCategories: [...abuse] },
  },
  {
    id: 'concern_report_immediate',
    title: { da: 'Underretning straks', en: 'Concern report immediately' },
    description: {
      da: 'Underret familieafdelingen straks. Orientér ikke forældrene først, når det kan bringe barnet i fare.',
      en: 'Report to child and family services immediately. Do not inform the parents first when that could endanger the child.',
    },
    involve: ['child_services'],
    responsible: 'unit_leader',
    deadlineDays: 0,
    mandatory: true,
    legalReference: 'Barnets Lov § 133',
    purpose: 'concern_report',
    conditions: { whenRedFlagCategories: [...abuse] },
  },
  {
    id: 'police_if_acute',
    title: { da: 'Politiet ved akut fare', en: 'Police if in acute danger' },
    description: {
      da: 'Kontakt politiet, hvis barnet er i akut fare.',
      en: 'Contact the police if the child is in acute danger.',
    },
    involve: ['police'],
    responsible: 'unit_leader',
    deadlineDays: 0,
    mandatory: false,
    conditions: { whenRedFlagCategories: [...abuse] },
  },
];

const informParentsStep: StepInput = {
  id: 'inform_parents',
  title: { da: 'Orientér forældrene', en: 'Inform the parents' },
  description: {
    da: 'Orientér forældrene om, at barnets placering på linealen har ændret sig.',
    en: "Tell the parents that the child's position on the ruler has changed.",
  },
  involve: ['parents'],
  responsible: 'unit_staff',
  deadlineDays: 7,
  purpose: 'inform_parents',
  conditions: { unlessRedFlagCategories: [...abuse] },
};

const definitionInput: z.input<typeof GuideDefinitionSchema> = {
  zones: { green: [], yellow: yellowSteps, red: redSteps },
  trajectory: {
    informParentsOnZoneChange: true,
    informParentsStep,
    deteriorationLevelDrop: 2,
    persistentRounds: 2,
    escalateOnPersistent: true,
  },
};

function preset(rulerKey: string, name: string, description: string): PresetGuide {
  return {
    key: rulerKey,
    rulerKey,
    name,
    description,
    definition: GuideDefinitionSchema.parse(definitionInput),
  };
}

const common =
  'Green: universal practice, nothing to escalate. Yellow: dialogue with the parents, the ' +
  'unit leader informed, a focus plan, sparring considered, reassessment within 3 months. ' +
  'Red: unit leader the same day, parents within 7 days, TVÆRS within 14 days, concern report; ' +
  'with signs of violence or sexual abuse a concern report immediately, without informing ' +
  'the parents first. Parents are informed when the zone changes.';

export const presetGuides: ReadonlyArray<PresetGuide> = [
  preset('topi-3', 'TOPI action guide', `Action guide for the TOPI ruler (3 levels). ${common}`),
  preset(
    'boernelineal-5',
    'Børnelineal action guide',
    `Action guide for the Børnelineal (5 levels). ${common}`,
  ),
  preset(
    'signs-of-safety-0-10',
    'Signs of Safety action guide',
    `Action guide for the Signs of Safety scaling (0–10). ${common}`,
  ),
  preset(
    'wellbeing-1-5',
    'Well-being score action guide',
    `Action guide for the well-being score (1–5). ${common}`,
  ),
];

/** The preset guide for this ruler key, or undefined. */
export function presetGuide(rulerKey: string): PresetGuide | undefined {
  return presetGuides.find((guide) => guide.rulerKey === rulerKey);
}
