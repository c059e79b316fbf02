/**
 * Small-cell suppression of aggregate tables, the way statistics offices do it. Counts about
 * few children identify them, so a published table never shows a count in 1..minCount-1
 * (primary suppression), and never lets a hidden count be worked out from a published total
 * (complementary suppression).
 *
 * The model: a table is a set of items (cells, and the totals that were asked for) tied by
 * additive constraints "total = sum of members":
 * - each row: its cells add up to its row total (when row totals are published);
 * - each column: its cells add up to its column total (when column totals are published);
 * - when both row and column totals are published, there is also a grand total, and the row
 *   totals add up to it, and so do the column totals.
 * A constraint with exactly one hidden item (a hidden cell under a published total, or a hidden
 * total over published cells) gives that item away, so one more item of the constraint is
 * hidden: the smallest non-zero published member (ties: the first in reading order, i.e. the
 * leftmost in a row, the topmost in a column); when the only hidden item is a member and no
 * member qualifies, the total itself. This is repeated, always fixing the first offending
 * constraint (rows top to bottom, then columns left to right, then row totals under the grand
 * total, then column totals under it), until no constraint has exactly one hidden item.
 *
 * Zeros are never hidden and never chosen as a complement: a zero identifies nobody, and a zero
 * complement hides nothing (the hidden count would still be derivable).
 *
 * Limits: this is the usual row-by-row and column-by-column protection, not a full audit. With
 * several constraints combined, a hidden count can in rare layouts still be narrowed down to an
 * interval by linear programming; the published values never pin it down from a single
 * constraint.
 *
 * A `Cell` keeps its input `count` even when suppressed, so that analysts' code can compute with
 * it; anything that leaves the system (exports, HTTP responses) must publish `value` only.
 *
 * Everything here is pure and deterministic. Functions throw a RangeError on a negative,
 * non-integer or unsafe count, a ragged matrix, or a `minCount` that is not a positive integer.
 */

/** One published figure: the count, whether it is hidden, and the value to publish. */
export interface Cell {
  count: number;
  suppressed: boolean;
  /** `count`, or null when suppressed. */
  value: number | null;
}

/** Counts 1..MIN_COUNT-1 are suppressed; 0 is shown (a zero identifies nobody). */
export const MIN_COUNT = 5;

export interface SuppressTableOptions {
  /** Smallest count shown; counts 1..minCount-1 are suppressed. Default MIN_COUNT. */
  minCount?: number;
  /** Publish a total per row. */
  rowTotals?: boolean;
  /** Publish a total per column. */
  columnTotals?: boolean;
}

export interface SuppressedTable {
  /** Same shape as the input counts. */
  cells: Cell[][];
  /** One per row, present when `rowTotals` was asked for. */
  rowTotals?: Cell[];
  /** One per column, present when `columnTotals` was asked for. */
  columnTotals?: Cell[];
  /** Present when both `rowTotals` and `columnTotals` were asked for. */
  grandTotal?: Cell;
}

export interface SuppressListOptions {
  /** Smallest count shown; counts 1..minCount-1 are suppressed. Default MIN_COUNT. */
  minCount?: number;
  /** Publish the total of the list. */
  total?: boolean;
}

export interface SuppressedList {
  cells: Cell[];
  /** Present when `total` was asked for. */
  total?: Cell;
}

/** "counts[total] = sum of counts[members]", items given by index. */
interface Constraint {
  total: number;
  members: number[];
}

function checkCount(count: number, where: string): void {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new RangeError(`suppression: ${where} must be a non-negative integer, got ${count}`);
  }
}

