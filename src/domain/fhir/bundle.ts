import type { Bundle, FhirResource, Patient } from 'fhir/r4.js';
import { idSystem } from './terms.js';

/** A child as the child bundle's Patient needs it. */
export interface ChildFacts {
  id: string;
  externalRef: string;
  givenName: string | null;
  familyName: string | null;
  birthDate: string;
  sex: string | null;
}

const genders: Record<string, Patient['gender']> = {
  female: 'female',
  male: 'male',
  other: 'other',
};

/**
 * The child as a Patient, for the child bundle: an identified case exchange (the same people
 * may read the child's name through the API), so its name and birth date, with lineal's id and
 * the integrating system's reference as identifiers. Never the CPR number: lineal keeps only a
 * keyed hash of it.
 */
export function childToPatient(child: ChildFacts): Patient {
  const name =
    child.givenName !== null || child.familyName !== null
      ? [
          {
            use: 'official' as const,
            ...(child.familyName !== null ? { family: child.familyName } : {}),
            ...(child.givenName !== null ? { given: [child.givenName] } : {}),
          },
        ]
      : undefined;
  const gender = child.sex === null ? undefined : genders[child.sex];
  return {
    resourceType: 'Patient',
    id: child.id,
    identifier: [
      { system: idSystem.child, value: child.id },
      { system: idSystem.childExternalRef, value: child.externalRef },
    ],
    ...(name ? { name } : {}),
    ...(gender ? { gender } : {}),
    birthDate: child.birthDate,
  };
}

/**
 * A collection Bundle of the resources, each entry's fullUrl `urn:uuid:<id>` (every id lineal
 * gives a resource is a UUID), which is what references inside the bundle use.
 */
export function collectionBundle(id: string, timestamp: string, resources: FhirResource[]): Bundle {
  return {
    resourceType: 'Bundle',
    id,
    type: 'collection',
    timestamp,
    entry: resources.map((resource) => ({ fullUrl: `urn:uuid:${resource.id}`, resource })),
  };
}
