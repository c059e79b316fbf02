import { addDays, ageInYears, compareDates } from './dates.js';
import { classify } from './rulers/classify.js';
import {
  type Band,
  type RulerDefinition,
  type RulerDefinitionInput,
  RulerDefinitionSchema,
  type Zone,
} from './rulers/definition.js';
import { answerDefects, type RulerDefect } from './rulers/validate.js';

/**
 * The child's own voice (issue 18, point 3): an optional self-report by an older child on a
 * ruler written for children, recorded apart from the professionals' assessment and used only
 * for the purpose stated to the child. Pure: the ruler, its classification, the age limits,
 * the purposes and who each lets see a report (`selfReportAudience`).
 */

// ---------------------------------------------------------------------------------------------
// The ruler

/** A face on the answer scale, for the child-facing form (the level's value is the answer). */
export interface Smiley {
  value: number;
  emoji: string;
}

export interface SelfReportRuler {
  key: string;
  version: number;
  name: string;
  description: string;
  /** Inclusive age limits in whole years on the report's date. */
  minAge: number;
  maxAge: number;
  smileys: readonly Smiley[];
  /** Items are the questions, in child language (Danish first, English). */
  definition: RulerDefinition;
}

const agreement = (value: number, da: string, en: string, zone: Zone) => ({
  value,
  label: { da, en },
  zone,
});

/** Six short statements the child answers on five faces; a question may be skipped. */
const questions: NonNullable<RulerDefinitionInput['items']> = [
  {
    key: 'happy_at_school',
    label: { da: 'Jeg er glad for at gå i skole', en: 'I like going to school' },
  },
  {
    key: 'has_friends',
    label: { da: 'Jeg har nogen at være sammen med', en: 'I have someone to be with' },
  },
  {
    key: 'feels_safe',
    label: { da: 'Jeg føler mig tryg, når jeg er her', en: 'I feel safe when I am here' },
  },
  {
    key: 'adults_listen',
    label: { da: 'De voksne lytter til mig', en: 'The adults listen to me' },
  },
  {
    key: 'likes_myself',
    label: { da: 'Jeg er god nok, som jeg er', en: 'I am fine the way I am' },
  },
  {
    key: 'good_at_home',
    label: { da: 'Jeg har det godt derhjemme', en: 'Things are good at home' },
  },
].map((q) => ({ ...q, allowNotApplicable: true }));

export const selfReportRulers: readonly SelfReportRuler[] = [
  {
    key: 'self-report-10-16',
    version: 1,
    name: 'Sådan har jeg det (10–16 år)',
    description:
      'Six statements in child language, each answered on five faces from 1 (not true at all) ' +
      'to 5 (completely true); a question may be skipped. The mean of the answered questions ' +
      '(at least four) is cut into bands: 4.0 and above green, 3.0 to below 4.0 yellow, below ' +
      '3.0 red — and a question answered with the saddest face (1) is never green.',
    minAge: 10,
    maxAge: 16,
    smileys: [
      { value: 1, emoji: '😢' },
      { value: 2, emoji: '🙁' },
      { value: 3, emoji: '😐' },
      { value: 4, emoji: '🙂' },
      { value: 5, emoji: '😄' },
    ],
    definition: RulerDefinitionSchema.parse({
      levels: [
        agreement(1, 'passer slet ikke', 'not true at all', 'red'),
        agreement(2, 'passer lidt', 'a little true', 'red'),
        agreement(3, 'passer nogenlunde', 'partly true', 'yellow'),
        agreement(4, 'passer godt', 'mostly true', 'green'),
        agreement(5, 'passer helt', 'completely true', 'green'),
      ],
      higherIsBetter: true,
      items: questions,
      rule: {
        kind: 'mean_of_items',
        bands: [
          { zone: 'red', min: 1, max: 3 },
          { zone: 'yellow', min: 3, max: 4 },
          { zone: 'green', min: 4, max: 5 },
        ],
      },
      minAnsweredItems: 4,
      ratersRequired: 1,
    } satisfies RulerDefinitionInput),
  },
];

/** The self-report ruler with this key (its latest version), or undefined. */
export function selfReportRuler(key: string): SelfReportRuler | undefined {
  return selfReportRulers.find((r) => r.key === key);
}

// ---------------------------------------------------------------------------------------------
// Classification

export type SelfReportAnswers = Record<string, number | 'na'>;

export interface SelfReportExplanation {
  rule: 'mean_of_items';
  outcome: 'classified' | 'insufficient_data';
  /** One sentence in English saying why. */
  summary: string;
  score: number | null;
  band: Band | null;
  answeredItems: number;
  skippedItems: number;
  minAnsweredItems: number;
  /** Questions answered with the lowest face: each keeps the result from green. */
  lowestAnswers: string[];
  /** The zone the mean alone gave, when a lowest answer lowered it (else null). */
  cappedFrom: Zone | null;
}

