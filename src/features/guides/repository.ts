import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import { catalogueRepository, type VersionRow } from '../catalogue/repository.js';

/** Action guides and their versions: a versioned catalogue whose entries name their ruler. */
export const guideCatalogue = catalogueRepository({
  entries: 'action_guides',
  versions: 'action_guide_versions',
  entryId: 'guide_id',
  rulerKey: true,
});

/**
 * The guide version that applies to an assessment on `rulerKey`: the municipality's own guide
 * for that ruler, else the preset for it, else the municipality's default, else the preset
 * default. Always the latest version.
 */
export async function resolveGuideVersion(
  db: Executor,
  municipalityId: string,
  rulerKey: string,
): Promise<VersionRow | undefined> {
  const candidates = await db
    .selectFrom('action_guides')
    .select(['id', 'municipality_id', 'ruler_key'])
    .where(sql<boolean>`(municipality_id IS NULL OR municipality_id = ${municipalityId})`)
    .where((eb) => eb.or([eb('ruler_key', '=', rulerKey), eb('ruler_key', 'is', null)]))
    .execute();
  const rank = (g: { municipality_id: string | null; ruler_key: string | null }) =>
    (g.ruler_key === rulerKey ? 0 : 2) + (g.municipality_id ? 0 : 1);
  const best = candidates.sort((a, b) => rank(a) - rank(b))[0];
  if (!best) return undefined;
  const versions = await guideCatalogue.listVersions(db, [best.id]);
  return versions.at(-1);
}
