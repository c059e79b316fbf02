import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Bundle, FhirResource, Questionnaire } from 'fhir/r4.js';
import type { Transaction } from 'kysely';
import { searchCriteria } from '../../audit/audit.js';
import type { DB } from '../../db/schema.js';
import { childToPatient, collectionBundle } from '../../domain/fhir/bundle.js';
import { klTopiApplies } from '../../domain/fhir/kl-topi.js';
import { type RulerVersionFacts, rulerToQuestionnaire } from '../../domain/fhir/questionnaire.js';
import {
  type AssessmentFacts,
  assessmentToResponse,
  klTopiResponse,
} from '../../domain/fhir/response.js';
import { type StepFacts, stepToTask } from '../../domain/fhir/task.js';
import { bundleReferences, logicalReference, type Refer } from '../../domain/fhir/terms.js';
import type { InvolvedRole } from '../../domain/guides/definition.js';
import type { Rating, RulerDefinition, Zone } from '../../domain/rulers/definition.js';
import { ForbiddenError, NotFoundError } from '../../errors.js';
import type { ReadOn } from '../../request/runner.js';
import type { Session } from '../../request/session.js';
import type { Assessment } from '../assessments/schemas.js';
import { sharedTimeline } from '../assessments/service.js';
import { findChild } from '../children/repository.js';
import {
  type AssessmentPageRow,
  assessmentPage,
  type RulerVersionRow,
  rulerVersions,
  type StepPageRow,
  stepPage,
} from './repository.js';
import type { FhirExportQuery } from './schemas.js';

/*
 * FHIR R4 out of lineal (issue 18): the mapping is src/domain/fhir; here, what is read for it
 * and who may read it. A child's bundle is read like the child's timeline and steps (the same
 * visibility, the same sharing rules between units, audited as a read of the child); the bulk
 * export is the municipality's, streamed page by page like the row exports.
 */

function rulerFacts(row: RulerVersionRow): RulerVersionFacts {
  return {
    id: row.id,
    key: row.key,
    version: row.version,
    municipalityId: row.municipality_id,
    name: row.name,
    description: row.description,
    createdAt: row.created_at.toISOString(),
    definition: row.definition as RulerDefinition,
  };
}

const iso = (value: Date | string) => new Date(value).toISOString();

function fromAssessment(a: Assessment): AssessmentFacts {
  return {
    id: a.id,
    lineageId: a.lineageId,
    version: a.version,
    status: a.status as AssessmentFacts['status'],
    childId: a.childId,
    unitId: a.unitId,
    assessedOn: a.assessedOn,
    rating: a.rating as Rating,
    redFlags: a.redFlags,
    zone: a.zone,
    score: a.score,
    justification: a.justification,
    changedAt: a.statusChangedAt ?? a.createdAt,
  };
}

function fromRow(row: AssessmentPageRow): AssessmentFacts {
  return {
    id: row.id,
    lineageId: row.lineage_id,
    version: row.version,
    status: row.status as AssessmentFacts['status'],
    childId: row.child_id,
    unitId: row.unit_id,
    assessedOn: row.assessed_on,
    rating: {
      ...(row.overall_level !== null ? { overallLevel: row.overall_level } : {}),
      answers: (row.answers ?? {}) as Rating['answers'],
    },
    redFlags: row.red_flags,
    zone: row.zone as Zone | null,
    score: row.score,
    changedAt: iso(row.changed_at),
  };
}

function fromStep(row: StepPageRow): StepFacts {
  return {
    id: row.id,
    assessmentLineageId: row.assessment_lineage_id,
    childId: row.child_id,
    unitId: row.unit_id,
    zone: row.zone as Zone,
    stepKey: row.step_key,
    title: row.title as StepFacts['title'],
    description: row.description as StepFacts['description'],
    involve: row.involve as InvolvedRole[],
    responsible: row.responsible as InvolvedRole,
    mandatory: row.mandatory,
    legalReference: row.legal_reference,
    dueOn: row.due_on,
    status: row.status,
    statusReason: row.status_reason,
    statusChangedAt: row.status_changed_at?.toISOString() ?? null,
  };
}

/** The assessment's responses: lineal's, and KL's TOPI one where it applies. */
function responsesOf(ruler: RulerVersionFacts, a: AssessmentFacts, refer: Refer): FhirResource[] {
  const own = assessmentToResponse(ruler, a, refer);
  const kl = klTopiApplies(ruler) ? klTopiResponse(a, refer) : null;
  return kl ? [own, kl] : [own];
}

/** A ruler version visible to the municipality as a Questionnaire; 404 otherwise. */
export async function getQuestionnaire(
  session: Session,
  trx: Transaction<DB>,
  rulerVersionId: string,
): Promise<Questionnaire> {
  const [row] = await rulerVersions(trx, session.municipalityId, [rulerVersionId]);
  if (!row) throw new NotFoundError('ruler version', rulerVersionId);
  return rulerToQuestionnaire(rulerFacts(row));
}

