import { municipalityOf, type Principal } from '../../auth/principal.js';
import { type Database, municipalityScope } from '../../db/database.js';
import { localDate } from '../../domain/dates.js';
import { type Cell, share, suppressList, suppressTable } from '../../domain/suppression.js';
import { NotFoundError } from '../../http/errors.js';
import { coverageByUnit } from '../rounds/repository.js';
import { requireRound } from '../rounds/service.js';
import type { UnitKind } from '../units/schemas.js';
import {
  concernReportStats,
  daysRedToReport,
  earlyDetection,
  type QuartileRow,
  stepStats,
  transitionCounts,
  zoneCounts,
} from './repository.js';
import type { AnalyticsFilter, Dimension } from './schemas.js';

const zoneKeys = ['green', 'yellow', 'red', 'none'] as const;
const zoneIndex = (zone: string | null) => (zone === null ? 3 : zoneKeys.indexOf(zone as 'green'));

const publish = (cell: Cell) => ({ value: cell.value, suppressed: cell.suppressed });
const hidden = (cell: Cell): Cell => ({ ...cell, suppressed: true, value: null });

/**
 * A group's counts and its total, suppressed. When the total itself is hidden (a group of 1–4
 * children) every cell is hidden too: a published zero would tell that all of the group is in
 * the hidden cells.
 */
function listWithTotal(counts: number[]): { cells: Cell[]; total: Cell } {
  const { cells, total } = suppressList(counts, { total: true });
  const all = total as Cell;
  return { cells: all.suppressed ? cells.map(hidden) : cells, total: all };
}

function groupOf(row: Record<string, unknown>, groupBy: readonly Dimension[]) {
  const group: Record<string, unknown> = {};
  for (const d of groupBy) {
    if (d === 'round') {
      group.round = { id: row.round_id, name: row.round_name, windowStart: row.round_start };
    } else if (d === 'unit') {
      group.unit = { id: row.unit_id, name: row.unit_name };
    } else if (d === 'district') group.district = row.district;
    else if (d === 'unitKind') group.unitKind = row.unit_kind;
    else if (d === 'ageBand') group.ageBand = row.age_band;
    else group.sex = row.sex;
  }
  return group;
}

/**
 * Zone distribution: counts of current assessments per group and zone, grouped in SQL; counts
 * of 1–4 and the cells that would reveal them are suppressed.
 */
export async function zoneDistribution(
  database: Database,
  principal: Principal,
  filter: AnalyticsFilter,
  groupBy: readonly Dimension[],
) {
  const municipalityId = municipalityOf(principal);
  const dims = [...new Set(groupBy)];
  const rows = await database.transaction(municipalityScope(municipalityId), (trx) =>
    zoneCounts(trx, municipalityId, filter, dims),
  );
  const groups = new Map<string, { group: Record<string, unknown>; counts: number[] }>();
  for (const row of rows) {
    const group = groupOf(row, dims);
    const key = JSON.stringify(group);
    const entry = groups.get(key) ?? { group, counts: [0, 0, 0, 0] };
    entry.counts[zoneIndex(row.zone)] = (entry.counts[zoneIndex(row.zone)] ?? 0) + row.count;
    groups.set(key, entry);
  }
  return {
    groupBy: dims,
    rows: [...groups.values()].map(({ group, counts }) => {
      const { cells, total: totalCell } = listWithTotal(counts);
      const [green, yellow, red, none] = cells as [Cell, Cell, Cell, Cell];
      return {
        group,
        counts: {
          green: publish(green),
          yellow: publish(yellow),
          red: publish(red),
          none: publish(none),
        },
        total: publish(totalCell),
        shares: {
          green: share(green, totalCell),
          yellow: share(yellow, totalCell),
          red: share(red, totalCell),
          none: share(none, totalCell),
        },
      };
    }),
  };
}

/** The zone × zone matrix of the children assessed in both rounds, with suppression. */
export async function transitions(
  database: Database,
  principal: Principal,
  filter: AnalyticsFilter,
  fromRoundId: string,
  toRoundId: string,
) {
  const municipalityId = municipalityOf(principal);
  return database.transaction(municipalityScope(municipalityId), async (trx) => {
    const from = await requireRound(trx, municipalityId, fromRoundId).catch(() => {
      throw new NotFoundError('round', fromRoundId);
    });
    const to = await requireRound(trx, municipalityId, toRoundId);
    const rows = await transitionCounts(trx, municipalityId, filter, fromRoundId, toRoundId);
    const matrix = zoneKeys.map(() => zoneKeys.map(() => 0));
    for (const row of rows) {
      const line = matrix[zoneIndex(row.from_zone)] as number[];
      line[zoneIndex(row.to_zone)] = (line[zoneIndex(row.to_zone)] ?? 0) + row.count;
    }
    const table = suppressTable(matrix, { rowTotals: true, columnTotals: true });
    // A row or column whose total is hidden hides its zeros too (see listWithTotal).
    table.cells = table.cells.map((line, i) =>
      line.map((c, j) =>
        table.rowTotals?.[i]?.suppressed || table.columnTotals?.[j]?.suppressed ? hidden(c) : c,
      ),
    );
    return {
      fromRound: { id: from.id, name: from.name },
      toRound: { id: to.id, name: to.name },
      zones: [...zoneKeys],
      matrix: table.cells.map((line) => line.map(publish)),
      fromTotals: (table.rowTotals ?? []).map(publish),
      toTotals: (table.columnTotals ?? []).map(publish),
      total: publish(table.grandTotal as Cell),
    };
  });
}

