import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TransitionRow, ZoneCountRow } from '../../src/features/analytics/repository.js';
import { type Dimension, dimensions } from '../../src/features/analytics/schemas.js';
import { transitionsOf, zoneDistributionOf } from '../../src/features/analytics/service.js';
import { transitionCube, zoneCube, zoneKeys } from '../../src/features/analytics/zone-lattice.js';
import { generalise, releasePlan } from '../../src/features/exports/release.js';

/*
 * The zone cube (linked suppression of every zone distribution) and the default export's release
 * plan, on generated municipalities: the finest zone counts (round × unit × age band × sex ×
 * birth year × zone) of any municipality, under any filter (a filter only drops records, as the
 * SQL does).
 */

const runs = { numRuns: Number(process.env.RUNS ?? 100) };
const bands = ['0-2', '3-5', '6-9', '10-13', '14-17'] as const;
const sexes = ['female', 'male', null] as const;
const kinds = ['nursery', 'kindergarten', 'school'] as const;

interface Unit {
  id: string;
  district: string;
  kind: string;
}

const municipality = fc
  .record({
    units: fc.array(
      fc.record({
        district: fc.constantFrom('Nord', 'Syd', 'Midt'),
        kind: fc.constantFrom(...kinds),
      }),
      { minLength: 1, maxLength: 5 },
    ),
    rounds: fc.integer({ min: 1, max: 3 }),
    records: fc.array(
      fc.record({
        round: fc.nat(2),
        unit: fc.nat(4),
        band: fc.constantFrom(...bands),
        sex: fc.constantFrom(...sexes),
        cohort: fc.integer({ min: 2010, max: 2013 }),
        zone: fc.constantFrom('green', 'green', 'green', 'yellow', 'red', null),
        count: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 30 })),
      }),
      { maxLength: 70 },
    ),
    filter: fc.record({
      districts: fc.option(fc.subarray(['Nord', 'Syd', 'Midt'], { minLength: 1 })),
      bands: fc.option(fc.subarray([...bands], { minLength: 1 })),
      sexes: fc.option(fc.subarray([...sexes], { minLength: 1 })),
    }),
  })
  .map(({ units: drawn, rounds, records, filter }) => {
    const units: Unit[] = drawn.map((u, i) => ({ id: `u${i}`, ...u }));
    const merged = new Map<string, ZoneCountRow>();
    for (const r of records) {
      const unit = units[r.unit % units.length] as Unit;
      const round = r.round % rounds;
      const row = {
        round_start: `${2025 + (round % 2)}-0${round + 1}-01`,
        year: 2025 + (round % 2),
        round_id: `r${round}`,
        round_name: `Round ${round}`,
        unit_id: unit.id,
        unit_name: unit.id,
        district: unit.district,
        unit_kind: unit.kind,
        age_band: r.band,
        sex: r.sex,
        cohort: r.cohort,
        zone: r.zone,
        count: r.count,
      };
      if (filter.districts && !filter.districts.includes(unit.district)) continue;
      if (filter.bands && !filter.bands.includes(r.band)) continue;
      if (filter.sexes && !filter.sexes.includes(r.sex)) continue;
      const key = JSON.stringify({ ...row, count: 0 });
      const before = merged.get(key);
      if (before) before.count += r.count;
      else merged.set(key, row);
    }
    return { units, rows: [...merged.values()] };
  });

/** Every grouping an analyst can ask for (round, place and the child dimensions). */
const groupings: Dimension[][] = (() => {
  const all: Dimension[][] = [];
  for (let mask = 0; mask < 1 << dimensions.length; mask++) {
    all.push(dimensions.filter((_, i) => mask & (1 << i)));
  }
  return all;
})();

type Published = { value: number | null; suppressed: boolean };
type ViewRow = {
  group: Record<string, unknown>;
  counts: Record<string, Published>;
  total: Published;
};