export interface SelfReportResult {
  zone: Zone | null;
  score: number | null;
  explanation: SelfReportExplanation;
}

/**
 * The child's answers rolled into a zone: the ruler's mean of the answered questions cut into
 * its bands (src/domain/rulers/classify.ts: exact at the band edges, skipped questions leave the
 * denominator, too few answered give no zone — never a falsely green one); then a question
 * answered with the lowest face makes a green result yellow. Pure and deterministic; assumes
 * the answers passed `selfReportDefects`.
 */
export function classifySelfReport(
  ruler: SelfReportRuler,
  answers: SelfReportAnswers,
): SelfReportResult {
  const def = ruler.definition;
  const base = classify(def, { joint: { answers }, redFlags: [], raterRatings: [] });
  const lowest = Math.min(...def.levels.map((l) => l.value));
  const lowestAnswers = def.items
    .filter((item) => answers[item.key] === lowest)
    .map((item) => item.key)
    .sort();
  const capped = base.zone === 'green' && lowestAnswers.length > 0;
  const zone: Zone | null = capped ? 'yellow' : base.zone;
  let summary = base.explanation.summary.replace(/\.$/, '');
  if (capped) {
    summary =
      `Yellow: the mean alone would be green (${summary.replace(/^Green: /, '')}), but ` +
      `${lowestAnswers.join(', ')} ${lowestAnswers.length === 1 ? 'was' : 'were'} answered ` +
      'with the lowest face';
  }
  return {
    zone,
    score: base.score,
    explanation: {
      rule: 'mean_of_items',
      outcome: base.zone === null ? 'insufficient_data' : 'classified',
      summary: `${summary}.`,
      score: base.score,
      band: base.explanation.band,
      answeredItems: base.explanation.answeredItems,
      skippedItems: base.explanation.notApplicableItems,
      minAnsweredItems: def.minAnsweredItems,
      lowestAnswers,
      cappedFrom: capped ? 'green' : null,
    },
  };
}

/** Every problem with the answers against the ruler (paths `<pathPrefix>.answers.<key>`). */
export function selfReportDefects(
  ruler: SelfReportRuler,
  answers: SelfReportAnswers,
  pathPrefix = '',
): RulerDefect[] {
  return answerDefects(ruler.definition, { answers }, [], pathPrefix);
}

// ---------------------------------------------------------------------------------------------
// Age limits

/** Why a child may not give a self-report on this ruler on this day, or null when it may. */
export function ageRefusal(
  ruler: SelfReportRuler,
  birthDate: string,
  reportedOn: string,
): { age: number; detail: string } | null {
  const age = ageInYears(birthDate, reportedOn);
  if (age >= ruler.minAge && age <= ruler.maxAge) return null;
  return {
    age,
    detail:
      `The child is ${age} on ${reportedOn}; the ruler ${ruler.key} is for children aged ` +
      `${ruler.minAge} to ${ruler.maxAge}.`,
  };
}

// ---------------------------------------------------------------------------------------------
// Purposes and audiences

/**
 * The purpose stated to the child before answering. It decides, once and for good, who may see
 * the report (`selfReportAudience`):
 * - `dialogue`: used in the conversation with the child and by the adults of the unit where it
 *   was given, in their own follow-up of this child;
 * - `support`: as `dialogue`, and also by the social worker who is involved with the child
 *   (casework);
 * - `statistics_only`: counted only in the municipality's anonymous aggregates; no person sees
 *   the child's answers.
 */
export const selfReportPurposes = ['dialogue', 'support', 'statistics_only'] as const;
export type SelfReportPurpose = (typeof selfReportPurposes)[number];

/** What the purpose says to the child, in Danish and English (the form shows it first). */
export const purposeStatements: Readonly<Record<SelfReportPurpose, { da: string; en: string }>> = {
  dialogue: {
    da: 'Dine svar bruges i samtalen med dig og af de voksne her, som følger op på, hvordan du har det.',
    en: 'Your answers are used in the conversation with you and by the adults here who follow up on how you are.',
  },
  support: {
    da: 'Dine svar bruges i samtalen med dig, af de voksne her og af den socialrådgiver, der hjælper dig.',
    en: 'Your answers are used in the conversation with you, by the adults here and by the social worker who helps you.',
  },
  statistics_only: {
    da: 'Dine svar tælles kun med i kommunens anonyme statistik. Ingen ser, hvad du har svaret.',
    en: 'Your answers are only counted in the municipality’s anonymous statistics. No one sees what you answered.',
  },
};

