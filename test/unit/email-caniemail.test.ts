import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { caniemail } from 'caniemail';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileEmailTemplates, templatesDir } from '../../src/email/templates.js';
import { renderEveryEmail, type SampleEmail } from '../support/emails.js';

/**
 * The clients issue 11 names. Gmail's "mobile webmail" (Gmail in a phone browser for a non-Gmail
 * address) is left out: it drops every <style>, and the emails are built for that (all inline).
 */
const clients: Parameters<typeof caniemail>[0]['clients'] = [
  'gmail.desktop-webmail',
  'gmail.ios',
  'gmail.android',
  'apple-mail.*',
  'outlook.windows',
  'outlook.outlook-com',
  'yahoo.*',
];

/** What caniemail reports unsupported and we ship anyway: each entry says why no reader loses by it. */
const allowed: { feature: string; clients: string; why: string }[] = [
  // Dark mode is an enhancement: a client that ignores these shows the light email (or inverts it itself).
  {
    feature: 'color-scheme meta tag',
    clients: '*',
    why: 'dark-mode opt-in for Apple Mail and the Outlook apps',
  },
  { feature: 'color-scheme CSS property', clients: '*', why: 'the same opt-in, in CSS' },
  // The contents line of a digest with sections jumps to each topic where anchors work; elsewhere the
  // sections are still there, each under its heading, a scroll away.
  { feature: 'Local anchors', clients: 'gmail.ios', why: 'the contents line of a digest with sections' },
  { feature: 'Local anchors', clients: 'yahoo.*', why: 'the contents line of a digest with sections' },
  // Screen-reader help that Yahoo strips: its readers still get the <h2> title right before the links.
  { feature: 'aria-label attribute', clients: 'yahoo.*', why: 'link names and MJML’s role="article" label' },
  { feature: 'aria-hidden attribute', clients: 'yahoo.*', why: 'Yahoo reads the ▲ before "5 upvotes"' },
  // Outlook for Windows draws square corners; nothing else depends on them.
  { feature: 'border-radius', clients: 'outlook.windows', why: 'cosmetic' },
  // MJML's own boilerplate, with its Outlook (mso) table fallbacks.
  {
    feature: '@media',
    clients: 'outlook.windows',
    why: 'MJML’s responsive columns; Word gets fixed mso tables',
  },
  {
    feature: 'Chaining selectors',
    clients: 'outlook.*',
    why: 'MJML’s reset (`table, td`); ours has none, below',
  },
  { feature: 'outline', clients: 'outlook.windows', why: 'MJML’s image reset' },
  { feature: 'height property', clients: 'yahoo.*', why: 'MJML’s `img { height:auto }` reset' },
  { feature: 'word-spacing', clients: 'outlook.windows', why: 'MJML’s body reset' },
  // Word hides the preheader through `mso-hide:all` instead.
  { feature: 'max-height property', clients: 'outlook.windows', why: 'the hidden preheader' },
  { feature: 'overflow', clients: 'outlook.windows', why: 'the hidden preheader and card clipping' },
  { feature: 'word-break', clients: 'yahoo.*', why: 'MJML’s long-word wrapping; Yahoo wraps by itself' },
  { feature: '<body> element', clients: 'yahoo.*', why: 'Yahoo drops <body>; MJML repeats its background' },
  {
    feature: 'target attribute',
    clients: '*',
    why: 'MJML’s button target; these clients open a new tab anyway',
  },
  { feature: 'cursor', clients: '*', why: 'MJML’s button `cursor:auto`' },
];

/** `*`, `yahoo.*` or one client. */
const matches = (glob: string, client: string) =>
  glob === '*' || glob === client || (glob.endsWith('.*') && client.startsWith(glob.slice(0, -1)));

const isAllowed = (feature: string, client: string) =>
  allowed.some((entry) => entry.feature === feature && matches(entry.clients, client));

let emails: SampleEmail[];
beforeAll(async () => {
  emails = renderEveryEmail(await compileEmailTemplates());
});

describe('every email against the caniemail data', () => {
  it('uses no HTML or CSS that Gmail, Apple Mail, Outlook or Yahoo drop, beyond the allow-list', () => {
    const unsupported: string[] = [];
    const seen = new Set<string>();
    for (const email of emails) {
      const { issues } = caniemail({ clients, html: email.html });
      for (const [client, list] of issues.errors) {
        for (const issue of list) {
          seen.add(issue.title);
          if (!isAllowed(issue.title, client)) unsupported.push(`${email.kind}: ${issue.title} in ${client}`);
        }
      }
    }
    expect([...new Set(unsupported)]).toEqual([]);
    // An entry nothing needs any more goes, so the list stays short and true.
    expect(allowed.map((entry) => entry.feature).filter((feature) => !seen.has(feature))).toEqual([]);
  });

  it('keeps selector lists out of our own styles, which Outlook.com applies to the first selector only', () => {
    const head = readFileSync(join(templatesDir, 'partials/head.mjml'), 'utf8');
    const css = /<mj-style>([\s\S]*?)<\/mj-style>/.exec(head)?.[1] ?? '';
    const selectors = [...css.replace(/\/\*[\s\S]*?\*\//g, '').matchAll(/([^{}]+)\{/g)].map((m) =>
      (m[1] ?? '').trim(),
    );
    expect(selectors.length).toBeGreaterThan(10);
    expect(selectors.filter((selector) => selector.includes(','))).toEqual([]);
  });
});
