/**
 * Small-cell suppression of a whole family of linked tables at once: every grouping an analyst
 * can ask for over the same counted records (by round, by district, by unit, by age band and
 * sex…) is a margin of one cube, and a figure hidden in one grouping must not be derivable from
 * the figures published in any other. Protecting each table on its own does not do that: with
 * red = 50 in a round, 20 and 26 in two districts, the third district's hidden 4 is 50 − 46.
 *
 * The model. Records (e.g. counts per round × unit × age band × sex × birth year × zone) are
 * grouped along dimensions, each a hierarchy of levels, finest first (unit → district → all).
 * An item is one choice of level and value per dimension; its count is the sum of its records.
 * Items are tied by additive constraints: an item at a coarser level of one dimension is the sum
 * of the items one level finer in that dimension, all else equal ("district B, red" = Σ of its
 * units' red). A level may sum several finer levels (the municipality is the sum of its
 * districts, and also of its unit kinds): one constraint each.
 *
 * One dimension is the measure (the zone): its finest values are the sensitive figures, and its
 * total level (all zones: how many children were assessed in a group) is public, because it is
 * not a health finding and coverage publishes it anyway. Zero items along the measure are made
 * explicit (every group has a cell per zone), so zeros can be complements.
 *
 * The rules:
 * - published zeros: a zero in a group of at least minCount (nobody of the unit's 40 children is
 *   red), and every zero inside such a zero (so none of its 3 girls is either), is published and
 *   is never a complement: hiding it would hide nothing that the coarser zero does not tell;
 * - primary: a measure cell of 1..minCount-1 is hidden, and so is every other measure cell of a
 *   group whose (public) total is 1..minCount-1, published zeros excepted: "nobody of these 3 is
 *   red" would be a finding about each of them;
 * - complementary, until every constraint is safe. A constraint "total = Σ members" is unsafe
 *   when the hidden values follow from it: the total published and exactly one member hidden;
 *   the total published and the hidden members summing to 0 (counts are not negative, so each is
 *   0); or the total hidden and every member published. It is made safe by hiding one more item:
 *   the smallest published non-zero member (ties: the first in key order); failing one, the
 *   total when it may be hidden; failing that, a zero member (only where the zeros' sum would
 *   not be 0, i.e. next to a non-zero hidden member), preferring the value most common in its
 *   population (`scope`); never an item whose constraint has no other item that may be hidden
 *   (it would be given away there). Each step hides one more item, so this ends. A constraint whose only
 *   other items are public stays as it is: what it gives away (e.g. that all of 3 girls are
 *   green) follows from a published group of at least minCount (all of the unit's 6 are green).
 *
 * Limits: as `suppression.ts`, this is the usual constraint-by-constraint protection, not a full
 * audit: across several constraints a hidden count can in rare layouts be narrowed to an interval
 * by linear programming; no single published constraint pins it down. And the pattern belongs to
 * the records it was computed from: two requests with different filters are protected each on
 * their own (differencing two overlapping filters is not covered).
 *
 * Pure and deterministic: the same records in any order give the same pattern.
 */

import { type Cell, MIN_COUNT } from './suppression.js';

export interface LatticeLevel<R> {
  name: string;
  /** The record's value at this level; at a coarser level a function of each finer one's. */
  value: (record: R) => string;
  /** Indices of the finer levels whose items add up to this level's (none for the finest). */
  finer: readonly number[];
}

export interface LatticeDimension<R> {
  name: string;
  /** Finest first. */
  levels: readonly LatticeLevel<R>[];
}

export interface LatticeSpec<R> {
  dimensions: readonly LatticeDimension<R>[];
  /**
   * The measure: a dimension with exactly two levels, its values (level 0, all of them, in
   * order: every group gets a cell for each) and their total (level 1, public).
   */
  measure: { dimension: number; values: readonly string[] };
  /**
   * The dimensions that delimit a population (e.g. the round): a zero complement is taken in
   * the measure value most common in the item's population. Default: none (one population).
   */
  scope?: readonly number[];
  /**
   * Whether an item at the measure's total level is public (default: all are). Transitions,
   * whose measure is the zone in the second round, publish only the grand totals, not the
   * counts per zone in the first.
   */
  publicTotal?: (levels: LevelVector) => boolean;
  /**
   * The dimensions along which a group of 1..minCount-1 hides all its cells, zeros too (default:
   * the measure: a group's zones).
   */
  tinyGroups?: readonly number[];
  /** Counts 1..minCount-1 are hidden. Default MIN_COUNT. */
  minCount?: number;
}

export interface CountedRecord<R> {
  record: R;
  count: number;
}

