/**
 * The dashboard's browser script, served as /dashboard/assets/dashboard.js. Plain ES2020 for the
 * browser (kept as a string so the compiled service ships it without static files; it must not
 * contain backticks or dollar-brace). It reads the key from the form or sessionStorage, calls
 * the analytics endpoints with it, and draws with the global `Chart` (chart.umd.js).
 *
 * Suppression: a cell {value: null, suppressed: true} is never drawn as 0. Tables show it as
 * "–" with the class "suppressed"; charts leave the bar out and mark its place with "–"; a
 * round's zone shares show the hidden zones together as one grey "suppressed" part (their sum
 * is derivable from the published total and the published zones anyway).
 */
export const DASHBOARD_JS = String.raw`(function () {
  'use strict';

  var KEY_STORAGE = 'lineal.dashboard.apiKey';
  var ZONES = ['green', 'yellow', 'red', 'none'];
  var ZONE_LABEL = { green: 'Green', yellow: 'Yellow', red: 'Red', none: 'No zone' };
  var ZONE_COLOR = { green: '#2e7d32', yellow: '#f9a825', red: '#c62828', none: '#78909c' };
  var SUPPRESSED_COLOR = '#c5cad3';
  var SUPPRESSED_TEXT = '–';
  var SUPPRESSED_TITLE = 'Suppressed: 1–4 children, or a cell that would reveal such a count';
  var ROUND_COLORS = ['#9ec5ea', '#5b9bd5', '#1f5fae', '#103a6e'];
  var charts = [];

  function byId(id) { return document.getElementById(id); }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function suppressedCell(tag) {
    return el(tag || 'td', { class: 'suppressed', title: SUPPRESSED_TITLE, 'data-suppressed': 'true' },
      SUPPRESSED_TEXT);
  }

  /** A count cell: its value, or the suppression mark. */
  function countCell(cell, extraClass) {
    if (!cell || cell.suppressed || cell.value === null) {
      var td = suppressedCell('td');
      if (extraClass) td.classList.add(extraClass);
      return td;
    }
    return el('td', extraClass ? { class: extraClass } : null, cell.value);
  }

  function percent(share) {
    return share === null || share === undefined ? null : Math.round(share * 1000) / 10;
  }

  function table(headers, rows) {
    var t = el('table');
    var head = el('tr');
    headers.forEach(function (h, i) { head.appendChild(el('th', i === 0 ? { class: 'row' } : null, h)); });
    var thead = el('thead');
    thead.appendChild(head);
    t.appendChild(thead);
    var body = el('tbody');
    rows.forEach(function (r) { body.appendChild(r); });
    t.appendChild(body);
    return t;
  }

  function rowOf(label, cells, labelClass) {
    var tr = el('tr');
    tr.appendChild(el('th', { class: 'row' + (labelClass ? ' ' + labelClass : '') }, label));
    cells.forEach(function (c) { tr.appendChild(c); });
    return tr;
  }

  function showError(message) {
    var box = byId('error');
    box.textContent = message;
    box.hidden = false;
  }

  function setStatus(text) { byId('status').textContent = text; }

  function ApiError(status, message) {
    this.name = 'ApiError';
    this.status = status;
    this.message = message;
  }

  async function api(path, key) {
    var res;
    try {
      res = await fetch(path, { headers: { Authorization: 'Bearer ' + key, Accept: 'application/json' } });
    } catch (e) {
      throw new ApiError(0, 'The service could not be reached (' + path.split('?')[0] + ').');
    }
    var text = await res.text();
    var body = null;
    try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
    if (!res.ok) {
      var title = body && body.title ? body.title : res.statusText || 'Error';
      var detail = body && body.detail ? ': ' + body.detail : '';
      var hint = res.status === 401 ? '\nCheck the API key: it is missing, wrong, expired or revoked.'
        : res.status === 403 ? '\nThis key may not read analytics: use an analyst key.' : '';
      var ref = body && body.requestId ? ' (request ' + body.requestId + ')' : '';
      throw new ApiError(res.status, res.status + ' ' + title + detail + ref + hint);
    }
    return body;
  }

  /** Marks the place of suppressed values (dataset.suppressed[i] true) with "–" on the axis. */
  var suppressedMarks = {
    id: 'suppressedMarks',
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx;
      var area = chart.chartArea;
      ctx.save();
      ctx.fillStyle = '#5b6675';
      ctx.font = 'bold 14px system-ui, sans-serif';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'bottom';
      chart.data.datasets.forEach(function (dataset, d) {
        if (!dataset.suppressed || !chart.isDatasetVisible(d)) return;
        var meta = chart.getDatasetMeta(d);
        dataset.suppressed.forEach(function (hidden, i) {
          var element = meta.data[i];
          if (!hidden || !element || !isFinite(element.x)) return;
          ctx.fillText(SUPPRESSED_TEXT, element.x, area.bottom - 2);
        });
      });
      ctx.restore();
    },
  };

  function makeChart(canvas, config) {
    config.options = Object.assign({
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
    }, config.options || {});
    config.plugins = (config.plugins || []).concat([suppressedMarks]);
    var chart = new window.Chart(canvas, config);
    charts.push(chart);
    canvas.setAttribute('data-ready', 'true');
    return chart;
  }

  function byWindowStart(a, b) {
    return a.windowStart < b.windowStart ? -1 : a.windowStart > b.windowStart ? 1 : 0;
  }

  // --- Zone shares per round -------------------------------------------------------------

  function renderZones(data) {
    var rows = data.rows.filter(function (r) { return r.group.round; }).slice();
    rows.sort(function (a, b) { return byWindowStart(a.group.round, b.group.round); });
    var labels = rows.map(function (r) { return r.group.round.name; });
    var datasets = ZONES.map(function (zone) {
      return {
        label: ZONE_LABEL[zone],
        backgroundColor: ZONE_COLOR[zone],
        data: rows.map(function (r) { return percent(r.shares[zone]); }),
      };
    });
    var hiddenZones = rows.map(function (r) {
      return ZONES.filter(function (z) { return r.counts[z].suppressed; });
    });
    datasets.push({
      label: 'Suppressed',
      backgroundColor: SUPPRESSED_COLOR,
      data: rows.map(function (r, i) {
        if (hiddenZones[i].length === 0) return null;
        var known = ZONES.reduce(function (sum, z) { return sum + (r.shares[z] || 0); }, 0);
        return Math.max(0, Math.round((1 - known) * 1000) / 10);
      }),
    });
    makeChart(byId('zones-chart'), {
      type: 'bar',
      data: { labels: labels, datasets: datasets },
      options: {
        scales: {
          x: { stacked: true },
          y: { stacked: true, min: 0, max: 100, ticks: { callback: function (v) { return v + ' %'; } } },
        },
        plugins: {
          tooltip: {
            callbacks: {
              label: function (c) {
                if (c.dataset.label === 'Suppressed') {
                  return 'Suppressed (' + hiddenZones[c.dataIndex].map(function (z) {
                    return ZONE_LABEL[z].toLowerCase();
                  }).join(', ') + '): ' + c.parsed.y + ' % together';
                }
                return c.dataset.label + ': ' + c.parsed.y + ' %';
              },
            },
          },
        },
      },
    });
    var tableRows = rows.map(function (r) {
      return rowOf(r.group.round.name, ZONES.map(function (z) {
        return countCell(r.counts[z], 'zone-' + z);
      }).concat([countCell(r.total, 'total')]));
    });
    byId('zones-table').replaceChildren(table(['Round (children)', 'Green', 'Yellow', 'Red', 'No zone', 'Total'], tableRows));
    byId('zones').setAttribute('data-ready', 'true');
    return rows.map(function (r) { return r.group.round; });
  }

  // --- Transition matrix -------------------------------------------------------------------

  function renderTransitions(response) {
    var zones = response.zones;
    var data = response.rows[0];
    var header = ['From \\ to'].concat(zones.map(function (z) { return ZONE_LABEL[z]; }), ['Total']);
    var rows = zones.map(function (from, i) {
      var cells = data.matrix[i].map(function (cell) { return countCell(cell); });
      cells.push(countCell(data.fromTotals[i], 'total'));
      return rowOf(ZONE_LABEL[from], cells, 'zone-' + from);
    });
    rows.push(rowOf('Total', data.toTotals.map(function (cell) { return countCell(cell, 'total'); })
      .concat([countCell(data.total, 'total')]), 'total'));
    byId('transitions-caption').textContent = 'Children assessed in both ' + response.fromRound.name +
      ' (rows) and ' + response.toRound.name + ' (columns).';
    byId('transitions-table').replaceChildren(table(header, rows));
    byId('transitions').setAttribute('data-ready', 'true');
  }

  function renderNoTransitions(rounds) {
    byId('transitions-caption').textContent = rounds.length < 2
      ? 'Needs two rounds with assessments; there ' + (rounds.length === 1 ? 'is one.' : 'are none.')
      : '';
    byId('transitions-table').replaceChildren();
    byId('transitions').setAttribute('data-ready', 'true');
  }

  // --- Coverage per unit -------------------------------------------------------------------

  function renderCoverage(data) {
    var rounds = [];
    var units = [];
    var byKey = {};
    data.rows.forEach(function (r) {
      var round = r.group.round;
      var unit = r.roundTotal ? null : r.group.unit;
      if (!rounds.some(function (x) { return x.id === round.id; })) rounds.push(round);
      if (unit && !units.some(function (u) { return u.id === unit.id; })) units.push(unit);
      byKey[round.id + '/' + (unit ? unit.id : 'all')] = r;
    });
    rounds.sort(byWindowStart);
    rounds = rounds.slice(-4); // the latest rounds, oldest first
    units.sort(function (a, b) { return a.name.localeCompare(b.name, 'da'); });
    var datasets = rounds.map(function (round, i) {
      var rowsOfRound = units.map(function (u) { return byKey[round.id + '/' + u.id]; });
      return {
        label: round.name,
        backgroundColor: ROUND_COLORS[ROUND_COLORS.length - rounds.length + i] || ROUND_COLORS[i % 4],
        data: rowsOfRound.map(function (r) { return r ? percent(r.coverage) : null; }),
        // No row: the unit had nobody enrolled in that round (not a suppressed value).
        suppressed: rowsOfRound.map(function (r) { return !!r && r.coverage === null; }),
      };
    });
    makeChart(byId('coverage-chart'), {
      type: 'bar',
      data: { labels: units.map(function (u) { return u.name; }), datasets: datasets },
      options: {
        scales: { y: { min: 0, max: 100, ticks: { callback: function (v) { return v + ' %'; } } } },
        plugins: {
          tooltip: {
            callbacks: {
              label: function (c) { return c.dataset.label + ': ' + c.parsed.y + ' % assessed'; },
            },
          },
        },
      },
    });
    var header = ['Unit (assessed / enrolled)'].concat(rounds.map(function (r) { return r.name; }));
    function coverageCell(r) {
      if (!r) return el('td', null, '');
      if (r.coverage === null) {
        var td = suppressedCell('td');
        var shown = r.enrolled.suppressed ? '' : ' (' + r.enrolled.value + ' enrolled)';
        td.textContent = SUPPRESSED_TEXT + shown;
        return td;
      }
      return el('td', null, r.assessed.value + ' / ' + r.enrolled.value + ' (' + percent(r.coverage) + ' %)');
    }
    var rows = units.map(function (u) {
      return rowOf(u.name, rounds.map(function (round) { return coverageCell(byKey[round.id + '/' + u.id]); }));
    });
    rows.push(rowOf('All units', rounds.map(function (round) {
      var td = coverageCell(byKey[round.id + '/all']);
      td.classList.add('total');
      return td;
    }), 'total'));
    byId('coverage-table').replaceChildren(table(header, rows));
    byId('coverage').setAttribute('data-ready', 'true');
  }

  // --- Age at first concern -----------------------------------------------------------------

  function renderEarly(data) {
    var rows = data.rows.slice();
    rows.sort(function (a, b) {
      return a.group.cohort - b.group.cohort ||
        String(a.group.district).localeCompare(String(b.group.district), 'da');
    });
    var labels = rows.map(function (r) {
      return r.group.cohort + ' · ' + (r.group.district || 'no district');
    });
    var q = rows.map(function (r) { return r.ageMonthsAtFirstConcern; });
    var withheld = q.map(function (x) { return x.median === null; });
    makeChart(byId('early-chart'), {
      type: 'bar',
      data: {
        labels: labels,
        datasets: [
          {
            type: 'line',
            label: 'Median',
            data: q.map(function (x) { return x.median; }),
            showLine: false,
            pointRadius: 6,
            pointStyle: 'rectRot',
            backgroundColor: '#103a6e',
            borderColor: '#103a6e',
          },
          {
            type: 'bar',
            label: 'Quartile range (Q1–Q3)',
            data: q.map(function (x) { return x.q1 === null || x.q3 === null ? null : [x.q1, x.q3]; }),
            backgroundColor: 'rgba(31, 95, 174, 0.35)',
            borderColor: '#1f5fae',
            borderWidth: 1,
            suppressed: withheld,
          },
        ],
      },
      options: {
        scales: { y: { beginAtZero: true, title: { display: true, text: 'age in months' } } },
        plugins: {
          tooltip: {
            callbacks: {
              label: function (c) {
                var x = q[c.dataIndex];
                return c.datasetIndex === 0
                  ? 'Median ' + x.median + ' months'
                  : 'Q1–Q3 ' + x.q1 + '–' + x.q3 + ' months';
              },
            },
          },
        },
      },
    });
    function num(v) { return v === null ? suppressedCell('td') : el('td', null, v); }
    var tableRows = rows.map(function (r, i) {
      var x = q[i];
      return rowOf(labels[i], [countCell(x.children), num(x.q1), num(x.median), num(x.q3)]);
    });
    byId('early-table').replaceChildren(
      table(['Cohort · district', 'Children', 'Q1', 'Median', 'Q3'], tableRows));
    byId('early').setAttribute('data-ready', 'true');
  }

  // --- Loading ----------------------------------------------------------------------------------

  function reset() {
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
    document.querySelectorAll('[data-ready]').forEach(function (node) { node.removeAttribute('data-ready'); });
    document.body.removeAttribute('data-ready');
    byId('error').hidden = true;
    byId('error').textContent = '';
  }

  async function load(key) {
    reset();
    if (typeof window.Chart !== 'function') {
      showError('The chart library did not load.');
      return;
    }
    setStatus('Loading…');
    try {
      var results = await Promise.all([
        api('/v1/analytics/zone-distribution?groupBy=round', key),
        api('/v1/analytics/coverage?groupBy=unit', key),
        api('/v1/analytics/early-detection?groupBy=cohort,district', key),
      ]);
      byId('dashboard').hidden = false;
      var rounds = renderZones(results[0]);
      renderCoverage(results[1]);
      renderEarly(results[2]);
      if (rounds.length >= 2) {
        var from = rounds[rounds.length - 2];
        var to = rounds[rounds.length - 1];
        renderTransitions(await api('/v1/analytics/transitions?fromRoundId=' +
          encodeURIComponent(from.id) + '&toRoundId=' + encodeURIComponent(to.id), key));
      } else {
        renderNoTransitions(rounds);
      }
      setStatus('Updated ' + new Date().toLocaleString('da-DK') + '.');
      document.body.setAttribute('data-ready', 'true');
    } catch (error) {
      reset();
      byId('dashboard').hidden = true;
      setStatus('');
      showError(error instanceof ApiError ? error.message : 'The dashboard failed: ' + error);
      document.body.setAttribute('data-error', 'true');
    }
  }

  function start() {
    var input = byId('api-key');
    byId('key-form').addEventListener('submit', function (event) {
      event.preventDefault();
      var key = input.value.trim();
      if (!key) return;
      document.body.removeAttribute('data-error');
      sessionStorage.setItem(KEY_STORAGE, key);
      load(key);
    });
    byId('forget-key').addEventListener('click', function () {
      sessionStorage.removeItem(KEY_STORAGE);
      input.value = '';
      reset();
      byId('dashboard').hidden = true;
      setStatus('Key forgotten.');
    });
    var saved = sessionStorage.getItem(KEY_STORAGE);
    if (saved) {
      input.value = saved;
      load(saved);
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
`;