/** The true count of a group and zone, from the records. */
function trueCount(
  rows: ZoneCountRow[],
  dims: Dimension[],
  group: Record<string, unknown>,
  zone: string,
) {
  return rows
    .filter((r) => (r.zone ?? 'none') === zone && matches(r, dims, group))
    .reduce((n, r) => n + r.count, 0);
}

function matches(r: ZoneCountRow, dims: Dimension[], group: Record<string, unknown>) {
  return dims.every((d) => {
    const g = group[d];
    if (d === 'round') return (g as { id: string }).id === r.round_id;
    if (d === 'unit') return (g as { id: string }).id === r.unit_id;
    if (d === 'unitKind') return g === r.unit_kind;
    if (d === 'ageBand') return g === r.age_band;
    return g === r[d === 'district' ? 'district' : d];
  });
}

describe('zone cube', () => {
  it('hides every zone count of 1–4 in every grouping, and no total', () => {
    fc.assert(
      fc.property(municipality, ({ rows }) => {
        const cube = zoneCube(rows);
        for (const dims of groupings) {
          for (const row of zoneDistributionOf(rows, dims, cube).rows as ViewRow[]) {
            expect(row.total.suppressed).toBe(false);
            for (const zone of zoneKeys) {
              const n = trueCount(rows, dims, row.group, zone);
              const cell = row.counts[zone] as Published;
              if (n > 0 && n < 5) expect(cell.suppressed).toBe(true);
              if (!cell.suppressed) expect(cell.value).toBe(n);
            }
            // A row with a hidden count offers the next coarser group with none hidden.
            const hidden = zoneKeys.some((z) => row.counts[z]?.suppressed);
            const { coarser } = row as ViewRow & { coarser?: ViewRow };
            if (!hidden) expect(coarser).toBeUndefined();
            if (coarser) {
              const coarserDims = dimensions.filter((d) => d in coarser.group);
              expect(coarserDims.length).toBeLessThanOrEqual(dims.length);
              for (const zone of zoneKeys) {
                expect(coarser.counts[zone]?.suppressed).toBe(false);
                expect(coarser.counts[zone]?.value).toBe(
                  trueCount(rows, coarserDims, coarser.group, zone),
                );
              }
            }
          }
        }
      }),
      runs,
    );
  });
});

/** The published views of a municipality, by grouping. */
function views(rows: ZoneCountRow[]) {
  const cube = zoneCube(rows);
  return new Map(
    groupings.map((dims) => [
      dims.join(','),
      zoneDistributionOf(rows, dims, cube).rows as ViewRow[],
    ]),
  );
}

type Tie = { total: string | number; members: string[] };

/**
 * Every additive tie between published figures: a group's zones add up to its total, and a
 * coarser cell is the sum of its finer cells in one more dimension.
 */
function tiesOf(
  all: Map<string, ViewRow[]>,
  id: (d: Dimension[], g: unknown, z: string) => string,
) {
  const ties: Tie[] = [];
  for (const coarse of groupings) {
    const coarseRows = all.get(coarse.join(',')) as ViewRow[];
    for (const row of coarseRows) {
      ties.push({
        total: row.total.value as number,
        members: zoneKeys.map((z) => id(coarse, row.group, z)),
      });
    }
    for (const d of dimensions) {
      if (coarse.includes(d)) continue;
      const fine = dimensions.filter((x) => x === d || coarse.includes(x));
      const fineRows = all.get(fine.join(',')) as ViewRow[];
      for (const row of coarseRows) {
        const members = fineRows.filter((f) =>
          coarse.every((c) => JSON.stringify(f.group[c]) === JSON.stringify(row.group[c])),
        );
        for (const zone of zoneKeys) {
          ties.push({
            total: id(coarse, row.group, zone),
            members: members.map((m) => id(fine, m.group, zone)),
          });
        }
      }
    }
  }
  return ties;
}

