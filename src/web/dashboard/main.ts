/**
 * The analyst dashboard (/dashboard): reads the key from the form or sessionStorage, calls the
 * analytics endpoints with it through the typed client, and draws with Chart.js.
 *
 * Suppression: a cell {value: null, suppressed: true} is never drawn as 0. Tables show it as
 * "–" with the class "suppressed"; charts leave the bar out and mark its place with "–"; a
 * round's zone shares show the hidden zones together as one grey "suppressed" part (their sum
 * is derivable from the published total and the published zones anyway).
 */
import { Chart, type ChartConfiguration, type Plugin, registerables } from 'chart.js';
import {
  createLinealClient,
  LinealProblemError,
  type Schemas,
  unwrap,
} from '../../../clients/typescript/index.js';
import './dashboard.css';

Chart.register(...registerables);
// The charts can be inspected from the console (and by the browser test): Chart.getChart(id).
Object.assign(window, { Chart });

type Cell = Schemas['Cell'];
type ZoneKey = 'green' | 'yellow' | 'red' | 'none';
type RoundRef = { id: string; name: string; windowStart: string };
type ZoneRow = Schemas['ZoneDistribution']['rows'][number];
type CoverageRow = Schemas['CoverageAnalytics']['rows'][number];
type UnitRef = { id: string; name: string };

const KEY_STORAGE = 'lineal.dashboard.apiKey';
const ZONES: ZoneKey[] = ['green', 'yellow', 'red', 'none'];
const ZONE_LABEL: Record<ZoneKey, string> = {
  green: 'Green',
  yellow: 'Yellow',
  red: 'Red',
  none: 'No zone',
};
const ZONE_COLOR: Record<ZoneKey, string> = {
  green: '#2e7d32',
  yellow: '#f9a825',
  red: '#c62828',
  none: '#78909c',
};
const SUPPRESSED_COLOR = '#c5cad3';
const SUPPRESSED_TEXT = '–';
const SUPPRESSED_TITLE = 'Suppressed: 1–4 children, or a cell that would reveal such a count';
const ROUND_COLORS = ['#9ec5ea', '#5b9bd5', '#1f5fae', '#103a6e'];
let charts: Chart[] = [];