function checkMinCount(minCount: number): void {
  if (!Number.isSafeInteger(minCount) || minCount < 1) {
    throw new RangeError(`suppression: minCount must be a positive integer, got ${minCount}`);
  }
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

function cellOf(count: number, suppressed: boolean): Cell {
  return { count, suppressed, value: suppressed ? null : count };
}

/**
 * Hides, in place, more items until no constraint has exactly one hidden item. Each round hides
 * one more item, so this ends after at most `counts.length` rounds.
 */
function protect(counts: readonly number[], hidden: boolean[], constraints: readonly Constraint[]) {
  for (;;) {
    let changed = false;
    for (const { total, members } of constraints) {
      let hiddenItems = hidden[total] === true ? 1 : 0;
      let candidate: number | undefined;
      let candidateCount = Number.POSITIVE_INFINITY;
      for (const member of members) {
        const count = counts[member] ?? 0;
        if (hidden[member] === true) hiddenItems += 1;
        else if (count > 0 && count < candidateCount) {
          candidate = member;
          candidateCount = count;
        }
      }
      if (hiddenItems !== 1) continue;
      if (candidate !== undefined) hidden[candidate] = true;
      else if (hidden[total] !== true) hidden[total] = true;
      // Else the hidden total has only zero members, so it is 0 and never hidden: unreachable.
      else continue;
      changed = true;
      break;
    }
    if (!changed) return;
  }
}

/**
 * Suppresses small counts in a matrix (rows × columns) of non-negative integer counts, with the
 * totals asked for, and hides complementary items so that no hidden count can be derived from a
 * single row or column (see the module comment). Totals are published, and are themselves
 * suppressed when in 1..minCount-1 or when needed as a complement. The grand total is published
 * when both row and column totals are.
 */
export function suppressTable(
  counts: number[][],
  options: SuppressTableOptions = {},
): SuppressedTable {
  const minCount = options.minCount ?? MIN_COUNT;
  checkMinCount(minCount);
  const withRowTotals = options.rowTotals === true;
  const withColumnTotals = options.columnTotals === true;
  const withGrandTotal = withRowTotals && withColumnTotals;

  const rows = counts.length;
  const columns = counts[0]?.length ?? 0;
  counts.forEach((row, r) => {
    if (row.length !== columns) {
      throw new RangeError(
        `suppression: row ${r} has ${row.length} columns, row 0 has ${columns}; the matrix must be rectangular`,
      );
    }
    row.forEach((count, c) => {
      checkCount(count, `count [${r}][${c}]`);
    });
  });

  // Items, by index: cells in reading order, then row totals, column totals, grand total.
  const cellIndex = (r: number, c: number) => r * columns + c;
  const rowTotalIndex = (r: number) => rows * columns + r;
  const columnTotalIndex = (c: number) => rows * columns + rows + c;
  const grandTotalIndex = rows * columns + rows + columns;

  const rowSums = counts.map((row) => sum(row));
  const columnSums = Array.from({ length: columns }, (_, c) =>
    sum(counts.map((row) => row[c] ?? 0)),
  );
  const items: number[] = [...counts.flat(), ...rowSums, ...columnSums, sum(rowSums)];
  const published = items.map((_, i) => {
    if (i < rows * columns) return true;
    if (i < rows * columns + rows) return withRowTotals;
    if (i < grandTotalIndex) return withColumnTotals;
    return withGrandTotal;
  });
  // Unpublished totals are neither hidden nor constrain anything.
  const hidden = items.map((count, i) => published[i] === true && count > 0 && count < minCount);

  const constraints: Constraint[] = [];
  if (withRowTotals) {
    for (let r = 0; r < rows; r++) {
      constraints.push({
        total: rowTotalIndex(r),
        members: Array.from({ length: columns }, (_, c) => cellIndex(r, c)),
      });
    }
  }
  if (withColumnTotals) {
    for (let c = 0; c < columns; c++) {
      constraints.push({
        total: columnTotalIndex(c),
        members: Array.from({ length: rows }, (_, r) => cellIndex(r, c)),
      });
    }
  }
  if (withGrandTotal) {
    constraints.push({
      total: grandTotalIndex,
      members: Array.from({ length: rows }, (_, r) => rowTotalIndex(r)),
    });
    constraints.push({
      total: grandTotalIndex,
      members: Array.from({ length: columns }, (_, c) => columnTotalIndex(c)),
    });
  }

  protect(items, hidden, constraints);

  const itemCell = (i: number) => cellOf(items[i] ?? 0, hidden[i] === true);
  const result: SuppressedTable = {
    cells: counts.map((row, r) => row.map((_, c) => itemCell(cellIndex(r, c)))),
  };
  if (withRowTotals) result.rowTotals = counts.map((_, r) => itemCell(rowTotalIndex(r)));
  if (withColumnTotals) {
    result.columnTotals = Array.from({ length: columns }, (_, c) => itemCell(columnTotalIndex(c)));
  }
  if (withGrandTotal) result.grandTotal = itemCell(grandTotalIndex);
  return result;
}

/**
 * The one-dimensional case, e.g. the zone distribution of one round (green, yellow, red, no
 * zone) with its total: small counts are suppressed, and when the total is published and exactly
 * one count is hidden, the smallest non-zero other count is hidden too (or, failing one, the
 * total).
 */
export function suppressList(counts: number[], options: SuppressListOptions = {}): SuppressedList {
  counts.forEach((count, i) => {
    checkCount(count, `count [${i}]`);
  });
  const table = suppressTable([counts], {
    rowTotals: options.total === true,
    ...(options.minCount === undefined ? {} : { minCount: options.minCount }),
  });
  const result: SuppressedList = { cells: table.cells[0] ?? [] };
  const total = table.rowTotals?.[0];
  if (total !== undefined) result.total = total;
  return result;
}

/**
 * The share count/total, rounded half up to 4 decimals (0.2182 for 12 of 55); null when either is
 * suppressed or the total is 0. Computed exactly, so 1 of 32 is 0.0313.
 */
export function share(cell: Cell, total: Cell): number | null {
  if (cell.suppressed || total.suppressed || total.count === 0) return null;
  checkCount(cell.count, 'share count');
  checkCount(total.count, 'share total');
  const numerator = BigInt(cell.count);
  const denominator = BigInt(total.count);
  const tenThousandths = (numerator * 20_000n + denominator) / (2n * denominator);
  return Number(tenThousandths) / 10_000;
}