/** Whatever follows from one tie whose other items are known, until nothing more does. */
function closure(ties: Tie[], known: Map<string, number>) {
  for (let changed = true; changed; ) {
    changed = false;
    for (const { total, members } of ties) {
      const totalValue = typeof total === 'number' ? total : known.get(total);
      const unknown = members.filter((m) => !known.has(m));
      const sum = members.reduce((n, m) => n + (known.get(m) ?? 0), 0);
      if (totalValue !== undefined && unknown.length === 1) {
        known.set(unknown[0] as string, totalValue - sum);
        changed = true;
      } else if (totalValue === undefined && unknown.length === 0) {
        known.set(total as string, sum);
        changed = true;
      }
    }
  }
  return known;
}

/**
 * The hidden counts an analyst can work out from every grouping's published figures, one tie
 * at a time, that the published totals and zeros alone do not settle. (Those do settle some:
 * with "none of the 5 girls is green", "none of the 5 children aged 0–2 is yellow" and "nobody
 * is red", the 4 girls aged 0–2 are all in the one zone left. Zeros in groups of 5 or more are
 * published, so that is allowed; a published count of 5 or more must never help.)
 */
function leaks(rows: ZoneCountRow[]): string[] {
  const all = views(rows);
  const id = (dims: readonly Dimension[], group: unknown, zone: string) =>
    `${dims.join(',')}|${JSON.stringify(group)}|${zone}`;
  const ties = tiesOf(all, id);
  const zerosOnly = new Map<string, number>();
  const everything = new Map<string, number>();
  for (const [name, viewRows] of all) {
    const dims = name === '' ? [] : (name.split(',') as Dimension[]);
    for (const row of viewRows) {
      for (const zone of zoneKeys) {
        const cell = row.counts[zone] as Published;
        if (cell.suppressed) continue;
        everything.set(id(dims, row.group, zone), cell.value as number);
        if (cell.value === 0) zerosOnly.set(id(dims, row.group, zone), 0);
      }
    }
  }
  const settled = closure(ties, zerosOnly);
  const derived = closure(ties, everything);
  const found: string[] = [];
  for (const [name, viewRows] of all) {
    const dims = name === '' ? [] : (name.split(',') as Dimension[]);
    for (const row of viewRows) {
      for (const zone of zoneKeys) {
        if (!row.counts[zone]?.suppressed) continue;
        const cell = id(dims, row.group, zone);
        if (derived.has(cell) && !settled.has(cell)) found.push(`${cell} = ${derived.get(cell)}`);
      }
    }
  }
  return found;
}

describe('zone cube across groupings', () => {
  it('no hidden count can be worked out from the other groupings, one sum at a time', () => {
    fc.assert(
      fc.property(municipality, ({ rows }) => {
        expect(leaks(rows)).toEqual([]);
      }),
      runs,
    );
  });
});

describe('zone cube examples', () => {
  const at = (r: Partial<ZoneCountRow>): ZoneCountRow => ({
    round_start: '2026-01-01',
    year: 2026,
    round_id: 'r0',
    round_name: 'Round 0',
    unit_id: 'u0',
    unit_name: 'u0',
    district: 'Nord',
    unit_kind: 'nursery',
    age_band: '0-2',
    sex: 'female',
    cohort: 2010,
    zone: 'green',
    count: 1,
    ...r,
  });
  it('found by the property', () => {
    const rows = [
      at({ age_band: '10-13', zone: 'yellow', count: 1 }),
      at({ zone: null, count: 4 }),
      at({ sex: 'male', count: 1 }),
    ];
    expect(leaks(rows)).toEqual([]);
  });
});

/** The groupings whose cells the export's rungs release (see release.ts). */
const rungGroupings: Dimension[][] = [
  ['round', 'district', 'unitKind', 'ageBand', 'sex'],
  ['round', 'district', 'unitKind', 'ageBand'],
  ['round', 'district', 'unitKind'],
  ['round', 'district'],
  ['round'],
];

