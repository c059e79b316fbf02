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
 * The child's own view in the staff app (issue 18): on the child's page a child of 10–16
 * answers on five faces after the adult reads out what the answers are for; the professionals'
 * assessment then shows the child's own zone beside it. A younger child gets no such panel.
 * Screenshots at every width (tests/artifacts/app-self-report-*.png), axe clean.
 */
(hasChromium ? describeEngines : () => undefined)('staff app: the child’s own view', (t) => {
  let browser: Browser;
  let baseUrl: string;
  let staffToken: string;
  let childPage: string;
  let youngPage: string;
  let childId: string;

  beforeAll(async () => {
    t.clock.set(new Date());
    const s = await createScreeningTenant(t);
    const round = await createRound(t, s.admin.token, s.topi, {
      name: 'Efterår',
      windowStart: daysFromToday(-30),
      windowEnd: daysFromToday(14),
    });
    staffToken = (
      await createKey(t, s.municipality.id, 'unit_staff', {
        token: s.admin.token,
        unitIds: [s.unit.id],
      })
    ).token;
    const older = await createChild(t, s.admin.token, {
      unitId: s.unit.id,
      givenName: 'Sofie',
      familyName: 'Holm',
      birthDate: '2014-03-15',
    });
    const younger = await createChild(t, s.admin.token, {
      unitId: s.unit.id,
      givenName: 'Lille',
      familyName: 'Holm',
      birthDate: '2020-03-15',
    });
    childId = older.id;
    for (const child of [older, younger]) {
      const res = await t.call('POST', '/v1/assessments', {
        token: s.admin.token,
        body: assessmentBody({
          childId: child.id,
          unitId: s.unit.id,
          roundId: round.id,
          assessedOn: daysFromToday(-1),
        }),
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    childPage = `${baseUrl}/app/#/round/${round.id}/unit/${s.unit.id}/child/${older.id}`;
    youngPage = `${baseUrl}/app/#/round/${round.id}/unit/${s.unit.id}/child/${younger.id}`;
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('lets a 12-year-old answer, and shows the result beside the assessment', async () => {
    const context = await browser.newContext({
      viewport: { width: 390, height: 900 },
      locale: 'da-DK',
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${baseUrl}/app/`);
    await page.fill('#api-key', staffToken);
    await page.click('button[type="submit"]');
    await page.waitForSelector('nav');

    await page.goto(youngPage);
    await page.getByRole('heading', { name: 'Samtykke' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Barnets egen vurdering' }).count()).toBe(0);

    await page.goto(childPage);
    await page.getByRole('button', { name: 'Lad barnet svare' }).click();
    // What the answers are for, read out to the child, changes with the purpose.
    const say = page.locator('#self-statement');
    const dialogue = await say.textContent();
    await page.selectOption('#self-purpose', 'statistics_only');
    expect(await say.textContent()).not.toBe(dialogue);
    expect(await page.getByText('forældrene må se').count()).toBe(0);
    await page.selectOption('#self-purpose', 'dialogue');
    for (const fieldset of await page.locator('fieldset.faces').all()) {
      await fieldset.locator('input[value="4"]').check();
    }
    await page.getByText('forældrene må se').click();
    await page.fill('#self-adult', 'Anna Lærer');
    await page.fill('#self-role', 'lærer');
    for (const check of await checkScreen(page, 'app-self-report')) {
      expect(check.violations, `${check.width} px`).toEqual([]);
      expect(check.overflow, `${check.width} px`).toBeLessThanOrEqual(0);
    }
    await page.setViewportSize({ width: 390, height: 900 });
    await page
      .locator('section[aria-labelledby="self-h"]')
      .screenshot({ path: join(ARTIFACTS, 'app-self-report-form-390.png') });
    await page.getByRole('button', { name: 'Gem barnets svar' }).click();
    await page.getByText('Barnets svar er gemt.').waitFor();
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);

    const stored = await t.call('GET', `/v1/children/${childId}/self-reports`, {
      token: staffToken,
    });
    expect(stored.json().items).toEqual([
      expect.objectContaining({ purpose: 'dialogue', zone: 'green', sharedWithParents: true }),
    ]);
    // Beside the professionals' assessment, once the page is read again.
    await page.reload();
    await page.locator('.self-beside').waitFor();
    expect(await page.locator('.self-beside').textContent()).toContain('Barnets egen vurdering');
    expect(await axeViolations(page)).toEqual([]);
    await page
      .locator('section[aria-labelledby="result-h"]')
      .screenshot({ path: join(ARTIFACTS, 'app-self-report-beside-390.png') });
    expect(errors).toEqual([]);
    await context.close();
  });
});
