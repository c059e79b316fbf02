import type { Transaction } from 'kysely';
import { searchCriteria } from '../../audit/audit.js';
import type { DB } from '../../db/schema.js';
import {
  type Cell,
  MIN_COUNT,
  share,
  suppressList,
  suppressTable,
} from '../../domain/suppression.js';
import type { Session } from '../../request/session.js';
import { findRoundsIn } from '../rounds/repository.js';
import { requireRound } from '../rounds/service.js';
import { requireUnit } from '../units/repository.js';
import { cachedAggregate, cacheKey, filterKey } from './cube-cache.js';
import {
  childPopulation,
  coverageCounts,
  daysRedToReport,
  earlyDetection,
  type GroupRow,
  type NoticeRow,
  noticeCounts,
  type QuartileRow,
  reportCounts,
  stepCounts,
  type TransitionRow,
  transitionCounts,
  type ZoneCountRow,
  zoneCounts,
} from './repository.js';
import type { AnalyticsFilter, Dimension } from './schemas.js';
import {
  cubeDimensions,
  levelsOf,
  type TransitionCube,
  transitionCell,
  transitionCube,
  transitionCubeAsync,
  transitionLevels,
  type ZoneCube,
  type ZoneKey,
  zoneCell,
  zoneCube,
  zoneCubeAsync,
  zoneKeys,
} from './zone-lattice.js';

/** What every aggregate is asked: the filter and the dimensions to group by. */
export interface AggregateQuery {
  filter: AnalyticsFilter;
  groupBy: readonly Dimension[];
}

const publish = (cell: Cell) => ({ value: cell.value, suppressed: cell.suppressed });
const hidden = (cell: Cell): Cell => ({ ...cell, suppressed: true, value: null });

/**
 * A groups × parts table (e.g. units × [assessed, missing]) with group totals and part totals,
 * suppressed as one table so that no hidden count follows from the totals; a group whose total
 * is hidden hides its zeros too.
 */
function groupTable(counts: number[][], parts: number) {
  if (counts.length === 0) {
    const zero = { count: 0, value: 0, suppressed: false };
    return { rows: [], totals: Array.from({ length: parts }, () => zero), total: zero };
  }
  const table = suppressTable(counts, { rowTotals: true, columnTotals: true });
  const rowTotals = table.rowTotals as Cell[];
  const grand = table.grandTotal as Cell;
  const columnTotals = table.columnTotals as Cell[];
  return {
    rows: table.cells.map((line, i) => {
      const total = rowTotals[i] as Cell;
      return { cells: total.suppressed ? line.map(hidden) : line, total };
    }),
    totals: grand.suppressed ? columnTotals.map(hidden) : columnTotals,
    total: grand,
  };
}

/** One count per group plus their total, suppressed together (so no group follows from it). */
function groupList(counts: number[]) {
  const { cells, total } = suppressList(counts, { total: true });
  return { cells, total: total as Cell };
}

/** The API group object of a row of dimension columns. */
function groupOf(row: GroupRow, groupBy: readonly Dimension[]) {
  const group: Record<string, unknown> = {};
  for (const d of groupBy) {
    if (d === 'round') {
      group.round =
        row.round_id === null
          ? null
          : { id: row.round_id, name: row.round_name, windowStart: row.round_start };
    } else if (d === 'unit') {
      group.unit = row.unit_id === null ? null : { id: row.unit_id, name: row.unit_name };
    } else if (d === 'district') group.district = row.district;
    else if (d === 'unitKind') group.unitKind = row.unit_kind;
    else if (d === 'ageBand') group.ageBand = row.age_band;
    else if (d === 'sex') group.sex = row.sex;
    else if (d === 'year') group.year = row.year;
    else group.cohort = row.cohort;
  }
  return group;
}

/** Rows of several queries over the same dimensions, merged per group (in first-seen order). */
function byGroup(groupBy: readonly Dimension[], sources: GroupRow[][]) {
  const groups = new Map<string, { group: Record<string, unknown>; rows: GroupRow[] }>();
  sources.forEach((rows, source) => {
    for (const row of rows) {
      const group = groupOf(row, groupBy);
      const key = JSON.stringify(group);
      const entry = groups.get(key) ?? { group, rows: [] };
      entry.rows[source] = row;
      groups.set(key, entry);
    }
  });
  return [...groups.values()];
}

const unique = (dims: readonly Dimension[]) => [...new Set(dims)];

/**
 * The filter limited to the principal's units. A unit-limited principal (a unit leader) counts
 * only its own units' children: without `unitIds` the filter becomes its units (so the query's
 * WHERE names them), and a unit that is not its own is refused as everywhere else: 404 when the
 * municipality has no such unit, else 403. Others get the filter as asked.
 */
