import { catalogueRoutes } from '../catalogue/routes.js';
import {
  CreateGuideSchema,
  CreateGuideVersionSchema,
  GuideSchema,
  GuideVersionSchema,
} from './schemas.js';
import { guides } from './service.js';

export const guideRoutes = catalogueRoutes({
  path: '/v1/action-guides',
  idParam: 'guideId',
  versionPath: '/v1/action-guide-versions',
  tags: ['Action guides'],
  permissions: { read: 'guide:read', write: 'guide:write' },
  schemas: {
    entry: GuideSchema,
    version: GuideVersionSchema,
    create: CreateGuideSchema,
    createVersion: CreateGuideVersionSchema,
  },
  operations: {
    list: {
      operationId: 'listActionGuides',
      response: 'The action guides the municipality can use',
      summary: "The preset action guides and the municipality's own",
    },
    create: {
      operationId: 'createGuide',
      response: 'The action guide created, with its version 1',
      summary: 'Create an action guide of your own (its version 1)',
      description:
        'Applies to the assessments on its ruler (or, with rulerKey null, on rulers without a guide). Every defect of the definition is listed in `errors` (422).',
    },
    get: {
      operationId: 'getGuide',
      response: 'The action guide and its versions',
      summary: 'Get an action guide and its versions',
    },
    createVersion: {
      operationId: 'createGuideVersion',
      response: 'The action guide version created',
      summary: 'Add a new version to one of your action guides',
      description: 'Versions are immutable; each recommendation records the version it came from.',
    },
    getVersion: {
      operationId: 'getGuideVersion',
      response: 'The action guide version with its steps and trajectory rules',
      summary: 'Get an action guide version with its steps and trajectory rules',
    },
  },
  services: guides,
});
