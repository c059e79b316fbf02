import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Cell,
  MIN_COUNT,
  type SuppressedTable,
  share,
  suppressList,
  suppressTable,
} from '../../src/domain/suppression.js';

const runs = { numRuns: 300 };

/** The suppression pattern of a list of cells: true where hidden. */
const hiddenOf = (cells: readonly Cell[]) => cells.map((cell) => cell.suppressed);
const tableHidden = (table: SuppressedTable) => table.cells.map(hiddenOf);
const hiddenCount = (cells: readonly Cell[]) => cells.filter((cell) => cell.suppressed).length;
const column = (table: SuppressedTable, c: number) => table.cells.map((row) => row[c] as Cell);

describe('suppressTable examples', () => {
  it('hides a small cell and a complement in a row with a published total', () => {
    const table = suppressTable([[3, 10, 7]], { rowTotals: true });
    expect(tableHidden(table)).toEqual([[true, false, true]]);
    expect(table.cells[0]?.map((cell) => cell.value)).toEqual([null, 10, null]);
    expect(table.rowTotals).toEqual([{ count: 20, suppressed: false, value: 20 }]);
    expect(table.columnTotals).toBeUndefined();
    expect(table.grandTotal).toBeUndefined();
  });

  it('hides small cells only when no total is published', () => {
    const table = suppressTable([
      [3, 10, 7],
      [1, 0, 40],
    ]);
    expect(tableHidden(table)).toEqual([
      [true, false, false],
      [true, false, false],
    ]);
  });

  it('never hides zeros nor picks them as a complement', () => {
    const table = suppressTable([[3, 0, 12, 8]], { rowTotals: true });
    expect(tableHidden(table)).toEqual([[true, false, false, true]]);
    expect(table.cells[0]?.[1]).toEqual({ count: 0, suppressed: false, value: 0 });
  });

  it('hides the total when the only other counts are zeros', () => {
    // Column 1 is [9 (hidden as a complement), 0]: with no non-zero complement, its total goes.
    const table = suppressTable(
      [
        [3, 9],
        [6, 0],
      ],
      { rowTotals: true, columnTotals: true },
    );
    expect(tableHidden(table)).toEqual([
      [true, true],
      [true, false],
    ]);
    expect(hiddenOf(table.rowTotals ?? [])).toEqual([true, true]);
    expect(hiddenOf(table.columnTotals ?? [])).toEqual([true, true]);
    expect(table.grandTotal).toEqual({ count: 18, suppressed: false, value: 18 });
  });

  it('cascades a complement from a row into the columns and back', () => {
    // 2 -> row 0 complement 10 -> column 0 complement 8 -> row 1 complement 12: a rectangle.
    const table = suppressTable(
      [
        [2, 10, 20],
        [8, 12, 30],
        [9, 15, 40],
      ],
      { rowTotals: true, columnTotals: true },
    );
    expect(tableHidden(table)).toEqual([
      [true, true, false],
      [true, true, false],
      [false, false, false],
    ]);
    expect(table.rowTotals?.map((cell) => cell.value)).toEqual([32, 50, 64]);
    expect(table.columnTotals?.map((cell) => cell.value)).toEqual([19, 37, 90]);
    expect(table.grandTotal?.value).toBe(146);
  });

  it('protects a column with a published total', () => {
    const table = suppressTable([[3], [10], [7]], { columnTotals: true });
    expect(tableHidden(table)).toEqual([[true], [false], [true]]);
    expect(table.columnTotals).toEqual([{ count: 20, suppressed: false, value: 20 }]);
    expect(table.rowTotals).toBeUndefined();
  });

  it('suppresses totals in 1..4', () => {
    const table = suppressTable(
      [
        [1, 2],
        [0, 0],
      ],
      { rowTotals: true, columnTotals: true },
    );
    expect(tableHidden(table)).toEqual([
      [true, true],
      [false, false],
    ]);
    expect(table.rowTotals).toEqual([
      { count: 3, suppressed: true, value: null },
      { count: 0, suppressed: false, value: 0 },
    ]);
    expect(hiddenOf(table.columnTotals ?? [])).toEqual([true, true]);
    expect(table.grandTotal).toEqual({ count: 3, suppressed: true, value: null });
  });

  it('protects row totals under the grand total, and a hidden total derivable from its cells', () => {
    // Row total 3 is hidden, so row total 13 is hidden as its complement under the grand total;
    // then 13 = 6 + 7 would give it away, so 6 is hidden, cascading through the cells.
    const table = suppressTable(
      [
        [3, 0, 0],
        [0, 6, 7],
        [0, 8, 9],
      ],
      { rowTotals: true, columnTotals: true },
    );
    expect(tableHidden(table)).toEqual([
      [true, false, false],
      [false, true, true],
      [false, true, true],
    ]);
    expect(table.rowTotals?.map((cell) => cell.value)).toEqual([null, null, 17]);
    expect(table.columnTotals?.map((cell) => cell.value)).toEqual([null, null, 16]);
    expect(table.grandTotal?.value).toBe(33);
  });

  it('suppresses 4 and shows 5 (the boundary of MIN_COUNT)', () => {
    expect(MIN_COUNT).toBe(5);
    expect(tableHidden(suppressTable([[4, 20, 20]]))).toEqual([[true, false, false]]);
    expect(tableHidden(suppressTable([[5, 20, 20]], { rowTotals: true }))).toEqual([
      [false, false, false],
    ]);
    expect(suppressTable([[4]], { rowTotals: true }).rowTotals?.[0]?.suppressed).toBe(true);
    expect(suppressTable([[5]], { rowTotals: true }).rowTotals?.[0]?.suppressed).toBe(false);
  });

  it('honours minCount', () => {
    expect(tableHidden(suppressTable([[5, 9, 10, 30]], { minCount: 10 }))).toEqual([
      [true, true, false, false],
    ]);
    expect(tableHidden(suppressTable([[1, 2]], { minCount: 1 }))).toEqual([[false, false]]);
  });

  it('handles empty tables', () => {
    expect(suppressTable([], { rowTotals: true, columnTotals: true })).toEqual({
      cells: [],
      rowTotals: [],
      columnTotals: [],
      grandTotal: { count: 0, suppressed: false, value: 0 },
    });
    expect(suppressTable([[], []], { rowTotals: true }).rowTotals).toEqual([
      { count: 0, suppressed: false, value: 0 },
      { count: 0, suppressed: false, value: 0 },
    ]);
  });

  it('throws a RangeError on invalid input', () => {
    expect(() => suppressTable([[1, -1]])).toThrow(RangeError);
    expect(() => suppressTable([[1.5]])).toThrow(RangeError);
    expect(() => suppressTable([[Number.NaN]])).toThrow(RangeError);
    expect(() => suppressTable([[Number.POSITIVE_INFINITY]])).toThrow(RangeError);
    expect(() => suppressTable([[1, 2], [3]])).toThrow(RangeError);
    expect(() => suppressTable([[1]], { minCount: 0 })).toThrow(RangeError);
    expect(() => suppressTable([[1]], { minCount: 2.5 })).toThrow(RangeError);
    expect(() => suppressList([3, -2])).toThrow(RangeError);
    expect(() => suppressList([0.5])).toThrow(RangeError);
  });
});

