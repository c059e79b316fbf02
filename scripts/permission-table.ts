/** Prints the README's role × action table from the permission table in code. */
import { actions, isAllowed, roles } from '../src/auth/permissions.js';

const header = `| action | ${roles.join(' | ')} |`;
const rule = `|---|${roles.map(() => ':-:').join('|')}|`;
const rows = actions.map(
  (action) =>
    `| \`${action}\` | ${roles.map((r) => (isAllowed(r, action) ? '✓' : '')).join(' | ')} |`,
);
console.log([header, rule, ...rows].join('\n'));
