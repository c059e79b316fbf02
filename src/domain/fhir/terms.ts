import type { Coding, Element, Extension, Reference } from 'fhir/r4.js';
import { type InvolvedRole, involvedRoles } from '../guides/definition.js';
import type { Zone } from '../rulers/definition.js';

/*
 * The names lineal gives what it exports as FHIR R4 (docs/fhir.md). lineal's own code systems,
 * extensions and identifier systems are URNs under `urn:lineal:fhir:` — the same scheme as the
 * API's problem types (`urn:lineal:problem:…`): they name, they do not resolve. Only the names
 * below that start with `http://hl7.org/` or `http://terminology.hl7.org/` are HL7's, and only
 * those that start with `http://fhir.kl.dk/children/` are KL's (see kl-topi.ts).
 */

export const LINEAL = 'urn:lineal:fhir';

/** lineal's extensions. */
export const ext = {
  zone: `${LINEAL}:StructureDefinition:zone`,
  domain: `${LINEAL}:StructureDefinition:domain`,
  redFlag: `${LINEAL}:StructureDefinition:red-flag`,
  redFlagCategory: `${LINEAL}:StructureDefinition:red-flag-category`,
  rule: `${LINEAL}:StructureDefinition:ruler-rule`,
  band: `${LINEAL}:StructureDefinition:ruler-band`,
  higherIsBetter: `${LINEAL}:StructureDefinition:higher-is-better`,
  minAnsweredItems: `${LINEAL}:StructureDefinition:min-answered-items`,
  ratersRequired: `${LINEAL}:StructureDefinition:raters-required`,
  involve: `${LINEAL}:StructureDefinition:involve`,
  mandatory: `${LINEAL}:StructureDefinition:mandatory`,
} as const;

/** lineal's code systems. */
export const codeSystem = {
  zone: `${LINEAL}:CodeSystem:zone`,
  role: `${LINEAL}:CodeSystem:involved-role`,
  stepStatus: `${LINEAL}:CodeSystem:step-status`,
  guideStep: `${LINEAL}:CodeSystem:guide-step`,
} as const;

/** Identifier systems of lineal's ids (UUIDs) and of the integrating systems' child references. */
export const idSystem = {
  child: `${LINEAL}:id:child`,
  childExternalRef: `${LINEAL}:id:child-external-ref`,
  unit: `${LINEAL}:id:unit`,
  assessment: `${LINEAL}:id:assessment`,
  assessmentLineage: `${LINEAL}:id:assessment-lineage`,
  step: `${LINEAL}:id:step`,
} as const;

/** HL7's, from the FHIR R4 (4.0.1) core specification. */
export const hl7 = {
  ordinalValue: 'http://hl7.org/fhir/StructureDefinition/ordinalValue',
  translation: 'http://hl7.org/fhir/StructureDefinition/translation',
  dataAbsentReason: 'http://terminology.hl7.org/CodeSystem/data-absent-reason',
} as const;

/** The N/A answer: HL7's data-absent-reason `not-applicable`. */
export const notApplicableCoding: Coding = {
  system: hl7.dataAbsentReason,
  code: 'not-applicable',
  display: 'Not Applicable',
};

export const zoneLabels: Record<Zone, { da: string; en: string }> = {
  green: { da: 'grøn', en: 'green' },
  yellow: { da: 'gul', en: 'yellow' },
  red: { da: 'rød', en: 'red' },
};

export function zoneCoding(zone: Zone): Coding {
  return { system: codeSystem.zone, code: zone, display: zoneLabels[zone].en };
}

export function isZone(value: unknown): value is Zone {
  return value === 'green' || value === 'yellow' || value === 'red';
}

export const roleLabels: Record<InvolvedRole, string> = {
  parents: 'parents',
  child: 'the child',
  unit_staff: 'unit staff',
  unit_leader: 'unit leader',
  ppr: 'pedagogical-psychological counselling (PPR)',
  health_visitor: 'health visitor',
  school_social_worker: 'school social worker',
  interdisciplinary_team: 'interdisciplinary team (TVÆRS)',
  child_services: 'child and family services',
  gp: 'general practitioner',
  police: 'police',
};

export function roleCoding(role: InvolvedRole): Coding {
  return { system: codeSystem.role, code: role, display: roleLabels[role] };
}

export function isRole(value: unknown): value is InvolvedRole {
  return (involvedRoles as readonly unknown[]).includes(value);
}

/** A Danish text with its English translation (HL7's translation extension on `_text`). */
export function translated(en: string): Element {
  return {
    extension: [
      {
        url: hl7.translation,
        extension: [
          { url: 'lang', valueCode: 'en' },
          { url: 'content', valueString: en },
        ],
      },
    ],
  };
}

/** The English translation of a `_text`/`_display` element, if any. */
export function englishOf(element: Element | undefined): string | undefined {
  const translation = element?.extension?.find((e) => e.url === hl7.translation);
  const lang = translation?.extension?.find((e) => e.url === 'lang')?.valueCode;
  if (lang !== 'en') return undefined;
  return translation?.extension?.find((e) => e.url === 'content')?.valueString;
}

export function extensionOf(
  extensions: readonly Extension[] | undefined,
  url: string,
): Extension | undefined {
  return extensions?.find((e) => e.url === url);
}

export function extensionsOf(
  extensions: readonly Extension[] | undefined,
  url: string,
): Extension[] {
  return extensions?.filter((e) => e.url === url) ?? [];
}

export type ResourceKind = 'Patient' | 'Organization' | 'QuestionnaireResponse';

const systemOf: Record<ResourceKind, string> = {
  Patient: idSystem.child,
  Organization: idSystem.unit,
  QuestionnaireResponse: idSystem.assessmentLineage,
};

/**
 * How one export refers to lineal's resources. A bundle refers to what it contains by
 * `urn:uuid:` (its entries' fullUrl) and to the rest logically; the bulk export, which contains
 * no Patient or Organization, always logically: by an identifier (lineal's id), never by
 * anything that names the child.
 */
export type Refer = (kind: ResourceKind, id: string) => Reference;

export const logicalReference: Refer = (kind, id) => ({
  type: kind,
  identifier: { system: systemOf[kind], value: id },
});

/** References to the bundle's entries (by `urn:uuid:`), logical ones to anything else. */
export function bundleReferences(contained: ReadonlySet<string>): Refer {
  return (kind, id) =>
    contained.has(id) ? { type: kind, reference: `urn:uuid:${id}` } : logicalReference(kind, id);
}

/** The id a reference names, whichever way it refers. */
export function referencedId(reference: Reference | undefined): string | undefined {
  if (reference?.reference?.startsWith('urn:uuid:')) {
    return reference.reference.slice('urn:uuid:'.length);
  }
  return reference?.identifier?.value;
}
