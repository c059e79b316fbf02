import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { todayInCopenhagen } from '../../src/web/shared/i18n.js';
import {
  axeViolations,
  checkScreen,
  daysFromToday,
  hasChromium,
  horizontalOverflow,
  launchChromium,
  type ScreenCheck,
} from '../support/browser.js';
import { describeEngines } from '../support/engines.js';
import {
  createAssessment,
  createChild,
  createKey,
  createRound,
  createScreeningTenant,
} from '../support/factories.js';

const FAMILIES = [
  'Andersen',
  'Berg',
  'Christensen',
  'Dahl',
  'Eriksen',
  'Frost',
  'Gram',
  'Holm',
  'Iversen',
];

function expectClean(name: string, checks: ScreenCheck[]): void {
  for (const check of checks) {
    expect(check.violations, `${name} at ${check.width} px: axe`).toEqual([]);
    expect(check.overflow, `${name} at ${check.width} px: sideways scroll`).toBeLessThanOrEqual(0);
  }
}

(hasChromium ? describeEngines : () => undefined)('the staff app in headless Chromium', (t) => {
  let browser: Browser;
  let baseUrl: string;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  let closedRoster = '';
  let otherStaff = { municipalityId: '', keyId: '', admin: '' };
  let seeded: {
    staffToken: string;
    adminToken: string;
    unitId: string;
    roundId: string;
    children: { id: string; familyName: string }[];
  };

  beforeAll(async () => {
    // The browser's today is the real one: the service's clock follows it.
    t.clock.set(new Date());
    const s = await createScreeningTenant(t);
    const round = await createRound(t, s.admin.token, s.topi, {
      name: 'Efterår',
      windowStart: daysFromToday(-14),
      windowEnd: daysFromToday(14),
    });
    const children = [];
    for (const [i, familyName] of FAMILIES.entries()) {
      const child = await createChild(t, s.admin.token, {
        unitId: s.unit.id,
        givenName: ['Alma', 'Bo', 'Clara', 'Dan', 'Ella', 'Finn', 'Gry', 'Hugo', 'Ida'][
          i
        ] as string,
        familyName,
      });
      children.push({ id: child.id, familyName });
    }
    const renamed = await t.call('PATCH', `/v1/units/${s.unit.id}`, {
      token: s.admin.token,
      body: { name: 'Børnehuset Solsikken' },
    });
    expect(renamed.statusCode, renamed.body).toBe(200);
    const staff = await createKey(t, s.municipality.id, 'unit_leader', {
      token: s.admin.token,
      unitIds: [s.unit.id],
    });
    seeded = {
      staffToken: staff.token,
      adminToken: s.admin.token,
      unitId: s.unit.id,
      roundId: round.id,
      children,
    };
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'da-DK' });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(String(error)));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  const row = (familyName: string) => {
    const child = seeded.children.find((c) => c.familyName === familyName);
    return page.locator(`li.roster-row[data-child-id="${child?.id}"]`);
  };

  async function openRoster(): Promise<void> {
    await page.click('nav >> text=Mine enheder');
    await page.click('.round-link a');
    await page.waitForSelector('li.roster-row');
  }

  /** From the roster: assess one child with the fields a pedagogue fills in, and save. */
  async function assess(
    familyName: string,
    fill: { overall?: number; redFlag?: string; raters?: boolean },
  ): Promise<void> {
    await row(familyName).locator('a.button').click();
    await page.waitForSelector('form.assess');
    if (fill.overall !== undefined) {
      await page.check(`input[name="overallLevel"][value="${fill.overall}"]`);
    }
    if (fill.redFlag) await page.check(`input[name="redFlags"][value="${fill.redFlag}"]`);
    if (fill.raters) {
      await page.fill('#rater-1-name', 'Mette Pædagog');
      await page.fill('#rater-2-name', 'Lars Leder');
      await page.selectOption('#rater-2-role', 'unit_leader');
    }
    await page.fill('#justification', `Observeret i hverdagen (${familyName}).`);
    await page.check('#parentsInformed');
    await page.click('form.assess button[type="submit"]');
  }

  it('plays a round: sign in, assess, steps, offline, back online, exactly seven stored', {
    timeout: 180_000,
  }, async () => {
    await page.goto(`${baseUrl}/app/`);
    await page.waitForSelector('#api-key');
    expect(await page.getAttribute('html', 'lang')).toBe('da');
    expectClean('sign-in', await checkScreen(page, 'app-sign-in'));

    // A wrong key is refused with the API's words; the right one signs in.
    await page.fill('#api-key', 'lnl_nope');
    await page.click('button[type="submit"]');
    await page.waitForSelector('.notice-error');
    await page.fill('#api-key', seeded.staffToken);
    await page.click('button[type="submit"]');
    await page.waitForSelector('.round-link a', { timeout: 5000 }).catch(async (e) => {
      console.log(await page.content());
      throw e;
    });
    expect(await page.textContent('.round-link a')).toContain('0 af 9 vurderet');
    expectClean('home', await checkScreen(page, 'app-home'));

    await page.click('.round-link a');
    await page.waitForSelector('li.roster-row');
    expect(await page.locator('li.roster-row').count()).toBe(9);
    // Search narrows the list without a page load.
    await page.fill('#roster-search', 'berg');
    expect(await page.locator('li.roster-row').count()).toBe(1);
    await page.fill('#roster-search', '');
    expectClean('roster', await checkScreen(page, 'app-roster'));

    // 1. Green, with both raters: the result with its explanation in Danish and the steps.
    await assess('Andersen', { overall: 1, raters: true });
    await page.waitForSelector('.result-zone .zone-green');
    expect(await page.textContent('.explanation')).toContain('Den fælles vurdering er "1 trives"');

    // 2. A red flag: red whatever the position, with the guide's steps; one is marked done.
    await openRoster();
    await row('Berg').locator('a.button').click();
    await page.waitForSelector('form.assess');
    // The raters of the previous assessment are filled in already.
    expect(await page.inputValue('#rater-1-name')).toBe('Mette Pædagog');
    expectClean('assess', await checkScreen(page, 'app-assess'));
    await page.check('input[name="overallLevel"][value="1"]');
    await page.check('input[name="redFlags"][value="violence"]');
    await page.fill('#justification', 'Blå mærker på armene, barnet siger det er far.');
    await page.click('form.assess button[type="submit"]');
    await page.waitForSelector('.result-zone .zone-red');
    expect(await page.textContent('.explanation')).toContain('røde flag');
    const steps = page.locator('ol.steps > li.step');
    expect(await steps.count()).toBeGreaterThan(0);
    expect(await page.textContent('ol.steps')).toContain('Ansvarlig');
    expectClean('result', await checkScreen(page, 'app-result'));
    const firstOpen = page.locator('ol.steps > li.step:has(button:text("Markér udført"))').first();
    const stepKey = await firstOpen.getAttribute('data-step-key');
    await firstOpen.locator('button:text("Markér udført")').click();
    await page.waitForSelector(`li.step[data-step-key="${stepKey}"] .pill-done`);
    // The handover summary, opened on the child's page.
    await page.click('button:text("Vis overleveringen")');
    await page.waitForSelector('.handover');
    expect(await axeViolations(page)).toEqual([]);
    // The worklist: the open steps of the unit, grouped by child.
    await page.click('nav >> text=Arbejdsliste');
    // (The child's page before has "Bo Berg" and steps too: wait for the worklist's own.)
    await page.waitForSelector('main section.panel[aria-label="Bo Berg"] ol.steps li.step');
    expectClean('worklist', await checkScreen(page, 'app-worklist'));

    // 3. No overall position: no zone (insufficient data), said so in plain Danish.
    await openRoster();
    await assess('Christensen', {});
    await page.waitForSelector('.result-zone .zone-none');
    expect(await page.textContent('.explanation')).toContain('ikke angivet en samlet vurdering');

    // 4 and 5: yellow, then green with the keyboard only: "Næste barn" goes on without the
    // roster, the raters are remembered, so a typical child is a handful of keys.
    await openRoster();
    await assess('Dahl', { overall: 2 });
    await page.waitForSelector('.result-zone .zone-yellow');
    let keys = 0;
    const tabTo = async (selector: string) => {
      for (let i = 0; i < 80; i++) {
        if (await page.evaluate(`document.activeElement?.matches(${JSON.stringify(selector)})`)) {
          return;
        }
        await page.keyboard.press('Tab');
        keys++;
      }
      throw new Error(`${selector} cannot be reached with Tab`);
    };
    await tabTo('a.button.primary');
    await page.keyboard.press('Enter');
    await page.waitForSelector('form.assess');
    expect(await page.textContent('h1')).toContain('Eriksen');
    await tabTo('input[name="overallLevel"]');
    await page.keyboard.press('ArrowRight'); // from "Ikke vurderet" round to "1 trives"
    await tabTo('#parentsInformed');
    await page.keyboard.press('Space');
    await page.keyboard.press('Control+Enter');
    keys += 4;
    await page.waitForSelector('.result-zone .zone-green');
    console.info(`[staff app] a typical child from the previous result: ${keys} key presses`);

    // The unit leader's overview: progress and zones at a glance.
    await openRoster();
    expect(await page.textContent('.summary')).toContain('5 af 9 børn er vurderet');

    // Offline: the app keeps working from what it stored; two more assessments are queued.
    // The service worker has the app shell (it controls the page once installed).
    // (Page code as strings: the tests are type-checked without the DOM library.)
    expect(
      await page.evaluate(`(async () => {
        for (let i = 0; i < 50 && !navigator.serviceWorker.controller; i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return navigator.serviceWorker.controller?.scriptURL;
      })()`),
    ).toMatch(/\/app\/sw\.js$/);
    await context.setOffline(true);
    await page.reload();
    await page.waitForSelector('li.roster-row');
    expect(await page.textContent('main')).toContain('Offline');
    await assess('Frost', { overall: 2 });
    await page.waitForSelector('.notice-offline >> text=Gemt på enheden');
    await openRoster();
    await assess('Gram', { overall: 1 });
    await page.waitForSelector('.notice-offline >> text=Gemt på enheden');
    await page.waitForSelector('.status-bar >> text=2 venter på at blive sendt');
    await openRoster();
    expect(await row('Frost').textContent()).toContain('Gemt offline');
    expectClean('roster offline', await checkScreen(page, 'app-roster-offline'));
    await page.click('nav >> text=Udbakke');
    await page.waitForSelector('.outbox li');
    expectClean('outbox', await checkScreen(page, 'app-outbox'));

    // Back online: sent by themselves, once each.
    await context.setOffline(false);
    await page.waitForSelector('.notice-success >> text=Alt er sendt', { timeout: 30_000 });

    const res = await t.app.inject({
      method: 'GET',
      url: `/v1/assessments?roundId=${seeded.roundId}&limit=100`,
      headers: { authorization: `Bearer ${seeded.adminToken}` },
    });
    expect(res.statusCode, res.body).toBe(200);
    const stored = res.json().items as { childId: string; zone: string | null }[];
    expect(stored).toHaveLength(7);
    const zoneOf = (familyName: string) =>
      stored.find((a) => a.childId === seeded.children.find((c) => c.familyName === familyName)?.id)
        ?.zone;
    expect(Object.fromEntries(FAMILIES.slice(0, 7).map((f) => [f, zoneOf(f) ?? null]))).toEqual({
      Andersen: 'green',
      Berg: 'red',
      Christensen: null,
      Dahl: 'yellow',
      Eriksen: 'green',
      Frost: 'yellow',
      Gram: 'green',
    });
    // The step marked done in the browser is done.
    const berg = stored.find((a) => a.childId === seeded.children[1]?.id);
    const rec = await t.app.inject({
      method: 'GET',
      url: `/v1/assessments/${(berg as unknown as { id: string }).id}/recommendation`,
      headers: { authorization: `Bearer ${seeded.adminToken}` },
    });
    const done = rec.json().steps.find((s: { stepKey: string }) => s.stepKey === stepKey);
    expect(done.status).toBe('done');
    expect(pageErrors).toEqual([]);
  });

  it('shows a conflict (a colleague assessed the child meanwhile) instead of losing it', {
    timeout: 60_000,
  }, async () => {
    await openRoster();
    await context.setOffline(true);
    await assess('Holm', { overall: 2 });
    await page.waitForSelector('.notice-offline >> text=Gemt på enheden');
    // Meanwhile a colleague records Holm's assessment.
    await createAssessment(t, seeded.adminToken, {
      childId: seeded.children[7]?.id as string,
      unitId: seeded.unitId,
      roundId: seeded.roundId,
      assessedOn: todayInCopenhagen(),
    });
    await context.setOffline(false);
    await page.waitForSelector('.status-bar .pill-conflict', { timeout: 30_000 });
    await page.click('.status-bar .pill-conflict');
    await page.waitForSelector('.outbox-conflict');
    expect(await page.textContent('.outbox-conflict')).toContain('Holm');
    expect(await axeViolations(page)).toEqual([]);
    await page.click('.outbox-conflict button:text("Kassér")');
    await page.waitForSelector('.notice-success >> text=Alt er sendt');
  });

  it('sends a change whose answer was lost again with its key: recorded once', {
    timeout: 60_000,
  }, async () => {
    await openRoster();
    // The first POST reaches the service and is recorded, but its answer never arrives.
    let lost = 0;
    await page.route('**/v1/assessments', async (route) => {
      if (route.request().method() === 'POST' && lost === 0) {
        lost++;
        await route.fetch();
        await route.abort('connectionreset');
        return;
      }
      await route.continue();
    });
    await assess('Iversen', { overall: 1 });
    await page.waitForSelector('.notice-offline >> text=Gemt på enheden');
    await page.unroute('**/v1/assessments');
    expect(lost).toBe(1);
    await page.click('nav >> text=Udbakke');
    await page.click('button:text("Send nu")');
    await page.waitForSelector('.notice-success >> text=Alt er sendt', { timeout: 30_000 });
    const iversen = seeded.children[8]?.id as string;
    const res = await t.app.inject({
      method: 'GET',
      url: `/v1/assessments?childId=${iversen}&limit=10`,
      headers: { authorization: `Bearer ${seeded.adminToken}` },
    });
    expect(res.json().items).toHaveLength(1);
  });

  it('switches to English, and sign-out clears what the app stored', async () => {
    await page.selectOption('#lang', 'en');
    await page.waitForSelector('nav >> text=My units');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await page.click('nav >> text=My units');
    await page.waitForSelector('.round-link a');
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await page.click('button:text("Sign out")');
    await page.waitForSelector('#api-key');
    const stored = await page.evaluate(`(async () => ({
      local: Object.keys(localStorage),
      session: Object.keys(sessionStorage),
      databases: (await indexedDB.databases()).map((d) => d.name),
    }))()`);
    expect(stored).toEqual({ local: ['lineal.lang'], session: [], databases: [] });
  });

  it('between rounds shows the latest closed round to follow up, without assessing', async () => {
    // Another municipality, whose only round ended three months ago.
    const other = await createScreeningTenant(t);
    const child = await createChild(t, other.admin.token, {
      unitId: other.unit.id,
      givenName: 'Jens',
      familyName: 'Juul',
    });
    await createRound(t, other.admin.token, other.topi, {
      name: 'Forår',
      windowStart: daysFromToday(-120),
      windowEnd: daysFromToday(-90),
    });
    const staff = await createKey(t, other.municipality.id, 'unit_staff', {
      token: other.admin.token,
      unitIds: [other.unit.id],
    });
    await page.fill('#api-key', staff.token);
    await page.click('button[type="submit"]');
    await page.waitForSelector('.round-link a');
    expect(await page.textContent('main')).toMatch(/No open round|Ingen åben runde/);
    await page.click('.round-link a');
    await page.waitForSelector(`li.roster-row[data-child-id="${child.id}"]`);
    expect(await page.textContent('main')).toMatch(/is closed|er lukket/);
    expect(await page.locator('li.roster-row a.button:not(.secondary)').count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    closedRoster = page.url();
    otherStaff = {
      municipalityId: other.municipality.id,
      keyId: staff.id,
      admin: other.admin.token,
    };
  });

  it('an ended sign-in returns to sign-in; the next user sees nothing stored for the last', async () => {
    // The key is revoked while the app is open: the next screen answers 401.
    const revoked = await t.call(
      'POST',
      `/v1/municipalities/${otherStaff.municipalityId}/api-keys/${otherStaff.keyId}/revoke`,
      { token: otherStaff.admin, body: {} },
    );
    expect(revoked.statusCode, revoked.body).toBe(200);
    await page.click('nav a.nav-link[href="#/"]');
    await page.waitForSelector('#api-key');
    expect(await page.textContent('.notice-error')).toMatch(/signed out|logget ud/);
    // Another user signs in on the same device: the previous user's stored roster is gone.
    await page.fill('#api-key', seeded.staffToken);
    await page.click('button[type="submit"]');
    await page.waitForSelector('.round-link a');
    await context.setOffline(true);
    await page.goto(closedRoster);
    await page.waitForSelector('.notice-offline');
    expect(await page.locator('li.roster-row').count()).toBe(0);
    await context.setOffline(false);
  });
});
