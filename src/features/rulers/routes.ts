import { catalogueRoutes } from '../catalogue/routes.js';
import {
  CreateRulerSchema,
  CreateRulerVersionSchema,
  RulerSchema,
  RulerVersionSchema,
} from './schemas.js';
import { rulers } from './service.js';

export const rulerRoutes = catalogueRoutes({
  path: '/v1/rulers',
  idParam: 'rulerId',
  versionPath: '/v1/ruler-versions',
  tags: ['Rulers'],
  permissions: { read: 'ruler:read', write: 'ruler:write' },
  schemas: {
    entry: RulerSchema,
    version: RulerVersionSchema,
    create: CreateRulerSchema,
    createVersion: CreateRulerVersionSchema,
  },
  operations: {
    list: {
      operationId: 'listRulers',
      response: 'The rulers the municipality can use',
      summary: "The presets and the municipality's own rulers",
    },
    create: {
      operationId: 'createRuler',
      response: 'The ruler created, with its version 1',
      summary: 'Create a ruler of your own (its version 1)',
      description:
        'The definition is validated thoroughly; every defect is listed in `errors` (422).',
    },
    get: {
      operationId: 'getRuler',
      response: 'The ruler and its versions',
      summary: 'Get a ruler and its versions',
    },
    createVersion: {
      operationId: 'createRulerVersion',
      response: 'The ruler version created',
      summary: 'Add a new version to one of your rulers',
      description: 'Versions are immutable; assessments keep the version that classified them.',
    },
    getVersion: {
      operationId: 'getRulerVersion',
      response: 'The ruler version with its full definition',
      summary: 'Get a ruler version with its full definition',
    },
  },
  services: rulers,
});
