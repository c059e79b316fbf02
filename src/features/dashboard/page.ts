/**
 * The dashboard page and its stylesheet, kept as strings so that the compiled service (which
 * ships dist/ only) serves them without copying static files. No inline script or style: the
 * Content-Security-Policy allows 'self' only.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lineal · analyst dashboard</title>
<link rel="icon" href="/dashboard/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/dashboard/assets/dashboard.css">
<script src="/dashboard/assets/chart.umd.js" defer></script>
<script src="/dashboard/assets/dashboard.js" defer></script>
</head>
<body>
<header>
  <h1>lineal <span class="sub">analyst dashboard</span></h1>
  <form id="key-form" autocomplete="off">
    <label for="api-key">API key</label>
    <input id="api-key" name="api-key" type="password" placeholder="lnl_…" spellcheck="false" required>
    <button type="submit" id="load">Show</button>
    <button type="button" id="forget-key">Forget key</button>
  </form>
  <p class="note">An analyst or municipality administrator key. It is kept in this browser tab
  only (sessionStorage) and sent only to this service. Aggregates only: counts of 1–4 children,
  and cells that would reveal them, are suppressed and shown as
  <span class="suppressed">–</span> (never as 0).</p>
</header>
<div id="error" class="error" role="alert" hidden></div>
<p id="status" class="status" aria-live="polite"></p>
<main id="dashboard" hidden>
  <section id="zones" class="panel">
    <h2>Zone shares per round</h2>
    <div class="chart"><canvas id="zones-chart" aria-label="Zone shares per round"></canvas></div>
    <div class="table" id="zones-table"></div>
  </section>
  <section id="transitions" class="panel">
    <h2>Transitions between the last two rounds</h2>
    <p class="caption" id="transitions-caption"></p>
    <div class="table" id="transitions-table"></div>
  </section>
  <section id="coverage" class="panel">
    <h2>Coverage per unit</h2>
    <div class="chart"><canvas id="coverage-chart" aria-label="Coverage per unit"></canvas></div>
    <div class="table" id="coverage-table"></div>
  </section>
  <section id="early" class="panel">
    <h2>Age at first concern, by birth cohort</h2>
    <p class="caption">Age in months at a child's first yellow or red assessment: median and
    quartile range (Q1–Q3) per birth cohort and district. Groups of fewer than 5 children are
    withheld.</p>
    <div class="chart"><canvas id="early-chart" aria-label="Age at first concern"></canvas></div>
    <div class="table" id="early-table"></div>
  </section>
</main>
</body>
</html>
`;

export const DASHBOARD_CSS = `:root {
  --fg: #1d2430; --muted: #5b6675; --line: #d7dce3; --bg: #f5f7fa; --panel: #fff;
  --accent: #1f5fae; --error-bg: #fdecea; --error-fg: #8a1c12;
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg); }
header { padding: 16px 24px 8px; background: var(--panel); border-bottom: 1px solid var(--line); }
h1 { margin: 0 0 8px; font-size: 20px; }
h1 .sub { font-weight: 400; color: var(--muted); }
h2 { margin: 0 0 8px; font-size: 16px; }
form { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
input { width: 28em; max-width: 100%; padding: 6px 8px; border: 1px solid var(--line);
  border-radius: 4px; font: inherit; }
button { padding: 6px 12px; border: 1px solid var(--accent); border-radius: 4px; font: inherit;
  background: var(--accent); color: #fff; cursor: pointer; }
button[type="button"] { background: #fff; color: var(--accent); }
.note, .caption, .status { color: var(--muted); margin: 8px 0; }
.status { padding: 0 24px; }
.error { margin: 12px 24px 0; padding: 10px 14px; border: 1px solid #f5c2bd; border-radius: 4px;
  background: var(--error-bg); color: var(--error-fg); font-weight: 600; white-space: pre-line; }
[hidden] { display: none !important; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px;
  padding: 16px 24px 24px; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px;
  padding: 14px 16px; min-width: 0; }
.chart { position: relative; height: 300px; }
.table { overflow-x: auto; margin-top: 10px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: right; }
th { background: #eef1f5; font-weight: 600; }
th.row { text-align: left; }
td.total, th.total { background: #f6f7f9; }
#transitions-table td { min-width: 4.5em; text-align: center; font-size: 15px; }
.suppressed { color: var(--muted); background-image: repeating-linear-gradient(45deg,
  transparent 0 4px, #e4e7ec 4px 6px); font-weight: 600; }
span.suppressed { padding: 0 4px; }
.zone-green { border-left: 4px solid #2e7d32; }
.zone-yellow { border-left: 4px solid #f9a825; }
.zone-red { border-left: 4px solid #c62828; }
.zone-none { border-left: 4px solid #78909c; }
`;

export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">
<rect x="1" y="9" width="4" height="6" fill="#2e7d32"/><rect x="6" y="5" width="4" height="10" fill="#f9a825"/>
<rect x="11" y="1" width="4" height="14" fill="#c62828"/></svg>
`;
