import { municipalityOf, type Principal } from '../../auth/principal.js';
import { type Database, municipalityScope } from '../../db/database.js';
import { type Cell, share, suppressList, suppressTable } from '../../domain/suppression.js';
import { NotFoundError } from '../../http/errors.js';
import { requireRound } from '../rounds/service.js';
import { transitionCounts, zoneCounts } from './repository.js';
import type { AnalyticsFilter, Dimension } from './schemas.js';

const zoneKeys = ['green', 'yellow', 'red', 'none'] as const;
const zoneIndex = (zone: string | null) => (zone === null ? 3 : zoneKeys.indexOf(zone as 'green'));

const publish = (cell: Cell) => ({ value: cell.value, suppressed: cell.suppressed });

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
      const { cells, total } = suppressList(counts, { total: true });
      const totalCell = total as Cell;
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