const MIN = 5;
/** A single count, suppressed at 1–4 (a group that small has no published statistics). */
const single = (n: number) => publish(suppressList([n]).cells[0] as Cell);

function quartiles(row: QuartileRow) {
  const shown = row.n >= MIN;
  const round1 = (x: number | null) => (x === null || !shown ? null : Math.round(x * 10) / 10);
  return {
    children: single(row.n),
    q1: round1(row.q1),
    median: round1(row.median),
    q3: round1(row.q3),
  };
}

export async function earlyDetectionStats(
  database: Database,
  principal: Principal,
  filter: { unitIds?: string[] | undefined; districts?: string[] | undefined },
) {
  const municipalityId = municipalityOf(principal);
  const rows = await database.transaction(municipalityScope(municipalityId), (trx) =>
    earlyDetection(trx, municipalityId, filter),
  );
  return {
    rows: rows.map((r) => ({
      birthYear: r.birth_year,
      district: r.district,
      ageMonthsAtFirstConcern: quartiles(r),
    })),
  };
}

/** Coverage per round and unit (and a whole-round row with unit null), suppressed. */
export async function coverageStats(
  database: Database,
  principal: Principal,
  filter: AnalyticsFilter,
) {
  const municipalityId = municipalityOf(principal);
  return database.transaction(municipalityScope(municipalityId), async (trx) => {
    let query = trx
      .selectFrom('rounds')
      .select(['id'])
      .where('municipality_id', '=', municipalityId)
      .orderBy('window_start')
      .orderBy('id');
    if (filter.roundIds?.length) query = query.where('id', 'in', filter.roundIds);
    if (filter.from) query = query.where('window_start', '>=', filter.from);
    if (filter.to) query = query.where('window_start', '<=', filter.to);
    const rows = [];
    for (const { id } of await query.execute()) {
      const round = await requireRound(trx, municipalityId, id);
      const units = await coverageByUnit(trx, municipalityId, round, filter.unitIds);
      const roundInfo = { id: round.id, name: round.name, windowStart: round.window_start };
      // One table per round (units × assessed/missing, with unit and round totals) so that no
      // hidden unit count can be derived from the round's totals.
      const table = suppressTable(
        units.map((u) => [u.assessed, u.enrolled - u.assessed]),
        { rowTotals: true, columnTotals: true },
      );
      const entry = (
        unit: { id: string; name: string; kind: UnitKind } | null,
        cells: Cell[],
        total: Cell,
      ) => {
        const [a, m] = (total.suppressed ? cells.map(hidden) : cells) as [Cell, Cell];
        return {
          round: roundInfo,
          unit,
          enrolled: publish(total),
          assessed: publish(a),
          missing: publish(m),
          coverage: share(a, total),
        };
      };
      units.forEach((u, i) => {
        rows.push(
          entry(
            { id: u.unit_id, name: u.unit_name, kind: u.unit_kind as UnitKind },
            table.cells[i] as Cell[],
            table.rowTotals?.[i] as Cell,
          ),
        );
      });
      if (units.length > 0) {
        rows.push(entry(null, table.columnTotals as Cell[], table.grandTotal as Cell));
      }
    }
    return { rows };
  });
}

export async function followThroughStats(
  database: Database,
  principal: Principal,
  filter: { unitIds?: string[] | undefined },
  now: Date,
) {
  const municipalityId = municipalityOf(principal);
  return database.transaction(municipalityScope(municipalityId), async (trx) => {
    const units = await stepStats(trx, municipalityId, localDate(now), filter.unitIds);
    const lags = await daysRedToReport(trx, municipalityId, filter.unitIds);
    return {
      units: units.map((u) => {
        const { cells, total } = listWithTotal([u.done_on_time, u.due - u.done_on_time]);
        const done = cells[0] as Cell;
        return {
          unit: { id: u.unit_id, name: u.unit_name },
          stepsDue: publish(total as Cell),
          doneByDeadline: publish(done),
          shareDoneByDeadline: share(done, total as Cell),
          open: single(u.open),
          overdue: single(u.overdue),
        };
      }),
      daysFromRedToConcernReport: quartiles(lags),
    };
  });
}

export async function concernReportAggregate(
  database: Database,
  principal: Principal,
  filter: { from?: string | undefined; to?: string | undefined },
) {
  const municipalityId = municipalityOf(principal);
  const s = await database.transaction(municipalityScope(municipalityId), (trx) =>
    concernReportStats(trx, municipalityId, filter),
  );
  const reports = listWithTotal([s.under8, s.reports - s.under8]);
  const children = listWithTotal([s.repeat_children, s.children - s.repeat_children]);
  const under8 = reports.cells[0] as Cell;
  return {
    reports: publish(reports.total as Cell),
    reportsAboutChildrenUnder8: publish(under8),
    shareUnder8: share(under8, reports.total as Cell),
    childrenReported: publish(children.total as Cell),
    childrenWithRepeatReports: publish(children.cells[0] as Cell),
  };
}
