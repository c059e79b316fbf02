import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { childToPatient, collectionBundle } from '../../src/domain/fhir/bundle.js';
import { KL_TOPI_QUESTIONNAIRE, klTopiApplies, klTopiZone } from '../../src/domain/fhir/kl-topi.js';
import {
  FhirMappingError,
  questionnaireToRuler,
  questionnaireUrl,
  type RulerVersionFacts,
  rulerToQuestionnaire,
} from '../../src/domain/fhir/questionnaire.js';
import {
  type AssessmentFacts,
  assessmentToResponse,
  klTopiResponse,
  responseToAssessment,
} from '../../src/domain/fhir/response.js';
import {
  type StepFacts,
  type StepStatus,
  stepToTask,
  taskStatusOf,
  taskToStep,
} from '../../src/domain/fhir/task.js';
import { bundleReferences, logicalReference, referencedId } from '../../src/domain/fhir/terms.js';
import { involvedRoles, stepStatuses } from '../../src/domain/guides/definition.js';
import { classify } from '../../src/domain/rulers/classify.js';
import type { RulerDefinition } from '../../src/domain/rulers/definition.js';
import { presetRulers } from '../../src/domain/rulers/presets.js';
import { expectValidFhir, fhirErrors } from '../support/fhir-schema.js';
import { inputArb, validRulerArb } from './rulers-arbitraries.js';

const CHILD = '6f1c3c2e-2d5e-4a58-9a51-0d3b7f3f0a01';
const UNIT = '0b8e1a66-3a3c-4c1e-9f0c-5b2a1d4e7c02';

function version(key: string, def: RulerDefinition, municipalityId: string | null = null) {
  return {
    id: '2a7d9a0e-5c1b-4d3e-8f6a-7b9c0d1e2f03',
    key,
    version: 3,
    municipalityId,
    name: `Ruler ${key}`,
    createdAt: '2026-01-02T03:04:05.000Z',
    definition: def,
  } satisfies RulerVersionFacts;
}

const sortKeys = (list: string[]) => [...new Set(list)].sort();

describe('FHIR: rulers as Questionnaires', () => {
  for (const preset of presetRulers) {
    it(`${preset.key}: a valid R4 Questionnaire that maps back to the same ruler`, () => {
      const q = rulerToQuestionnaire(version(preset.key, preset.definition));
      expectValidFhir(q);
      expect(q.url).toBe(`urn:lineal:fhir:Questionnaire:${preset.key}`);
      expect(q.version).toBe('3');
      expect(questionnaireToRuler(q)).toEqual(preset.definition);
    });
  }

  it('topi-3: an item for the overall position, each aspect and flag, the zone', () => {
    const topi = presetRulers.find((p) => p.key === 'topi-3') as (typeof presetRulers)[number];
    const q = rulerToQuestionnaire(version('topi-3', topi.definition));
    expect(q.item?.map((i) => [i.linkId, i.type])).toEqual([
      ['overall', 'choice'],
      ['item.social_skills', 'choice'],
      ['item.safety_and_care', 'choice'],
      ['item.participation', 'choice'],
      ['item.self_esteem', 'choice'],
      ['item.violence', 'boolean'],
      ['item.sexual_abuse', 'boolean'],
      ['zone', 'choice'],
      ['justification', 'text'],
    ]);
    const overall = q.item?.[0]?.answerOption?.map((o) => o.valueCoding);
    expect(overall?.[2]).toMatchObject({
      system: 'urn:lineal:fhir:Questionnaire:topi-3:level',
      version: '3',
      code: '3',
      display: 'stærk bekymring',
      extension: [
        { url: 'http://hl7.org/fhir/StructureDefinition/ordinalValue', valueDecimal: 3 },
        {
          url: 'urn:lineal:fhir:StructureDefinition:zone',
          valueCoding: { system: 'urn:lineal:fhir:CodeSystem:zone', code: 'red' },
        },
      ],
    });
    // N/A is HL7's data-absent-reason.
    expect(q.item?.[1]?.answerOption?.at(-1)?.valueCoding).toMatchObject({
      system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason',
      code: 'not-applicable',
    });
  });

  it("a municipality's own ruler is named under the municipality", () => {
    const m = '9d3c4b5a-0000-4000-8000-000000000001';
    expect(questionnaireUrl('own-ruler', m)).toBe(
      `urn:lineal:fhir:municipality:${m}:Questionnaire:own-ruler`,
    );
  });

  it('property: every valid ruler maps to a valid Questionnaire and back', () => {
    fc.assert(
      fc.property(validRulerArb, fc.boolean(), (def, own) => {
        const q = rulerToQuestionnaire(
          version('generated', def, own ? '9d3c4b5a-0000-4000-8000-000000000001' : null),
        );
        expect(fhirErrors(q)).toEqual([]);
        expect(questionnaireToRuler(q)).toEqual(def);
      }),
      { numRuns: 60 },
    );
  });

  it('refuses a Questionnaire that is not a lineal ruler', () => {
    expect(() =>
      questionnaireToRuler({ resourceType: 'Questionnaire', status: 'active', url: 'x' }),
    ).toThrow(FhirMappingError);
  });
});