async function withinOwnUnits(
  session: Session,
  trx: Transaction<DB>,
  filter: AnalyticsFilter,
): Promise<AnalyticsFilter> {
  const { access } = session;
  if (!access.isUnitLimited) return filter;
  const unitIds = filter.unitIds?.length ? [...new Set(filter.unitIds)] : [...access.unitIds];
  for (const unitId of unitIds) {
    if (access.mayActInUnit(unitId)) continue;
    await requireUnit(trx, session.municipalityId, unitId);
    access.requireUnit(unitId);
  }
  return { ...filter, unitIds };
}

/** The audit subject of an aggregate read: which aggregate, over which filter (units as scoped). */
function auditAggregate(
  session: Session,
  aggregate: string,
  filter: AnalyticsFilter,
  groupBy: readonly Dimension[],
) {
  session.audit({ criteria: searchCriteria({ aggregate, ...filter, groupBy }) });
}

/**
 * Zone distribution: counts of current assessments per group and zone, grouped in SQL. The
 * counts are protected as one cube with every other grouping of the same filter (see
 * zone-lattice.ts): a zone count of 1–4, and the counts that would reveal one in this or any
 * other grouping, are hidden. The group totals (children assessed) are published.
 */
export async function zoneDistribution(
  session: Session,
  trx: Transaction<DB>,
  { filter, groupBy }: AggregateQuery,
) {
  const dims = unique(groupBy);
  const m = session.municipalityId;
  // The finest counts, ordered by the asked groups first (so groups come in SQL's order).
  const order = [...dims, ...cubeDimensions.filter((d) => !dims.includes(d))];
  // Cached by the municipality's analytics version (cube-cache.ts); the cube is computed after
  // the transaction, in slices (seconds for a large municipality): neither a connection nor the
  // event loop is held meanwhile.
  return cachedAggregate(
    trx,
    m,
    JSON.stringify(['zone-distribution', m, filterKey(filter), dims]),
    (db) => zoneCounts(db, m, filter, order),
    async (rows, version) =>
      zoneDistributionOf(
        rows,
        dims,
        await zoneCubeAsync(rows, cacheKey(version, 'zone', m, filterKey(filter))),
      ),
  );
}

/**
 * The zone-distribution response of the finest counted rows (every dimension; groups in their
 * first-seen order), suppressed as one cube.
 */
export function zoneDistributionOf<D extends readonly Dimension[]>(
  rows: ZoneCountRow[],
  dims: D,
  cube: ZoneCube = zoneCube(rows),
) {
  const groups = new Map<string, { group: Record<string, unknown>; sample: ZoneCountRow }>();
  for (const row of rows) {
    const group = groupOf(row, dims);
    const key = JSON.stringify(group);
    if (!groups.has(key)) groups.set(key, { group, sample: row });
  }
  return {
    groupBy: dims,
    rows: [...groups.values()].map(({ group, sample }) => {
      const figures = zoneFigures(cube, sample, dims);
      if (!figures.hidden) return { group, ...figures.published };
      // A dash helps nobody: the next coarser group whose zones are all published, if any.
      for (let coarser = coarsen(dims); coarser; coarser = coarsen(coarser)) {
        const fallback = zoneFigures(cube, sample, coarser);
        if (!fallback.hidden) {
          return {
            group,
            ...figures.published,
            coarser: { group: groupOf(sample, coarser), ...fallback.published },
          };
        }
      }
      return { group, ...figures.published };
    }),
  };
}

/** A group's zone counts, total and shares, from the cube; and whether any count is hidden. */
function zoneFigures(cube: ZoneCube, sample: ZoneCountRow, dims: readonly Dimension[]) {
  const cellLevels = levelsOf(dims, 'cell');
  const [green, yellow, red, none] = zoneKeys.map((zone) =>
    zoneCell(cube, sample, cellLevels, zone),
  ) as [Cell, Cell, Cell, Cell];
  // The number assessed in the group: public (see zone-lattice.ts).
  const count = zoneCell(cube, sample, levelsOf(dims, 'total')).count;
  const total: Cell = { count, suppressed: false, value: count };
  return {
    hidden: [green, yellow, red, none].some((c) => c.suppressed),
    published: {
      counts: {
        green: publish(green),
        yellow: publish(yellow),
        red: publish(red),
        none: publish(none),
      },
      total: publish(total),
      shares: {
        green: share(green, total),
        yellow: share(yellow, total),
        red: share(red, total),
        none: share(none, total),
      },
    },
  };
}

