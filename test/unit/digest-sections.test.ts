import { beforeAll, describe, expect, it } from 'vitest';
import type { DigestPick } from '../../src/digests/select.js';
import { digestEmailValues } from '../../src/email/digest-view.js';
import { renderDigestEmail } from '../../src/email/render.js';
import { compileEmailTemplates, type EmailTemplates } from '../../src/email/templates.js';
import { flat, paperFrom, paperTitlesOf } from '../support/digest.js';

// Issue 11, items 7–9: a digest people scan in seconds. Sections per topic, "View in browser" at the
// top, and a subject that says what the reader will find.

const urls = {
  web: 'https://papers.example.org/digests/dAAAAAAAAAAAAAAAAAAAAAA.0.AAAAAAAAAAAAAAAAAAAAAA',
  manage: 'https://papers.example.org/manage/mBBBBBBBBBBBBBBBBBBBBBB.1.BBBBBBBBBBBBBBBBBBBBBB',
  unsubscribe: 'https://papers.example.org/unsubscribe/uCCCCCCCCCCCCCCCCCCCCCC.0.CCCCCCCCCCCCCCCCCCCCCC',
};

let templates: EmailTemplates;
beforeAll(async () => {
  templates = await compileEmailTemplates();
});

/** `count` picks, ranked best first, cycling through `topicsOfPicks`. */
function picksFor(topicsOfPicks: (string | undefined)[], count: number): DigestPick[] {
  return Array.from({ length: count }, (_, i) => {
    const topic = topicsOfPicks[i % topicsOfPicks.length];
    return {
      paper: paperFrom(
        { arxivId: `2603.${10000 + i}`, title: `Paper number ${i + 1}`, abstract: `Abstract ${i + 1}.` },
        { id: i + 1 },
      ),
      score: 100 - i,
      topic,
      matched: topic ? [topic] : [],
    };
  });
}

function render(
  picks: DigestPick[],
  options: { topics: string[]; shown?: number; frequency?: string; localDate?: string },
) {
  const values = digestEmailValues({
    picks,
    shown: options.shown ?? 10,
    localDate: options.localDate ?? '2026-11-30',
    subscriber: { email: 'ada@example.org', frequency: options.frequency ?? 'daily', topics: options.topics },
    urls,
  });
  return { values, ...renderDigestEmail(templates, values) };
}

describe('sections per topic', () => {
  const topics = ['diffusion models', 'agents', 'quantization'];

  it('groups the shown papers under their topics, in the order the reader wrote them, each paper once', () => {
    // Ranked: agents, quantization, agents, diffusion, …: the reader's order is diffusion first.
    const picks = picksFor(['agents', 'quantization', 'agents', 'diffusion models'], 8);
    const { values, html, text } = render(picks, { topics });
    expect(values.sections.map((section) => [section.heading, section.papers.length])).toEqual([
      ['diffusion models', 2],
      ['agents', 4],
      ['quantization', 2],
    ]);
    const titles = paperTitlesOf(html);
    expect(new Set(titles).size).toBe(8);
    expect(titles).toEqual([
      'Paper number 4',
      'Paper number 8',
      'Paper number 1',
      'Paper number 3',
      'Paper number 5',
      'Paper number 7',
      'Paper number 2',
      'Paper number 6',
    ]);
    // Numbered in reading order; within a topic, best first.
    expect([...text.matchAll(/^(\d+)\. /gm)].map((match) => Number(match[1]))).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ]);
    // Headings a screen reader can jump by: topics, then papers under them.
    expect(html).toContain('<h2 id="topic-1"');
    expect((html.match(/<h3 /g) ?? []).length).toBe(8);
    expect(html).not.toMatch(/<h2 style="margin:0;font-size:18px/);
    // A one-line contents whose entries jump to the sections.
    expect(values.contents).toEqual([
      { id: 'topic-1', label: 'diffusion models', count: 2 },
      { id: 'topic-2', label: 'agents', count: 4 },
      { id: 'topic-3', label: 'quantization', count: 2 },
    ]);
    expect(html).toContain('<a href="#topic-1">diffusion models</a> 2 · <a href="#topic-2">agents</a> 4');
    // The text part has the same sections.
    expect(text).toContain('== diffusion models · 2 papers ==');
    expect(text.indexOf('== agents · 4 papers ==')).toBeGreaterThan(text.indexOf('Paper number 8'));
    // Under its heading a card names only the terms, not the topic again.
    expect(html).not.toContain('Matched <b>');
  });

  it('keeps one ranked list when only one topic found papers, or the reader has none', () => {
    const single = render(picksFor(['agents'], 5), { topics });
    expect(single.values.sections).toHaveLength(1);
    expect(single.values.contents).toEqual([]);
    expect(single.html).not.toContain('id="topic-');
    expect(paperTitlesOf(single.html)).toEqual(picksFor(['agents'], 5).map((pick) => pick.paper.title));
    expect(single.html).toContain('<h2 style="margin:0;font-size:18px');
    const none = render(picksFor([undefined], 5), { topics: [] });
    expect(none.values.sections).toHaveLength(1);
    expect(none.html).not.toContain('id="topic-');
  });

  it('sections the web version the same way as the email', () => {
    const picks = picksFor(['agents', 'quantization'], 6);
    const web = digestEmailValues({
      picks,
      shown: picks.length,
      localDate: '2026-11-30',
      subscriber: { email: '', frequency: 'daily', topics },
      urls: { web: '', manage: '', unsubscribe: '' },
    });
    expect(web.sections.map((section) => section.heading)).toEqual(['agents', 'quantization']);
  });
});

