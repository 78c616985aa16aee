import { readFileSync } from 'node:fs';
import type { DigestPick } from '../../src/digests/select.js';
import { digestEmailValues } from '../../src/email/digest-view.js';
import { renderDigestEmail, renderDigestWithinBudget, renderLifecycleEmail } from '../../src/email/render.js';
import type { EmailTemplates } from '../../src/email/templates.js';
import { defaultPreferences, describeSchedule } from '../../src/subscribers/preferences.js';
import { paperFrom } from './digest.js';

/** One email as a reader gets it: its kind (a file-name-safe word), its HTML and its text part. */
export interface SampleEmail {
  kind: string;
  html: string;
  text: string;
}

const base = 'https://papers.example.org';
const urls = {
  web: `${base}/digests/d1.0.AAAAAAAAAAAAAAAAAAAAAA`,
  manage: `${base}/manage/m1.0.BBBBBBBBBBBBBBBBBBBBBB`,
  unsubscribe: `${base}/unsubscribe/u1.0.CCCCCCCCCCCCCCCCCCCCCC`,
};
/** A reader's feedback links as the send path makes them: one token per paper and direction. */
const feedback = (pickIndex: number) => ({
  more: `${base}/feedback/fFFFFFFFFFFFFFFFFFFFFFF.0.${pickIndex.toString(36)}m.DDDDDDDDDDDDDDDDDDDDDD`,
  less: `${base}/feedback/fFFFFFFFFFFFFFFFFFFFFFF.0.${pickIndex.toString(36)}l.DDDDDDDDDDDDDDDDDDDDDD`,
});
const topics = ['diffusion models', 'sparse attention', 'cat:cs.CL "speculative decoding"'];
const email = 'ada@example.org';

const sample = JSON.parse(readFileSync(new URL('../../examples/papers.json', import.meta.url), 'utf8')) as {
  arxivId: string;
  title: string;
  abstract: string;
  authors: string[];
}[];

/**
 * Fifty real papers from examples/papers.json with every kind of card part: upvotes or none, 1 to 6
 * authors, code and project links on some, an AI summary on some, each under one of three topics.
 */
const picks: DigestPick[] = Array.from({ length: 50 }, (_, i) => {
  const raw = sample[i % sample.length] as (typeof sample)[number];
  const paper = paperFrom(
    {
      arxivId: raw.arxivId,
      title: raw.title,
      abstract: raw.abstract,
      authors: raw.authors.slice(0, 1 + (i % 6)),
      upvotes: i % 3 === 0 ? 0 : 5 + i * 7,
      githubRepo: i % 4 === 1 ? `https://github.com/example/paper-${i}` : undefined,
      projectPage: i % 5 === 2 ? `https://example.github.io/paper-${i}/` : undefined,
      aiSummary: i % 2 === 0 ? undefined : `${raw.abstract.split('. ')[0]}.`,
    },
    { id: i + 1, source: i % 3 === 0 ? 'arxiv' : 'hf-daily' },
  );
  // Every pick of a reader with topics names the topic that found it; some cards list more terms.
  const topic = topics[i % topics.length] as string;
  // Some were moved by the reader's feedback, and say which paper moved them.
  const because =
    i % 7 === 1
      ? { kind: 'more' as const, title: (sample[(i + 1) % sample.length] as (typeof sample)[number]).title }
      : i % 7 === 4
        ? { kind: 'less' as const, title: (sample[(i + 2) % sample.length] as (typeof sample)[number]).title }
        : undefined;
  return { paper, score: 1, topic, matched: i % 4 === 3 ? [topic] : [topic, 'diffusion', 'memory'], because };
});

function digest(templates: EmailTemplates, options: { papers: number; weekly?: boolean; topics?: string[] }) {
  const subscriber = {
    email,
    frequency: options.weekly ? 'weekly' : 'daily',
    topics: options.topics ?? topics,
  };
  const chosen = picks
    .slice(0, options.papers)
    .map((pick) => (subscriber.topics.length === 0 ? { ...pick, topic: undefined, matched: [] } : pick));
  // As send-digest.ts does: as many cards as the subscriber allows and the 100 KB budget holds.
  const { html, text } = renderDigestWithinBudget(
    templates,
    (shown) =>
      digestEmailValues({ picks: chosen, shown, localDate: '2026-03-03', subscriber, urls, feedback }),
    options.papers,
  );
  return { html, text };
}

/** Every kind of email paperboy sends (and the web version of a digest), rendered by the real code. */
export function renderEveryEmail(templates: EmailTemplates): SampleEmail[] {
  const preferences = { ...defaultPreferences, topics };
  const lifecycleValues = {
    email,
    frequency: preferences.frequency,
    topicsLine: topics.join('; '),
    scheduleLine: describeSchedule(preferences),
  };
  const lifecycle = (kind: 'confirmation' | 'manage' | 'welcome', link: Record<string, string>) => {
    const { html, text } = renderLifecycleEmail(templates, kind, { ...lifecycleValues, ...link });
    return { kind, html, text };
  };
  // As view-digest.ts renders GET /digests/:token: every pick, no address, no manage links.
  const { html, text } = renderDigestEmail(
    templates,
    digestEmailValues({
      picks: picks.slice(0, 12),
      shown: 12,
      localDate: '2026-03-03',
      subscriber: { email: '', frequency: 'daily', topics },
      urls: { web: '', manage: '', unsubscribe: '' },
    }),
  );
  return [
    lifecycle('confirmation', { confirmUrl: `${base}/confirm/c1.0.DDDDDDDDDDDDDDDDDDDDDD` }),
    lifecycle('manage', { manageUrl: urls.manage }),
    lifecycle('welcome', { manageUrl: urls.manage }),
    { kind: 'digest-1', ...digest(templates, { papers: 1 }) },
    { kind: 'digest-10', ...digest(templates, { papers: 10 }) },
    { kind: 'digest-50', ...digest(templates, { papers: 50 }) },
    { kind: 'digest-no-topics', ...digest(templates, { papers: 5, topics: [] }) },
    { kind: 'digest-weekly', ...digest(templates, { papers: 10, weekly: true }) },
    { kind: 'web-version', html, text },
  ];
}