/**
 * The next coarser grouping: a unit becomes its district; then birth year, sex, age band, unit
 * kind and district are given up in that order (the round stays). Undefined when nothing is
 * left to give up.
 */
export function coarsen(dims: readonly Dimension[]): Dimension[] | undefined {
  if (dims.includes('unit')) {
    return [...dims.filter((d) => d !== 'unit' && d !== 'district'), 'district'];
  }
  for (const d of ['cohort', 'sex', 'ageBand', 'unitKind', 'district', 'year'] as const) {
    if (dims.includes(d)) return dims.filter((x) => x !== d);
  }
  return undefined;
}

/** The transition dimensions of the finest counts: every grouping dimension but the round. */
const transitionCubeDimensions = cubeDimensions.filter((d) => d !== 'round');

/**
 * The zone × zone matrices (per group) of the children assessed in both rounds, suppressed as
 * one cube with every other grouping of the same rounds and filter (zone-lattice.ts).
 */
export async function transitions(
  session: Session,
  trx: Transaction<DB>,
  query: AggregateQuery & { fromRoundId: string; toRoundId: string },
) {
  const { filter, fromRoundId, toRoundId } = query;
  const dims = unique(query.groupBy);
  const m = session.municipalityId;
  const from = await requireRound(trx, m, fromRoundId);
  const to = await requireRound(trx, m, toRoundId);
  const order = [...dims, ...transitionCubeDimensions.filter((d) => !dims.includes(d))];
  // As zoneDistribution: cached by version, the cube after the transaction, in slices.
  return cachedAggregate(
    trx,
    m,
    JSON.stringify(['transitions', m, filterKey(filter), dims, from.id, to.id]),
    (db) => transitionCounts(db, m, filter, order, fromRoundId, toRoundId),
    async (rows, version) =>
      transitionsOf(
        from,
        to,
        rows,
        dims,
        await transitionCubeAsync(
          rows,
          cacheKey(version, 'transition', m, filterKey(filter), from.id, to.id),
        ),
      ),
  );
}

/**
 * The transitions response of the finest counted rows (every dimension but the round; groups in
 * their first-seen order), suppressed as one cube.
 */
export function transitionsOf(
  from: { id: string; name: string },
  to: { id: string; name: string },
  rows: TransitionRow[],
  dims: readonly Dimension[],
  cube: TransitionCube = transitionCube(rows),
) {
  const groups = new Map<
    string,
    { group: Record<string, unknown>; sample: TransitionRow | undefined }
  >();
  // Without groupBy there is always the one matrix, also when nobody moved.
  if (dims.length === 0) groups.set('{}', { group: {}, sample: rows[0] });
  for (const row of rows) {
    const group = groupOf(row, dims);
    const key = JSON.stringify(group);
    if (!groups.has(key)) groups.set(key, { group, sample: row });
  }
  const cell = (sample: TransitionRow | undefined, f: 0 | 1, t: 0 | 1, a: ZoneKey, b: ZoneKey) =>
    publish(
      sample === undefined
        ? { count: 0, suppressed: false, value: 0 }
        : transitionCell(cube, sample, transitionLevels(dims, f, t), a, b),
    );
  return {
    fromRound: { id: from.id, name: from.name },
    toRound: { id: to.id, name: to.name },
    zones: [...zoneKeys],
    groupBy: dims,
    rows: [...groups.values()].map(({ group, sample }) => ({
      group,
      matrix: zoneKeys.map((a) => zoneKeys.map((b) => cell(sample, 0, 0, a, b))),
      fromTotals: zoneKeys.map((a) => cell(sample, 0, 1, a, 'green')),
      toTotals: zoneKeys.map((b) => cell(sample, 1, 0, 'green', b)),
      total: cell(sample, 1, 1, 'green', 'green'),
    })),
  };
}

/** Quartiles published only for groups of at least 5 children, with their (suppressed) count. */
function quartiles(row: QuartileRow | undefined, children: Cell) {
  const shown = row !== undefined && row.n >= MIN_COUNT && !children.suppressed;
  const round1 = (x: number | null | undefined) =>
    x === null || x === undefined || !shown ? null : Math.round(x * 10) / 10;
  return {
    children: publish(children),
    q1: round1(row?.q1),
    median: round1(row?.median),
    q3: round1(row?.q3),
  };
}

/** Quartiles per group and overall; the children counts suppressed as one list with the total. */
function quartileGroups(perGroup: (QuartileRow | undefined)[], overall: QuartileRow | undefined) {
  const counts = groupList(perGroup.map((r) => r?.n ?? 0));
  return {
    groups: perGroup.map((r, i) => quartiles(r, counts.cells[i] as Cell)),
    overall: quartiles(overall, counts.total),
  };
}