describe('suppressList', () => {
  it('hides one small count and a complement when the total is published', () => {
    // green, yellow, red, no zone
    const list = suppressList([40, 12, 3, 0], { total: true });
    expect(hiddenOf(list.cells)).toEqual([false, true, true, false]);
    expect(list.cells.map((cell) => cell.value)).toEqual([40, null, null, 0]);
    expect(list.total).toEqual({ count: 55, suppressed: false, value: 55 });
  });

  it('hides only the small count when no total is published', () => {
    const list = suppressList([40, 12, 3, 0]);
    expect(hiddenOf(list.cells)).toEqual([false, false, true, false]);
    expect(list.total).toBeUndefined();
  });

  it('leaves two small counts as they are, and hides a small total', () => {
    expect(hiddenOf(suppressList([40, 2, 3, 9], { total: true }).cells)).toEqual([
      false,
      true,
      true,
      false,
    ]);
    const small = suppressList([3, 0, 0, 0], { total: true });
    expect(hiddenOf(small.cells)).toEqual([true, false, false, false]);
    expect(small.total).toEqual({ count: 3, suppressed: true, value: null });
  });

  it('picks the leftmost of equal complements and honours minCount', () => {
    expect(hiddenOf(suppressList([20, 3, 7, 7], { total: true }).cells)).toEqual([
      false,
      true,
      true,
      false,
    ]);
    expect(hiddenOf(suppressList([9, 20, 30], { total: true, minCount: 10 }).cells)).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('handles an empty list', () => {
    expect(suppressList([], { total: true })).toEqual({
      cells: [],
      total: { count: 0, suppressed: false, value: 0 },
    });
  });
});

describe('share', () => {
  const shown = (count: number): Cell => ({ count, suppressed: false, value: count });
  const hidden = (count: number): Cell => ({ count, suppressed: true, value: null });

  it('rounds count/total half up to 4 decimals', () => {
    expect(share(shown(12), shown(55))).toBe(0.2182);
    expect(share(shown(1), shown(3))).toBe(0.3333);
    expect(share(shown(2), shown(3))).toBe(0.6667);
    expect(share(shown(1), shown(32))).toBe(0.0313);
    expect(share(shown(0), shown(7))).toBe(0);
    expect(share(shown(7), shown(7))).toBe(1);
  });

  it('is null when either is suppressed or the total is 0', () => {
    expect(share(hidden(3), shown(55))).toBeNull();
    expect(share(shown(12), hidden(55))).toBeNull();
    expect(share(shown(0), shown(0))).toBeNull();
  });

  it('works on suppressList output', () => {
    const list = suppressList([40, 12, 3, 0], { total: true });
    const total = list.total as Cell;
    expect(list.cells.map((cell) => share(cell, total))).toEqual([0.7273, null, null, 0]);
  });
});

// ---- properties ----

/** Counts 0..40, biased towards the small counts and zeros that drive suppression. */
const countArb = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 40 }), weight: 3 },
  { arbitrary: fc.integer({ min: 0, max: 5 }), weight: 2 },
);
const matrixArb = (valueArb: fc.Arbitrary<number>) =>
  fc
    .record({ rows: fc.integer({ min: 1, max: 6 }), columns: fc.integer({ min: 1, max: 6 }) })
    .chain(({ rows, columns }) =>
      fc.array(fc.array(valueArb, { minLength: columns, maxLength: columns }), {
        minLength: rows,
        maxLength: rows,
      }),
    );
