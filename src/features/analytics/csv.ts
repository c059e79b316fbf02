import { stringify } from 'csv-stringify/sync';

/*
 * Every aggregate as CSV: the same figures as its JSON, one line per group (and per round
 * total and overall figure), flattened into columns. A published count is a number; a hidden
 * one an empty field with `<name>_suppressed` true, so a spreadsheet or DuckDB never reads a
 * hidden count as 0.
 */

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Text a spreadsheet would take for a formula gets a leading apostrophe (CSV injection). */
const defuse = (value: string) => (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);

type Line = Map<string, string | number | boolean | null>;

function isCell(value: unknown): value is { value: number | null; suppressed: boolean } {
  return typeof value === 'object' && value !== null && 'suppressed' in value && 'value' in value;
}

/** The group's columns: ids, names and values of its dimensions. */
function groupColumns(line: Line, group: Record<string, unknown> | undefined, prefix = '') {
  for (const [dimension, value] of Object.entries(group ?? {})) {
    const name = `${prefix}${snake(dimension)}`;
    if (value !== null && typeof value === 'object') {
      const o = value as Record<string, unknown>;
      line.set(`${name}_id`, (o.id as string) ?? null);
      line.set(`${name}_name`, typeof o.name === 'string' ? defuse(o.name) : null);
      if ('windowStart' in o) line.set(`${name}_start`, o.windowStart as string);
    } else {
      line.set(name, typeof value === 'string' ? defuse(value) : (value as number | null));
    }
  }
}

/** The measures of a row: cells, numbers and nested objects, named by their path. */
function measureColumns(line: Line, value: unknown, name: string, zones: readonly string[]) {
  if (isCell(value)) {
    line.set(name, value.value);
    line.set(`${name}_suppressed`, value.suppressed);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => {
      measureColumns(line, v, `${name}_${zones[i] ?? i}`, zones);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      measureColumns(line, v, name === '' ? snake(k) : `${name}_${snake(k)}`, zones);
    }
  } else {
    line.set(name, value as number | null);
  }
}

/** An aggregate's JSON body as CSV text (header line; CRLF line ends; empty is null). */
export function aggregateCsv(body: {
  rows: Array<Record<string, unknown>>;
  overall?: Record<string, unknown>;
  zones?: readonly string[];
}): string {
  const zones = body.zones ?? [];
  const lines: Line[] = [];
  for (const row of body.rows) {
    const { group, roundTotal, coarser, ...measures } = row;
    const line: Line = new Map();
    line.set('row', roundTotal === true ? 'round_total' : 'group');
    groupColumns(line, group as Record<string, unknown>);
    measureColumns(line, measures, '', zones);
    if (coarser) {
      const { group: coarserGroup, ...coarserMeasures } = coarser as Record<string, unknown>;
      groupColumns(line, coarserGroup as Record<string, unknown>, 'coarser_');
      measureColumns(line, coarserMeasures, 'coarser', zones);
    }
    lines.push(line);
  }
  if (body.overall) {
    const line: Line = new Map([['row', 'overall']]);
    measureColumns(line, body.overall, '', zones);
    lines.push(line);
  }
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const line of lines) {
    for (const key of line.keys()) {
      if (!seen.has(key)) {
        seen.add(key);
        columns.push(key);
      }
    }
  }
  if (columns.length === 0) columns.push('row');
  return stringify(
    lines.map((line) => columns.map((c) => line.get(c) ?? null)),
    {
      header: true,
      columns,
      record_delimiter: '\r\n',
      cast: { boolean: (v) => String(v) },
    },
  );
}