function facts(
  def: RulerDefinition,
  input: ReturnType<typeof inputArb> extends fc.Arbitrary<infer T> ? T : never,
  overrides: Partial<AssessmentFacts> = {},
): AssessmentFacts {
  const c = classify(def, input);
  return {
    id: 'c4a8e1f2-1111-4222-8333-444455556666',
    lineageId: 'a1b2c3d4-1111-4222-8333-444455556666',
    version: 1,
    status: 'current',
    childId: CHILD,
    unitId: UNIT,
    assessedOn: '2026-11-20',
    rating: input.joint,
    redFlags: input.redFlags,
    zone: c.zone,
    score: c.score,
    ...overrides,
  };
}

describe('FHIR: assessments as QuestionnaireResponses', () => {
  for (const preset of presetRulers) {
    it(`${preset.key}: property — answers, flags, zone and score survive the round trip`, () => {
      const ruler = version(preset.key, preset.definition);
      fc.assert(
        fc.property(
          inputArb(preset.definition),
          fc.constantFrom('current', 'withdrawn') as fc.Arbitrary<'current' | 'withdrawn'>,
          fc.integer({ min: 1, max: 4 }),
          fc.boolean(),
          (input, status, v, inBundle) => {
            const a = facts(preset.definition, input, { status, version: v });
            const refer = inBundle ? bundleReferences(new Set([CHILD])) : logicalReference;
            const qr = assessmentToResponse(ruler, a, refer);
            expect(fhirErrors(qr)).toEqual([]);
            expect(qr.questionnaire).toBe(`urn:lineal:fhir:Questionnaire:${preset.key}|3`);
            expect(qr.status).toBe(
              status === 'withdrawn' ? 'entered-in-error' : v > 1 ? 'amended' : 'completed',
            );
            const back = responseToAssessment(qr);
            expect(back.rating).toEqual(input.joint);
            expect(sortKeys(back.redFlags)).toEqual(sortKeys(input.redFlags));
            expect(back.zone).toBe(a.zone);
            expect(back.score).toBe(a.score);
            expect([back.assessmentId, back.lineageId, back.childId, back.unitId]).toEqual([
              a.id,
              a.lineageId,
              CHILD,
              UNIT,
            ]);
            // The classification of what came back is the one exported.
            const again = classify(preset.definition, {
              joint: back.rating,
              redFlags: back.redFlags,
              raterRatings: [],
            });
            expect([again.zone, again.score]).toEqual([a.zone, a.score]);
          },
        ),
        { numRuns: 80 },
      );
    });
  }

  it('the subject is a bundle reference or a logical one, never a name', () => {
    const topi = presetRulers[0] as (typeof presetRulers)[number];
    const a = facts(topi.definition, {
      joint: { overallLevel: 2, answers: { social_skills: 'na' } },
      redFlags: [],
      raterRatings: [],
    });
    const inBundle = assessmentToResponse(
      version('topi-3', topi.definition),
      a,
      bundleReferences(new Set([CHILD])),
    );
    expect(inBundle.subject).toEqual({ type: 'Patient', reference: `urn:uuid:${CHILD}` });
    expect(inBundle.author).toEqual({
      type: 'Organization',
      identifier: { system: 'urn:lineal:fhir:id:unit', value: UNIT },
    });
    const bulk = assessmentToResponse(version('topi-3', topi.definition), a, logicalReference);
    expect(bulk.subject).toEqual({
      type: 'Patient',
      identifier: { system: 'urn:lineal:fhir:id:child', value: CHILD },
    });
    expect(referencedId(bulk.subject)).toBe(CHILD);
  });

  it('justification only when given', () => {
    const topi = presetRulers[0] as (typeof presetRulers)[number];
    const input = { joint: { overallLevel: 1, answers: {} }, redFlags: [], raterRatings: [] };
    const ruler = version('topi-3', topi.definition);
    const without = assessmentToResponse(ruler, facts(topi.definition, input), logicalReference);
    expect(without.item?.some((i) => i.linkId === 'justification')).toBe(false);
    const withText = assessmentToResponse(
      ruler,
      facts(topi.definition, input, { justification: 'Trækker sig fra legen.' }),
      logicalReference,
    );
    expect(responseToAssessment(withText).justification).toBe('Trækker sig fra legen.');
  });
});