/**
 * How much of a report a use shows: `full` (answers, zone, explanation), `existence` (that a
 * report exists and its date, nothing of its content) or `none` (not even that).
 */
export type SelfReportView = 'full' | 'existence' | 'none';

/** The uses of self-reports the service has; every one asks `selfReportAudience`. */
export type SelfReportUse =
  /** Lists of the child's self-reports, and the self-report beside an assessment. */
  | 'case_view'
  /** The municipality's anonymous aggregates. */
  | 'statistics'
  /** The detailed row export and other exports of individual rows. */
  | 'export'
  /** Change-feed events and webhooks. */
  | 'event'
  /** The child's (or parents') access request, GDPR art. 15: the dossier. */
  | 'access_request';

export interface SelfReportViewer {
  /** The principal's role (src/auth/permissions.ts). */
  role: string;
  /** The report was given in one of the viewer's units (unit-limited keys). */
  ownUnit: boolean;
  /** The viewer is a social worker involved with the child (the access policy's rule). */
  involved: boolean;
  /** The child agreed that the parents see this report (for the viewer `parent`). */
  sharedWithParents?: boolean;
}

/**
 * Who may see a self-report, and how much: the one answer to purpose limitation, asked by every
 * service that touches self-reports. Nothing else decides it.
 *
 * - An access request (the dossier, the data controller's duty to the child) shows everything
 *   stored, whatever the purpose: it is the child's own right, not a use of the answers.
 * - Exports and events never carry self-reports (no purpose covers them).
 * - Statistics count only reports given for `statistics_only`.
 * - In case views, the staff and leader of the unit where the report was given see it in full
 *   under `dialogue` and `support`; an involved social worker only under `support`; the
 *   municipality's administrator sees that one exists (to answer questions, erase, correct),
 *   never its content; analysts, integrations, other units and platform administrators see
 *   nothing; the child's parents (the parent view) see it in full only where the child agreed
 *   to share it with them; and under `statistics_only` nobody sees anything of it, not even its
 *   existence.
 */
export function selfReportAudience(
  purpose: SelfReportPurpose,
  viewer: SelfReportViewer,
  use: SelfReportUse = 'case_view',
): SelfReportView {
  switch (use) {
    case 'access_request':
      return 'full';
    case 'export':
    case 'event':
      return 'none';
    case 'statistics':
      // Only counted: the view of a statistic is never an individual one.
      return purpose === 'statistics_only' ? 'existence' : 'none';
    case 'case_view':
      break;
  }
  if (purpose === 'statistics_only') return 'none';
  switch (viewer.role) {
    case 'unit_leader':
    case 'unit_staff':
      return viewer.ownUnit ? 'full' : 'none';
    case 'social_worker':
      return purpose === 'support' && viewer.involved ? 'full' : 'none';
    case 'municipality_admin':
      return 'existence';
    case 'parent':
      return viewer.sharedWithParents === true ? 'full' : 'none';
    default:
      return 'none';
  }
}

/** Whether reports given for `purpose` are counted in the anonymous aggregates. */
export function countsInStatistics(purpose: SelfReportPurpose): boolean {
  return (
    selfReportAudience(
      purpose,
      { role: 'analyst', ownUnit: false, involved: false },
      'statistics',
    ) !== 'none'
  );
}

// ---------------------------------------------------------------------------------------------
// Side by side with the professionals' assessment

/** How far apart (days) a self-report and an assessment may be to be shown side by side. */
export const SIDE_BY_SIDE_DAYS = 60;

/**
 * The self-report to show beside an assessment made on `assessedOn`: of those the viewer may
 * see, the one nearest in date within SIDE_BY_SIDE_DAYS (before or after: the conversation often
 * follows the assessment); on a tie the later one, then the greater id. Null when none is near.
 */
export function sideBySide<T extends { reportedOn: string; id: string }>(
  assessedOn: string,
  reports: readonly T[],
): T | null {
  const from = addDays(assessedOn, -SIDE_BY_SIDE_DAYS);
  const to = addDays(assessedOn, SIDE_BY_SIDE_DAYS);
  const distance = (d: string) =>
    Math.abs(Date.parse(`${d}T00:00:00Z`) - Date.parse(`${assessedOn}T00:00:00Z`));
  let best: T | null = null;
  for (const r of reports) {
    if (compareDates(r.reportedOn, from) < 0 || compareDates(r.reportedOn, to) > 0) continue;
    if (
      best === null ||
      distance(r.reportedOn) < distance(best.reportedOn) ||
      (distance(r.reportedOn) === distance(best.reportedOn) &&
        (compareDates(r.reportedOn, best.reportedOn) > 0 ||
          (r.reportedOn === best.reportedOn && r.id > best.id)))
    ) {
      best = r;
    }
  }
  return best;
}