export async function earlyDetectionStats(
  session: Session,
  trx: Transaction<DB>,
  { filter, groupBy }: AggregateQuery,
) {
  const dims = unique(groupBy);
  const m = session.municipalityId;
  const [rows, overall] = await Promise.all([
    earlyDetection(trx, m, filter, dims),
    earlyDetection(trx, m, filter, []),
  ]);
  const q = quartileGroups(rows, overall[0]);
  return {
    groupBy: dims,
    rows: rows.map((r, i) => ({
      group: groupOf(r, dims),
      ageMonthsAtFirstConcern: q.groups[i] as ReturnType<typeof quartiles>,
    })),
    overall: { ageMonthsAtFirstConcern: q.overall },
  };
}

/**
 * Coverage per round and group (and a total row per round), not suppressed: how many children a
 * round covers and how many of them were assessed is about the staff's work, not about any
 * child's well-being (a child not yet assessed has no finding), and the numbers of children per
 * unit, age band and sex are what every roster shows. What is sensitive, the zone, is never part
 * of it.
 */
export async function coverageStats(
  session: Session,
  trx: Transaction<DB>,
  { filter: asked, groupBy }: AggregateQuery,
) {
  const dims = unique(groupBy).filter((d) => d !== 'round');
  const m = session.municipalityId;
  const filter = await withinOwnUnits(session, trx, asked);
  auditAggregate(session, 'coverage', filter, groupBy);
  const rows = [];
  const shown = (count: number): Cell => ({ count, suppressed: false, value: count });
  for (const round of await findRoundsIn(trx, m, filter)) {
    const counts = await coverageCounts(trx, m, round, filter, dims);
    if (counts.length === 0) continue;
    const roundGroup = {
      round: { id: round.id, name: round.name, windowStart: round.window_start },
    };
    const entry = (
      group: Record<string, unknown>,
      enrolled: number,
      assessed: number,
      last: boolean,
    ) => {
      const total = shown(enrolled);
      const a = shown(assessed);
      return {
        group: { ...roundGroup, ...group },
        roundTotal: last,
        enrolled: publish(total),
        assessed: publish(a),
        missing: publish(shown(enrolled - assessed)),
        coverage: share(a, total),
      };
    };
    let enrolled = 0;
    let assessed = 0;
    for (const c of counts) {
      rows.push(entry(groupOf(c, dims), c.enrolled, c.assessed, false));
      enrolled += c.enrolled;
      assessed += c.assessed;
    }
    rows.push(entry({}, enrolled, assessed, true));
  }
  return { groupBy: ['round' as const, ...dims], rows };
}

