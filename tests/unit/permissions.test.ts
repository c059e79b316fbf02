import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { actions, isAllowed, permissions, roles } from '../../src/auth/permissions.js';

/** The role table of docs/api.md as cells: header row first, then one row per action. */
async function readmeTable(): Promise<string[][]> {
  const readme = await readFile(new URL('../../docs/api.md', import.meta.url), 'utf8');
  const block = readme.match(/<!-- permissions:start -->\n([\s\S]*?)\n<!-- permissions:end -->/);
  if (!block?.[1]) throw new Error('docs/api.md has no <!-- permissions:start/end --> block');
  return block[1]
    .split('\n')
    .filter((line) => !/^\|\s*:?-/.test(line))
    .map((line) =>
      line
        .replace(/^\||\|$/g, '')
        .split('|')
        .map((cell) => cell.trim()),
    );
}

describe('permission table', () => {
  it('docs/api.md documents exactly the permission table in code', async () => {
    const columns = [...roles, 'parent'] as const;
    const expected = [
      ['action', ...columns],
      ...actions.map((action) => [
        `\`${action}\``,
        ...columns.map((r) => (isAllowed(r, action) ? '✓' : '')),
      ]),
    ];
    expect(await readmeTable()).toEqual(expected);
  });

  it('only platform admins manage municipalities; only admins manage keys', () => {
    expect(permissions['municipality:create']).toEqual(['platform_admin']);
    expect(permissions['api_key:manage']).toEqual(['platform_admin', 'municipality_admin']);
    expect(isAllowed('unit_staff', 'api_key:manage')).toBe(false);
    expect(isAllowed('analyst', 'session:read')).toBe(true);
  });
});
