/**
 * How long the protected zone cube takes for a municipality of a given size (synthetic counts
 * shaped like the benchmark's: 60 units and 20,000 children per block, 6 rounds).
 * `npx tsx bench/cube-profile.ts [blocks]`.
 */
import type { ZoneCountRow } from '../src/features/analytics/repository.js';
import { zoneCube } from '../src/features/analytics/zone-lattice.js';

const blocks = Number(process.argv[2] ?? 1);
let seed = 42;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const units = Array.from({ length: 60 * blocks }, (_, i) => ({
  id: `u${i}`,
  district: `d${i % 8}`,
  kind: ['nursery', 'kindergarten', 'school', 'after_school'][i % 4],
}));
const counts = new Map<string, ZoneCountRow>();
for (let round = 0; round < 6; round++) {
  for (let child = 0; child < 20_000 * blocks * 0.8; child++) {
    const unit = units[Math.floor(random() * units.length)] as (typeof units)[number];
    const cohort = 2008 + Math.floor(random() * 18);
    const ageBand = ['0-2', '3-5', '6-9', '10-13', '14-17'][
      Math.min(4, Math.floor((2026 - cohort) / 4))
    ];
    const sex = ['female', 'male', 'other'][Math.floor(random() * 2.02)];
    const r = random();
    const zone = r < 0.8 ? 'green' : r < 0.93 ? 'yellow' : r < 0.98 ? 'red' : null;
    const key = [round, unit.id, ageBand, sex, cohort, zone].join('|');
    const row = counts.get(key);
    if (row) row.count += 1;
    else
      counts.set(key, {
        round_id: `r${round}`,
        round_name: `R${round}`,
        round_start: `202${round}-03-01`,
        year: 2020 + Math.floor(round / 2),
        unit_id: unit.id,
        unit_name: unit.id,
        district: unit.district,
        unit_kind: unit.kind,
        age_band: ageBand,
        sex,
        cohort,
        zone,
        count: 1,
      } as ZoneCountRow);
  }
}
const rows = [...counts.values()];
const t0 = performance.now();
zoneCube(rows);
console.log(
  `${blocks} block(s): ${rows.length} count rows, cube in ${(performance.now() - t0).toFixed(0)} ms`,
);
