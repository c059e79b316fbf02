import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Output } from '../../clients/cli/common.js';
import { main } from '../../clients/cli/lineal.js';
import { processImports } from '../../src/jobs/imports.js';
import { describeEngines, TEST_CPR_SECRET } from '../support/engines.js';
import {
  createAssessment,
  createChild,
  createTenant,
  createUnit,
  presetVersionId,
} from '../support/factories.js';

const run = promisify(execFile);

/** The CLI as a process (through tsx: no build needed), with its exit code and output. */
async function cli(args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'clients/cli/lineal.ts', ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** An Output that keeps what the CLI writes (for the commands run in this process). */
function captured() {
  const out = { stdout: '', stderr: '' };
  const output: Output = {
    write: (text) => {
      out.stdout += text;
    },
    info: (text) => {
      out.stderr += `${text}\n`;
    },
    interactive: false,
  };
  return { out, output };
}

const HEADER =
  'externalRef,givenName,familyName,birthDate,sex,cpr,unitExternalRef,startDate,endDate';

describeEngines('lineal CLI', (t) => {
  let env: Record<string, string>;
  let dir: string;
  let worker: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const { admin } = await createTenant(t);
    env = {
      LINEAL_URL: `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`,
      LINEAL_API_KEY: admin.token,
    };
    await createUnit(t, admin.token, { externalRef: 'inst-cli' });
    dir = await mkdtemp(path.join(tmpdir(), 'lineal-cli-'));
    // The service's import worker, as the server runs it.
    let busy = false;
    worker = setInterval(() => {
      if (busy) return;
      busy = true;
      processImports(t.database, { cprSecret: TEST_CPR_SECRET, workerId: 'cli-test' })
        .catch(() => undefined)
        .finally(() => {
          busy = false;
        });
    }, 50);
  });
  afterAll(async () => {
    clearInterval(worker);
    await rm(dir, { recursive: true, force: true });
  });

  const children = async () => {
    const res = await t.call('GET', '/v1/children?q=cli-', { token: env.LINEAL_API_KEY });
    return res.json().items as { externalRef: string }[];
  };

  it('import --dry-run: a summary and the row errors, exit 2 for rejected rows, no change', async () => {
    const file = path.join(dir, 'roster.csv');
    await writeFile(
      file,
      [
        HEADER,
        'cli-1,Ida,,2021-05-10,,,inst-cli,2024-08-01,',
        'cli-2,Bo,,2020-01-15,,,inst-cli,2024-08-01,',
        'cli-3,,,2020-01-15,,,nowhere,2024-08-01,',
      ].join('\n'),
    );
    const dry = await cli(['import', file, '--dry-run', '--poll-ms', '50'], env);
    expect(dry.code, dry.stderr).toBe(2);
    expect(dry.stdout).toMatch(/succeeded \(dry run: nothing was changed\)/);
    expect(dry.stdout).toMatch(/created {4}2\n/);
    expect(dry.stdout).toMatch(/rejected {3}1\n/);
    expect(dry.stdout).toContain('row 3, unitExternalRef: no such unit in the municipality');
    expect(await children()).toEqual([]);

    // For real, in this process, as JSON.
    const { out, output } = captured();
    const code = await main(['import', file, '--json', '--poll-ms', '50'], output, env);
    expect(code, out.stderr).toBe(2);
    const result = JSON.parse(out.stdout);
    expect(result.job).toMatchObject({ status: 'succeeded', dryRun: false });
    expect(result.job.counts).toMatchObject({ read: 3, created: 2, rejected: 1 });
    expect(result.errors).toEqual([
      { row: 3, field: 'unitExternalRef', message: 'no such unit in the municipality' },
    ]);
    expect((await children()).map((c) => c.externalRef).sort()).toEqual(['cli-1', 'cli-2']);
  });

  it('export assessments --format csv|ndjson: every assessment, in change order', async () => {
    const token = env.LINEAL_API_KEY as string;
    const unit = await createUnit(t, token);
    const topi = await presetVersionId(t, token, 'topi-3');
    const made = [];
    for (const level of [1, 3]) {
      const child = await createChild(t, token, { unitId: unit.id });
      made.push(
        await createAssessment(t, token, {
          childId: child.id,
          unitId: unit.id,
          rulerVersionId: topi,
          rating: { overallLevel: level },
        }),
      );
    }
    const csv = await cli(['export', 'assessments', '--format', 'csv', '--unit-id', unit.id], env);
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe(
      'id,lineageId,version,status,childId,unitId,roundId,rulerKey,rulerVersion,assessedOn,' +
        'zone,level,score,parentsInformed,createdAt,statusChangedAt',
    );
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(made.map((a) => a.id));
    expect(lines.slice(1).map((l) => l.split(',')[10])).toEqual(['green', 'red']);
    expect(csv.stderr).toContain('2 assessments exported.');

    const { out, output } = captured();
    expect(
      await main(
        ['export', 'assessments', '--format', 'ndjson', '--unit-id', unit.id],
        output,
        env,
      ),
    ).toBe(0);
    const rows = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((r) => [r.id, r.zone])).toEqual(made.map((a) => [a.id, a.zone]));
  });

  it('stops quietly when its reader goes away (| head)', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'clients/cli/lineal.ts', 'events', '--follow', '--poll-ms', '50'],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += String(chunk);
    });
    // The first event read, the reader closes its end; the CLI must notice on its next write.
    await new Promise((resolve) => child.stdout.once('data', resolve));
    child.stdout.destroy();
    const token = env.LINEAL_API_KEY as string;
    const unit = await createUnit(t, token);
    const kid = await createChild(t, token, { unitId: unit.id });
    await createAssessment(t, token, {
      childId: kid.id,
      unitId: unit.id,
      rulerVersionId: await presetVersionId(t, token, 'topi-3'),
    });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(null);
      }, 20_000);
      child.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(code, stderr).toBe(0);
    expect(stderr).not.toContain('EPIPE');
  });

  it('events --follow prints new events as they come and stops on interrupt', async () => {
    const controller = new AbortController();
    const { out, output } = captured();
    const following = main(['events', '--follow', '--poll-ms', '50'], output, env, {
      signal: controller.signal,
    });
    const seen = () => out.stdout.split('\n').filter(Boolean).length;
    // Wait for the feed so far (the assessments above made events), bounded.
    for (let i = 0; i < 100 && seen() === 0; i++) await new Promise((r) => setTimeout(r, 50));
    const before = seen();
    expect(before).toBeGreaterThan(0);
    // A new event while following: a red assessment's recommendation.
    const token = env.LINEAL_API_KEY as string;
    const unit = await createUnit(t, token);
    const child = await createChild(t, token, { unitId: unit.id });
    const red = await createAssessment(t, token, {
      childId: child.id,
      unitId: unit.id,
      rulerVersionId: await presetVersionId(t, token, 'topi-3'),
      rating: { overallLevel: 3 },
    });
    for (let i = 0; i < 100 && !out.stdout.includes(red.id); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    controller.abort();
    expect(await following).toBe(0);
    const events = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    // Printed after the feed so far: it came while following.
    const index = events.findIndex(
      (e) => e.type === 'recommendation.created' && e.data.assessmentId === red.id,
    );
    expect(index).toBeGreaterThanOrEqual(before);
    expect(out.stderr).toMatch(/Resume with --after \S+/);
  });

  it('a refused request prints the problem and exits 1; a usage error exits 64', async () => {
    const revoked = await cli(['events'], { ...env, LINEAL_API_KEY: 'lnl_nope_nope' });
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toMatch(/^lineal: 401 /);
    const usage = await cli(['import'], env);
    expect(usage.code).toBe(64);
    expect(usage.stderr).toContain("missing required argument 'file'");
    const noKey = await cli(['events'], {
      LINEAL_URL: env.LINEAL_URL as string,
      LINEAL_API_KEY: '',
    });
    expect(noKey.code).toBe(64);
    expect(noKey.stderr).toContain('no API key');
  });
});
