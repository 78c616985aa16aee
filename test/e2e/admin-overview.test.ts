import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { documentWidth, hasChromium, headingOf, launchBrowser, openPage } from '../support/browser.js';
import { seedSubscriber } from '../support/factories.js';
import { seedOverviewHistory } from '../support/overview.js';

const adminToken = 'admin-token-for-tests-0123456789';
const now = new Date('2026-11-28T15:30:00.000Z');
/** `UPDATE_SCREENSHOTS=1` writes the screenshots into docs/admin/ (committed); otherwise a temp dir. */
const updateDocs = process.env.UPDATE_SCREENSHOTS === '1';

describe.skipIf(!hasChromium)(
  `the admin overview in a real browser${hasChromium ? '' : ' (skipped: no Chromium at /usr/bin/chromium)'}`,
  () => {
    let app: TestApp;
    let browser: Browser;
    const shotDir = updateDocs
      ? join(import.meta.dirname, '../../docs/admin')
      : mkdtempSync(join(tmpdir(), 'paperboy-admin-shots-'));

    beforeAll(async () => {
      // A fixed clock: the page's "as of" and its 30 days stay the same from run to run.
      [app, browser] = await Promise.all([
        startTestApp({ env: { ADMIN_TOKEN: adminToken }, workers: false, clock: () => new Date(now) }),
        launchBrowser(),
      ]);
      await seedOverviewHistory(app.runtime.db, now);
      await seedSubscriber(app.runtime.db, {
        email: 'hostile@example.org',
        topics: ['<script>document.title="owned"</script>'],
      });
      mkdirSync(shotDir, { recursive: true });
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
      await app?.close();
      if (!updateDocs) rmSync(shotDir, { recursive: true, force: true });
    });

    /** A page that records console errors and CSP violations, signed in through `?token=`. */
    async function signedInPage(options: BrowserContextOptions = {}) {
      const page = await openPage(browser, options);
      const problems: string[] = [];
      page.on('console', (message) => {
        // bull-board's page is not ours to judge: it asks for a favicon and fonts it cannot have offline.
        const url = message.location().url;
        if (
          message.type() === 'error' &&
          !page.url().includes('/admin/queues') &&
          !url.endsWith('/favicon.ico')
        )
          problems.push(`console: ${message.text()} ${url}`);
      });
      page.on('pageerror', (error) => problems.push(`page: ${error.message}`));
      await page.exposeFunction('reportViolation', (text: string) => problems.push(`csp: ${text}`));
      await page.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (event) => {
          (window as unknown as { reportViolation: (text: string) => void }).reportViolation(
            `${event.violatedDirective} ${event.blockedURI}`,
          );
        });
      });
      const response = await page.goto(`${app.url}/admin?token=${adminToken}`);
      expect(response?.status()).toBe(200);
      expect(new URL(page.url()).pathname).toBe('/admin');
      expect(new URL(page.url()).search).toBe('');
      return { page, problems };
    }

    const countOf = (page: Page, selector: string) => page.locator(selector).count();

    it('renders every chart with data, escapes readers’ topics, and links to the queue dashboard and back', {
      timeout: 60_000,
    }, async () => {
      const { page, problems } = await signedInPage();
      expect(await headingOf(page)).toBe('Admin overview');
      const charts = page.locator('svg.chart-svg');
      expect(await charts.count()).toBe(6);
      for (const label of [
        'Subscribers by status',
        'Status changes per day',
        'Digests per day',
        'Ingest runs per day',
        'New papers per day',
        'Top topics',
      ]) {
        expect(await countOf(page, `svg[role="img"][aria-label="${label}"]`), label).toBe(1);
      }
      expect(await page.getByText('No data yet').count()).toBe(0);
      expect(await countOf(page, 'svg.chart-svg polyline.line')).toBe(4);
      expect(await countOf(page, 'svg.chart-svg circle.point')).toBe(4 * 30);
      expect(await countOf(page, 'svg[aria-label="Digests per day"] rect.bar')).toBeGreaterThan(30);
      expect(await countOf(page, 'svg[aria-label="Top topics"] rect.bar')).toBe(10);
      // The charts are drawn: their bars have a size and a colour from the stylesheet.
      const bar = await page.locator('svg[aria-label="Digests per day"] rect.bar').first().boundingBox();
      expect(bar?.width).toBeGreaterThan(2);
      expect(
        await page
          .locator('svg[aria-label="Digests per day"] rect.bar.tone-green')
          .first()
          .evaluate((element) => getComputedStyle(element).fill),
      ).toBe('rgb(26, 127, 55)');
      // The numbers behind a chart are one click away.
      await page.locator('summary', { hasText: 'Numbers' }).first().click();
      await expect.poll(() => page.locator('details.numbers[open] tbody tr').count()).toBe(30);
      // A reader's topic stays text.
      const hostile = '<script>document.title="owned"</script>';
      expect(await page.locator('details.numbers th').getByText(hostile, { exact: true }).count()).toBe(1);
      expect(await page.locator('script', { hasText: 'owned' }).count()).toBe(0);
      expect(await page.title()).toBe('Admin overview · paperboy');

      await page.getByRole('link', { name: 'Queue dashboard', exact: true }).click();
      await page.waitForURL(`${app.url}/admin/queues`);
      await page.getByRole('link', { name: 'ingest', exact: true }).first().waitFor();
      // bull-board's header menu holds our misc links: back to the overview.
      await page.locator('button[aria-haspopup="menu"]').first().click();
      await page.getByRole('menuitem', { name: 'Overview' }).click();
      await page.waitForURL(`${app.url}/admin`);
      expect(await headingOf(page)).toBe('Admin overview');
      expect(problems).toEqual([]);
      await page.context().close();
    });

    const views = [
      { name: '375', options: { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true } },
      { name: '1280', options: { viewport: { width: 1280, height: 900 } } },
    ] as const;
    const schemes = ['light', 'dark'] as const;

    it('fits a 375 px phone and a 1280 px screen, light and dark (screenshots)', async () => {
      for (const view of views) {
        for (const scheme of schemes) {
          const { page, problems } = await signedInPage({ ...view.options, colorScheme: scheme });
          // Wide charts and tables scroll inside their card; the page itself never scrolls sideways.
          expect(await documentWidth(page), `${view.name} ${scheme}`).toBeLessThanOrEqual(
            view.options.viewport.width,
          );
          // A chart wider than the phone starts at its newest day.
          const newest = await page
            .locator('svg[aria-label="Digests per day"] text.tick')
            .last()
            .boundingBox();
          expect(newest && newest.x + newest.width, `${view.name} ${scheme}`).toBeLessThanOrEqual(
            view.options.viewport.width,
          );
          const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
          expect(background).toBe(scheme === 'dark' ? 'rgb(13, 17, 23)' : 'rgb(244, 244, 245)');
          const path = join(shotDir, `overview-${view.name}-${scheme}.png`);
          await page.screenshot({ path, fullPage: true });
          expect(problems).toEqual([]);
          await page.context().close();
        }
      }
    }, 60_000);
  },
);
