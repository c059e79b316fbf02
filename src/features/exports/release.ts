import { MIN_COUNT } from '../../domain/suppression.js';
import type { ZoneCountRow } from '../analytics/repository.js';
import {
  exportLevels,
  place,
  type ZoneCube,
  type ZoneKey,
  zoneCell,
  zoneCube,
} from '../analytics/zone-lattice.js';

/*
 * Which rows of the default (coarse) export are released, and how coarsely.
 *
 * A row's quasi-identifiers are its round, district, unit kind, age band and sex (no unit, date,
 * age in months, birth year or child pseudonym). The rows of one class (same quasi-identifiers
 * and zone) are released together at the first rung of this ladder where
 * - the class's zone cell is published in the protected zone cube (zone-lattice.ts) that the
 *   zone distributions of the same filter read, and
 * - at least 5 rows of the class are still to be released;
 * else they move one rung up (sex, then age band, then unit kind, then district becomes `*`).
 * What is left at the top is suppressed (not exported; counted in the response headers).
 *
 * Why this keeps hidden aggregate cells hidden: at each rung the number of rows released in a
 * class is the class's published count minus the rows released at finer rungs within it, so the
 * whole export is a function of the published zone distributions: it tells nothing about a zone
 * count that they hide. And every released class (quasi-identifiers + zone) has at least 5 rows,
 * so every combination of quasi-identifiers occurs at least 5 times (k-anonymity, k = 5).
 */

/** A rung: the place level, and whether the age band and sex are kept. */
interface Rung {
  place: number;
  ageBand: boolean;
  sex: boolean;
}

export const ladder: readonly Rung[] = [
  { place: place.districtKind, ageBand: true, sex: true },
  { place: place.districtKind, ageBand: true, sex: false },
  { place: place.districtKind, ageBand: false, sex: false },
  { place: place.district, ageBand: false, sex: false },
  { place: place.all, ageBand: false, sex: false },
];

/** The quasi-identifiers and zone of a row, as the export and the zone counts both have them. */
export interface ClassSource {
  round_id: string | null;
  district: string | null;
  unit_kind: string;
  age_band: string | null;
  sex: string | null;
  zone: string | null;
}

/** A row of the zone counts with every dimension (zone-lattice.ts). */
type CubeRow = ZoneCountRow & ClassSource;

/** The finest class of a row (rung 0), as a key. */
export const classKey = (r: ClassSource) =>
  JSON.stringify([r.round_id, r.district, r.unit_kind, r.age_band, r.sex, r.zone ?? 'none']);

const rungKey = (r: ClassSource, rung: Rung) =>
  JSON.stringify([
    r.round_id,
    rung.place === place.all ? '*' : r.district,
    rung.place === place.districtKind ? r.unit_kind : '*',
    rung.ageBand ? r.age_band : '*',
    rung.sex ? r.sex : '*',
    r.zone ?? 'none',
  ]);

export interface ReleasePlan {
  /** The rung a class is released at, or undefined when its rows are suppressed. */
  rungOf(row: ClassSource): number | undefined;
  /** Rows released at each rung (rung 0: as they are; above: generalised). */
  released: number[];
  suppressed: number;
}

/**
 * The release plan of a filter's rows, from its finest zone counts (the same rows the cube of
 * the zone distributions is built from).
 */
export function releasePlan(
  rows: readonly ZoneCountRow[],
  cube: ZoneCube = zoneCube(rows),
): ReleasePlan {
  // The finest classes: rows of the cube summed over units of one district and kind, and cohorts.
  const classes = new Map<string, { sample: CubeRow; count: number }>();
  for (const row of rows as readonly CubeRow[]) {
    const key = classKey(row);
    const entry = classes.get(key) ?? { sample: row, count: 0 };
    entry.count += row.count;
    classes.set(key, entry);
  }
  const rungs = new Map<string, number>();
  const released = ladder.map(() => 0);
  let pending = [...classes.entries()].filter(([, c]) => c.count > 0);
  ladder.forEach((rung, r) => {
    const groups = new Map<string, Array<[string, { sample: CubeRow; count: number }]>>();
    for (const entry of pending) {
      const key = rungKey(entry[1].sample, rung);
      const group = groups.get(key);
      if (group) group.push(entry);
      else groups.set(key, [entry]);
    }
    const left: typeof pending = [];
    const levels = exportLevels(rung.place, rung.ageBand, rung.sex);
    for (const members of groups.values()) {
      const first = members[0]?.[1].sample as CubeRow;
      const cell = zoneCell(cube, first, levels, (first.zone ?? 'none') as ZoneKey);
      const count = members.reduce((n, [, c]) => n + c.count, 0);
      if (!cell.suppressed && count >= MIN_COUNT) {
        for (const [key] of members) rungs.set(key, r);
        released[r] = (released[r] ?? 0) + count;
      } else left.push(...members);
    }
    pending = left;
  });
  const suppressed = pending.reduce((n, [, c]) => n + c.count, 0);
  return {
    rungOf: (row: ClassSource) => rungs.get(classKey(row)),
    released,
    suppressed,
  };
}

/** The quasi-identifiers a row is released with at `rung` (`*` where generalised). */
export function generalise<T extends ClassSource>(row: T, rung: number) {
  const r = ladder[rung] as Rung;
  return {
    district: r.place === place.all ? '*' : row.district,
    unit_kind: r.place === place.districtKind ? row.unit_kind : '*',
    age_band: r.ageBand ? row.age_band : '*',
    sex: r.sex ? row.sex : '*',
  };
}
