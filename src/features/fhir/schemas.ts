import { z } from 'zod';

export const FHIR_JSON = 'application/fhir+json';
export const FHIR_NDJSON = 'application/fhir+ndjson';

const spec = 'https://hl7.org/fhir/R4/';

/** Any FHIR R4 resource: described, not re-specified (the FHIR specification is the contract). */
export const FhirResourceSchema = z
  .looseObject({ resourceType: z.string(), id: z.string().optional() })
  .describe(`A FHIR R4 resource (${spec}resourcelist.html).`)
  .meta({ id: 'FhirResource' });

export const FhirQuestionnaireSchema = z
  .looseObject({
    resourceType: z.literal('Questionnaire'),
    id: z.uuid().describe("The ruler version's id."),
    url: z.string().describe('Canonical URL of the ruler (urn:lineal:fhir:…).'),
    version: z.string().describe("The ruler's version number."),
    status: z.literal('active'),
    item: z.array(z.looseObject({ linkId: z.string(), type: z.string() })),
  })
  .describe(
    `A ruler version as a FHIR R4 Questionnaire (${spec}questionnaire.html); see docs/fhir.md.`,
  )
  .meta({ id: 'FhirQuestionnaire' });

export const FhirBundleSchema = z
  .looseObject({
    resourceType: z.literal('Bundle'),
    id: z.uuid(),
    type: z.literal('collection'),
    timestamp: z.iso.datetime({ offset: true }),
    entry: z.array(z.object({ fullUrl: z.string(), resource: FhirResourceSchema })),
  })
  .describe(
    `A FHIR R4 Bundle of type collection (${spec}bundle.html): the child (Patient), the ` +
      'Questionnaires of its rulers, its assessments (QuestionnaireResponse, also as responses ' +
      "to KL's TOPI questionnaire for topi-3) and its steps (Task). See docs/fhir.md.",
  )
  .meta({ id: 'FhirBundle' });

export const RulerVersionParamsSchema = z.object({ rulerVersionId: z.uuid() });

export const FhirExportQuerySchema = z.object({
  _since: z.iso
    .datetime({ offset: true })
    .optional()
    .describe(
      'Only what changed at or after this instant (as FHIR Bulk Data’s _since): assessments ' +
        'made, corrected or withdrawn, steps made or changed, ruler versions made.',
    ),
});
export type FhirExportQuery = z.output<typeof FhirExportQuerySchema>;
