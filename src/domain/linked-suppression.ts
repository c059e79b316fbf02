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
  key: string;
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
  /** The value per dimension at the item's level. */
  values: string[];
  constraints: Constraint<R>[];
}

interface Constraint<R> {
  key: string;
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
  /** How many items (of every grouping) are hidden, and how many there are. */
  hiddenCount(): number;
  itemCount(): number;
}

const SEP = '\u001f';

const keyOf = (levels: LevelVector, values: readonly string[]) =>
  values.map((value, d) => `${levels[d]}:${value}`).join(SEP);

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

const byKey = <T extends { key: string }>(a: T, b: T) =>
  a.key < b.key ? -1 : a.key > b.key ? 1 : 0;

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

export function suppressLinked<R>(
  records: readonly CountedRecord<R>[],
  spec: LatticeSpec<R>,
): LinkedSuppression<R> {
  const minCount = spec.minCount ?? MIN_COUNT;
  if (!Number.isSafeInteger(minCount) || minCount < 1) {
    throw new RangeError(`suppression: minCount must be a positive integer, got ${minCount}`);
  }
  const { dimensions, measure } = spec;
  const measureDim = dimensions[measure.dimension];
  if (measureDim?.levels.length !== 2) {
    throw new RangeError('suppression: the measure must be a dimension with two levels');
  }
  const items = new Map<string, Item<R>>();
  const addItem = (sample: R, levels: number[], values: string[]): Item<R> => {
    const key = keyOf(levels, values);
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
        values,
        constraints: [],
      };
      items.set(key, item);
    }
    return item;
  };
  const vectors = levelVectors(dimensions);
  const valuesAt = (record: R, levels: readonly number[]) =>
    dimensions.map((dim, d) => (dim.levels[levels[d] as number] as LatticeLevel<R>).value(record));
  for (const { record, count } of records) {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`suppression: a count must be a non-negative integer, got ${count}`);
    }
    const value = (measureDim.levels[0] as LatticeLevel<R>).value(record);
    if (!measure.values.includes(value)) {
      throw new RangeError(`suppression: unknown measure value ${JSON.stringify(value)}`);
    }
    for (const levels of vectors) addItem(record, levels, valuesAt(record, levels)).count += count;
  }
  // Every group has a cell per measure value: the missing ones are zeros.
  for (const item of [...items.values()]) {
    if (item.levels[measure.dimension] !== 1) continue;
    const levels = item.levels.map((level, d) => (d === measure.dimension ? 0 : level));
    for (const value of measure.values) {
      const values = item.values.map((v, d) => (d === measure.dimension ? value : v));
      addItem(item.sample, levels, values);
    }
  }

  // Constraints: each item is a member of the item one level coarser in each dimension. Its
  // value there is read from its sample record (for a zero item, the sample is another zone's
  // record of the same group, which differs only in the measure).
  const constraints = new Map<string, Constraint<R>>();
  for (const item of items.values()) {
    dimensions.forEach((dim, d) => {
      const level = item.levels[d] as number;
      dim.levels.forEach((coarser, c) => {
        if (!coarser.finer.includes(level)) return;
        const levels = item.levels.map((l, i) => (i === d ? c : l));
        const values = item.values.map((v, i) => (i === d ? coarser.value(item.sample) : v));
        const total = items.get(keyOf(levels, values));
        if (!total) return;
        const ckey = `${total.key}|${d}|${level}`;
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
    const top = (d: number) => (dimensions[d] as LatticeDimension<R>).levels.length - 1;
    const coarse = (d: number) => d !== measure.dimension && !scope.includes(d);
    const levels = item.levels.map((level, d) => (coarse(d) ? top(d) : level));
    const values = item.values.map((value, d) =>
      coarse(d)
        ? ((dimensions[d] as LatticeDimension<R>).levels[top(d)] as LatticeLevel<R>).value(
            item.sample,
          )
        : value,
    );
    return items.get(keyOf(levels, values))?.count ?? 0;
  };
  const populationCount = new Map<Item<R>, number>();
  for (const item of items.values()) {
    if (!item.isPublic) populationCount.set(item, populationOf(item));
  }
  // Published zeros: a zero in a group of at least minCount, or inside a coarser such zero
  // (nobody of the unit's 40 children is red, so none of its 3 girls is either).
  const groupTotal = (item: Item<R>) =>
    items.get(
      keyOf(
        item.levels.map((level, d) => (d === measure.dimension ? 1 : level)),
        item.values.map((value, d) =>
          d === measure.dimension
            ? (measureDim.levels[1] as LatticeLevel<R>).value(item.sample)
            : value,
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
  const ordered = [...constraints.values()].sort(byKey);
  for (const c of ordered) c.members.sort(byKey);
  const queue: Constraint<R>[] = [...ordered];
  const queued = new Set<Constraint<R>>(queue);
  while (queue.length > 0) {
    const constraint = queue.shift() as Constraint<R>;
    queued.delete(constraint);
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

  return {
    cell(record, levels) {
      const item = items.get(keyOf(levels, valuesAt(record, levels)));
      const count = item?.count ?? 0;
      const hidden = item?.hidden === true;
      return { count, suppressed: hidden, value: hidden ? null : count };
    },
    hiddenCount: () => [...items.values()].filter((i) => i.hidden).length,
    itemCount: () => items.size,
  };
}
