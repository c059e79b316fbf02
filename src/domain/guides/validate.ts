import { redFlagCategories, zones } from '../rulers/definition.js';
import type { GuideDefinition, Step } from './definition.js';
import { stepApplies } from './recommend.js';

/**
 * A problem with an action guide that the schema cannot see. `path` is dot-separated and
 * relative to the definition (e.g. `zones.red.2.id`, `trajectory.informParentsStep.involve`);
 * `code` is stable and machine-readable; `message` is plain English for the guide's author.
 */
export interface GuideDefect {
  path: string;
  message: string;
  code: string;
}

/** Every stable defect code `guideDefects` can return. */
export const guideDefectCodes = [
  'step_id_duplicate',
  'step_conditions_overlap',
  'concern_report_without_child_services',
  'red_without_concern_report',
  'inform_parents_step_purpose',
  'inform_parents_step_without_parents',
] as const;
export type GuideDefectCode = (typeof guideDefectCodes)[number];

function defect(path: string, code: GuideDefectCode, message: string): GuideDefect {
  return { path, code, message };
}

/** Defects of one step on its own (used for zone steps and the inform-parents step). */
function stepDefects(step: Step, path: string): GuideDefect[] {
  const defects: GuideDefect[] = [];
  const when = step.conditions.whenRedFlagCategories ?? [];
  const unless = step.conditions.unlessRedFlagCategories ?? [];
  const overlap = [...new Set(when.filter((category) => unless.includes(category)))];
  if (overlap.length > 0) {
    defects.push(
      defect(
        `${path}.conditions`,
        'step_conditions_overlap',
        `Step '${step.id}' both requires and excludes the red-flag ` +
          `${overlap.length === 1 ? 'category' : 'categories'} ${overlap.join(', ')}.`,
      ),
    );
  }
  if (step.purpose === 'concern_report' && !step.involve.includes('child_services')) {
    defects.push(
      defect(
        `${path}.involve`,
        'concern_report_without_child_services',
        `Concern-report step '${step.id}' must involve child_services: a concern report ` +
          'goes to child and family services.',
      ),
    );
  }
  return defects;
}

/** The red-flag category sets checked for a surviving concern report: none, then each one. */
const categoryScenarios: readonly (readonly string[])[] = [
  [],
  ...redFlagCategories.map((category) => [category]),
];

/**
 * A mandatory concern-report step that applies to a red assessment with these red-flag
 * categories, whether or not the child was already red (a step limited to the first entry
 * into the zone does not count: the duty applies every time).
 */
function survivingConcernReport(steps: readonly Step[], categories: readonly string[]): boolean {
  return steps.some(
    (step) =>
      step.mandatory &&
      step.purpose === 'concern_report' &&
      stepApplies(step, categories, true) &&
      stepApplies(step, categories, false),
  );
}

/**
 * Every defect of an action guide, in a stable order: per zone (green, yellow, red) and step,
 * duplicate ids, overlapping conditions and concern-report steps not involving child services;
 * then the red zone's concern-report coverage for no red flag and each red-flag category; then
 * the trajectory's inform-parents step.
 */
export function guideDefects(def: GuideDefinition): GuideDefect[] {
  const defects: GuideDefect[] = [];

  for (const zone of zones) {
    const firstIndex = new Map<string, number>();
    def.zones[zone].forEach((step, index) => {
      const path = `zones.${zone}.${index}`;
      const first = firstIndex.get(step.id);
      if (first === undefined) firstIndex.set(step.id, index);
      else {
        defects.push(
          defect(
            `${path}.id`,
            'step_id_duplicate',
            `Step id '${step.id}' is already used by step ${first} of the ${zone} zone.`,
          ),
        );
      }
      defects.push(...stepDefects(step, path));
    });
  }

  for (const categories of categoryScenarios) {
    if (survivingConcernReport(def.zones.red, categories)) continue;
    const situation =
      categories.length === 0
        ? 'without red flags'
        : `with a red flag of category ${categories.join(', ')}`;
    defects.push(
      defect(
        'zones.red',
        'red_without_concern_report',
        `The red zone has no mandatory concern_report step that applies to a red assessment ` +
          `${situation} (steps only for the first entry into the zone do not count).`,
      ),
    );
  }

  const inform = def.trajectory.informParentsStep;
  const informPath = 'trajectory.informParentsStep';
  defects.push(...stepDefects(inform, informPath));
  if (inform.purpose !== 'inform_parents') {
    defects.push(
      defect(
        `${informPath}.purpose`,
        'inform_parents_step_purpose',
        `The inform-parents step '${inform.id}' must have purpose 'inform_parents', ` +
          `not '${inform.purpose}'.`,
      ),
    );
  }
  if (!inform.involve.includes('parents')) {
    defects.push(
      defect(
        `${informPath}.involve`,
        'inform_parents_step_without_parents',
        `The inform-parents step '${inform.id}' must involve parents.`,
      ),
    );
  }

  return defects;
}