interface Item<R> {
  /** Its interned values as one number (mixed radix over the dimensions). */
  key: number;
  count: number;
  hidden: boolean;
  /** The measure's total level, or a published zero: published, never hidden. */
  isPublic: boolean;
  /**
   * Follows from public items (those of a constraint all public, or themselves pinned), so it
   * would be given away if hidden: never a complement, and known even when hidden.
   */
  pinned: boolean;
  /** A record of the item, to read its values at coarser levels. */
  sample: R;
  levels: number[];
  /** The interned value per dimension at the item's level. */
  ids: number[];
  /** Its sample's interned values, per dimension and level. */
  table: number[][];
  constraints: Constraint<R>[];
}

interface Constraint<R> {
  key: number;
  /** The dimension its members are finer in. */
  dimension: number;
  total: Item<R>;
  members: Item<R>[];
}

/** The levels chosen per dimension, e.g. [0, 2, 1, 1, 1, 0]. */
export type LevelVector = readonly number[];

export interface LinkedSuppression<R> {
  /** The item of `record` at `levels`: its count and whether it is hidden. */
  cell(record: R, levels: LevelVector): Cell;
}

/** Every combination of one level per dimension. */
function levelVectors<R>(dimensions: readonly LatticeDimension<R>[]): number[][] {
  let vectors: number[][] = [[]];
  for (const dim of dimensions) {
    const next: number[][] = [];
    for (const vector of vectors) {
      for (let level = 0; level < dim.levels.length; level++) next.push([...vector, level]);
    }
    vectors = next;
  }
  return vectors;
}

const byKey = <T extends { key: number }>(a: T, b: T) => a.key - b.key;

/** Hidden, and not given away by a constraint of public items (see `pinned`). */
const secret = <R>(item: Item<R>) => item.hidden && !item.pinned;

/**
 * Whether the constraint's hidden items follow from it (see the module comment). A pinned item
 * counts as known even when hidden: its value follows from public items anyway.
 */
function unsafe<R>({ total, members }: Constraint<R>): boolean {
  let hiddenMembers = 0;
  let hiddenSum = 0;
  for (const member of members) {
    if (secret(member)) {
      hiddenMembers += 1;
      hiddenSum += member.count;
    }
  }
  if (secret(total)) return hiddenMembers === 0;
  if (hiddenMembers === 0) return false;
  return hiddenMembers === 1 || hiddenSum === 0;
}

/** The item to hide to make an unsafe constraint safe (see the module comment). */
function complement<R>(
  { total, members }: Constraint<R>,
  likelihood: (item: Item<R>) => number,
): Item<R> | undefined {
  let nonZero: Item<R> | undefined;
  let zero: Item<R> | undefined;
  let hiddenSum = 0;
  for (const member of members) {
    if (secret(member)) hiddenSum += member.count;
    if (member.hidden || member.isPublic || member.pinned) continue;
    if (member.count > 0) {
      if (!nonZero || member.count < nonZero.count) nonZero = member;
    } else if (!zero || likelihood(member) > likelihood(zero)) zero = member;
  }
  if (nonZero) return nonZero;
  if (!total.hidden && !total.isPublic && !total.pinned) return total;
  // A zero complement protects only next to a non-zero hidden member (else the sum is 0).
  return hiddenSum > 0 || secret(total) ? zero : undefined;
}

/** Work steps between two turns of the event loop in `suppressLinkedAsync`. */
const STEPS_PER_TURN = 20_000;

/** `suppressLinkedAsync` without turns of the event loop (for small inputs and tests). */
export function suppressLinked<R>(
  records: readonly CountedRecord<R>[],
  spec: LatticeSpec<R>,
): LinkedSuppression<R> {
  const run = build(records, spec);
  for (;;) {
    const step = run.next();
    if (step.done) return step.value;
  }
}

/**
 * The same suppression, computed in slices with a turn of the event loop between them, so that
 * a large cube (tens of thousands of records: seconds of work) never holds up other requests.
 */
