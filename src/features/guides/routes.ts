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
      summary: "The preset action guides and the municipality's own",
    },
    create: {
      operationId: 'createGuide',
      summary: 'Create an action guide of your own (its version 1)',
      description:
        'Applies to the assessments on its ruler (or, with rulerKey null, on rulers without a guide). Every defect of the definition is listed in `errors` (422).',
    },
    get: { operationId: 'getGuide', summary: 'Get an action guide and its versions' },
    createVersion: {
      operationId: 'createGuideVersion',
      summary: 'Add a new version to one of your action guides',
      description: 'Versions are immutable; each recommendation records the version it came from.',
    },
    getVersion: {
      operationId: 'getGuideVersion',
      summary: 'Get an action guide version with its steps and trajectory rules',
    },
  },
  services: guides,
});
