/**
 * Headless Chromium for the page tests (Debian's chromium, driven by playwright-core), axe-core
 * run inside the page, and the checks every screen gets: no horizontal scrolling, and
 * screenshots at phone, tablet and desktop widths under tests/artifacts/ (not committed).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { todayInCopenhagen } from '../../src/web/shared/i18n.js';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');

/** Phone (390), tablet (820) and desktop (1280) widths. */
export const WIDTHS = { phone: 390, tablet: 820, desktop: 1280 } as const;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

let axeSource: Promise<string> | undefined;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * axe-core's WCAG 2.0/2.1 A and AA rules and its best practices, on the page as it is now.
 * Injected through the DevTools protocol (page.evaluate), so the page's CSP is not loosened.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  const source = await axeSource;
  await page.evaluate(source);
  // Page code as a string: the tests are type-checked without the DOM library.
  return page.evaluate(`(async () => {
    const result = await axe.run(document, {
      runOnly: {
        type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'],
      },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(' ')),
    }));
  })()`);
}

/** How far the page scrolls sideways (0: it fits the viewport). */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(
    'document.documentElement.scrollWidth - document.documentElement.clientWidth',
  );
}

export interface ScreenCheck {
  width: number;
  overflow: number;
  violations: AxeViolation[];
}

/**
 * The screen at each width: a full-page screenshot `<name>-<width>.png`, its sideways overflow
 * and axe's findings. The viewport is restored afterwards.
 */
export async function checkScreen(page: Page, name: string): Promise<ScreenCheck[]> {
  await mkdir(ARTIFACTS, { recursive: true });
  const original = page.viewportSize();
  const results: ScreenCheck[] = [];
  for (const width of Object.values(WIDTHS)) {
    await page.setViewportSize({ width, height: 900 });
    await page.waitForTimeout(50);
    await page.screenshot({ path: join(ARTIFACTS, `${name}-${width}.png`), fullPage: true });
    results.push({
      width,
      overflow: await horizontalOverflow(page),
      violations: await axeViolations(page),
    });
  }
  if (original) await page.setViewportSize(original);
  return results;
}

/** Days from the real today in Copenhagen (what the browser's date inputs default to). */
export function daysFromToday(days: number): string {
  const date = new Date(`${todayInCopenhagen()}T12:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}
