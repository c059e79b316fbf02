import { catalogueRepository } from '../catalogue/repository.js';

/** Rulers and their versions: a versioned catalogue. */
export const rulerCatalogue = catalogueRepository({
  entries: 'rulers',
  versions: 'ruler_versions',
  entryId: 'ruler_id',
  rulerKey: false,
});

/** A ruler version visible to the municipality (a preset's or its own); assessments, rounds. */
export const findVersion = rulerCatalogue.findVersion;