describe('the top of the digest', () => {
  it('links the web version first thing, and leaves the link out of the web version itself', () => {
    const { html, text } = render(picksFor(['agents'], 3), { topics: ['agents'] });
    const viewLink = html.indexOf(`<a href="${urls.web}" style="color:#57606a">View in browser</a>`);
    expect(viewLink).toBeGreaterThan(-1);
    expect(viewLink).toBeLessThan(html.indexOf('Paper number 1'));
    expect(text.indexOf(`View in your browser: ${urls.web}`)).toBeLessThan(text.indexOf('Paper number 1'));
    const web = renderDigestEmail(
      templates,
      digestEmailValues({
        picks: picksFor(['agents'], 3),
        shown: 3,
        localDate: '2026-11-30',
        subscriber: { email: '', frequency: 'daily', topics: ['agents'] },
        urls: { web: '', manage: '', unsubscribe: '' },
      }),
    );
    expect(web.html).not.toContain('View in browser');
  });

  it('tells a reader without topics what the list is, and where to add topics', () => {
    const { values, html, text } = render(picksFor([undefined], 4), { topics: [] });
    expect(values.subject).toBe('4 new papers, the most upvoted');
    expect(html).toContain('You have no topics yet, so these are the most upvoted new papers.');
    expect(html).toContain(`<a href="${urls.manage}">Add topics</a>`);
    expect(flat(text)).toContain(`Add topics: ${urls.manage}`);
  });

  it('shows a weekly digest’s date range, across a month end too', () => {
    expect(
      render(picksFor(['agents'], 1), { topics: ['agents'], frequency: 'weekly' }).values.dateLabel,
    ).toBe('24–30 November 2026');
    expect(
      render(picksFor(['agents'], 1), { topics: ['agents'], frequency: 'weekly', localDate: '2026-03-03' })
        .values.dateLabel,
    ).toBe('25 February – 3 March 2026');
    expect(render(picksFor(['agents'], 1), { topics: ['agents'] }).values.dateLabel).toBe(
      'Monday, 30 November 2026',
    );
  });
});

describe('the subject', () => {
  it.each([
    [['agents'], ['agents'], '3 new papers on agents'],
    [['agents', 'diffusion'], ['agents', 'diffusion'], '3 new papers on agents and diffusion'],
    [['a', 'b', 'c'], ['a', 'b', 'c'], '3 new papers on a, b and c'],
    [
      ['diffusion models', 'agents', 'x', 'y'],
      ['diffusion models', 'agents', 'x', 'y'],
      '4 new papers on diffusion models, agents and 2 more topics',
    ],
    // Only the topics that found something, in the reader's order.
    [['agents'], ['diffusion', 'agents', 'robots'], '3 new papers on agents'],
  ])('for picks on %j of %j: %s', (found, topics, subject) => {
    const count = Math.max(3, found.length);
    expect(render(picksFor(found, count), { topics }).values.subject).toBe(subject);
  });

  it('says "100+" when the pick list stopped at its cap, since there were at least that many', () => {
    expect(render(picksFor(['agents'], 100), { topics: ['agents'] }).values.subject).toBe(
      '100+ new papers on agents',
    );
    expect(render(picksFor(['agents'], 99), { topics: ['agents'] }).values.subject).toBe(
      '99 new papers on agents',
    );
  });
});
