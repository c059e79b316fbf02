import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { Database } from '../../src/db/database.js';
import { createDemoData, type DemoResult } from '../../src/demo/generate.js';
import { checkScreen, hasChromium, launchChromium } from '../support/browser.js';
import { openTestDatabase, TEST_CPR_SECRET } from '../support/engines.js';

const TODAY = new Date('2026-11-22T09:00:00.000Z');

/**
 * The parent letter's HTML (issue 18) as a parent would open it: headless Chromium with the
 * response's own content security policy, at phone, tablet and desktop width: no sideways
 * scroll, no axe violation, screenshots to look at (tests/artifacts/parent-letter-*.png).
 */
describe.skipIf(!hasChromium)('parent letter in headless Chromium [pglite]', () => {
  let database: Database;
  let drop: () => Promise<void>;
  let app: Awaited<ReturnType<typeof buildApp>>;
  let browser: Browser;
  let demo: DemoResult;

  beforeAll(async () => {
    ({ database, drop } = await openTestDatabase('pglite'));
    app = await buildApp({
      config: { bodyLimitBytes: 64 * 1024, trustProxy: false },
      cprSecret: TEST_CPR_SECRET,
      database,
      now: () => new Date(TODAY),
    });
    demo = await createDemoData(app, database, { children: 30, seed: 7, today: TODAY });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await drop?.();
  });

  it('reads well and passes axe in Danish, English and Ukrainian at every width', async () => {
    const list = await app.inject({
      method: 'GET',
      url: '/v1/parent-notices?status=all&limit=200',
      headers: { authorization: `Bearer ${demo.adminToken}` },
    });
    expect(list.statusCode, list.body).toBe(200);
    const notices = list.json().items as {
      id: string;
      reason: string;
      status: string;
      riskCategories: string[];
    }[];
    const notice = notices.find(
      (n) =>
        n.reason === 'zone_change' && n.riskCategories.length === 0 && n.status !== 'superseded',
    );
    expect(notice, 'a zone change in the demo data').toBeDefined();
    const enabled = await app.inject({
      method: 'PUT',
      url: '/v1/parent-letter-languages',
      headers: { authorization: `Bearer ${demo.adminToken}` },
      payload: { languages: ['en', 'uk'] },
    });
    expect(enabled.statusCode, enabled.body).toBe(200);
    for (const language of ['da', 'en', 'uk']) {
      const res = await app.inject({
        method: 'GET',
        url: `/v1/parent-notices/${notice?.id}/letter?language=${language}`,
        headers: { authorization: `Bearer ${demo.adminToken}` },
      });
      expect(res.statusCode, res.body).toBe(200);
      const context = await browser.newContext();
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      // Served as the API serves it, with its headers (the CSP allows its inline style).
      await page.route('http://letter.test/', (route) =>
        route.fulfill({
          status: 200,
          headers: {
            'content-type': String(res.headers['content-type']),
            'content-security-policy': String(res.headers['content-security-policy']),
          },
          body: res.body,
        }),
      );
      await page.goto('http://letter.test/');
      expect(await page.locator('h1').textContent()).toMatch(/trivsel|well-being|Самопочуття/);
      expect(await page.evaluate('getComputedStyle(document.body).fontSize')).toBe('16px');
      for (const check of await checkScreen(page, `parent-letter-${language}`)) {
        expect(check.overflow, `${check.width}px`).toBeLessThanOrEqual(0);
        expect(check.violations, `${check.width}px`).toEqual([]);
      }
      expect(errors).toEqual([]);
      await context.close();
    }
  });
});