/** The analytics filters chosen in the form (comma-separated lists; none: everything). */
type Filters = Partial<Record<'roundIds' | 'districts' | 'unitKinds' | 'ageBands', string>>;
let filters: Filters = {};
/** Each panel's aggregate request (path and query), for its CSV download. */
const requests = new Map<string, { path: string; query: Record<string, string> }>();
const AGE_BANDS = ['0-2', '3-5', '6-9', '10-13', '14-17'];

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from the page`);
  return node as T;
}

function el(
  tag: string,
  attrs?: Record<string, string> | null,
  text?: string | number | null,
): HTMLElement {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) node.setAttribute(name, value);
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function suppressedCell(): HTMLElement {
  return el(
    'td',
    { class: 'suppressed', title: SUPPRESSED_TITLE, 'data-suppressed': 'true' },
    SUPPRESSED_TEXT,
  );
}

/** A count cell: its value, or the suppression mark. */
function countCell(cell: Cell | undefined, extraClass?: string): HTMLElement {
  if (!cell || cell.suppressed || cell.value === null) {
    const td = suppressedCell();
    if (extraClass) td.classList.add(extraClass);
    return td;
  }
  return el('td', extraClass ? { class: extraClass } : null, cell.value);
}

function percent(share: number | null | undefined): number | null {
  return share === null || share === undefined ? null : Math.round(share * 1000) / 10;
}

function table(headers: string[], rows: HTMLElement[]): HTMLElement {
  const t = el('table');
  const head = el('tr');
  headers.forEach((h, i) => {
    head.appendChild(el('th', i === 0 ? { class: 'row', scope: 'col' } : { scope: 'col' }, h));
  });
  const thead = el('thead');
  thead.appendChild(head);
  t.appendChild(thead);
  const body = el('tbody');
  for (const r of rows) body.appendChild(r);
  t.appendChild(body);
  return t;
}

function rowOf(label: string, cells: HTMLElement[], labelClass?: string): HTMLElement {
  const tr = el('tr');
  tr.appendChild(
    el('th', { class: `row${labelClass ? ` ${labelClass}` : ''}`, scope: 'row' }, label),
  );
  for (const c of cells) tr.appendChild(c);
  return tr;
}

function showError(message: string): void {
  const box = byId('error');
  box.textContent = message;
  box.hidden = false;
}

function setStatus(text: string): void {
  byId('status').textContent = text;
}

/** A problem answer or an unreachable service, in words for the analyst. */
function describe(error: unknown, path: string): string {
  if (error instanceof LinealProblemError) {
    const p = error.problem;
    const hint =
      p.status === 401
        ? '\nCheck the API key: it is missing, wrong, expired or revoked.'
        : p.status === 403
          ? '\nThis key may not read analytics: use an analyst key.'
          : '';
    const ref = p.requestId ? ` (request ${p.requestId})` : '';
    return `${p.status} ${p.title}${p.detail ? `: ${p.detail}` : ''}${ref}${hint}`;
  }
  if (error instanceof TypeError) return `The service could not be reached (${path}).`;
  return `The dashboard failed: ${String(error)}`;
}

type Marked = { suppressed?: boolean[] };

/** Marks the place of suppressed values (dataset.suppressed[i] true) with "–" on the axis. */
const suppressedMarks: Plugin = {
  id: 'suppressedMarks',
  afterDatasetsDraw(chart) {
    const { ctx, chartArea: area } = chart;
    ctx.save();
    ctx.fillStyle = '#5b6675';
    ctx.font = 'bold 14px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    chart.data.datasets.forEach((dataset, d) => {
      const hidden = (dataset as Marked).suppressed;
      if (!hidden || !chart.isDatasetVisible(d)) return;
      const meta = chart.getDatasetMeta(d);
      hidden.forEach((isHidden, i) => {
        const element = meta.data[i];
        if (!isHidden || !element || !Number.isFinite(element.x)) return;
        ctx.fillText(SUPPRESSED_TEXT, element.x, area.bottom - 2);
      });
    });
    ctx.restore();
  },
};

function makeChart(canvas: HTMLCanvasElement, config: ChartConfiguration): Chart {
  config.options = {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    ...config.options,
  };
  config.plugins = [...(config.plugins ?? []), suppressedMarks];
  const chart = new Chart(canvas, config);
  charts.push(chart);
  canvas.setAttribute('data-ready', 'true');
  return chart;
}

const byWindowStart = (a: RoundRef, b: RoundRef) =>
  a.windowStart < b.windowStart ? -1 : a.windowStart > b.windowStart ? 1 : 0;

// --- Zone shares per round -------------------------------------------------------------

function renderZones(data: Schemas['ZoneDistribution']): RoundRef[] {
  const rows = data.rows
    // Empty groups are not drawn.
    .filter(
      (r): r is ZoneRow & { group: { round: RoundRef } } =>
        Boolean(r.group.round) && r.total.value !== 0,
    )
    .sort((a, b) => byWindowStart(a.group.round, b.group.round));
  const labels = rows.map((r) => r.group.round.name);
  const hiddenZones = rows.map((r) => ZONES.filter((z) => r.counts[z].suppressed));
  const datasets = ZONES.map((zone) => ({
    label: ZONE_LABEL[zone],
    backgroundColor: ZONE_COLOR[zone],
    data: rows.map((r) => percent(r.shares[zone])),
  }));
  datasets.push({
    label: 'Suppressed',
    backgroundColor: SUPPRESSED_COLOR,
    data: rows.map((r, i) => {
      if ((hiddenZones[i] ?? []).length === 0) return null;
      const known = ZONES.reduce((sum, z) => sum + (r.shares[z] ?? 0), 0);
      return Math.max(0, Math.round((1 - known) * 1000) / 10);
    }),
  });
  makeChart(byId<HTMLCanvasElement>('zones-chart'), {
    type: 'bar',
    data: { labels, datasets },
    options: {
      scales: {
        x: { stacked: true },
        y: { stacked: true, min: 0, max: 100, ticks: { callback: (v) => `${v} %` } },
      },
      plugins: {
        tooltip: {
          callbacks: {
            label(c) {
              if (c.dataset.label === 'Suppressed') {
                const zones = (hiddenZones[c.dataIndex] ?? []).map((z) =>
                  ZONE_LABEL[z].toLowerCase(),
                );
                return `Suppressed (${zones.join(', ')}): ${c.parsed.y} % together`;
              }
              return `${c.dataset.label}: ${c.parsed.y} %`;
            },
          },
        },
      },
    },
  });
  const tableRows = rows.map((r) =>
    rowOf(r.group.round.name, [
      ...ZONES.map((z) => countCell(r.counts[z], `zone-${z}`)),
      countCell(r.total, 'total'),
    ]),
  );
  byId('zones-table').replaceChildren(
    table(['Round (children)', 'Green', 'Yellow', 'Red', 'No zone', 'Total'], tableRows),
  );
  byId('zones').setAttribute('data-ready', 'true');
  return rows.map((r) => r.group.round);
}

// --- Transition matrix -------------------------------------------------------------------

function renderTransitions(response: Schemas['Transitions']): void {
  const zones = response.zones;
  const data = response.rows[0];
  if (!data) {
    renderNoTransitions([]);
    return;
  }
  const header = ['From \\ to', ...zones.map((z) => ZONE_LABEL[z]), 'Total'];
  const rows = zones.map((from, i) =>
    rowOf(
      ZONE_LABEL[from],
      [
        ...(data.matrix[i] ?? []).map((cell) => countCell(cell)),
        countCell(data.fromTotals[i], 'total'),
      ],
      `zone-${from}`,
    ),
  );
  rows.push(
    rowOf(
      'Total',
      [...data.toTotals.map((cell) => countCell(cell, 'total')), countCell(data.total, 'total')],
      'total',
    ),
  );
  byId('transitions-caption').textContent =
    `Children assessed in both ${response.fromRound.name} (rows) and ` +
    `${response.toRound.name} (columns).`;
  byId('transitions-table').replaceChildren(table(header, rows));
  byId('transitions').setAttribute('data-ready', 'true');
}

function renderNoTransitions(rounds: RoundRef[]): void {
  byId('transitions-caption').textContent =
    rounds.length < 2
      ? `Needs two rounds with assessments; there ${rounds.length === 1 ? 'is one.' : 'are none.'}`
      : '';
  byId('transitions-table').replaceChildren();
  byId('transitions').setAttribute('data-ready', 'true');
}

// --- Coverage per unit -------------------------------------------------------------------

function renderCoverage(data: Schemas['CoverageAnalytics']): void {
  let rounds: RoundRef[] = [];
  const units: UnitRef[] = [];
  const byKey = new Map<string, CoverageRow>();
  for (const r of data.rows) {
    const round = r.group.round;
    if (!round) continue;
    const unit = r.roundTotal ? null : r.group.unit;
    if (!rounds.some((x) => x.id === round.id)) rounds.push(round);
    if (unit && !units.some((u) => u.id === unit.id)) units.push(unit);
    byKey.set(`${round.id}/${unit ? unit.id : 'all'}`, r);
  }
  rounds.sort(byWindowStart);
  rounds = rounds.slice(-4); // the latest rounds, oldest first
  units.sort((a, b) => a.name.localeCompare(b.name, 'da'));
  const datasets = rounds.map((round, i) => {
    const rowsOfRound = units.map((u) => byKey.get(`${round.id}/${u.id}`));
    return {
      label: round.name,
      backgroundColor:
        ROUND_COLORS[ROUND_COLORS.length - rounds.length + i] ?? ROUND_COLORS[i % 4] ?? '#1f5fae',
      data: rowsOfRound.map((r) => (r ? percent(r.coverage) : null)),
      // No row: the unit had nobody enrolled in that round (not a suppressed value).
      suppressed: rowsOfRound.map((r) => !!r && r.coverage === null),
    };
  });
  makeChart(byId<HTMLCanvasElement>('coverage-chart'), {
    type: 'bar',
    data: { labels: units.map((u) => u.name), datasets },
    options: {
      scales: { y: { min: 0, max: 100, ticks: { callback: (v) => `${v} %` } } },
      plugins: {
        tooltip: {
          callbacks: { label: (c) => `${c.dataset.label}: ${c.parsed.y} % assessed` },
        },
      },
    },
  });
  const coverageCell = (r: CoverageRow | undefined): HTMLElement => {
    if (!r) return el('td', null, '');
    if (r.coverage === null) {
      const td = suppressedCell();
      const shown = r.enrolled.suppressed ? '' : ` (${r.enrolled.value} enrolled)`;
      td.textContent = SUPPRESSED_TEXT + shown;
      return td;
    }
    return el('td', null, `${r.assessed.value} / ${r.enrolled.value} (${percent(r.coverage)} %)`);
  };
  const header = ['Unit (assessed / enrolled)', ...rounds.map((r) => r.name)];
  const rows = units.map((u) =>
    rowOf(
      u.name,
      rounds.map((round) => coverageCell(byKey.get(`${round.id}/${u.id}`))),
    ),
  );
  rows.push(
    rowOf(
      'All units',
      rounds.map((round) => {
        const td = coverageCell(byKey.get(`${round.id}/all`));
        td.classList.add('total');
        return td;
      }),
      'total',
    ),
  );
  byId('coverage-table').replaceChildren(table(header, rows));
  byId('coverage').setAttribute('data-ready', 'true');
}

// --- Age at first concern -----------------------------------------------------------------

function renderEarly(data: Schemas['EarlyDetection']): void {
  const rows = [...data.rows].sort(
    (a, b) =>
      (a.group.cohort ?? 0) - (b.group.cohort ?? 0) ||
      String(a.group.district).localeCompare(String(b.group.district), 'da'),
  );
  const labels = rows.map((r) => `${r.group.cohort} · ${r.group.district || 'no district'}`);
  const q = rows.map((r) => r.ageMonthsAtFirstConcern);
  // The chart draws the groups with figures; withheld ones are in the table only.
  const drawn = q.flatMap((x, i) => (x.median === null ? [] : [i]));
  const chartLabels = drawn.map((i) => labels[i] ?? '');
  const chartQ = drawn.map((i) => q[i] as (typeof q)[number]);
  makeChart(byId<HTMLCanvasElement>('early-chart'), {
    type: 'bar',
    data: {
      labels: chartLabels,
      datasets: [
        {
          type: 'line',
          label: 'Median',
          data: chartQ.map((x) => x.median),
          showLine: false,
          pointRadius: 6,
          pointStyle: 'rectRot',
          backgroundColor: '#103a6e',
          borderColor: '#103a6e',
        },
        {
          type: 'bar',
          label: 'Quartile range (Q1–Q3)',
          data: chartQ.map((x) => (x.q1 === null || x.q3 === null ? null : [x.q1, x.q3])),
          backgroundColor: 'rgba(31, 95, 174, 0.35)',
          borderColor: '#1f5fae',
          borderWidth: 1,
        } as ChartConfiguration<'bar'>['data']['datasets'][number] & Marked,
      ],
    } as ChartConfiguration['data'],
    options: {
      scales: { y: { beginAtZero: true, title: { display: true, text: 'age in months' } } },
      plugins: {
        tooltip: {
          callbacks: {
            label(c) {
              const x = chartQ[c.dataIndex];
              if (!x) return '';
              return c.datasetIndex === 0
                ? `Median ${x.median} months`
                : `Q1–Q3 ${x.q1}–${x.q3} months`;
            },
          },
        },
      },
    },
  });
  const num = (v: number | null) => (v === null ? suppressedCell() : el('td', null, v));
  const tableRows = rows.map((_, i) => {
    const x = q[i] as (typeof q)[number];
    return rowOf(labels[i] ?? '', [countCell(x.children), num(x.q1), num(x.median), num(x.q3)]);
  });
  byId('early-table').replaceChildren(
    table(['Cohort · district', 'Children', 'Q1', 'Median', 'Q3'], tableRows),
  );
  byId('early').setAttribute('data-ready', 'true');
}

// --- Follow-through per unit --------------------------------------------------------------

function renderFollow(data: Schemas['FollowThrough']): void {
  // Empty groups (no step or parent information due, none open) are not drawn.
  const rows = data.rows
    .filter(
      (r) =>
        r.stepsDue.value !== 0 ||
        r.open.value !== 0 ||
        r.parentsInformed.due.value !== 0 ||
        r.parentsInformed.open.value !== 0,
    )
    .sort((a, b) => String(a.group.unit?.name).localeCompare(String(b.group.unit?.name), 'da'));
  const labels = rows.map((r) => r.group.unit?.name ?? 'No unit');
  makeChart(byId<HTMLCanvasElement>('follow-chart'), {
    type: 'bar',
    data: {
      labels,
      datasets: [
        {
          label: 'Overdue steps',
          backgroundColor: '#c62828',
          data: rows.map((r) => r.overdue.value),
          suppressed: rows.map((r) => r.overdue.suppressed),
          xAxisID: 'x',
        } as ChartConfiguration<'bar'>['data']['datasets'][number] & Marked,
        {
          label: 'Done by the deadline (%)',
          backgroundColor: '#2e7d32',
          data: rows.map((r) => percent(r.shareDoneByDeadline)),
          suppressed: rows.map((r) => r.shareDoneByDeadline === null),
          xAxisID: 'share',
        } as ChartConfiguration<'bar'>['data']['datasets'][number] & Marked,
      ],
    },
    options: {
      indexAxis: 'y',
      scales: {
        x: { beginAtZero: true, position: 'bottom', title: { display: true, text: 'overdue' } },
        share: {
          min: 0,
          max: 100,
          position: 'top',
          grid: { drawOnChartArea: false },
          ticks: { callback: (v) => `${v} %` },
        },
      },
    },
  });
  const shareCell = (share: number | null) =>
    share === null ? suppressedCell() : el('td', null, `${percent(share)} %`);
  const line = (label: string, r: Schemas['FollowThrough']['overall'], cls?: string) =>
    rowOf(
      label,
      [
        countCell(r.stepsDue, cls),
        countCell(r.doneByDeadline, cls),
        shareCell(r.shareDoneByDeadline),
        countCell(r.open, cls),
        countCell(r.overdue, cls),
        shareCell(r.parentsInformed.shareInformedByDeadline),
        countCell(r.parentsInformed.overdue, cls),
      ],
      cls,
    );
  const tableRows = rows.map((r, i) => line(labels[i] ?? '', r));
  tableRows.push(line('All units', data.overall, 'total'));
  byId('follow-table').replaceChildren(
    table(
      [
        'Unit',
        'Steps due',
        'Done by deadline',
        'Share',
        'Open',
        'Overdue',
        'Parents informed in time',
        'Parents not yet informed, overdue',
      ],
      tableRows,
    ),
  );
  byId('follow').setAttribute('data-ready', 'true');
}

// --- Concern reports per year ---------------------------------------------------------------

function renderReports(data: Schemas['ConcernReportStats']): void {
  const rows = data.rows
    .filter((r) => r.reports.value !== 0 || r.childrenAged0To17.value !== 0)
    .sort((a, b) => (a.group.year ?? 0) - (b.group.year ?? 0));
  const rate = (v: number | null) => (v === null ? suppressedCell() : el('td', null, v));
  const line = (label: string, r: Schemas['ConcernReportStats']['overall'], cls?: string) =>
    rowOf(
      label,
      [
        countCell(r.reports, cls),
        countCell(r.childrenReported, cls),
        countCell(r.childrenWithRepeatReports, cls),
        rate(r.childrenReportedPer1000),
        r.shareUnder8 === null ? suppressedCell() : el('td', null, `${percent(r.shareUnder8)} %`),
      ],
      cls,
    );
  const tableRows = rows.map((r) => line(String(r.group.year ?? ''), r));
  tableRows.push(line('All years', data.overall, 'total'));
  byId('reports-table').replaceChildren(
    table(
      ['Year', 'Reports', 'Children reported', 'Reported again', 'Per 1,000 children', 'Under 8'],
      tableRows,
    ),
  );
  byId('reports').setAttribute('data-ready', 'true');
}

// --- Loading ----------------------------------------------------------------------------------

function reset(): void {
  for (const c of charts) c.destroy();
  charts = [];
  for (const node of document.querySelectorAll('[data-ready]')) node.removeAttribute('data-ready');
  document.body.removeAttribute('data-ready');
  byId('error').hidden = true;
  byId('error').textContent = '';
}

/** The filter options: the rounds, districts and unit kinds there are figures for. */
async function loadFilterOptions(api: ReturnType<typeof createLinealClient>): Promise<void> {
  const [rounds, districts, kinds] = await Promise.all([
    api.GET('/v1/analytics/zone-distribution', { params: { query: { groupBy: 'round' } } }),
    api.GET('/v1/analytics/zone-distribution', { params: { query: { groupBy: 'district' } } }),
    api.GET('/v1/analytics/zone-distribution', { params: { query: { groupBy: 'unitKind' } } }),
  ]).then((answers) => answers.map(unwrap));
  const roundRefs = (rounds?.rows ?? [])
    .map((r) => r.group.round)
    .filter((r): r is RoundRef => Boolean(r))
    .sort(byWindowStart);
  options(
    'filter-rounds',
    'roundIds',
    roundRefs.map((r) => [r.id, r.name]),
  );
  const names = (rows: ZoneRow[] | undefined, pick: (r: ZoneRow) => string | null | undefined) =>
    [...new Set((rows ?? []).map(pick).filter((v): v is string => Boolean(v)))].sort((a, b) =>
      a.localeCompare(b, 'da'),
    );
  options(
    'filter-districts',
    'districts',
    names(districts?.rows, (r) => r.group.district).map((d) => [d, d]),
  );
  options(
    'filter-unitKinds',
    'unitKinds',
    names(kinds?.rows, (r) => r.group.unitKind).map((k) => [k, k.replaceAll('_', ' ')]),
  );
  options(
    'filter-ageBands',
    'ageBands',
    AGE_BANDS.map((b) => [b, `${b} years`]),
  );
  byId('filters').hidden = false;
}

/** A fieldset's checkboxes, all checked (no filter). */
function options(id: string, name: string, values: Array<[string, string]>): void {
  const box = byId(id);
  const legend = box.querySelector('legend');
  box.replaceChildren(...(legend ? [legend] : []));
  for (const [value, label] of values) {
    const input = el('input', { type: 'checkbox', name, value }) as HTMLInputElement;
    input.checked = true;
    const wrap = el('label');
    wrap.append(input, ` ${label}`);
    box.appendChild(wrap);
  }
}

/** The filters the form says: a list per fieldset, or nothing when all of it is checked. */
function readFilters(): Filters {
  const chosen: Filters = {};
  for (const name of ['roundIds', 'districts', 'unitKinds', 'ageBands'] as const) {
    const boxes = [...document.querySelectorAll<HTMLInputElement>(`input[name="${name}"]`)];
    const on = boxes.filter((b) => b.checked).map((b) => b.value);
    if (on.length > 0 && on.length < boxes.length) chosen[name] = on.join(',');
  }
  return chosen;
}

/** GET an aggregate with the filters, remembered for the panel's CSV download. */
async function fetchAggregate<T>(
  api: ReturnType<typeof createLinealClient>,
  panel: string,
  path: string,
  query: Record<string, string>,
): Promise<T> {
  requests.set(panel, { path, query });
  // The typed client checks paths at compile time; the query is the same for every aggregate.
  const answer = await (api.GET as (p: string, o: object) => Promise<unknown>)(path, {
    params: { query },
  });
  return unwrap(answer as never) as T;
}

async function load(key: string, withOptions = true): Promise<void> {
  reset();
  setStatus('Loading…');
  const api = createLinealClient({ baseUrl: location.origin, apiKey: key, retries: 1 });
  let path = '/v1/analytics';
  try {
    if (withOptions) await loadFilterOptions(api);
    const f = filters;
    // Concern reports are dated, not in rounds: they take every filter but the rounds.
    const { roundIds: _rounds, ...undated } = f;
    const [zones, coverage, early, follow, reports] = await Promise.all([
      fetchAggregate<Schemas['ZoneDistribution']>(api, 'zones', '/v1/analytics/zone-distribution', {
        ...f,
        groupBy: 'round',
      }),
      fetchAggregate<Schemas['CoverageAnalytics']>(api, 'coverage', '/v1/analytics/coverage', {
        ...f,
        groupBy: 'unit',
      }),
      fetchAggregate<Schemas['EarlyDetection']>(api, 'early', '/v1/analytics/early-detection', {
        ...f,
        groupBy: 'cohort,district',
      }),
      fetchAggregate<Schemas['FollowThrough']>(api, 'follow', '/v1/analytics/follow-through', {
        ...f,
        groupBy: 'unit',
      }),
      fetchAggregate<Schemas['ConcernReportStats']>(
        api,
        'reports',
        '/v1/analytics/concern-reports',
        { ...undated, groupBy: 'year' },
      ),
    ]);
    byId('dashboard').hidden = false;
    const rounds = renderZones(zones);
    renderCoverage(coverage);
    renderEarly(early);
    renderFollow(follow);
    renderReports(reports);
    const from = rounds[rounds.length - 2];
    const to = rounds[rounds.length - 1];
    if (from && to) {
      path = '/v1/analytics/transitions';
      const { roundIds: _r, ...rest } = f;
      renderTransitions(
        await fetchAggregate<Schemas['Transitions']>(api, 'transitions', path, {
          ...rest,
          fromRoundId: from.id,
          toRoundId: to.id,
        }),
      );
    } else {
      requests.delete('transitions');
      renderNoTransitions(rounds);
    }
    setStatus(`Updated ${new Date().toLocaleString('da-DK')}.`);
    document.body.setAttribute('data-ready', 'true');
  } catch (error) {
    reset();
    byId('dashboard').hidden = true;
    setStatus('');
    showError(describe(error, path));
    document.body.setAttribute('data-error', 'true');
  }
}

/** Downloads a panel's figures as CSV (the aggregate's .csv route, with the key). */
async function download(panel: string): Promise<void> {
  const request = requests.get(panel);
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (!request || !key) return;
  const url = new URL(`${request.path}.csv`, location.origin);
  for (const [name, value] of Object.entries(request.query)) url.searchParams.set(name, value);
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  if (!res.ok) {
    showError(`${res.status} ${res.statusText}: the download failed.`);
    return;
  }
  const link = el('a', {
    href: URL.createObjectURL(await res.blob()),
    download: `${request.path.split('/').at(-1)}.csv`,
  }) as HTMLAnchorElement;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

function start(): void {
  // A table wider than a phone scrolls inside its box: the box is a named region that the
  // keyboard can reach (set here rather than in the page, whose markup stays plain).
  for (const box of document.querySelectorAll<HTMLElement>('.table[data-label]')) {
    box.setAttribute('role', 'region');
    box.setAttribute('aria-label', box.dataset.label ?? '');
    box.tabIndex = 0;
  }
  const input = byId<HTMLInputElement>('api-key');
  byId('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    document.body.removeAttribute('data-error');
    sessionStorage.setItem(KEY_STORAGE, key);
    filters = {};
    void load(key);
  });
  byId('forget-key').addEventListener('click', () => {
    sessionStorage.removeItem(KEY_STORAGE);
    input.value = '';
    reset();
    byId('dashboard').hidden = true;
    byId('filters').hidden = true;
    setStatus('Key forgotten.');
  });
  byId('filters').addEventListener('submit', (event) => {
    event.preventDefault();
    filters = readFilters();
    const key = sessionStorage.getItem(KEY_STORAGE);
    if (key) void load(key, false);
  });
  byId('clear-filters').addEventListener('click', () => {
    for (const box of document.querySelectorAll<HTMLInputElement>('#filters input')) {
      box.checked = true;
    }
    filters = {};
    const key = sessionStorage.getItem(KEY_STORAGE);
    if (key) void load(key, false);
  });
  for (const button of document.querySelectorAll<HTMLButtonElement>('button.download')) {
    button.addEventListener('click', () => void download(button.dataset.panel ?? ''));
  }
  const saved = sessionStorage.getItem(KEY_STORAGE);
  if (saved) {
    input.value = saved;
    void load(saved);
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