const optionsArb = fc.record({ rowTotals: fc.boolean(), columnTotals: fc.boolean() });
const caseArb = fc.record({ counts: matrixArb(countArb), options: optionsArb });

const isSmall = (count: number) => count >= 1 && count < MIN_COUNT;

/** Every figure of a table: cells, then the totals that are present. */
function allCells(table: SuppressedTable): Cell[] {
  return [
    ...table.cells.flat(),
    ...(table.rowTotals ?? []),
    ...(table.columnTotals ?? []),
    ...(table.grandTotal === undefined ? [] : [table.grandTotal]),
  ];
}

/** [members, total] of every additive constraint of a table whose totals are present. */
function constraintsOf(table: SuppressedTable): [Cell[], Cell][] {
  const out: [Cell[], Cell][] = [];
  table.rowTotals?.forEach((total, r) => {
    out.push([table.cells[r] ?? [], total]);
  });
  table.columnTotals?.forEach((total, c) => {
    out.push([column(table, c), total]);
  });
  if (table.grandTotal !== undefined) {
    out.push([table.rowTotals ?? [], table.grandTotal]);
    out.push([table.columnTotals ?? [], table.grandTotal]);
  }
  return out;
}

describe('suppressTable properties', () => {
  it('(a) no published figure has a count in 1..4, and zeros are never hidden', () => {
    fc.assert(
      fc.property(caseArb, ({ counts, options }) => {
        for (const cell of allCells(suppressTable(counts, options))) {
          if (!cell.suppressed) expect(isSmall(cell.count)).toBe(false);
          if (cell.count === 0) expect(cell.suppressed).toBe(false);
        }
      }),
      runs,
    );
  });

  it('(b) no published total gives away a single hidden cell', () => {
    fc.assert(
      fc.property(caseArb, ({ counts, options }) => {
        const table = suppressTable(counts, options);
        table.rowTotals?.forEach((total, r) => {
          if (!total.suppressed) expect(hiddenCount(table.cells[r] ?? [])).not.toBe(1);
        });
        table.columnTotals?.forEach((total, c) => {
          if (!total.suppressed) expect(hiddenCount(column(table, c))).not.toBe(1);
        });
        if (table.grandTotal?.suppressed === false) {
          expect(hiddenCount(table.rowTotals ?? [])).not.toBe(1);
          expect(hiddenCount(table.columnTotals ?? [])).not.toBe(1);
        }
        // Stronger: no constraint (members and total) has exactly one hidden figure, so a
        // hidden total is never the sum of published cells either.
        for (const [members, total] of constraintsOf(table)) {
          expect(hiddenCount([...members, total])).not.toBe(1);
        }
      }),
      runs,
    );
  });

  it('(c) published values equal the input counts, totals equal the sums', () => {
    fc.assert(
      fc.property(caseArb, ({ counts, options }) => {
        const table = suppressTable(counts, options);
        expect(table.cells.map((row) => row.map((cell) => cell.count))).toEqual(counts);
        for (const cell of allCells(table)) {
          expect(cell.value).toBe(cell.suppressed ? null : cell.count);
        }
        const rowSums = counts.map((row) => row.reduce((a, b) => a + b, 0));
        const columnSums = (counts[0] ?? []).map((_, c) =>
          counts.reduce((a, row) => a + (row[c] ?? 0), 0),
        );
        expect(table.rowTotals?.map((cell) => cell.count)).toEqual(
          options.rowTotals ? rowSums : undefined,
        );
        expect(table.columnTotals?.map((cell) => cell.count)).toEqual(
          options.columnTotals ? columnSums : undefined,
        );
        expect(table.grandTotal?.count).toEqual(
          options.rowTotals && options.columnTotals
            ? rowSums.reduce((a, b) => a + b, 0)
            : undefined,
        );
      }),
      runs,
    );
  });

  it('(d) is deterministic and does not modify its input', () => {
    fc.assert(
      fc.property(caseArb, ({ counts, options }) => {
        const copy = structuredClone(counts);
        const first = suppressTable(counts, options);
        expect(counts).toEqual(copy);
        expect(suppressTable(copy, { ...options })).toEqual(first);
      }),
      runs,
    );
  });

  it('(e) all-zero or all-large tables suppress nothing', () => {
    const quietArb = fc.oneof(
      matrixArb(fc.constant(0)),
      matrixArb(fc.integer({ min: MIN_COUNT, max: 40 })),
    );
    fc.assert(
      fc.property(quietArb, optionsArb, (counts, options) => {
        for (const cell of allCells(suppressTable(counts, options))) {
          expect(cell.suppressed).toBe(false);
        }
      }),
      runs,
    );
  });

  it('hides only small counts and complements of a figure that needed one', () => {
    fc.assert(
      fc.property(caseArb, ({ counts, options }) => {
        const table = suppressTable(counts, options);
        const hasComplements = allCells(table).some((c) => c.suppressed && !isSmall(c.count));
        if (hasComplements) expect(allCells(table).some((c) => isSmall(c.count))).toBe(true);
        if (!options.rowTotals && !options.columnTotals) {
          for (const cell of table.cells.flat()) expect(cell.suppressed).toBe(isSmall(cell.count));
        }
      }),
      runs,
    );
  });
});

describe('suppressList properties', () => {
  const listArb = fc.array(countArb, { maxLength: 8 });

  it('agrees with a one-row table with row totals', () => {
    fc.assert(
      fc.property(listArb, fc.boolean(), (counts, total) => {
        const list = suppressList(counts, { total });
        const table = suppressTable([counts], { rowTotals: total });
        expect(list.cells).toEqual(table.cells[0]);
        expect(list.total).toEqual(table.rowTotals?.[0]);
      }),
      runs,
    );
  });

  it('never publishes a small count, nor a single hidden count under a published total', () => {
    fc.assert(
      fc.property(listArb, (counts) => {
        const list = suppressList(counts, { total: true });
        const total = list.total as Cell;
        for (const cell of [...list.cells, total]) {
          if (!cell.suppressed) expect(isSmall(cell.count)).toBe(false);
        }
        expect(hiddenCount([...list.cells, total])).not.toBe(1);
        expect(list.cells.map((cell) => cell.count)).toEqual(counts);
      }),
      runs,
    );
  });
});
