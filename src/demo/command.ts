import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp } from '../app.js';
import { type Config, loadConfig } from '../config.js';
import { migrationStatus } from '../db/migrations.js';
import { openDatabase } from '../db/open.js';
import { countAllApiKeys, createPlatformAdminKey } from '../features/api-keys/bootstrap.js';
import { syncPresetGuides } from '../features/guides/service.js';
import { syncPresetRulers } from '../features/rulers/service.js';
import { demoState, removeDemo } from './cleanup.js';
import {
  createDemoData,
  DEFAULT_DEMO_CHILDREN,
  DEFAULT_DEMO_SEED,
  type DemoResult,
} from './generate.js';
import { DEMO_MUNICIPALITY } from './plan.js';

/** The CPR key as the server finds it (the same as embeddedCprSecret in server.ts). */
function cprSecretOf(config: Config): string {
  if (config.cprSecret) return config.cprSecret;
  if (config.database.engine !== 'pglite') throw new Error('LINEAL_CPR_SECRET is required');
  const file = path.join(config.database.dataDir, 'cpr-secret');
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
  }
  return readFileSync(file, 'utf8').trim();
}

function integerOption(name: string, value: string | undefined, fallback: number, max: number) {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > max) {
    throw new Error(`--${name} must be an integer from 0 to ${max}`);
  }
  return n;
}

/**
 * `lineal demo`: opens the configured database (embedded by default, holding the data-directory
 * lock), syncs the presets, and creates the demo municipality through the API. Exits non-zero
 * when the demo municipality exists already. All or nothing on the embedded engine: a run that
 * fails or is interrupted (Ctrl-C) removes what it created, and a run that was killed is cleaned
 * up by the next one. The API's rate limit, meant for clients, does not apply to this loader.
 */
export async function runDemoCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { children: { type: 'string' }, seed: { type: 'string' } },
  });
  const children = integerOption('children', values.children, DEFAULT_DEMO_CHILDREN, 5000);
  const seed = integerOption('seed', values.seed, DEFAULT_DEMO_SEED, 2 ** 32 - 1);
  const config = loadConfig();
  const started = performance.now();
  const database = await openDatabase(config.database);
  try {
    const { pending } = await migrationStatus(database.db);
    if (pending.length > 0) {
      throw new Error(`Migrations are pending (${pending.join(', ')}): run npm run migrate`);
    }
    await syncPresetRulers(database);
    await syncPresetGuides(database);
    // As at the server's first start: with no keys yet, the first platform key is shown once
    // (the server will not show one later, since keys then exist).
    if ((await countAllApiKeys(database)) === 0) {
      const key = await createPlatformAdminKey(database, 'First platform administrator key');
      console.log(`Platform administrator key (shown only now; keep it):\n  ${key.token}\n`);
    }
    const before = await demoState(database);
    if (before && !before.finished) {
      console.log('Removing the unfinished demo data of an earlier run that was stopped…');
      await removeDemo(database, before.id);
    }
    const existed = before?.finished === true;
    const app = await buildApp({
      config: { ...config, rateLimit: { ...config.rateLimit, max: 0 } },
      database,
      cprSecret: cprSecretOf(config),
    });
    const abort = new AbortController();
    const interrupt = () => {
      console.log('Interrupted: removing the demo data created so far…');
      abort.abort();
    };
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
    try {
      console.log(`Creating the demo data (${children} children, seed ${seed})…`);
      let demo: DemoResult;
      try {
        demo = await createDemoData(app, database, { children, seed, signal: abort.signal });
      } catch (error) {
        // Nothing of it existed before this run (a finished demo answers "exists" first).
        const created = existed ? undefined : await demoState(database);
        if (created) await removeDemo(database, created.id);
        throw error;
      }
      const c = demo.counts;
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const zones = c.zonesPerRound
        .map(
          (z, i) => `${demo.rounds[i]?.name}: ${z.green} green, ${z.yellow} yellow, ${z.red} red`,
        )
        .join('; ');
      console.log(
        [
          `Created ${demo.municipalityName} (code ${DEMO_MUNICIPALITY.code}) in ${seconds} s on the ${database.engine} engine:`,
          `  ${c.units} units in ${c.districts} districts, ${c.children} children, ${c.enrolments} enrolments,`,
          `  ${c.rounds} rounds, ${c.assessments} assessments (${zones}),`,
          `  ${c.redFlagAssessments} with a red flag, ${c.recommendations} recommendations, ${c.stepsDone} steps done,`,
          `  ${c.concernReports} concern reports, ${c.notAssessedFlags} not-assessed flags, ${c.flagsAcknowledged} flags acknowledged.`,
          '',
          `Municipality id:                 ${demo.municipalityId}`,
          `Municipality administrator key:  ${demo.adminToken}`,
          `Analyst key:                     ${demo.analystToken}`,
          '(the keys are shown only now)',
          '',
          'Start the server (npm start) and try, e.g.:',
          `  curl -s 'localhost:3000/v1/analytics/zone-distribution?groupBy=round' -H "Authorization: Bearer ${demo.analystToken}"`,
          `  curl -s 'localhost:3000/v1/worklist?overdue=true' -H "Authorization: Bearer ${demo.adminToken}"`,
        ].join('\n'),
      );
      return 0;
    } finally {
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
      await app.close();
    }
  } finally {
    await database.close();
  }
}