describe("FHIR: KL's TOPI questionnaire", () => {
  const topi = presetRulers.find((p) => p.key === 'topi-3') as (typeof presetRulers)[number];

  it('applies to the topi-3 preset only', () => {
    expect(klTopiApplies({ key: 'topi-3', municipalityId: null })).toBe(true);
    expect(klTopiApplies({ key: 'topi-3', municipalityId: UNIT })).toBe(false);
    expect(klTopiApplies({ key: 'boernelineal-5', municipalityId: null })).toBe(false);
  });

  it.each([
    [1, 'green', 'Grøn'],
    [2, 'yellow', 'Gul'],
    [3, 'red', 'Rød'],
  ] as const)(
    'level %i (%s) is answered %s, in the shape of the KL profile',
    (level, zone, text) => {
      const a = facts(topi.definition, {
        joint: { overallLevel: level, answers: {} },
        redFlags: [],
        raterRatings: [],
      });
      const kl = klTopiResponse(a, logicalReference);
      expect(kl).not.toBeNull();
      expectValidFhir(kl);
      expect(kl).toMatchObject({
        questionnaire: KL_TOPI_QUESTIONNAIRE,
        status: 'completed',
        authored: '2026-11-20',
        item: [{ linkId: '1vurdering', answer: [{ valueString: text }] }],
      });
      // The profile forbids these.
      for (const field of ['identifier', 'author', 'basedOn', 'partOf', 'encounter', 'source']) {
        expect(kl).not.toHaveProperty(field);
      }
      expect(klTopiZone(kl as NonNullable<typeof kl>)).toBe(zone);
    },
  );

  it('a red flag answers Rød; no zone, no KL response', () => {
    const flagged = facts(topi.definition, {
      joint: { overallLevel: 1, answers: {} },
      redFlags: ['violence'],
      raterRatings: [],
    });
    expect(klTopiResponse(flagged, logicalReference)?.item?.[0]?.answer).toEqual([
      { valueString: 'Rød' },
    ]);
    const none = facts(topi.definition, { joint: { answers: {} }, redFlags: [], raterRatings: [] });
    expect(none.zone).toBeNull();
    expect(klTopiResponse(none, logicalReference)).toBeNull();
  });
});

