import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, launch, waitFor } from '../support/processes.js';

/**
 * `npm run demo` as a newcomer runs it (issue 12, point 10): it is not throttled by the API's
 * rate limit, and it is all or nothing — an interrupted or killed run leaves nothing that blocks
 * the next one.
 */
afterAll(killAll);

const demo = (dataDir: string) =>
  launch('src/cli.ts', { LINEAL_DATA_DIR: dataDir }, ['demo', '--children', '120']);

describe('npm run demo', () => {
  it('cleans up after Ctrl-C, after a SIGKILL (on the next run), and completes', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'lineal-demo-'));

    const interrupted = demo(dataDir);
    await waitFor(interrupted, /Creating the demo data/);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    interrupted.child.kill('SIGINT');
    expect(await interrupted.exited).toBe(1);
    expect(interrupted.output()).toContain('Interrupted: removing the demo data created so far');

    const killed = demo(dataDir);
    await waitFor(killed, /Creating the demo data/);
    expect(killed.output()).not.toContain('Removing the unfinished');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    killed.child.kill('SIGKILL');
    await killed.exited;

    const complete = demo(dataDir);
    expect(await complete.exited, complete.output()).toBe(0);
    expect(complete.output()).toContain('Removing the unfinished demo data of an earlier run');
    expect(complete.output()).toMatch(/Created Demo Kommune \(code 999\)/);
    expect(complete.output()).toMatch(/120 children/);

    const again = demo(dataDir);
    expect(await again.exited).toBe(1);
    expect(again.output()).toContain('already exists');
  }, 180_000);
});
