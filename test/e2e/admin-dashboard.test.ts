import type { Browser, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startTestApp, type TestApp } from '../support/app.js';
import { hasChromium, headingOf, launchBrowser, openPage, serveOtherOrigin } from '../support/browser.js';

const adminToken = 'admin-token-for-tests-0123456789';

describe.skipIf(!hasChromium)(
  `the queue dashboard in a real browser${hasChromium ? '' : ' (skipped: no Chromium at /usr/bin/chromium)'}`,
  () => {
    let app: TestApp;
    let browser: Browser;
    let other: Awaited<ReturnType<typeof serveOtherOrigin>>;

    beforeAll(async () => {
      // No workers: jobs stay where the dashboard puts them.
      [app, browser] = await Promise.all([
        startTestApp({ env: { ADMIN_TOKEN: adminToken }, workers: false }),
        launchBrowser(),
      ]);
      const target = `${app.url}/admin/queues/api/queues/ingest`;
      // What a page on another port of the same host can make the admin's browser send: forms and
      // no-cors fetches need no CORS preflight, and SameSite=Strict lets the cookie go along.
      other = await serveOtherOrigin(`<!doctype html><title>elsewhere</title>
<form id="text" method="post" enctype="text/plain" action="${target}/add">
<input name='{"name":"planted","data":{},"x":"' value='"}'><button>text</button></form>
<form id="form" method="post" action="${target}/add"><input name="name" value="planted"><button>form</button></form>
<form id="logout" method="post" action="${app.url}/admin/logout"><button>logout</button></form>`);
    });
    afterAll(async () => {
      await browser?.close();
      await other?.close();
      await app?.close();
    });

    const ingest = () => {
      const queue = app.runtime.producer.queues.ingest;
      if (!queue) throw new Error('no ingest queue');
      return queue;
    };

    /** Waits for the first answer from our app to a request with this method whose path ends with `suffix`. */
    const answerTo = (page: Page, method: string, suffix: string) =>
      page.waitForResponse(
        (response) =>
          response.request().method() === method &&
          response.url().startsWith(app.url) &&
          new URL(response.url()).pathname.endsWith(suffix),
      );

    /** Opens the queue's actions menu (bull-board's icon button beside the queue name) and picks `item`. */
    async function openQueueAction(page: Page, item: string) {
      await page.locator('button[aria-haspopup="menu"][class^="trigger-"]').click();
      await page.getByRole('menuitem', { name: item, exact: true }).click();
    }

    async function confirmQueueAction(page: Page, item: string): Promise<Response> {
      await openQueueAction(page, item);
      const answer = answerTo(page, 'PUT', `/${item.toLowerCase()}`);
      await page.getByRole('button', { name: 'Confirm' }).click();
      return answer;
    }

    it('works after ?token= sign-in, refuses the same writes from another origin, and signs out', async () => {
      await ingest().add('ingest', { source: 'hf-daily' });
      const page = await openPage(browser);
      await page.goto(`${app.url}/admin/queues/queue/ingest?token=${adminToken}&status=waiting`);
      expect(new URL(page.url()).search).toBe('?status=waiting');
      await page.getByText('No workers').waitFor();

      // The dashboard's own writes: bodiless PUTs and a JSON POST, all with the session cookie.
      expect((await confirmQueueAction(page, 'Pause')).status()).toBe(200);
      expect(await ingest().isPaused()).toBe(true);
      expect((await confirmQueueAction(page, 'Resume')).status()).toBe(200);
      expect(await ingest().isPaused()).toBe(false);

      const waiting = await ingest().getWaitingCount();
      await openQueueAction(page, 'Add job');
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Job name').fill('added-from-dashboard');
      const added = answerTo(page, 'POST', '/add');
      await dialog.getByRole('button', { name: /^add/i }).click();
      expect((await added).status()).toBe(200);
      expect((await added).request().headers()['content-type']).toMatch(/^application\/json/);
      expect(await ingest().getWaitingCount()).toBe(waiting + 1);

      // The same browser, on a page served from another port of this host.
      const elsewhere = await page.context().newPage();
      await elsewhere.goto(other.url);
      for (const form of ['#text', '#form']) {
        const refused = answerTo(elsewhere, 'POST', '/add');
        await elsewhere.locator(`${form} button`).click();
        const response = await refused;
        expect((await response.request().allHeaders()).cookie, form).toMatch(/paperboy_admin=/);
        expect(response.status(), form).toBe(403);
        await elsewhere.goto(other.url);
      }
      // A no-cors fetch: the request is sent with the cookie; helmet's Cross-Origin-Resource-Policy
      // hides the answer from the page, so the queue below is the witness that it changed nothing.
      const fetched = await elsewhere.evaluate(async (target) => {
        try {
          await fetch(target, {
            method: 'POST',
            mode: 'no-cors',
            credentials: 'include',
            headers: { 'content-type': 'text/plain' },
            body: JSON.stringify({ name: 'planted', data: {} }),
          });
          return 'opaque';
        } catch (error) {
          return String(error);
        }
      }, `${app.url}/admin/queues/api/queues/ingest/add`);
      expect(fetched).toBe('TypeError: Failed to fetch');
      const logoutElsewhere = answerTo(elsewhere, 'POST', '/admin/logout');
      await elsewhere.locator('#logout button').click();
      expect((await logoutElsewhere).status()).toBe(403);
      expect(await ingest().getWaitingCount()).toBe(waiting + 1);
      const names = (await ingest().getWaiting()).map((job) => job.name);
      expect(names).not.toContain('planted');

      // Still signed in: sign out through the dashboard's own menu and button.
      await page.reload();
      await page.getByText('No workers').waitFor();
      // The header's menu holds bull-board's misc links, ours among them.
      await page.locator('button[aria-haspopup="menu"]').first().click();
      await page.getByRole('menuitem', { name: 'Sign out' }).click();
      await page.waitForURL(`${app.url}/admin/logout`);
      const signedOut = answerTo(page, 'POST', '/admin/logout');
      await page.getByRole('button', { name: 'Sign out' }).click();
      expect((await signedOut).status()).toBe(200);
      expect(await headingOf(page)).toBe('Signed out');
      const after = await page.goto(`${app.url}/admin/queues`);
      expect(after?.status()).toBe(401);
      expect(await page.context().cookies(app.url)).toEqual([]);
      expect((await api(app, '/admin/queues', { token: adminToken })).status).toBe(200);
    });
  },
);
