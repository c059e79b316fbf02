import { createHash } from 'node:crypto';
import type { QuestionnaireResponse, QuestionnaireResponseItem } from 'fhir/r4.js';
import type { Rating, Zone } from '../rulers/definition.js';
import { KL_TOPI_LINK_ID, KL_TOPI_QUESTIONNAIRE, klTopiAnswers } from './kl-topi.js';
import {
  levelCoding,
  levelSystem,
  linkIds,
  questionnaireUrl,
  type RulerVersionFacts,
} from './questionnaire.js';
import {
  codeSystem,
  idSystem,
  isZone,
  notApplicableCoding,
  type Refer,
  referencedId,
  zoneCoding,
} from './terms.js';

/** An assessment as the QuestionnaireResponse mapping needs it. */
export interface AssessmentFacts {
  id: string;
  /** Shared by every version (correction) of one assessment: the response's logical id. */
  lineageId: string;
  version: number;
  status: 'current' | 'withdrawn' | 'superseded';
  childId: string;
  unitId: string;
  assessedOn: string;
  rating: Rating;
  redFlags: string[];
  zone: Zone | null;
  score: number | null;
  /** Free text; left out where the reader may not see it, and in the bulk export. */
  justification?: string | null | undefined;
  /** When it last changed (made, corrected or withdrawn). */
  changedAt?: string | undefined;
}

/**
 * FHIR's status of an assessment version: the current one `completed` (`amended` once
 * corrected), a withdrawn one `entered-in-error`. A superseded version is not exported: its
 * correction is the same response (same id), one version later.
 */
export function responseStatus(a: Pick<AssessmentFacts, 'status' | 'version'>) {
  if (a.status === 'withdrawn') return 'entered-in-error' as const;
  return a.version > 1 ? ('amended' as const) : ('completed' as const);
}

/**
 * An assessment as a QuestionnaireResponse to its ruler version's Questionnaire: the overall
 * level and each answered item as the level's Coding (N/A as HL7's data-absent-reason), reported
 * red flags as `true`, the resulting zone and score. Its id is the assessment's lineage, its
 * `meta.versionId` the assessment's version.
 */
export function assessmentToResponse(
  ruler: RulerVersionFacts,
  a: AssessmentFacts,
  refer: Refer,
): QuestionnaireResponse {
  const def = ruler.definition;
  const url = questionnaireUrl(ruler.key, ruler.municipalityId);
  const byValue = new Map(def.levels.map((level) => [level.value, level]));
  const coding = (value: number) => {
    const level = byValue.get(value);
    // A level not on the ruler (never admitted) keeps its value, without label or zone.
    return level
      ? levelCoding(url, ruler.version, level)
      : { system: levelSystem(url), version: String(ruler.version), code: String(value) };
  };
  const item: QuestionnaireResponseItem[] = [];
  if (a.rating.overallLevel !== undefined) {
    item.push({
      linkId: linkIds.overall,
      answer: [{ valueCoding: coding(a.rating.overallLevel) }],
    });
  }
  const reported = new Set(a.redFlags);
  const known = new Set<string>();
  for (const it of def.items) {
    known.add(it.key);
    if (it.redFlag) {
      if (reported.has(it.key)) {
        item.push({ linkId: linkIds.item(it.key), answer: [{ valueBoolean: true }] });
      }
      continue;
    }
    if (!Object.hasOwn(a.rating.answers, it.key)) continue;
    const answer = a.rating.answers[it.key];
    if (answer === undefined) continue;
    item.push({
      linkId: linkIds.item(it.key),
      answer: [{ valueCoding: answer === 'na' ? notApplicableCoding : coding(answer) }],
    });
  }
  // A reported flag the ruler does not know still counts (the classifier makes it red).
  for (const key of [...reported].filter((k) => !known.has(k)).sort()) {
    item.push({ linkId: linkIds.item(key), answer: [{ valueBoolean: true }] });
  }
  if (a.zone !== null)
    item.push({ linkId: linkIds.zone, answer: [{ valueCoding: zoneCoding(a.zone) }] });
  if (a.score !== null) item.push({ linkId: linkIds.score, answer: [{ valueDecimal: a.score }] });
  if (a.justification) {
    item.push({ linkId: linkIds.justification, answer: [{ valueString: a.justification }] });
  }
  return {
    resourceType: 'QuestionnaireResponse',
    id: a.lineageId,
    meta: {
      versionId: String(a.version),
      ...(a.changedAt ? { lastUpdated: a.changedAt } : {}),
    },
    identifier: { system: idSystem.assessment, value: a.id },
    questionnaire: `${url}|${ruler.version}`,
    status: responseStatus(a),
    subject: refer('Patient', a.childId),
    authored: a.assessedOn,
    author: refer('Organization', a.unitId),
    item,
  };
}

