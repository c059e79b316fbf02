import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);

it('clients/typescript/schema.d.ts is generated from the committed openapi.json (npm run client:generate)', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'lineal-client-'));
  try {
    const fresh = path.join(dir, 'schema.d.ts');
    // The same command as the client:generate script, into a scratch file.
    const script = JSON.parse(await readFile('package.json', 'utf8')).scripts[
      'client:generate'
    ] as string;
    const [bin, ...args] = script.split(' ');
    const output = args.indexOf('-o');
    args[output + 1] = fresh;
    await run(bin as string, args);
    expect(await readFile('clients/typescript/schema.d.ts', 'utf8')).toBe(
      await readFile(fresh, 'utf8'),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 60_000);

it('request fields with server defaults are optional in the generated types', async () => {
  const types = await readFile('clients/typescript/schema.d.ts', 'utf8');
  // CreateAssessment.rating.answers defaults to {}: optional; Assessment (a response) has it.
  const create = types.slice(types.indexOf('        CreateAssessment: {'));
  expect(create.slice(0, create.indexOf('\n        };'))).toMatch(/\n\s+answers\?: \{/);
  const assessment = types.slice(types.indexOf('        Assessment: {'));
  expect(assessment.slice(0, assessment.indexOf('\n        };'))).toMatch(/\n\s+answers: \{/);
});
