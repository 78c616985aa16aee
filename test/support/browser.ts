import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Browser,
  type BrowserContextOptions,
  chromium,
  type Locator,
  type Page,
  type Response,
} from 'playwright-core';

export const chromiumPath = '/usr/bin/chromium';
export const hasChromium = existsSync(chromiumPath);

// The machine is offline: without these Chromium keeps dialling Google services and floods the
// log with refused connections.
const offlineArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: offlineArgs });
}

/** A fresh page in its own context (no shared cookies or storage), failing fast instead of at the test timeout. */
export async function openPage(browser: Browser, options: BrowserContextOptions = {}): Promise<Page> {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(10_000);
  return context.newPage();
}

export const phone: BrowserContextOptions = {
  viewport: { width: 375, height: 740 },
  isMobile: true,
  hasTouch: true,
  deviceScaleFactor: 2,
};

/**
 * Clicks a submit button and waits until the page it posts to has loaded; resolves with that page's
 * response. Waiting on the load event (not the URL) also works when a form posts to its own URL.
 */
export async function submitWith(page: Page, button: Locator): Promise<Response> {
  const [response] = await Promise.all([
    page.waitForResponse((candidate) => candidate.request().isNavigationRequest()),
    page.waitForEvent('load'),
    button.click(),
  ]);
  return response;
}

/** The text of an element as a reader sees it: hidden parts left out, line breaks where the layout puts them. */
export const visibleText = async (locator: Locator) =>
  // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator, not a DOM node; rendered text is the point.
  (await locator.innerText()).trim();

/** The page's main heading. */
export const headingOf = (page: Page) => visibleText(page.locator('h1'));

/**
 * The width of the laid-out document in CSS pixels. Wider than the viewport means the reader has to
 * scroll sideways (`innerWidth` would not tell: a phone zooms out to fit wide content).
 */
export const documentWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth);

/**
 * A page on another origin: a plain HTTP server on its own loopback port that answers every GET with
 * `html`. Another port of the same host is the same *site* to a browser (SameSite cookies go along) but
 * another *origin*, which is what a cross-origin write check has to tell apart.
 */
export async function serveOtherOrigin(html: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // the browser keeps its connections alive
      }),
  };
}
