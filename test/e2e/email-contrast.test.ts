import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileEmailTemplates } from '../../src/email/templates.js';
import { hasChromium, launchBrowser, openPage, visibleText } from '../support/browser.js';
import { renderEveryEmail, type SampleEmail } from '../support/emails.js';

interface LowContrast {
  text: string;
  ratio: number;
  needed: number;
  color: string;
  background: string;
}

/**
 * Runs in the page: every visible text node, its colour against the first opaque background behind it
 * (the canvas if none), and the WCAG 2.x AA ratio it needs (3:1 for text ≥ 24 px, or ≥ 18.66 px bold).
 */
function contrastOfEveryText(): { lowest: number; failures: LowContrast[] } {
  const parse = (css: string): [number, number, number, number] => {
    const m = /rgba?\(([^)]+)\)/.exec(css);
    if (!m?.[1]) throw new Error(`unexpected colour ${css}`);
    const [r = 0, g = 0, b = 0, a = 1] = m[1]
      .split(/[\s,/]+/)
      .filter(Boolean)
      .map(Number);
    return [r, g, b, a];
  };
  const luminance = ([r, g, b]: number[]) => {
    const [R = 0, G = 0, B = 0] = [r, g, b].map((v = 0) => {
      const c = v / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * R + 0.7152 * G + 0.0722 * B;
  };
  const over = (top: number[], under: number[]) => {
    const a = top[3] ?? 1;
    return [0, 1, 2].map((i) => (top[i] ?? 0) * a + (under[i] ?? 0) * (1 - a)).concat(1);
  };
  // The canvas colour as the page's colour scheme makes it (white, or dark under `color-scheme: dark`).
  const probe = document.createElement('div');
  probe.style.cssText = 'background-color: Canvas; display: none';
  document.documentElement.append(probe);
  const canvas = parse(getComputedStyle(probe).backgroundColor);
  probe.remove();

  const backgroundOf = (element: Element | null): number[] => {
    const layers: number[][] = [];
    for (let node = element; node; node = node.parentElement) {
      const layer = parse(getComputedStyle(node).backgroundColor);
      if ((layer[3] ?? 0) > 0) layers.push(layer);
      if (layer[3] === 1) break;
    }
    return layers.reduceRight((under, top) => over(top, under), canvas);
  };

  const failures: LowContrast[] = [];
  let lowest = Number.POSITIVE_INFINITY;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    const text = node.textContent?.trim() ?? '';
    if (!element || text === '' || element.closest('style, script, title')) continue;
    if (!element.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
    const box = element.getBoundingClientRect();
    // The inbox preview text is squeezed to nothing rather than display:none in some clients.
    if (box.width <= 1 || box.height <= 1) continue;
    const style = getComputedStyle(element);
    const background = backgroundOf(element);
    const color = over(parse(style.color), background);
    const [light, dark] = [luminance(color), luminance(background)].sort((a, b) => b - a) as [number, number];
    const ratio = (light + 0.05) / (dark + 0.05);
    const size = Number.parseFloat(style.fontSize);
    const isLarge = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const needed = isLarge ? 3 : 4.5;
    lowest = Math.min(lowest, ratio);
    if (ratio < needed) {
      const rgb = (c: number[]) => `rgb(${c.slice(0, 3).map(Math.round).join(',')})`;
      failures.push({
        text: text.slice(0, 40),
        ratio: Math.round(ratio * 100) / 100,
        needed,
        color: rgb(color),
        background: rgb(background),
      });
    }
  }
  return { lowest: Math.round(lowest * 100) / 100, failures };
}

const views = [
  { width: 375, scheme: 'light' },
  { width: 375, scheme: 'dark' },
  { width: 1280, scheme: 'light' },
  { width: 1280, scheme: 'dark' },
] as const;

describe.skipIf(!hasChromium)(
  `the contrast of every text in every email${hasChromium ? '' : ' (skipped: no Chromium at /usr/bin/chromium)'}`,
  () => {
    let browser: Browser;
    let emails: SampleEmail[];
    const pages = new Map<string, Page>();
    const lowest: Record<string, Record<string, number>> = {};

    beforeAll(async () => {
      [browser, emails] = await Promise.all([
        launchBrowser(),
        compileEmailTemplates().then((templates) => renderEveryEmail(templates)),
      ]);
      for (const view of views) {
        pages.set(
          `${view.width}-${view.scheme}`,
          await openPage(browser, {
            viewport: { width: view.width, height: 800 },
            colorScheme: view.scheme,
          }),
        );
      }
    });
    afterAll(async () => {
      // The lowest ratio per email and scheme, for the record (and the issue).
      console.table(lowest);
      await browser?.close();
    });

    it('renders every kind of email', () => {
      expect(emails.map((email) => email.kind)).toEqual([
        'confirmation',
        'manage',
        'welcome',
        'digest-1',
        'digest-10',
        'digest-50',
        'digest-no-topics',
        'digest-weekly',
        'web-version',
      ]);
    });

    it('gives a screen reader headings to jump by, links that name their paper, and 44 px tap targets', async () => {
      const page = pages.get('375-light') as Page;
      const digest = emails.find((email) => email.kind === 'digest-10') as SampleEmail;
      await page.setContent(digest.html);
      expect(await page.getByRole('heading', { level: 1 }).count()).toBe(1);
      // Three topics found papers: a heading per topic, and under each a heading per paper.
      const sections = await page.getByRole('heading', { level: 2 }).allInnerTexts();
      expect(sections.map((section) => section.replace(/ · .*$/, ''))).toEqual([
        'diffusion models',
        'sparse attention',
        'cat:cs.CL "speculative decoding"',
      ]);
      const titles = await page.getByRole('heading', { level: 3 }).allInnerTexts();
      expect(titles).toHaveLength(10);
      // The contents line jumps to each section.
      for (const [i] of sections.entries()) {
        expect(await page.locator(`a[href="#topic-${i + 1}"]`).count()).toBe(1);
        expect(await page.locator(`#topic-${i + 1}`).count()).toBe(1);
      }
      const pdfLinks = page.getByRole('link', { name: /^PDF: / });
      expect(await pdfLinks.count()).toBe(10);
      const names = await pdfLinks.evaluateAll((links) =>
        links.map((link) => link.getAttribute('aria-label')),
      );
      expect(new Set(names).size).toBe(10);
      // The name carries the title's start ("PDF: Video Diffusion Models Are…").
      for (const [i, title] of titles.entries()) {
        expect(title.startsWith((names[i] ?? '').replace(/^PDF: /, '').replace(/…$/, ''))).toBe(true);
      }
      expect(await visibleText(page.locator('.card', { hasText: 'upvotes' }).first())).toMatch(
        /▲ \d+ upvotes/,
      );
      for (const link of await page.locator('.links a').all()) {
        expect((await link.boundingBox())?.height).toBeGreaterThanOrEqual(44);
      }
    });

    for (const view of views) {
      it(`reaches WCAG AA for every text at ${view.width} px in the ${view.scheme} colour scheme`, async () => {
        const page = pages.get(`${view.width}-${view.scheme}`) as Page;
        const failures: Record<string, LowContrast[]> = {};
        for (const email of emails) {
          await page.setContent(email.html);
          const result = await page.evaluate(contrastOfEveryText);
          lowest[email.kind] = { ...lowest[email.kind], [`${view.width} ${view.scheme}`]: result.lowest };
          // One line per distinct failure: a digest repeats the same card style many times.
          const distinct = new Map(result.failures.map((f) => [`${f.color} on ${f.background}`, f]));
          if (distinct.size > 0) failures[email.kind] = [...distinct.values()];
        }
        expect(failures).toEqual({});
      });
    }
  },
);