/** What a QuestionnaireResponse of a lineal ruler says: the reverse of `assessmentToResponse`. */
export interface ResponseAnswers {
  assessmentId: string | undefined;
  lineageId: string | undefined;
  childId: string | undefined;
  unitId: string | undefined;
  assessedOn: string | undefined;
  rating: Rating;
  redFlags: string[];
  zone: Zone | null;
  score: number | null;
  justification: string | null;
}

export function responseToAssessment(response: QuestionnaireResponse): ResponseAnswers {
  const rating: Rating = { answers: {} };
  const redFlags: string[] = [];
  let zone: Zone | null = null;
  let score: number | null = null;
  let justification: string | null = null;
  for (const it of response.item ?? []) {
    const answer = it.answer?.[0];
    if (answer === undefined) continue;
    if (it.linkId === linkIds.overall && answer.valueCoding?.code !== undefined) {
      rating.overallLevel = Number(answer.valueCoding.code);
    } else if (it.linkId === linkIds.zone) {
      const code = answer.valueCoding?.code;
      if (answer.valueCoding?.system === codeSystem.zone && isZone(code)) zone = code;
    } else if (it.linkId === linkIds.score && answer.valueDecimal !== undefined) {
      score = answer.valueDecimal;
    } else if (it.linkId === linkIds.justification && answer.valueString !== undefined) {
      justification = answer.valueString;
    } else if (it.linkId.startsWith('item.')) {
      const key = it.linkId.slice('item.'.length);
      if (answer.valueBoolean !== undefined) {
        if (answer.valueBoolean) redFlags.push(key);
      } else if (answer.valueCoding?.system === notApplicableCoding.system) {
        rating.answers[key] = 'na';
      } else if (answer.valueCoding?.code !== undefined) {
        rating.answers[key] = Number(answer.valueCoding.code);
      }
    }
  }
  return {
    assessmentId: response.identifier?.value,
    lineageId: response.id,
    childId: referencedId(response.subject),
    unitId: referencedId(response.author),
    assessedOn: response.authored,
    rating,
    redFlags,
    zone,
    score,
    justification,
  };
}

/** A name-based UUID (version 5 layout, SHA-1) — stable ids for derived resources. */
export function nameUuid(name: string): string {
  const hash = createHash('sha1').update(`lineal:${name}`).digest();
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The same assessment as a response to KL's TOPI questionnaire (kl-topi.ts): the zone as `Grøn`,
 * `Gul` or `Rød`. Only for an assessment on the topi-3 preset that has a zone. Its id is derived
 * from the assessment's lineage, so it is as stable as the lineal response's.
 */
export function klTopiResponse(a: AssessmentFacts, refer: Refer): QuestionnaireResponse | null {
  if (a.zone === null) return null;
  return {
    resourceType: 'QuestionnaireResponse',
    id: klTopiResponseId(a.lineageId),
    meta: { versionId: String(a.version) },
    questionnaire: KL_TOPI_QUESTIONNAIRE,
    status: responseStatus(a),
    subject: refer('Patient', a.childId),
    authored: a.assessedOn,
    item: [{ linkId: KL_TOPI_LINK_ID, answer: [{ valueString: klTopiAnswers[a.zone] }] }],
  };
}

export function klTopiResponseId(lineageId: string): string {
  return nameUuid(`kl-topi:${lineageId}`);
}