export async function followThroughStats(
  session: Session,
  trx: Transaction<DB>,
  { filter: asked, groupBy }: AggregateQuery,
) {
  const dims = unique(groupBy);
  const m = session.municipalityId;
  const filter = await withinOwnUnits(session, trx, asked);
  auditAggregate(session, 'follow-through', filter, groupBy);
  const [steps, lags, overallLag, notices] = await Promise.all([
    stepCounts(trx, m, session.today, filter, dims),
    daysRedToReport(trx, m, filter, dims),
    daysRedToReport(trx, m, filter, []),
    noticeCounts(trx, m, session.today, filter, dims),
  ]);
  const groups = byGroup(dims, [steps, lags, notices]);
  const stepOf = (i: number) =>
    (groups[i]?.rows[0] as (typeof steps)[number] | undefined) ?? {
      due: 0,
      done_on_time: 0,
      open: 0,
      overdue: 0,
    };
  const counts = groups.map((_, i) => stepOf(i));
  const due = groupTable(
    counts.map((c) => [c.done_on_time, c.due - c.done_on_time]),
    2,
  );
  const open = groupList(counts.map((c) => c.open));
  const overdue = groupList(counts.map((c) => c.overdue));
  const noticeOf = (i: number) =>
    (groups[i]?.rows[2] as NoticeRow | undefined) ?? {
      due: 0,
      informed_on_time: 0,
      open: 0,
      overdue: 0,
      not_informed_risk: 0,
    };
  const noticeRows = groups.map((_, i) => noticeOf(i));
  const noticesDue = groupTable(
    noticeRows.map((c) => [c.informed_on_time, c.due - c.informed_on_time]),
    2,
  );
  const noticesOpen = groupList(noticeRows.map((c) => c.open));
  const noticesOverdue = groupList(noticeRows.map((c) => c.overdue));
  const notInformed = groupList(noticeRows.map((c) => c.not_informed_risk));
  const parents = (i: number | 'overall') => {
    const row =
      i === 'overall'
        ? { cells: noticesDue.totals, total: noticesDue.total }
        : (noticesDue.rows[i] as { cells: Cell[]; total: Cell });
    const pick = (list: { cells: Cell[]; total: Cell }) =>
      publish(i === 'overall' ? list.total : (list.cells[i] as Cell));
    return {
      due: publish(row.total),
      informedByDeadline: publish(row.cells[0] as Cell),
      shareInformedByDeadline: share(row.cells[0] as Cell, row.total),
      open: pick(noticesOpen),
      overdue: pick(noticesOverdue),
      notInformedRisk: pick(notInformed),
    };
  };
  const q = quartileGroups(
    groups.map((g) => g.rows[1] as QuartileRow | undefined),
    overallLag[0],
  );
  const measures = (
    cells: Cell[],
    total: Cell,
    o: Cell,
    od: Cell,
    lag: unknown,
    parentsInformed: ReturnType<typeof parents>,
  ) => ({
    stepsDue: publish(total),
    doneByDeadline: publish(cells[0] as Cell),
    shareDoneByDeadline: share(cells[0] as Cell, total),
    open: publish(o),
    overdue: publish(od),
    parentsInformed,
    daysFromRedToConcernReport: lag as ReturnType<typeof quartiles>,
  });
  return {
    groupBy: dims,
    rows: groups.map((g, i) => {
      const row = due.rows[i] as { cells: Cell[]; total: Cell };
      return {
        group: g.group,
        ...measures(
          row.cells,
          row.total,
          open.cells[i] as Cell,
          overdue.cells[i] as Cell,
          q.groups[i],
          parents(i),
        ),
      };
    }),
    overall: measures(
      due.totals,
      due.total,
      open.total,
      overdue.total,
      q.overall,
      parents('overall'),
    ),
  };
}

/** A rate per 1,000, one decimal; null when either figure is hidden or the base is 0. */
function per1000(count: Cell, base: Cell): number | null {
  if (count.suppressed || base.suppressed || base.count === 0) return null;
  return Math.round((count.count * 10_000) / base.count) / 10;
}

export async function concernReportAggregate(
  session: Session,
  trx: Transaction<DB>,
  { filter, groupBy }: AggregateQuery,
) {
  const dims = unique(groupBy);
  const m = session.municipalityId;
  const [reports, population] = await Promise.all([
    reportCounts(trx, m, filter, dims),
    childPopulation(trx, m, filter, dims, session.today),
  ]);
  // Groups with reports come first; groups with children but no report follow (their zeros are
  // figures too).
  const groups = byGroup(dims, [reports, population]);
  const row = (i: number) => groups[i]?.rows[0] as (typeof reports)[number] | undefined;
  const counts = groups.map((_, i) => row(i) ?? { reports: 0, under8: 0, children: 0 });
  const reportTable = groupTable(
    counts.map((c) => [c.under8, c.reports - c.under8]),
    2,
  );
  const childTable = groupTable(
    groups.map((_, i) => {
      const r = row(i);
      return r ? [r.repeat_children, r.children - r.repeat_children] : [0, 0];
    }),
    2,
  );
  const base = groupList(groups.map((g) => (g.rows[1]?.children as number | undefined) ?? 0));
  const measures = (
    reportCells: Cell[],
    reportsTotal: Cell,
    childCells: Cell[],
    childrenTotal: Cell,
    population: Cell,
  ) => ({
    reports: publish(reportsTotal),
    reportsAboutChildrenUnder8: publish(reportCells[0] as Cell),
    shareUnder8: share(reportCells[0] as Cell, reportsTotal),
    childrenReported: publish(childrenTotal),
    childrenWithRepeatReports: publish(childCells[0] as Cell),
    childrenAged0To17: publish(population),
    childrenReportedPer1000: per1000(childrenTotal, population),
    reportsPer1000: per1000(reportsTotal, population),
  });
  const line = (t: ReturnType<typeof groupTable>, i: number) =>
    t.rows[i] as { cells: Cell[]; total: Cell };
  return {
    groupBy: dims,
    rows: groups.map((g, i) => ({
      group: g.group,
      ...measures(
        line(reportTable, i).cells,
        line(reportTable, i).total,
        line(childTable, i).cells,
        line(childTable, i).total,
        base.cells[i] as Cell,
      ),
    })),
    overall: measures(
      reportTable.totals,
      reportTable.total,
      childTable.totals,
      childTable.total,
      base.total,
    ),
  };
}
