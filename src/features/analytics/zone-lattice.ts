import {
  type LatticeDimension,
  type LevelVector,
  type LinkedSuppression,
  suppressLinked,
  suppressLinkedAsync,
} from '../../domain/linked-suppression.js';
import type { Cell } from '../../domain/suppression.js';
import { cachedCube } from './cube-cache.js';
import type { TransitionRow, ZoneCountRow } from './repository.js';
import { type Dimension, dimensions } from './schemas.js';

/*
 * The zone counts as one protected cube: every zone distribution an analyst can ask for (any
 * groupBy, with the same filter) and every row the default export releases are margins of it,
 * so a count hidden in one of them is hidden in a way none of the others gives away (see
 * domain/linked-suppression.ts). The records are the counts per round × unit × age band × sex ×
 * birth year × zone; a unit lies in one district and is of one kind.
 */

export const zoneKeys = ['green', 'yellow', 'red', 'none'] as const;
export type ZoneKey = (typeof zoneKeys)[number];

/** Every dimension, so that a query returns the cube's records (finest groups). */
export const cubeDimensions: readonly Dimension[] = dimensions;

const text = (value: unknown) => JSON.stringify(value ?? null);
const ALL = () => '';
const zoneOf = (row: ZoneCountRow): ZoneKey => (row.zone ?? 'none') as ZoneKey;

/** Indices of the dimensions below. */
const ROUND = 0;
const PLACE = 1;
const AGE_BAND = 2;
const SEX = 3;
const COHORT = 4;
const ZONE = 5;

/** Levels of the place dimension. */
export const place = { unit: 0, districtKind: 1, district: 2, kind: 3, all: 4 } as const;

type Row = Record<string, unknown>;

const flat = <R extends Row>(name: string, value: (row: R) => string): LatticeDimension<R> => ({
  name,
  levels: [
    { name, value, finer: [] },
    { name: 'all', value: ALL, finer: [0] },
  ],
});

/** Where: a unit lies in one district and is of one kind. */
const placeDimension = <R extends Row>(): LatticeDimension<R> => ({
  name: 'place',
  levels: [
    { name: 'unit', value: (r) => text(r.unit_id), finer: [] },
    { name: 'districtKind', value: (r) => text([r.district, r.unit_kind]), finer: [0] },
    { name: 'district', value: (r) => text(r.district), finer: [1] },
    { name: 'kind', value: (r) => text(r.unit_kind), finer: [1] },
    { name: 'all', value: ALL, finer: [2, 3] },
  ],
});

/** Who: the child's age band, sex and birth year. */
const childDimensions = <R extends Row>(): LatticeDimension<R>[] => [
  flat<R>('ageBand', (r) => text(r.age_band)),
  flat<R>('sex', (r) => text(r.sex)),
  flat<R>('cohort', (r) => text(r.cohort)),
];

const latticeDimensions: LatticeDimension<ZoneCountRow>[] = [
  {
    // A round lies in one calendar year (that of its window's start).
    name: 'round',
    levels: [
      { name: 'round', value: (r) => text(r.round_id), finer: [] },
      { name: 'year', value: (r) => text(r.year), finer: [0] },
      { name: 'all', value: ALL, finer: [1] },
    ],
  },
  placeDimension<ZoneCountRow>(),
  ...childDimensions<ZoneCountRow>(),
  flat<ZoneCountRow>('zone', zoneOf),
];

export type ZoneCube = LinkedSuppression<ZoneCountRow>;

/** The protected cube of the finest zone counts (one row per round, unit, band, sex, cohort, zone). */
export function zoneCube(rows: readonly ZoneCountRow[]): ZoneCube {
  return suppressLinked(...zoneCubeInput(rows));
}

/**
 * `zoneCube` in slices (event loop free in between), cached under `key` when there is one: what
 * the rows were read at (cube-cache.ts).
 */
export function zoneCubeAsync(
  rows: readonly ZoneCountRow[],
  key: string | undefined,
): Promise<ZoneCube> {
  return cachedCube(key, () => suppressLinkedAsync(...zoneCubeInput(rows)));
}

function zoneCubeInput(rows: readonly ZoneCountRow[]) {
  return [
    rows.map((row) => ({ record: { ...row, zone: zoneOf(row) }, count: row.count })),
    {
      dimensions: latticeDimensions,
      measure: { dimension: ZONE, values: zoneKeys },
      scope: [ROUND],
    },
  ] as const;
}