describe('default export', () => {
  it('is k-anonymous (k = 5) and follows from the published zone distributions alone', () => {
    fc.assert(
      fc.property(municipality, ({ rows }) => {
        const plan = releasePlan(rows);
        // The export's classes: quasi-identifiers as released, and the zone.
        const classes = new Map<
          string,
          { rung: number; sample: ZoneCountRow; qi: ReturnType<typeof generalise>; n: number }
        >();
        let suppressed = 0;
        for (const row of rows) {
          const rung = plan.rungOf(row as never);
          if (rung === undefined) {
            suppressed += row.count;
            continue;
          }
          const qi = generalise(row as never, rung);
          const key = JSON.stringify([row.round_id, qi, row.zone]);
          const entry = classes.get(key) ?? { rung, sample: row, qi, n: 0 };
          entry.n += row.count;
          classes.set(key, entry);
        }
        expect(suppressed).toBe(plan.suppressed);
        const byQi = new Map<string, number>();
        for (const c of classes.values()) {
          expect(c.n).toBeGreaterThanOrEqual(5);
          const key = JSON.stringify([c.sample.round_id, c.qi]);
          byQi.set(key, (byQi.get(key) ?? 0) + c.n);
        }
        for (const n of byQi.values()) expect(n).toBeGreaterThanOrEqual(5);

        // Each class's count is its published cell minus the classes released finer within it.
        const cube = zoneCube(rows);
        for (const c of classes.values()) {
          const dims = rungGroupings[c.rung] as Dimension[];
          const zone = c.sample.zone ?? 'none';
          const view = zoneDistributionOf(rows, dims, cube).rows as ViewRow[];
          const row = view.find((v) => matches(c.sample, dims, v.group)) as ViewRow;
          const cell = row.counts[zone] as Published;
          expect(cell.suppressed).toBe(false);
          const finer = [...classes.values()].filter(
            (o) =>
              o.rung < c.rung &&
              (o.sample.zone ?? 'none') === zone &&
              matches(o.sample, dims, row.group),
          );
          expect(c.n).toBe((cell.value as number) - finer.reduce((n, o) => n + o.n, 0));
        }
      }),
      runs,
    );
  });
});

/** Generated transition counts: group dimensions as above, a zone in each round. */
const transitionWorld = fc
  .record({
    units: fc.array(
      fc.record({
        district: fc.constantFrom('Nord', 'Syd'),
        kind: fc.constantFrom(...kinds),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    records: fc.array(
      fc.record({
        unit: fc.nat(2),
        band: fc.constantFrom('3-5', '6-9'),
        sex: fc.constantFrom('female', 'male'),
        cohort: fc.integer({ min: 2018, max: 2019 }),
        from: fc.constantFrom('green', 'green', 'yellow', 'red', null),
        to: fc.constantFrom('green', 'green', 'yellow', 'red', null),
        count: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 20 })),
      }),
      { maxLength: 40 },
    ),
  })
  .map(({ units, records }) => {
    const merged = new Map<string, TransitionRow>();
    for (const r of records) {
      const u = units[r.unit % units.length] as { district: string; kind: string };
      const row = {
        round_start: '2026-10-01',
        year: 2026,
        round_id: 'r1',
        round_name: 'r1',
        unit_id: `u${r.unit % units.length}`,
        unit_name: 'u',
        district: u.district,
        unit_kind: u.kind,
        age_band: r.band,
        sex: r.sex,
        cohort: r.cohort,
        from_zone: r.from,
        to_zone: r.to,
        count: r.count,
      };
      const key = JSON.stringify({ ...row, count: 0 });
      const before = merged.get(key);
      if (before) before.count += r.count;
      else merged.set(key, row);
    }
    return [...merged.values()];
  });

const transitionGroupings = groupings.filter((g) => !g.includes('round'));

