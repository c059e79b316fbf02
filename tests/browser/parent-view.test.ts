import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkScreen, daysFromToday, hasChromium, launchChromium } from '../support/browser.js';
import { describeEngines } from '../support/engines.js';
import {
  assessmentBody,
  createChild,
  createKey,
  createScreeningTenant,
} from '../support/factories.js';

/**
 * The parent view as a parent meets it (issue 18): the unit's link opens the page, the code
 * leaves the address bar, the child's assessments, steps, consents and access log show; the
 * parent revokes a consent, switches to English and signs out; the spent link does not open
 * again. Screenshots at every width (tests/artifacts/parent-view-*.png), axe clean.
 */
(hasChromium ? describeEngines : () => undefined)('parent view in headless Chromium', (t) => {
  let browser: Browser;
  let baseUrl: string;
  let path: string;

  beforeAll(async () => {
    t.clock.set(new Date());
    const s = await createScreeningTenant(t);
    const staff = await createKey(t, s.municipality.id, 'unit_staff', {
      token: s.admin.token,
      unitIds: [s.unit.id],
    });
    const child = await createChild(t, s.admin.token, {
      unitId: s.unit.id,
      givenName: 'Alma',
      familyName: 'Holm',
    });
    for (const [daysAgo, level] of [
      [60, 1],
      [2, 2],
    ] as const) {
      const res = await t.call('POST', '/v1/assessments', {
        token: staff.token,
        body: assessmentBody({
          childId: child.id,
          unitId: s.unit.id,
          rulerVersionId: s.topi,
          parentsInformed: false,
          assessedOn: daysFromToday(-daysAgo),
          rating: { overallLevel: level },
          justification: 'Intern note om familien',
        }),
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    const consent = await t.call('POST', `/v1/children/${child.id}/consents`, {
      token: s.admin.token,
      body: {
        purpose: 'interdisciplinary_sharing',
        recipient: { role: 'unit_leader' },
        categories: ['assessments'],
        givenBy: { name: 'Mette Holm', relation: 'parent' },
        givenOn: daysFromToday(-10),
      },
    });
    expect(consent.statusCode, consent.body).toBe(201);
    const link = await t.call('POST', `/v1/children/${child.id}/parent-links`, {
      token: staff.token,
      body: { unitId: s.unit.id, handedTo: 'mor' },
    });
    expect(link.statusCode, link.body).toBe(201);
    path = link.json().path;
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('opens the link once, shows the child, revokes a consent, signs out', async () => {
    const context = await browser.newContext({
      viewport: { width: 390, height: 900 },
      locale: 'da-DK',
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().includes('401')) errors.push(m.text());
    });
    await page.goto(`${baseUrl}${path}`);
    // Nothing is spent until the parent asks (a link scanner opening the page spends nothing).
    await page.getByRole('button', { name: 'Se oplysningerne' }).waitFor();
    expect(page.url()).toBe(`${baseUrl}/parents/`);
    await page.getByRole('button', { name: 'Se oplysningerne' }).click();
    await page.getByRole('heading', { name: 'Alma' }).waitFor();
    expect(page.url()).toBe(`${baseUrl}/parents/`);
    const text = await page.locator('main').innerText();
    expect(text).toContain('Gul');
    expect(text).toContain('Grøn');
    expect(text).toContain('Mette Holm');
    expect(text).toContain('medarbejder');
    expect(text).not.toContain('Intern note');
    for (const check of await checkScreen(page, 'parent-view')) {
      expect(check.overflow, `width ${check.width}`).toBeLessThanOrEqual(0);
      expect(check.violations, `width ${check.width}`).toEqual([]);
    }

    await page.getByRole('button', { name: 'Træk samtykket tilbage' }).click();
    await page.getByLabel('Dit navn').fill('Mette Holm');
    for (const check of await checkScreen(page, 'parent-view-revoke')) {
      expect(check.violations, `width ${check.width}`).toEqual([]);
    }
    await page.getByRole('button', { name: 'Træk tilbage', exact: true }).click();
    await page.getByText('trukket tilbage', { exact: false }).first().waitFor();
    expect(await page.getByRole('button', { name: 'Træk samtykket tilbage' }).count()).toBe(0);

    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Well-being assessments' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    for (const check of await checkScreen(page, 'parent-view-en')) {
      expect(check.violations, `width ${check.width}`).toEqual([]);
    }

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').innerText()).toContain('signed out');
    expect(errors).toEqual([]);

    // The spent link, opened again in a new tab, does not open.
    const again = await context.newPage();
    await again.goto(`${baseUrl}${path}`);
    await again.getByRole('button', { name: 'Se oplysningerne' }).click();
    await again.getByRole('alert').waitFor();
    expect(await again.getByRole('alert').innerText()).toContain('Linket virker ikke');
    await context.close();
  });
});