/**
 * A child's FHIR bundle, for case exchange: the child as Patient, the Questionnaires of the
 * rulers used, its assessments (current and withdrawn) as the caller may see them — other units'
 * only on a consent or guideline, their free text only under a notes consent — and the steps the
 * caller may see, as Tasks. 404 when the caller cannot see the child.
 */
export async function childBundle(
  session: Session,
  trx: Transaction<DB>,
  childId: string,
): Promise<Bundle> {
  const child = await findChild(trx, session.access.children(), childId);
  if (!child) throw new NotFoundError('child', childId);
  const { items, withheld } = await sharedTimeline(session, trx, childId, true);
  const steps = await stepPage(trx, session.access.steps(), { childId });
  const versions = new Map(
    (
      await rulerVersions(trx, session.municipalityId, [
        ...new Set(items.map((a) => a.rulerVersionId)),
      ])
    ).map((row) => [row.id, rulerFacts(row)]),
  );
  const assessments = items.map((a) => ({
    a: fromAssessment(a),
    ruler: versions.get(a.rulerVersionId),
  }));
  const refer = bundleReferences(new Set([childId, ...assessments.map(({ a }) => a.lineageId)]));
  const resources: FhirResource[] = [
    childToPatient({
      id: child.id,
      externalRef: child.external_ref,
      givenName: child.given_name,
      familyName: child.family_name,
      birthDate: child.birth_date,
      sex: child.sex,
    }),
    ...[...versions.values()].map(rulerToQuestionnaire),
    ...assessments.flatMap(({ a, ruler }) => (ruler ? responsesOf(ruler, a, refer) : [])),
    ...steps.map((row) => stepToTask(fromStep(row), refer)),
  ];
  session.audit({
    resourceId: childId,
    childId,
    criteria: {
      format: 'fhir',
      assessments: items.length,
      tasks: steps.length,
      withheld: withheld.length,
    },
  });
  return collectionBundle(randomUUID(), session.now.toISOString(), resources);
}

/** Assessments and steps per page of the bulk export: one short read transaction each. */
export const FHIR_EXPORT_PAGE_SIZE = 1000;

export interface FhirExportInput {
  query: FhirExportQuery;
  /** Aborting stops the export before its next page. */
  signal: AbortSignal;
  pageSize?: number;
  onClose?: (summary: { resources: number; completed: boolean }) => void;
}

/**
 * The municipality's bulk FHIR export as NDJSON (one resource a line): the Questionnaires of
 * its rulers, its assessments as QuestionnaireResponses (and KL TOPI responses) and its steps as
 * Tasks, referring to the child and unit logically (by lineal's id, no names). Run with
 * `Runner.runThen`: the checks, the audit entry and the first page in the request's transaction;
 * every further page in its own short transaction, read when the client wants more.
 */
export async function openFhirExport(
  session: Session,
  trx: Transaction<DB>,
  input: FhirExportInput,
): Promise<(read: ReadOn) => Readable> {
  if (session.access.isUnitLimited) {
    throw new ForbiddenError(
      'The FHIR export covers the whole municipality; this key is limited to units.',
    );
  }
  const m = session.municipalityId;
  const since = input.query._since;
  const limit = input.pageSize ?? FHIR_EXPORT_PAGE_SIZE;
  session.audit({ criteria: searchCriteria({ dataset: 'fhir', since }) });
  const versions = (await rulerVersions(trx, m)).map(rulerFacts);
  const first = await assessmentPage(trx, m, { since, limit });
  const audience = session.access.steps();
  const byId = new Map(versions.map((v) => [v.id, v]));
  const questionnaires = versions
    .filter((v) => since === undefined || (v.createdAt ?? '') >= iso(since))
    .map(rulerToQuestionnaire);

  return (read) => {
    const summary = { resources: 0, completed: false };
    const lines = (resources: readonly FhirResource[]) => {
      summary.resources += resources.length;
      return Buffer.from(resources.map((r) => `${JSON.stringify(r)}\n`).join(''));
    };
    async function* body(): AsyncGenerator<Buffer> {
      if (questionnaires.length > 0) yield lines(questionnaires);
      let page = first;
      for (;;) {
        const resources = page.flatMap((row) => {
          const ruler = byId.get(row.ruler_version_id);
          if (!ruler) throw new Error(`ruler version ${row.ruler_version_id} not visible`);
          return responsesOf(ruler, fromRow(row), logicalReference);
        });
        if (resources.length > 0) yield lines(resources);
        const after = page.at(-1)?.id;
        if (after === undefined || page.length < limit || input.signal.aborted) break;
        page = await read((t) => assessmentPage(t, m, { after, since, limit }));
      }
      let after: string | undefined;
      for (;;) {
        if (input.signal.aborted) return;
        const steps = await read((t) => stepPage(t, audience, { after, since, limit }));
        if (steps.length > 0)
          yield lines(steps.map((row) => stepToTask(fromStep(row), logicalReference)));
        after = steps.at(-1)?.id;
        if (after === undefined || steps.length < limit) break;
      }
    }
    const stream = Readable.from(body(), { objectMode: false, highWaterMark: 64 * 1024 });
    stream.once('end', () => {
      summary.completed = true;
    });
    stream.once('close', () => input.onClose?.({ ...summary }));
    return stream;
  };
}
