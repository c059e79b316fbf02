#!/usr/bin/env node
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createLinealClient, LinealProblemError } from '../typescript/index.js';
import { type Connection, type Output, processOutput } from './common.js';
import { followEvents } from './events.js';
import { exportAssessments } from './export.js';
import { runImport } from './import.js';

const DEFAULT_URL = 'http://127.0.0.1:3000';

/** A mistake in how the CLI was called that commander does not catch itself (exit 64). */
class UsageError extends Error {}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function isoDate(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new InvalidArgumentError('must be YYYY-MM-DD');
  return value;
}

/**
 * The `lineal` command line: what an operator or integrator does against a running
 * deployment, over its REST API with an API key (LINEAL_URL, LINEAL_API_KEY or the flags).
 * Server administration (migrate, create-platform-key, retention, demo) stays with
 * `npm run <command>` on the server (src/cli.ts).
 */
export function program(
  out: Output,
  env: NodeJS.ProcessEnv,
  exit: { code: number },
  options: { fetch?: typeof fetch; signal?: AbortSignal } = {},
): Command {
  const cli = new Command('lineal')
    .description('Command-line client of a lineal deployment')
    .option('--url <url>', `the deployment (LINEAL_URL; default ${DEFAULT_URL})`)
    .option('--api-key <key>', 'an API key (LINEAL_API_KEY)')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => out.write(text),
      writeErr: (text) => out.info(text.trimEnd()),
    });

  const connect = () => {
    const global = cli.opts<{ url?: string; apiKey?: string }>();
    const apiKey = global.apiKey ?? env.LINEAL_API_KEY;
    if (!apiKey) {
      throw new UsageError('no API key: pass --api-key or set LINEAL_API_KEY');
    }
    const connection: Connection = {
      baseUrl: (global.url ?? env.LINEAL_URL ?? DEFAULT_URL).replace(/\/+$/, ''),
      apiKey,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    };
    const client = createLinealClient({
      baseUrl: connection.baseUrl,
      apiKey,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    return { connection, client };
  };

  cli
    .command('import')
    .description('import children and enrolments (roster sync) from a CSV or NDJSON file')
    .argument('<file>', 'the roster file (.csv, .ndjson)')
    .option('--dry-run', 'report what would change, change nothing')
    .addOption(new Option('--format <format>', 'the file format').choices(['csv', 'ndjson']))
    .addOption(
      new Option('--mode <mode>', 'full: also end absent enrolments').choices(['upsert', 'full']),
    )
    .option('--unit-ids <ids>', 'full mode: the units (comma-separated ids)')
    .option('--end-date <date>', 'full mode: the date absent enrolments end', isoDate)
    .option('--json', 'print the finished job and its row errors as JSON')
    .option('--poll-ms <ms>', 'milliseconds between looks at the job', positiveInt, 500)
    .option('--errors <n>', 'row errors to print', positiveInt, 20)
    .action(async (file: string, opts) => {
      const { connection, client } = connect();
      exit.code = await runImport(connection, client, file, opts, out);
    });

  const exportCommand = cli.command('export').description('export data as CSV or NDJSON');
  exportCommand
    .command('assessments')
    .description('every assessment the key may read, in change order')
    .addOption(
      new Option('--format <format>', 'the output format')
        .choices(['csv', 'ndjson'])
        .default('csv'),
    )
    .option('--round-id <id>', 'only this round')
    .option('--unit-id <id>', 'only this unit')
    .option('--child-id <id>', 'only this child')
    .option('--updated-since <time>', 'only those changed since (ISO 8601 date-time)')
    .action(async (opts) => {
      const { client } = connect();
      exit.code = await exportAssessments(client, opts, out);
    });

  cli
    .command('events')
    .description('the event feed as NDJSON, from the start or --after a cursor')
    .option('--after <cursor>', 'continue after this cursor')
    .option('-f, --follow', 'keep polling for new events until interrupted')
    .option('--limit <n>', 'events per page (1-500)', positiveInt, 500)
    .option('--poll-ms <ms>', 'milliseconds between polls at the end of the feed', positiveInt)
    .action(async (opts) => {
      const { client } = connect();
      exit.code = await followEvents(
        client,
        { ...opts, ...(options.signal ? { signal: options.signal } : {}) },
        out,
      );
    });

  return cli;
}

/** Runs the CLI; answers the exit code. Problems are printed, never thrown. */
export async function main(
  argv: readonly string[],
  out: Output = processOutput,
  env: NodeJS.ProcessEnv = process.env,
  options: { fetch?: typeof fetch; signal?: AbortSignal } = {},
): Promise<number> {
  const exit = { code: 0 };
  try {
    await program(out, env, exit, options).parseAsync([...argv], { from: 'user' });
    return exit.code;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') return 0;
    // Commander printed its own parse errors already.
    if (typeof code === 'string' && code.startsWith('commander.')) return 64;
    if (error instanceof UsageError) {
      out.info(`lineal: ${error.message}`);
      return 64;
    }
    if (error instanceof LinealProblemError) {
      const p = error.problem;
      out.info(`lineal: ${p.status} ${p.title}: ${p.detail}`);
      for (const e of p.errors ?? []) out.info(`  ${e.path}: ${e.message}`);
      if (p.requestId) out.info(`  (request ${p.requestId})`);
      return 1;
    }
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const message = error instanceof Error ? error.message : String(error);
    out.info(`lineal: ${message}${cause ? ` (${cause})` : ''}`);
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  // A reader that stopped reading (`| head`): done, quietly, as other command-line tools are.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  process.exitCode = await main(process.argv.slice(2), processOutput, process.env, {
    signal: controller.signal,
  });
}