export async function suppressLinkedAsync<R>(
  records: readonly CountedRecord<R>[],
  spec: LatticeSpec<R>,
): Promise<LinkedSuppression<R>> {
  const run = build(records, spec);
  for (;;) {
    const step = run.next();
    if (step.done) return step.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

function* build<R>(
  records: readonly CountedRecord<R>[],
  spec: LatticeSpec<R>,
): Generator<void, LinkedSuppression<R>> {
  let steps = 0;
  /** True every STEPS_PER_TURN steps of work: time to yield. */
  const turn = (n = 1) => {
    steps += n;
    if (steps < STEPS_PER_TURN) return false;
    steps = 0;
    return true;
  };
  const minCount = spec.minCount ?? MIN_COUNT;
  if (!Number.isSafeInteger(minCount) || minCount < 1) {
    throw new RangeError(`suppression: minCount must be a positive integer, got ${minCount}`);
  }
  const { dimensions, measure } = spec;
  const measureDim = dimensions[measure.dimension];
  if (measureDim?.levels.length !== 2) {
    throw new RangeError('suppression: the measure must be a dimension with two levels');
  }
  // Values are interned as small integers per dimension (each level's values apart), and an
  // item's key is its values as one number, mixed radix over the dimensions: a Map over numbers
  // is several times faster than over strings. Records are put in a canonical order first, so
  // that the numbers (and with them every tie-break) do not depend on the order they came in.
  const interned = dimensions.map(() => new Map<string, number>());
  const intern = (d: number, level: number, value: string) => {
    const names = interned[d] as Map<string, number>;
    const name = `${level}\u001f${value}`;
    let id = names.get(name);
    if (id === undefined) {
      id = names.size;
      names.set(name, id);
    }
    return id;
  };
  const finest = (record: R) =>
    dimensions.map((dim) => (dim.levels[0] as LatticeLevel<R>).value(record)).join('\u001f');
  const tableOf = (record: R) =>
    dimensions.map((dim, d) => dim.levels.map((level, l) => intern(d, l, level.value(record))));
  const ordered = records
    .map((r) => ({ ...r, name: finest(r.record) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const tables = ordered.map((r) => tableOf(r.record));
  for (const value of measure.values) intern(measure.dimension, 0, value);
  // Strides of the mixed radix (the values interned now: a lookup of any other is a miss).
  const strides: number[] = [];
  let span = 1;
  for (const names of interned) {
    strides.push(span);
    span *= Math.max(1, names.size);
  }
  if (!Number.isSafeInteger(span * dimensions.length * 8)) {
    throw new RangeError('suppression: too many distinct values for one cube');
  }
  const idKey = (ids: readonly number[]) => {
    let key = 0;
    for (let d = 0; d < ids.length; d++) key += (ids[d] as number) * (strides[d] as number);
    return key;
  };
  // A lookup may intern values no record has (an unknown group): those are misses.
  const sizes = interned.map((names) => names.size);
  const internedBefore = (ids: readonly number[]) =>
    ids.every((id, d) => id < (sizes[d] as number));

  const items = new Map<number, Item<R>>();
  const addItem = (
    sample: R,
    table: number[][],
    levels: number[],
    key: number,
    ids?: number[],
  ): Item<R> => {
    let item = items.get(key);
    if (!item) {
      item = {
        key,
        count: 0,
        hidden: false,
        pinned: false,
        isPublic: levels[measure.dimension] === 1 && (spec.publicTotal?.(levels) ?? true),
        sample,
        levels,
        ids: ids ?? levels.map((l, d) => (table[d] as number[])[l] as number),
        table,
        constraints: [],
      };
      items.set(key, item);
    }
    return item;
  };
  const vectors = levelVectors(dimensions);
  for (const [i, { record, count }] of ordered.entries()) {
    if (turn(vectors.length)) yield;
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`suppression: a count must be a non-negative integer, got ${count}`);
    }
    const value = (measureDim.levels[0] as LatticeLevel<R>).value(record);
    if (!measure.values.includes(value)) {
      throw new RangeError(`suppression: unknown measure value ${JSON.stringify(value)}`);
    }
    const table = tables[i] as number[][];
    for (const levels of vectors) {
      let key = 0;
      for (let d = 0; d < levels.length; d++) {
        key += ((table[d] as number[])[levels[d] as number] as number) * (strides[d] as number);
      }
      addItem(record, table, levels, key).count += count;
    }
  }
  // Every group has a cell per measure value: the missing ones are zeros.
  const measureIds = measure.values.map((value) => intern(measure.dimension, 0, value));
  for (const item of [...items.values()]) {
    if (turn()) yield;
    if (item.levels[measure.dimension] !== 1) continue;
    const levels = item.levels.map((level, d) => (d === measure.dimension ? 0 : level));
    for (const valueId of measureIds) {
      const ids = item.ids.map((v, d) => (d === measure.dimension ? valueId : v));
      addItem(item.sample, item.table, levels, idKey(ids), ids);
    }
  }

  // Constraints: each item is a member of the item one level coarser in each dimension. Its
  // value there is read from its sample's table (for a zero item, the sample is another zone's
  // record of the same group, which differs only in the measure).
  const constraints = new Map<number, Constraint<R>>();
  for (const item of items.values()) {
    if (turn(dimensions.length)) yield;
    dimensions.forEach((dim, d) => {
      const level = item.levels[d] as number;
      dim.levels.forEach((coarser, c) => {
        if (!coarser.finer.includes(level)) return;
        const stride = strides[d] as number;
        const coarserId = (item.table[d] as number[])[c] as number;
        const total = items.get(item.key + (coarserId - (item.ids[d] as number)) * stride);
        if (!total) return;
        const ckey = (total.key * dimensions.length + d) * 8 + level;
        let constraint = constraints.get(ckey);
        if (!constraint) {
          constraint = { key: ckey, dimension: d, total, members: [] };
          constraints.set(ckey, constraint);
          total.constraints.push(constraint);
        }
        constraint.members.push(item);
        item.constraints.push(constraint);
      });
    });
  }

  // How common each item's measure value is in its population (for the choice of zeros).
  const scope = spec.scope ?? [];
  const populationOf = (item: Item<R>) => {
    const ids = item.ids.map((v, d) => {
      if (d === measure.dimension || scope.includes(d)) return v;
      const row = item.table[d] as number[];
      return row[row.length - 1] as number;
    });
    return items.get(idKey(ids))?.count ?? 0;
  };
  const populationCount = new Map<Item<R>, number>();
  for (const item of items.values()) {
    if (!item.isPublic) populationCount.set(item, populationOf(item));
  }
  // Published zeros: a zero in a group of at least minCount, or inside a coarser such zero
  // (nobody of the unit's 40 children is red, so none of its 3 girls is either).
  const groupTotal = (item: Item<R>) =>
    items.get(
      idKey(
        item.ids.map((v, d) =>
          d === measure.dimension ? ((item.table[d] as number[])[1] as number) : v,
        ),
      ),
    )?.count ?? 0;
  // Until nothing changes: a zero in a published zero's group along another dimension (its
  // parent is a published zero), or whose finer items along some dimension are all published
  // zeros, is itself a published zero (it would follow from them).
  const zeros = [...items.values()].filter((i) => !i.isPublic && i.count === 0);
  for (const item of zeros) if (groupTotal(item) >= minCount) item.isPublic = true;
  const isPublicZero = (item: Item<R>) => item.isPublic && item.count === 0;
  for (let changed = true; changed; ) {
    changed = false;
    for (const item of zeros) {
      if (item.isPublic) continue;
      const follows = item.constraints.some(({ total, members }) =>
        total === item ? members.length > 0 && members.every(isPublicZero) : isPublicZero(total),
      );
      if (follows) {
        item.isPublic = true;
        changed = true;
      }
    }
  }
  const likelihood = (item: Item<R>) => populationCount.get(item) ?? 0;
  // Pinned: follows from public items, one constraint at a time (until nothing more does).
  const known = (item: Item<R>) => item.isPublic || item.pinned;
  for (let changed = true; changed; ) {
    changed = false;
    for (const item of items.values()) {
      if (turn()) yield;
      if (known(item)) continue;
      if (
        item.constraints.some(({ total, members }) =>
          [total, ...members].every((other) => other === item || known(other)),
        )
      ) {
        item.pinned = true;
        changed = true;
      }
    }
  }

  // Primary suppression.
  for (const item of items.values()) {
    if (item.isPublic) continue;
    if (item.count > 0 && item.count < minCount) item.hidden = true;
  }
  const tiny = spec.tinyGroups ?? [measure.dimension];
  for (const { total, members, dimension } of constraints.values()) {
    if (tiny.includes(dimension) && total.count > 0 && total.count < minCount) {
      for (const member of members) if (!member.isPublic) member.hidden = true;
    }
  }

  // Complementary suppression, constraint by constraint in key order, re-checking the
  // constraints of each newly hidden item.
  const inOrder = [...constraints.values()].sort(byKey);
  for (const c of inOrder) c.members.sort(byKey);
  // A FIFO over a growing array (a head index, not shift(): that would copy the queue).
  const queue: Constraint<R>[] = [...inOrder];
  const queued = new Set<Constraint<R>>(queue);
  for (let head = 0; head < queue.length; head++) {
    if (turn()) yield;
    const constraint = queue[head] as Constraint<R>;
    queued.delete(constraint);
    // Drop what has been processed now and then, so the array stays small.
    if (head > 100_000 && head * 2 > queue.length) {
      queue.splice(0, head + 1);
      head = -1;
    }
    if (!unsafe(constraint)) continue;
    const item = complement(constraint, likelihood);
    if (!item) continue;
    item.hidden = true;
    for (const other of item.constraints) {
      if (!queued.has(other)) {
        queued.add(other);
        queue.push(other);
      }
    }
    if (!queued.has(constraint)) {
      queued.add(constraint);
      queue.push(constraint);
    }
  }

  // Only the items' counts and flags are looked up from here on: the constraints (the larger
  // part of a big cube's memory) are let go, so a cached cube holds little more than its items.
  constraints.clear();
  for (const item of items.values()) item.constraints = [];

  return {
    cell(record, levels) {
      const table = tableOf(record);
      const ids = levels.map((l, d) => (table[d] as number[])[l] as number);
      const item = internedBefore(ids) ? items.get(idKey(ids)) : undefined;
      const count = item?.count ?? 0;
      const hidden = item?.hidden === true;
      return { count, suppressed: hidden, value: hidden ? null : count };
    },
  };
}