/** The cube's levels of a grouping (zone cells: the zone's level; totals: all zones). */
export function levelsOf(groupBy: readonly Dimension[], zone: 'cell' | 'total'): number[] {
  const has = (d: Dimension) => groupBy.includes(d);
  const levels: number[] = [];
  levels[ROUND] = has('round') ? 0 : has('year') ? 1 : 2;
  levels[PLACE] = has('unit')
    ? place.unit
    : has('district') && has('unitKind')
      ? place.districtKind
      : has('district')
        ? place.district
        : has('unitKind')
          ? place.kind
          : place.all;
  levels[AGE_BAND] = has('ageBand') ? 0 : 1;
  levels[SEX] = has('sex') ? 0 : 1;
  levels[COHORT] = has('cohort') ? 0 : 1;
  levels[ZONE] = zone === 'cell' ? 0 : 1;
  return levels;
}

/** The export's levels: round and zone kept; place, age band and sex as given; no cohort. */
export function exportLevels(placeLevel: number, ageBand: boolean, sex: boolean): LevelVector {
  const levels: number[] = [];
  levels[ROUND] = 0;
  levels[PLACE] = placeLevel;
  levels[AGE_BAND] = ageBand ? 0 : 1;
  levels[SEX] = sex ? 0 : 1;
  levels[COHORT] = 1;
  levels[ZONE] = 0;
  return levels;
}

/** The cell of `row`'s group at `levels`, for `zone` (default: the row's own). */
export function zoneCell(
  cube: ZoneCube,
  row: ZoneCountRow,
  levels: LevelVector,
  zone?: ZoneKey,
): Cell {
  return cube.cell(zone === undefined ? row : { ...row, zone }, levels);
}

/*
 * Transitions: the children assessed in both rounds, counted per group by (zone in the first,
 * zone in the second), as one cube too: every grouping's matrix, with its row totals (zones in
 * the first round), column totals (in the second) and grand total, are margins of it. The grand
 * total (children assessed in both) is public; the zone totals are zone counts like any other.
 */
const FROM = 4;
const TO = 5;
const fromOf = (row: TransitionRow) => (row.from_zone ?? 'none') as ZoneKey;
const toOf = (row: TransitionRow) => (row.to_zone ?? 'none') as ZoneKey;

const transitionDimensions: LatticeDimension<TransitionRow>[] = [
  placeDimension<TransitionRow>(),
  ...childDimensions<TransitionRow>(),
  {
    name: 'from',
    levels: [
      { name: 'from', value: fromOf, finer: [] },
      { name: 'all', value: ALL, finer: [0] },
    ],
  },
  {
    name: 'to',
    levels: [
      { name: 'to', value: toOf, finer: [] },
      { name: 'total', value: ALL, finer: [0] },
    ],
  },
];

export type TransitionCube = LinkedSuppression<TransitionRow>;

/** The protected cube of the finest transition counts (one row per group, from and to zone). */
export function transitionCube(rows: readonly TransitionRow[]): TransitionCube {
  return suppressLinked(...transitionCubeInput(rows));
}

/** `transitionCube` in slices (event loop free in between), cached under `key` as zoneCubeAsync. */
export function transitionCubeAsync(
  rows: readonly TransitionRow[],
  key: string | undefined,
): Promise<TransitionCube> {
  return cachedCube(key, () => suppressLinkedAsync(...transitionCubeInput(rows)));
}

function transitionCubeInput(rows: readonly TransitionRow[]) {
  return [
    rows.map((row) => ({ record: row, count: row.count })),
    {
      dimensions: transitionDimensions,
      measure: { dimension: TO, values: zoneKeys },
      publicTotal: (levels: LevelVector) => levels[FROM] === 1,
      tinyGroups: [FROM, TO],
    },
  ] as const;
}

/** The transition cube's levels of a grouping, at a from level (0 zone, 1 all) and to level. */
export function transitionLevels(groupBy: readonly Dimension[], from: 0 | 1, to: 0 | 1): number[] {
  const cube = levelsOf(groupBy, 'cell');
  return [cube[PLACE], cube[AGE_BAND], cube[SEX], cube[COHORT], from, to] as number[];
}

/** The cell of `row`'s group at `levels`, for the zones `from` and `to`. */
export function transitionCell(
  cube: TransitionCube,
  row: TransitionRow,
  levels: LevelVector,
  from: ZoneKey,
  to: ZoneKey,
): Cell {
  return cube.cell({ ...row, from_zone: from, to_zone: to }, levels);
}
