import path from 'node:path';
import { parseArgs } from 'node:util';

/** What one run measures, and how long: the default profile, --quick, and the flags. */
export const sections = [
  'submission',
  'reads',
  'export',
  'aggregates',
  'integration',
  'pglite',
] as const;
export type Section = (typeof sections)[number];

export interface BenchOptions {
  mode: 'default' | 'quick';
  /** Multiplies the base data set (children and units of one block). */
  scale: number;
  /** Children and units of one block: the default municipality is one block at --scale 1. */
  childrenPerBlock: number;
  unitsPerBlock: number;
  rounds: number;
  /** Data sizes (in blocks) the aggregates are measured at; the first is the base data set. */
  multiples: number[];
  /**
   * --history N: the data grows to N× (the last multiple) and submission (c=16), the timeline
   * and the aggregates are measured again there, against the same cases at 1× (null: not run).
   */
  history: number | null;
  warmupSeconds: number;
  durationSeconds: number;
  submissionConcurrency: number[];
  readConcurrency: number;
  /** Service and psql export runs at the base size; the median counts. */
  exportRepeats: number;
  skipPglite: boolean;
  pgliteChildren: number;
  pgliteConcurrency: number[];
  seed: number;
  /** Start the service under `node --cpu-prof` and write profiles to <results>/profiles. */
  profile: boolean;
  /** Integration (issue 15): assessments sent one by one and in bulk; roster rows imported. */
  bulkItems: number;
  bulkBatch: number;
  bulkConcurrency: number;
  importRows: number;
  /** The sections to run (all by default). */
  only: Section[];
  resultsDir: string;
}

const usage = `Usage: npm run bench -- [options]

  --quick               small data (2,000 children), 3 s per case, 1x and 10x: under 2 minutes
  --scale N             multiply the data set (default 1: 20,000 children, 60 units, 6 rounds)
  --multiples 1,10[,50] data sizes for the aggregate endpoints (default 1,10)
  --history N           national scale: grow the data to Nx (e.g. 50: about 5 M assessments) and
                        measure submission, timeline and aggregates again there, against 1x
  --duration S          seconds measured per case (default 10, quick 3)
  --warmup S            seconds of warm-up before each case (default 2, quick 1)
  --skip-pglite         do not measure the embedded engine
  --pglite-children N   children in the embedded engine's data set (default 2,000, quick 500)
  --seed N              random seed of the data generator (default 42)
  --only A,B            run only these sections: submission, reads, export, aggregates,
                        integration, pglite
  --import-rows N       roster rows imported (and copied) in the integration section
                        (default 100,000, quick 20,000)
  --profile             run the service under node --cpu-prof (profiles in bench/results/profiles;
                        summarise one with npx tsx bench/profile-summary.ts FILE)
  --results DIR         where latest.json / latest.md go (default bench/results)
`;

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
}

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      scale: { type: 'string' },
      multiples: { type: 'string' },
      history: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      'skip-pglite': { type: 'boolean', default: false },
      'pglite-children': { type: 'string' },
      seed: { type: 'string' },
      profile: { type: 'boolean', default: false },
      only: { type: 'string' },
      'import-rows': { type: 'string' },
      results: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  const quick = values.quick === true;
  const scale = positive('scale', values.scale, 1);
  // --quick is the default data set at a tenth of the size (2,000 children, 6 units).
  const base = quick ? 0.1 : 1;
  const history = values.history === undefined ? null : positive('history', values.history, 50);
  if (history !== null && (!Number.isInteger(history) || history < 2)) {
    throw new Error('--history must be a whole number ≥ 2, e.g. 50');
  }
  const multiples = (values.multiples ?? (history ? `1,${history}` : '1,10'))
    .split(',')
    .map((m) => {
      const n = Number(m.trim());
      if (!Number.isInteger(n) || n < 1) throw new Error('--multiples must be whole numbers ≥ 1');
      return n;
    });
  if (multiples[0] !== 1 || multiples.some((m, i) => i > 0 && m <= (multiples[i - 1] ?? 0))) {
    throw new Error('--multiples must start with 1 and increase, e.g. 1,10,50');
  }
  if (history !== null && multiples.at(-1) !== history) {
    throw new Error('--history N must be the last of --multiples');
  }
  const only = (values.only ?? sections.join(',')).split(',').map((name) => {
    const section = name.trim() as Section;
    if (!sections.includes(section)) throw new Error(`--only: unknown section ${name}`);
    return section;
  });
  return {
    mode: quick ? 'quick' : 'default',
    scale,
    childrenPerBlock: Math.round(20_000 * base * scale),
    unitsPerBlock: Math.max(6, Math.round(60 * base * scale)),
    rounds: 6,
    multiples,
    history,
    warmupSeconds: positive('warmup', values.warmup, quick ? 1 : 2),
    durationSeconds: positive('duration', values.duration, quick ? 3 : 10),
    submissionConcurrency: [1, 16, 64],
    readConcurrency: 16,
    exportRepeats: 3,
    skipPglite: values['skip-pglite'] === true || !only.includes('pglite'),
    pgliteChildren: Math.round(
      positive('pglite-children', values['pglite-children'], quick ? 500 : 2000),
    ),
    pgliteConcurrency: [1, 16],
    seed: Math.round(positive('seed', values.seed, 42)),
    profile: values.profile === true,
    bulkItems: quick ? 600 : 3000,
    bulkBatch: 30,
    bulkConcurrency: 4,
    importRows: Math.round(
      positive('import-rows', values['import-rows'], quick ? 20_000 : 100_000),
    ),
    only,
    resultsDir: path.resolve(values.results ?? 'bench/results'),
  };
}
