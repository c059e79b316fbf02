import type { Task } from 'fhir/r4.js';
import type { InvolvedRole, stepStatuses } from '../guides/definition.js';
import type { Zone } from '../rulers/definition.js';
import {
  codeSystem,
  ext,
  extensionOf,
  extensionsOf,
  idSystem,
  isRole,
  isZone,
  type Refer,
  referencedId,
  roleCoding,
  roleLabels,
  zoneCoding,
} from './terms.js';

export type StepStatus = (typeof stepStatuses)[number];

const SUPERSEDED = 'Superseded: the assessment was corrected or withdrawn.';

/** A step of an action guide's recommendation, as the Task mapping needs it. */
export interface StepFacts {
  id: string;
  /** The lineage of the assessment whose recommendation made the step (the Task's focus). */
  assessmentLineageId: string;
  childId: string;
  unitId: string;
  zone: Zone;
  stepKey: string;
  title: { da: string; en: string };
  description: { da: string; en: string };
  involve: InvolvedRole[];
  responsible: InvolvedRole;
  mandatory: boolean;
  legalReference: string | null;
  dueOn: string;
  status: StepStatus;
  statusReason: string | null;
  statusChangedAt: string | null;
}

/**
 * FHIR's Task status of a step: an open step is `requested` (lineal does not track "in
 * progress"), a done one `completed`; one judged not applicable, or superseded by a corrected or
 * withdrawn assessment, `cancelled` (with the reason). lineal's own status is kept in
 * `businessStatus`, so the mapping is reversible.
 */
export const taskStatusOf: Record<StepStatus, Task['status']> = {
  open: 'requested',
  done: 'completed',
  not_applicable: 'cancelled',
  superseded: 'cancelled',
};

/**
 * A step as a FHIR R4 Task: `for` the child, `focus` the assessment's QuestionnaireResponse,
 * the responsible role as `owner` (by name) and first `performerType`, the roles to involve as
 * lineal extensions, the deadline as `restriction.period.end`, and when it was done as
 * `executionPeriod.end`.
 */
export function stepToTask(step: StepFacts, refer: Refer): Task {
  const reason =
    step.status === 'superseded' ? (step.statusReason ?? SUPERSEDED) : step.statusReason;
  return {
    resourceType: 'Task',
    id: step.id,
    identifier: [{ system: idSystem.step, value: step.id }],
    status: taskStatusOf[step.status],
    ...(reason ? { statusReason: { text: reason } } : {}),
    businessStatus: { coding: [{ system: codeSystem.stepStatus, code: step.status }] },
    intent: 'plan',
    code: {
      coding: [{ system: codeSystem.guideStep, code: step.stepKey, display: step.title.en }],
      text: step.title.da,
    },
    description: step.description.da,
    focus: refer('QuestionnaireResponse', step.assessmentLineageId),
    for: refer('Patient', step.childId),
    requester: refer('Organization', step.unitId),
    owner: { display: roleLabels[step.responsible] },
    performerType: [{ coding: [roleCoding(step.responsible)], text: roleLabels[step.responsible] }],
    restriction: { period: { end: step.dueOn } },
    ...(step.status === 'done' && step.statusChangedAt
      ? { executionPeriod: { end: step.statusChangedAt } }
      : {}),
    ...(step.statusChangedAt ? { lastModified: step.statusChangedAt } : {}),
    ...(step.legalReference ? { reasonCode: { text: step.legalReference } } : {}),
    extension: [
      { url: ext.zone, valueCoding: zoneCoding(step.zone) },
      { url: ext.mandatory, valueBoolean: step.mandatory },
      ...step.involve.map((role) => ({ url: ext.involve, valueCoding: roleCoding(role) })),
    ],
  };
}

/** What a Task made by `stepToTask` says of its step (the reverse mapping). */
export function taskToStep(task: Task): Omit<StepFacts, 'title' | 'description'> & {
  title: string | undefined;
  description: string | undefined;
} {
  const status = task.businessStatus?.coding?.find((c) => c.system === codeSystem.stepStatus)
    ?.code as StepStatus | undefined;
  const responsible = task.performerType?.[0]?.coding?.find(
    (c) => c.system === codeSystem.role,
  )?.code;
  const zone = extensionOf(task.extension, ext.zone)?.valueCoding?.code;
  if (status === undefined || !isRole(responsible) || !isZone(zone)) {
    throw new Error(`Task ${String(task.id)} is not a lineal step`);
  }
  return {
    id: task.id ?? '',
    assessmentLineageId: referencedId(task.focus) ?? '',
    childId: referencedId(task.for) ?? '',
    unitId: referencedId(task.requester) ?? '',
    zone,
    stepKey: task.code?.coding?.find((c) => c.system === codeSystem.guideStep)?.code ?? '',
    title: task.code?.text,
    description: task.description,
    involve: extensionsOf(task.extension, ext.involve)
      .map((e) => e.valueCoding?.code)
      .filter(isRole),
    responsible,
    mandatory: extensionOf(task.extension, ext.mandatory)?.valueBoolean === true,
    legalReference: task.reasonCode?.text ?? null,
    dueOn: task.restriction?.period?.end ?? '',
    status,
    statusReason: task.statusReason?.text === SUPERSEDED ? null : (task.statusReason?.text ?? null),
    statusChangedAt: task.lastModified ?? null,
  };
}
