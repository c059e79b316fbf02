import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.js';
import { migrationStatus } from './db/migrations.js';
import { describeTarget, migratePostgres, openDatabase, runMigrations } from './db/open.js';
import { createPlatformAdminKey } from './features/api-keys/bootstrap.js';
import { generateOpenApi, openApiFile } from './openapi-document.js';

const usage = `Usage: npm run <command>   (server administration; the API client is lineal: docs/cli.md)

Commands:
  migrate                      apply pending migrations (PostgreSQL: as DATABASE_MIGRATION_URL)
  migrate-status               list pending migrations
  create-platform-key [--name NAME]
                               create a platform administrator API key and print it once
  openapi [--check]            write openapi/openapi.json from the routes (--check: compare only)
  retention [--dry-run]        erase children whose last enrolment ended more than RETENTION_YEARS
                               ago and delete audit entries older than AUDIT_RETENTION_MONTHS;
                               prints a JSON report (--dry-run: only list what is due)
  demo [--children N] [--seed S]
                               create the demo municipality "Demo Kommune" (code 999): units,
                               children, three rounds and their follow-up; prints its keys
`;

function report(applied: string[], target: string): string {
  return applied.length > 0
    ? `Applied to ${target}: ${applied.join(', ')}`
    : `Already up to date: ${target}.`;
}

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'migrate': {
      // DATABASE_MIGRATION_URL alone (the owner's URL, as in the README) migrates that
      // PostgreSQL database: the service's own DATABASE_URL and CPR key are not needed for it.
      const ownerUrl = process.env.DATABASE_MIGRATION_URL;
      if (ownerUrl && !process.env.DATABASE_URL) {
        if (!/^postgres(ql)?:\/\//.test(ownerUrl)) {
          throw new ConfigError(['DATABASE_MIGRATION_URL: must be a postgres:// URL']);
        }
        const target = describeTarget({ migrationUrl: ownerUrl });
        const applied = await migratePostgres(ownerUrl);
        console.log(report(applied, target));
        return 0;
      }
      const config = loadConfig();
      const applied = await runMigrations(config.database);
      console.log(report(applied, describeTarget(config.database)));
      return 0;
    }
    case 'migrate-status': {
      const database = await openDatabase(loadConfig().database);
      try {
        const { pending, unknown } = await migrationStatus(database.db);
        console.log(
          pending.length > 0 ? `Pending: ${pending.join(', ')}` : 'No pending migrations.',
        );
        if (unknown.length > 0)
          console.log(`Applied but unknown to this code: ${unknown.join(', ')}`);
        return pending.length > 0 ? 2 : 0;
      } finally {
        await database.close();
      }
    }
    case 'create-platform-key': {
      const { values } = parseArgs({ args: rest, options: { name: { type: 'string' } } });
      const database = await openDatabase(loadConfig().database);
      try {
        const key = await createPlatformAdminKey(database, values.name ?? 'Platform administrator');
        console.log(`Created platform administrator key ${key.id} (shown only now):\n${key.token}`);
        return 0;
      } finally {
        await database.close();
      }
    }
    case 'retention': {
      const { values } = parseArgs({ args: rest, options: { 'dry-run': { type: 'boolean' } } });
      const config = loadConfig();
      const database = await openDatabase(config.database);
      try {
        const { runRetention } = await import('./jobs/retention.js');
        const report = await runRetention(database, {
          years: config.retention.years,
          auditMonths: config.retention.auditMonths,
          now: new Date(),
          dryRun: values['dry-run'] === true,
        });
        console.log(JSON.stringify(report, null, 2));
        return 0;
      } finally {
        await database.close();
      }
    }
    case 'openapi': {
      const { values } = parseArgs({ args: rest, options: { check: { type: 'boolean' } } });
      const generated = await generateOpenApi();
      if (values.check) {
        const committed = await readFile(openApiFile, 'utf8').catch(() => '');
        if (committed !== generated) {
          console.error('openapi/openapi.json is out of date: run npm run openapi');
          return 1;
        }
        console.log('openapi/openapi.json is current.');
        return 0;
      }
      await writeFile(openApiFile, generated);
      console.log(`Wrote ${openApiFile}`);
      return 0;
    }
    case 'demo':
      return (await import('./demo/command.js')).runDemoCommand(rest);
    default:
      process.stderr.write(usage);
      return command === undefined || command === 'help' ? 0 : 64;
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      error instanceof ConfigError || error instanceof Error ? `${error.message}\n` : `${error}\n`,
    );
    process.exit(1);
  },
);
