import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  ARTIFACTS,
  axeViolations,
  checkScreen,
  daysFromToday,
  hasChromium,
  horizontalOverflow,
  launchChromium,
} from '../support/browser.js';
import { describeEngines } from '../support/engines.js';
import {
  assessmentBody,
  createChild,
  createKey,
  createRound,
  createScreeningTenant,
} from '../support/factories.js';

/**
 * The staff app's worklist shows the parents still to be informed (issue 18): a first
 * assessment and a zone change, overdue marked; the form records how and when, the letter
 * downloads as PDF, and a violence flag leaves it to the leader. Screenshots at every width
 * (tests/artifacts/app-parents-*.png), axe clean.
 */
(hasChromium ? describeEngines : () => undefined)('staff app: parents to inform', (t) => {
  let browser: Browser;
  let baseUrl: string;
  let staffToken: string;
  let leaderToken: string;

  beforeAll(async () => {
    t.clock.set(new Date());
    const s = await createScreeningTenant(t);
    await createRound(t, s.admin.token, s.topi, {
      name: 'Efterår',
      windowStart: daysFromToday(-30),
      windowEnd: daysFromToday(14),
    });
    const staff = await createKey(t, s.municipality.id, 'unit_staff', {
      token: s.admin.token,
      unitIds: [s.unit.id],
    });
    staffToken = staff.token;
    leaderToken = (
      await createKey(t, s.municipality.id, 'unit_leader', {
        token: s.admin.token,
        unitIds: [s.unit.id],
      })
    ).token;
    const assess = async (givenName: string, daysAgo: number, fields: Record<string, unknown>) => {
      const child = await createChild(t, s.admin.token, {
        unitId: s.unit.id,
        givenName,
        familyName: 'Holm',
      });
      const res = await t.call('POST', '/v1/assessments', {
        token: s.admin.token,
        body: assessmentBody({
          childId: child.id,
          unitId: s.unit.id,
          rulerVersionId: s.topi,
          parentsInformed: false,
          assessedOn: daysFromToday(-daysAgo),
          ...fields,
        }),
      });
      expect(res.statusCode, res.body).toBe(201);
    };
    await assess('Alma', 20, { rating: { overallLevel: 2 } }); // overdue (7-day deadline)
    await assess('Bo', 1, { rating: { overallLevel: 1 } });
    await assess('Clara', 1, { redFlags: ['violence'] });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('lists them, records one, downloads a letter, and leaves the violence case to the leader', async () => {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      locale: 'da-DK',
      acceptDownloads: true,
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${baseUrl}/app/`);
    await page.fill('#api-key', staffToken);
    await page.click('button[type="submit"]');
    await page.waitForSelector('nav');
    await page.click('nav >> text=Arbejdsliste');
    await page.waitForSelector('li.notice-item');
    const items = page.locator('li.notice-item');
    expect(await items.count()).toBe(3);
    // Due dates first: Alma's is overdue.
    const first = items.first();
    expect(await first.textContent()).toMatch(/Alma Holm.*Forfalden/s);
    expect(await page.locator('li.notice-item:has-text("Clara") form').count()).toBe(0);
    expect(await page.textContent('li.notice-item:has-text("Clara")')).toContain(
      'lederen beslutter',
    );
    for (const check of await checkScreen(page, 'app-parents')) {
      expect(check.violations, `${check.width} px`).toEqual([]);
      expect(check.overflow, `${check.width} px`).toBeLessThanOrEqual(0);
    }

    // The panel alone at phone width, to look at.
    await page.setViewportSize({ width: 390, height: 900 });
    await page
      .locator('section[aria-labelledby="parents-heading"]')
      .screenshot({ path: join(ARTIFACTS, 'app-parents-panel-390.png') });
    await page.setViewportSize({ width: 1280, height: 900 });

    // The letter to Bo's parents.
    const bo = page.locator('li.notice-item:has-text("Bo Holm")');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      bo.locator('button:has-text("Hent brev")').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/\.pdf$/);
    const path = await download.path();
    expect(path).toBeTruthy();

    // A one-time link to the parent view for Bo's parents: shown once, opens Bo's view.
    await bo.locator('button:has-text("Lav forældrelink")').click();
    const field = bo.locator('input.link-field');
    await field.waitFor();
    const url = await field.inputValue();
    expect(url).toMatch(new RegExp(`^${baseUrl}/parents/#lnpl_[0-9a-f]{32}_`));
    expect(await bo.textContent()).toContain('én gang');
    expect(await axeViolations(page)).toEqual([]);
    await page.setViewportSize({ width: 390, height: 900 });
    await bo.screenshot({ path: join(ARTIFACTS, 'app-parents-link-390.png') });
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 900 });
    const parent = await context.newPage();
    await parent.goto(url);
    await parent.getByRole('button', { name: 'Se oplysningerne' }).click();
    await parent.getByRole('heading', { name: 'Bo' }).waitFor();
    await parent.close();

    // Alma's parents were told at a meeting yesterday.
    const alma = page.locator('li.notice-item:has-text("Alma Holm")');
    await alma.locator('button:has-text("Registrér orientering")').click();
    // The open form passes axe too.
    expect(await axeViolations(page)).toEqual([]);
    await alma.locator('input[type="date"]').fill(daysFromToday(-1));
    await alma.locator('select').selectOption('meeting');
    await alma.locator('input[id^="by-"]').fill('Mette Pædagog');
    await alma.locator('input[id^="role-"]').fill('pædagog');
    await alma.locator('button[type="submit"]').click();
    await alma.locator('.pill-done').waitFor();
    const open = await t.call('GET', '/v1/parent-notices?status=informed', { token: staffToken });
    expect(open.json().items).toEqual([
      expect.objectContaining({
        status: 'informed',
        informedOn: daysFromToday(-1),
        method: 'meeting',
        informedBy: { name: 'Mette Pædagog', role: 'pædagog' },
      }),
    ]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('lets the leader decide not to inform the parents under a violence flag', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${baseUrl}/app/`);
    await page.fill('#api-key', leaderToken);
    await page.click('button[type="submit"]');
    await page.waitForSelector('nav');
    await page.click('nav >> text=Arbejdsliste');
    const clara = page.locator('li.notice-item:has-text("Clara Holm")');
    await clara.waitFor();
    expect(await clara.textContent()).toContain('du beslutter som leder');
    // No letter while the leader has not decided to inform.
    expect(await clara.locator('button:has-text("Hent brev")').count()).toBe(0);
    await clara.locator('button:has-text("Orientér ikke")').click();
    await clara.locator('textarea').fill('Politiet er inddraget; afhøring først.');
    expect(await axeViolations(page)).toEqual([]);
    await page
      .locator('section[aria-labelledby="parents-heading"]')
      .screenshot({ path: join(ARTIFACTS, 'app-parents-leader-390.png') });
    await clara.locator('button[type="submit"]').click();
    await clara.locator('.pill-done').waitFor();
    const closed = await t.call('GET', '/v1/parent-notices?status=not_informed_risk', {
      token: leaderToken,
    });
    expect(closed.json().items).toEqual([
      expect.objectContaining({ note: 'Politiet er inddraget; afhøring først.' }),
    ]);
    await context.close();
  });
});
