import { isUniqueViolation } from '../../db/errors.js';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ValidationFailedError,
} from '../../errors.js';
import type { Service } from '../../request/runner.js';
import type { CatalogueRepository, EntryRow, VersionRow } from './repository.js';

/**
 * A catalogue of versioned, immutable definitions (rulers, action guides): presets kept equal
 * to the code, and entries a municipality creates and adds versions to. An assessment or a
 * recommendation keeps the version it used, so what it produced stays reproducible.
 */

export interface Defect {
  path: string;
  message: string;
  code: string;
}

/** An entry as a municipality submits it (action guides also name the ruler they apply to). */
export interface NewEntry<D> {
  key: string;
  name: string;
  description?: string | undefined;
  rulerKey?: string | null;
  definition: D;
}

/** The fields every catalogue's entry shows. */
export function entryFields(row: EntryRow, versions: readonly VersionRow[]) {
  const own = versions
    .filter((v) => v.entry_id === row.id)
    .map((v) => ({ id: v.id, version: v.version, createdAt: v.created_at.toISOString() }));
  const latestVersion = own.at(-1);
  if (!latestVersion) throw new Error(`catalogue entry ${row.id} has no version`);
  return {
    id: row.id,
    key: row.key,
    name: row.name,
    description: row.description,
    preset: row.municipality_id === null,
    municipalityId: row.municipality_id,
    latestVersion,
    versions: own,
  };
}
export type EntryFields = ReturnType<typeof entryFields>;

/** The fields every catalogue's version shows (its definition was validated when stored). */
export function versionFields<D>(row: VersionRow) {
  return {
    id: row.id,
    version: row.version,
    definition: row.definition as D,
    createdAt: row.created_at.toISOString(),
  };
}

export interface CatalogueSpec<D, E, V> {
  repository: CatalogueRepository;
  /** An entry, as problems name it: 'ruler', 'action guide'. */
  noun: string;
  /** A definition, as a 422 names it. */
  definitionNoun: string;
  defects: (definition: D) => readonly Defect[];
  /** Keys a municipality may not take for an entry of its own. */
  presetKeys: readonly string[];
  /** The problem type of a key (or what an entry applies to) already taken. */
  duplicate: string;
  messages: {
    presetKey: (key: string) => string;
    duplicateKey: (key: string) => string;
    presetReadOnly: string;
  };
  /** The entries' unique constraints besides the key's, and what a clash means. */
  uniqueness?: Record<string, (input: NewEntry<D>) => string>;
  /** The API's entry and version, from the common fields and the rows. */
  entry: (fields: EntryFields, row: EntryRow) => E;
  version: (fields: ReturnType<typeof versionFields<D>>, row: VersionRow) => V;
}

/** The request services of one catalogue. */
export function catalogueServices<D, E, V>(spec: CatalogueSpec<D, E, V>) {
  const repo = spec.repository;
  const { entries, versions } = repo.names;
  const toEntry = (row: EntryRow, all: readonly VersionRow[]) =>
    spec.entry(entryFields(row, all), row);
  const toVersion = (row: VersionRow) => spec.version(versionFields<D>(row), row);

  /** 422 listing every defect of a submitted definition, under `body.definition.`. */
  function rejectDefects(definition: D): void {
    const defects = spec.defects(definition);
    if (defects.length === 0) return;
    throw new ValidationFailedError(
      `The ${spec.definitionNoun} has ${defects.length} defect(s).`,
      defects.map((d) => ({ path: `body.definition.${d.path}`, message: d.message, code: d.code })),
    );
  }

  const list: Service<void, { items: E[] }> = async (session, trx) => {
    const rows = await repo.list(trx, session.municipalityId);
    const all = await repo.listVersions(
      trx,
      rows.map((r) => r.id),
    );
    return { items: rows.map((r) => toEntry(r, all)) };
  };

  const get: Service<string, E> = async (session, trx, id) => {
    const row = await repo.find(trx, session.municipalityId, id);
    if (!row) throw new NotFoundError(spec.noun, id);
    return toEntry(row, await repo.listVersions(trx, [id]));
  };

  const getVersion: Service<string, V> = async (session, trx, id) => {
    const row = await repo.findVersion(trx, session.municipalityId, id);
    if (!row) throw new NotFoundError(`${spec.noun} version`, id);
    return toVersion(row);
  };

  const create: Service<NewEntry<D>, E> = async (session, trx, input) => {
    const municipalityId = session.municipalityId;
    rejectDefects(input.definition);
    if (spec.presetKeys.includes(input.key)) {
      throw new ConflictError(spec.messages.presetKey(input.key), spec.duplicate);
    }
    let row: EntryRow;
    try {
      row = await repo.insert(trx, {
        municipality_id: municipalityId,
        key: input.key,
        ruler_key: input.rulerKey,
        name: input.name,
        description: input.description ?? null,
      });
    } catch (error) {
      if (isUniqueViolation(error, `${entries}_key_unique`)) {
        throw new ConflictError(spec.messages.duplicateKey(input.key), spec.duplicate);
      }
      for (const [constraint, message] of Object.entries(spec.uniqueness ?? {})) {
        if (isUniqueViolation(error, constraint)) {
          throw new ConflictError(message(input), spec.duplicate);
        }
      }
      throw error;
    }
    const version = await repo.insertVersion(trx, row, input.definition, session.principal.id);
    return toEntry(row, [version]);
  };

  const createVersion: Service<{ id: string; definition: D }, V> = async (session, trx, input) => {
    const row = await repo.find(trx, session.municipalityId, input.id);
    if (!row) throw new NotFoundError(spec.noun, input.id);
    if (row.municipality_id === null) throw new ForbiddenError(spec.messages.presetReadOnly);
    rejectDefects(input.definition);
    try {
      return toVersion(await repo.insertVersion(trx, row, input.definition, session.principal.id));
    } catch (error) {
      if (isUniqueViolation(error, `${versions}_unique`)) {
        throw new ConflictError('Another version was created at the same time; retry.');
      }
      throw error;
    }
  };

  return { list, get, getVersion, create, createVersion };
}

export type CatalogueServices<D, E, V> = ReturnType<typeof catalogueServices<D, E, V>>;
