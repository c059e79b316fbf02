import type { QuestionnaireResponse } from 'fhir/r4.js';
import type { Zone } from '../rulers/definition.js';

/*
 * KL's TOPI questionnaire (KLChildren, the FHIR implementation guide of Kommunernes
 * Landsforening for children's data; canonical http://fhir.kl.dk/children, FHIR 4.0.1). What is
 * taken from the guide (its FSH sources, instance `klgateway-children-topi` and profile
 * `KLGatewayChildrenQuestionnaireResponse`):
 * - the Questionnaire's id `klgateway-children-topi`, so its canonical URL, by the guide's
 *   canonical, http://fhir.kl.dk/children/Questionnaire/klgateway-children-topi;
 * - one item, linkId `1vurdering` ("Faglig vurdering"), type choice, answered by valueString
 *   `Grøn`, `Gul` or `Rød` (the guide asks receivers to accept exactly these strings);
 * - the response profile's constraints: no identifier, author, basedOn, item.text or nested
 *   items; `authored` and `subject` required.
 * The profile also requires the subject to be a KLGatewayChildrenCitizen (a Patient with the
 * child's CPR number and the custodian's SOR code). lineal stores the CPR number only as a keyed
 * hash and knows no SOR codes, so its responses follow the profile's shape without claiming it
 * in `meta.profile`. See docs/fhir.md.
 */

export const KL_TOPI_QUESTIONNAIRE =
  'http://fhir.kl.dk/children/Questionnaire/klgateway-children-topi';
export const KL_TOPI_LINK_ID = '1vurdering';
export const klTopiAnswers: Record<Zone, string> = { green: 'Grøn', yellow: 'Gul', red: 'Rød' };

/** The preset whose joint position is TOPI's green/yellow/red assessment. */
export const KL_TOPI_RULER_KEY = 'topi-3';

export function klTopiApplies(ruler: { key: string; municipalityId: string | null }): boolean {
  return ruler.key === KL_TOPI_RULER_KEY && ruler.municipalityId === null;
}

/** The zone a KL TOPI response states, or undefined for anything else. */
export function klTopiZone(response: QuestionnaireResponse): Zone | undefined {
  if (response.questionnaire !== KL_TOPI_QUESTIONNAIRE) return undefined;
  const answer = response.item?.find((i) => i.linkId === KL_TOPI_LINK_ID)?.answer?.[0];
  const entry = Object.entries(klTopiAnswers).find(([, text]) => text === answer?.valueString);
  return entry?.[0] as Zone | undefined;
}