describe('transition cube', () => {
  it('hides every 1–4 and lets no hidden cell follow from the other groupings', () => {
    const round = { id: 'r', name: 'r' };
    fc.assert(
      fc.property(transitionWorld, (rows) => {
        const cube = transitionCube(rows);
        type Matrix = {
          group: Record<string, unknown>;
          matrix: Published[][];
          fromTotals: Published[];
          toTotals: Published[];
          total: Published;
        };
        const all = new Map(
          transitionGroupings.map((dims) => [
            dims.join(','),
            transitionsOf(round, round, rows, dims, cube).rows as Matrix[],
          ]),
        );
        // Items of a matrix: cell i,j (4 for a total over that side).
        const item = (m: Matrix, i: number, j: number) =>
          i < 4 && j < 4
            ? (m.matrix[i]?.[j] as Published)
            : i < 4
              ? (m.fromTotals[i] as Published)
              : j < 4
                ? (m.toTotals[j] as Published)
                : m.total;
        const trueOf = (dims: Dimension[], group: Record<string, unknown>, i: number, j: number) =>
          rows
            .filter(
              (r) =>
                matches(r as never, dims, group) &&
                (i === 4 || zoneKeys.indexOf((r.from_zone ?? 'none') as 'green') === i) &&
                (j === 4 || zoneKeys.indexOf((r.to_zone ?? 'none') as 'green') === j),
            )
            .reduce((n, r) => n + r.count, 0);
        const id = (dims: Dimension[], g: unknown, i: number, j: number) =>
          `${dims.join(',')}|${JSON.stringify(g)}|${i}|${j}`;
        const ties: Tie[] = [];
        const everything = new Map<string, number>();
        const zerosOnly = new Map<string, number>();
        const sides = [0, 1, 2, 3, 4];
        for (const [name, matrices] of all) {
          const dims = name === '' ? [] : (name.split(',') as Dimension[]);
          for (const m of matrices) {
            for (const i of sides) {
              for (const j of sides) {
                const cell = item(m, i, j);
                const n = trueOf(dims, m.group, i, j);
                // (The grand total, children assessed in both rounds, is public.)
                if (n > 0 && n < 5 && !(i === 4 && j === 4)) expect(cell.suppressed).toBe(true);
                if (!cell.suppressed) {
                  expect(cell.value).toBe(n);
                  everything.set(id(dims, m.group, i, j), n);
                  if (n === 0 || (i === 4 && j === 4)) zerosOnly.set(id(dims, m.group, i, j), n);
                }
              }
            }
            for (const i of sides) {
              ties.push({
                total: id(dims, m.group, i, 4),
                members: [0, 1, 2, 3].map((j) => id(dims, m.group, i, j)),
              });
              ties.push({
                total: id(dims, m.group, 4, i),
                members: [0, 1, 2, 3].map((j) => id(dims, m.group, j, i)),
              });
            }
          }
        }
        for (const coarse of transitionGroupings) {
          for (const d of dimensions) {
            if (d === 'round' || coarse.includes(d)) continue;
            const fine = dimensions.filter((x) => x === d || coarse.includes(x));
            const fineRows = all.get(fine.join(',')) as Matrix[];
            for (const m of all.get(coarse.join(',')) as Matrix[]) {
              const members = fineRows.filter((f) =>
                coarse.every((c) => JSON.stringify(f.group[c]) === JSON.stringify(m.group[c])),
              );
              for (const i of sides) {
                for (const j of sides) {
                  ties.push({
                    total: id(coarse, m.group, i, j),
                    members: members.map((f) => id(fine, f.group, i, j)),
                  });
                }
              }
            }
          }
        }
        const settled = closure(ties, zerosOnly);
        const derived = closure(ties, everything);
        const found: string[] = [];
        for (const [name, matrices] of all) {
          const dims = name === '' ? [] : (name.split(',') as Dimension[]);
          for (const m of matrices) {
            for (const i of sides) {
              for (const j of sides) {
                const key = id(dims, m.group, i, j);
                if (item(m, i, j).suppressed && derived.has(key) && !settled.has(key)) {
                  found.push(`${key} = ${derived.get(key)}`);
                }
              }
            }
          }
        }
        expect(found).toEqual([]);
      }),
      { numRuns: Math.ceil(runs.numRuns / 2) },
    );
  });
});