const stepArb: fc.Arbitrary<StepFacts> = fc.record({
  id: fc.uuid(),
  assessmentLineageId: fc.uuid(),
  childId: fc.uuid(),
  unitId: fc.uuid(),
  zone: fc.constantFrom('green', 'yellow', 'red'),
  stepKey: fc.constantFrom('inform_parents', 'concern_report', 'dialogue_meeting'),
  title: fc.record({ da: fc.string({ minLength: 1 }), en: fc.string({ minLength: 1 }) }),
  description: fc.record({ da: fc.string({ minLength: 1 }), en: fc.string({ minLength: 1 }) }),
  involve: fc.uniqueArray(fc.constantFrom(...involvedRoles), { minLength: 1, maxLength: 4 }),
  responsible: fc.constantFrom(...involvedRoles),
  mandatory: fc.boolean(),
  legalReference: fc.option(fc.constant('Barnets Lov § 133'), { nil: null }),
  dueOn: fc
    .date({ min: new Date('2020-01-01'), max: new Date('2030-12-31'), noInvalidDate: true })
    .map((d) => d.toISOString().slice(0, 10)),
  status: fc.constantFrom(...stepStatuses),
  statusReason: fc.option(fc.constant('Forældrene er orienteret.'), { nil: null }),
  statusChangedAt: fc.option(fc.constant('2026-11-21T10:00:00.000Z'), { nil: null }),
});

describe('FHIR: steps as Tasks', () => {
  it('maps each step status to a Task status', () => {
    expect(taskStatusOf).toEqual({
      open: 'requested',
      done: 'completed',
      not_applicable: 'cancelled',
      superseded: 'cancelled',
    } satisfies Record<StepStatus, string>);
  });

  it('property: a valid Task that maps back to the same step', () => {
    fc.assert(
      fc.property(stepArb, fc.boolean(), (step, inBundle) => {
        const refer = inBundle
          ? bundleReferences(new Set([step.childId, step.assessmentLineageId]))
          : logicalReference;
        const task = stepToTask(step, refer);
        expect(fhirErrors(task)).toEqual([]);
        expect(task.restriction?.period?.end).toBe(step.dueOn);
        expect(task.owner?.display).toBeTruthy();
        const back = taskToStep(task);
        expect(back).toEqual({
          ...step,
          title: step.title.da,
          description: step.description.da,
        });
      }),
      { numRuns: 100 },
    );
  });

  it('a done step has its execution end; a superseded one says why it was cancelled', () => {
    const base = fc.sample(stepArb, { numRuns: 1, seed: 7 })[0] as StepFacts;
    const done = stepToTask(
      { ...base, status: 'done', statusChangedAt: '2026-11-21T10:00:00.000Z' },
      logicalReference,
    );
    expect(done).toMatchObject({
      status: 'completed',
      executionPeriod: { end: '2026-11-21T10:00:00.000Z' },
    });
    const superseded = stepToTask(
      { ...base, status: 'superseded', statusReason: null },
      logicalReference,
    );
    expect(superseded.status).toBe('cancelled');
    expect(superseded.statusReason?.text).toMatch(/corrected or withdrawn/);
  });
});

describe('FHIR: the child as Patient, the bundle', () => {
  it('a Patient with identifiers, name and birth date; a valid collection bundle', () => {
    const patient = childToPatient({
      id: CHILD,
      externalRef: 'elev-4711',
      givenName: 'Ida',
      familyName: 'Jensen',
      birthDate: '2021-05-10',
      sex: 'female',
    });
    expect(patient).toEqual({
      resourceType: 'Patient',
      id: CHILD,
      identifier: [
        { system: 'urn:lineal:fhir:id:child', value: CHILD },
        { system: 'urn:lineal:fhir:id:child-external-ref', value: 'elev-4711' },
      ],
      name: [{ use: 'official', family: 'Jensen', given: ['Ida'] }],
      gender: 'female',
      birthDate: '2021-05-10',
    });
    const topi = presetRulers[0] as (typeof presetRulers)[number];
    const ruler = version('topi-3', topi.definition);
    const q = rulerToQuestionnaire(ruler);
    const qr = assessmentToResponse(
      ruler,
      facts(topi.definition, {
        joint: { overallLevel: 2, answers: {} },
        redFlags: [],
        raterRatings: [],
      }),
      bundleReferences(new Set([CHILD])),
    );
    const bundle = collectionBundle(
      'e0e0e0e0-1111-4222-8333-444455556666',
      '2026-11-22T09:00:00.000Z',
      [patient, q, qr],
    );
    expectValidFhir(bundle);
    expect(bundle.entry?.map((e) => e.fullUrl)).toEqual([
      `urn:uuid:${CHILD}`,
      `urn:uuid:${q.id}`,
      `urn:uuid:${qr.id}`,
    ]);
  });
});
