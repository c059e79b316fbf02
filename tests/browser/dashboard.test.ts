import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { Database } from '../../src/db/database.js';
import { createDemoData, type DemoResult } from '../../src/demo/generate.js';
import { ARTIFACTS, checkScreen, hasChromium, launchChromium } from '../support/browser.js';
import { openTestDatabase, TEST_CPR_SECRET } from '../support/engines.js';

const TODAY = new Date('2026-11-22T09:00:00.000Z');

interface Cell {
  value: number | null;
  suppressed: boolean;
}

/** A page whose console errors, uncaught errors and failed requests are collected. */
async function openPage(browser: Browser, baseUrl: string) {
  const context = await browser.newContext({
    viewport: { width: 1400, height: 1000 },
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  const failedRequests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  page.on('requestfailed', (request) => failedRequests.push(request.url()));
  await page.goto(`${baseUrl}/dashboard`);
  return { context, page, consoleErrors, pageErrors, failedRequests };
}

async function submitKey(page: Page, key: string): Promise<void> {
  await page.fill('#api-key', key);
  await page.click('#load');
}

describe.skipIf(!hasChromium)('dashboard in headless Chromium [pglite]', () => {
  let database: Database;
  let drop: () => Promise<void>;
  let app: FastifyInstance;
  let browser: Browser;
  let demo: DemoResult;
  let baseUrl: string;

  beforeAll(async () => {
    ({ database, drop } = await openTestDatabase('pglite'));
    app = await buildApp({
      config: { bodyLimitBytes: 64 * 1024, trustProxy: false },
      cprSecret: TEST_CPR_SECRET,
      database,
      now: () => new Date(TODAY),
    });
    demo = await createDemoData(app, database, { children: 60, seed: 42, today: TODAY });
    await app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await drop?.();
  });

  it('serves the page and its assets with a strict CSP, outside the OpenAPI document', async () => {
    const page = await app.inject({ method: 'GET', url: '/dashboard' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    // The page's script and stylesheet: built, content-hashed, immutable, same policy.
    const assets = [...page.body.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) {
      const res = await app.inject({ method: 'GET', url: asset as string });
      expect(res.statusCode, asset).toBe(200);
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(res.headers['content-security-policy']).toBe(csp);
    }
    expect((await app.inject({ method: 'GET', url: '/assets/nope.js' })).statusCode).toBe(404);
    const openapi = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(Object.keys(openapi.json().paths).filter((p) => p.startsWith('/dashboard'))).toEqual([]);
  });

  it('shows an API problem such as 401 in a visible error box', async () => {
    const { context, page, pageErrors } = await openPage(browser, baseUrl);
    try {
      await submitKey(page, 'lnl_not-a-valid-key');
      await page.waitForSelector('#error:not([hidden])');
      expect(await page.textContent('#error')).toContain('401');
      expect(await page.isHidden('#dashboard')).toBe(true);
      // The browser logs the 401 response itself; the page's own code must not throw.
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('renders every panel from demo data, suppression included, without errors', {
    timeout: 60_000,
  }, async () => {
    const { context, page, consoleErrors, pageErrors, failedRequests } = await openPage(
      browser,
      baseUrl,
    );
    try {
      await submitKey(page, demo.analystToken);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
      expect(await page.isHidden('#error')).toBe(true);

      // Four canvases drawn at a real size, and the transition and report tables.
      for (const id of ['zones-chart', 'coverage-chart', 'early-chart', 'follow-chart']) {
        const canvas = page.locator(`#${id}[data-ready="true"]`);
        const box = await canvas.boundingBox();
        expect(box?.width, id).toBeGreaterThan(100);
        expect(box?.height, id).toBeGreaterThan(100);
      }
      for (const id of ['zones', 'transitions', 'coverage', 'early', 'follow', 'reports']) {
        expect(await page.getAttribute(`#${id}`, 'data-ready'), id).toBe('true');
      }
      // Follow-through: one line per unit with steps, and the municipality's; what a leader
      // acts on (overdue steps) as the API says.
      const follow = (
        await app.inject({
          method: 'GET',
          url: '/v1/analytics/follow-through?groupBy=unit',
          headers: { authorization: `Bearer ${demo.analystToken}` },
        })
      ).json();
      const overdueShown = await page.$$eval('#follow-table tbody tr', (trs) =>
        trs.map((tr) => tr.querySelectorAll('td')[4]?.textContent),
      );
      expect(overdueShown.at(-1)).toBe(String(follow.overall.overdue.value ?? '–'));
      expect(overdueShown.length).toBeLessThanOrEqual(follow.rows.length + 1);
      // …and the parents not informed in time (issue 18), overall as the API says.
      const parentsOverdue = await page.$$eval('#follow-table tbody tr', (trs) =>
        trs.map((tr) => tr.querySelectorAll('td')[6]?.textContent),
      );
      expect(parentsOverdue.at(-1)).toBe(
        String(follow.overall.parentsInformed.overdue.value ?? '–'),
      );
      // Concern reports per year, with the rate per 1,000 children.
      expect(await page.locator('#reports-table tbody tr').count()).toBeGreaterThanOrEqual(2);

      // The transition table shows exactly the API's matrix, suppressed cells as such.
      const rounds = [...demo.rounds].sort((a, b) => a.windowStart.localeCompare(b.windowStart));
      const [from, to] = rounds.slice(-2);
      const api = await app.inject({
        method: 'GET',
        url: `/v1/analytics/transitions?fromRoundId=${from?.id}&toRoundId=${to?.id}`,
        headers: { authorization: `Bearer ${demo.analystToken}` },
      });
      const matrix = api.json().rows[0].matrix as Cell[][];
      expect(matrix.flat().some((c) => c.suppressed)).toBe(true); // the demo data has some
      const shown = await page.$$eval('#transitions-table tbody tr', (trs) =>
        trs.map((tr) =>
          [...tr.querySelectorAll('td')].map((td) => ({
            text: td.textContent,
            suppressed: td.classList.contains('suppressed'),
          })),
        ),
      );
      for (const [i, row] of matrix.entries()) {
        for (const [j, cell] of row.entries()) {
          expect(shown[i]?.[j], `transition ${i}→${j}`).toEqual(
            cell.suppressed
              ? { text: '–', suppressed: true }
              : { text: String(cell.value), suppressed: false },
          );
        }
      }

      // Charts: a suppressed share is no bar (null), never 0, and appears as "Suppressed".
      const zoneData = await page.evaluate(() => {
        // biome-ignore lint/suspicious/noExplicitAny: Chart.js's global in the page
        const chart = (globalThis as any).Chart.getChart('zones-chart');
        return chart.data.datasets.map((d: { label: string; data: Array<number | null> }) => ({
          label: d.label,
          data: d.data,
        })) as Array<{ label: string; data: Array<number | null> }>;
      });
      const yellow = zoneData.find((d) => d.label === 'Yellow');
      const suppressedPart = zoneData.find((d) => d.label === 'Suppressed');
      expect(yellow?.data).toContain(null);
      expect(yellow?.data).not.toContain(0);
      expect(suppressedPart?.data.some((v) => typeof v === 'number' && v > 0)).toBe(true);
      // Coverage is not a finding about a child: never suppressed.
      expect(await page.locator('#coverage-table td.suppressed').count()).toBe(0);
      expect(await page.locator('#early-table td.suppressed').count()).toBeGreaterThan(0);

      // Desktop, tablet and phone: no sideways scroll, no axe violation; screenshots to look at.
      for (const check of await checkScreen(page, 'dashboard')) {
        expect(check.overflow, `${check.width}px`).toBeLessThanOrEqual(0);
        expect(check.violations, `${check.width}px`).toEqual([]);
      }

      // Each panel's table downloads as CSV (the aggregate's .csv, with the key).
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.click('button.download[data-panel="zones"]'),
      ]);
      expect(download.suggestedFilename()).toBe('zone-distribution.csv');
      const saved = join(ARTIFACTS, 'dashboard-zones.csv');
      await download.saveAs(saved);
      const csvText = await readFile(saved, 'utf8');
      expect(csvText.split('\r\n')[0]).toContain('counts_green,counts_green_suppressed');

      // Filters: one district only; every panel is asked for it, and the zones follow.
      const districtBoxes = page.locator('#filter-districts input[type="checkbox"]');
      expect(await districtBoxes.count()).toBeGreaterThanOrEqual(2);
      const keep = await districtBoxes.first().getAttribute('value');
      const asked: string[] = [];
      page.on('request', (r) => {
        if (r.url().includes('/v1/analytics/')) asked.push(decodeURIComponent(r.url()));
      });
      const count = await districtBoxes.count();
      for (let i = 1; i < count; i++) await districtBoxes.nth(i).uncheck();
      await page.click('#apply-filters');
      await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
      const panels = asked.filter((u) => !u.includes('groupBy=district'));
      expect(panels.length).toBeGreaterThanOrEqual(5);
      for (const url of panels) expect(url, url).toContain(`districts=${keep}`);
      const filtered = (
        await app.inject({
          method: 'GET',
          url: `/v1/analytics/zone-distribution?groupBy=round&districts=${encodeURIComponent(String(keep))}`,
          headers: { authorization: `Bearer ${demo.analystToken}` },
        })
      ).json();
      const totals = await page.$$eval('#zones-table tbody tr td.total', (tds) =>
        tds.map((td) => td.textContent),
      );
      expect(totals).toEqual(
        filtered.rows
          .filter((r: { total: Cell }) => r.total.value !== 0)
          .map((r: { total: Cell }) => String(r.total.value)),
      );
      await page.setViewportSize({ width: 390, height: 900 });
      await page.screenshot({
        path: join(ARTIFACTS, 'dashboard-filtered-390.png'),
        fullPage: true,
      });
      // The panels a leader acts on, at phone width, one by one (to look at).
      for (const id of ['filters', 'zones', 'follow', 'reports']) {
        await page
          .locator(`#${id}`)
          .screenshot({ path: join(ARTIFACTS, `dashboard-${id}-390.png`) });
      }
      await page.setViewportSize({ width: 1400, height: 1000 });
      await page.click('#clear-filters');
      await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });

      // The key is kept for the tab: a reload shows the dashboard again.
      await page.reload();
      await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });

      expect(consoleErrors).toEqual([]);
      expect(pageErrors).toEqual([]);
      expect(failedRequests).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
