import { escapeUTF8 } from 'entities';
import { Feed } from 'feed';
import { generateJsonFeed } from 'feedsmith';
import type { Paper } from '../db/schema.js';
import { authorsLine, paperLinks } from '../email/digest-view.js';

export type FeedFormat = 'atom' | 'json';

export const feedContentTypes: Record<FeedFormat, string> = {
  atom: 'application/atom+xml; charset=utf-8',
  json: 'application/feed+json; charset=utf-8',
};

/** One paper in a feed, and why it is there. */
export interface FeedEntry {
  paper: Paper;
  /** When it entered this feed: the digest that carried it, or when paperboy first saw the paper. */
  updated: Date;
  topic?: string;
  matched: readonly string[];
}

export interface FeedMeta {
  title: string;
  description: string;
  /** The feed's own address (Atom `self`, JSON Feed `feed_url`); also its Atom id. */
  selfUrl: string;
  /** A page for people: the home page, or the reader's manage page. */
  homeUrl: string;
  /** When the feed last changed; also its `Last-Modified`. */
  updated: Date;
}

/** Characters XML 1.0 does not allow, which no library may be trusted to drop. */
const notXml = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const clean = (text: string) => text.replace(notXml, '');

/** The entry id: the paper's arXiv address, the same in every feed and never changed. */
const entryId = (paper: Pick<Paper, 'arxivId'>) => `https://arxiv.org/abs/${paper.arxivId}`;

/** Why a paper is in the feed: "diffusion models: diffusion, model". */
function whyLine(entry: Pick<FeedEntry, 'topic' | 'matched'>): string {
  const terms = entry.matched.join(', ');
  if (entry.topic && terms) return `${entry.topic}: ${terms}`;
  return entry.topic ?? terms;
}

/** The entry's body: authors, abstract, why it matched, and its links (arXiv, PDF, code…). */
function contentHtml(entry: FeedEntry): string {
  const { paper } = entry;
  const why = whyLine(entry);
  const links = paperLinks(paper)
    .map((link) => `<a href="${escapeUTF8(link.url)}">${escapeUTF8(link.label)}</a>`)
    .join(' · ');
  return clean(
    [
      paper.authors.length > 0 ? `<p>${escapeUTF8(paper.authors.join(', '))}</p>` : '',
      `<p>${escapeUTF8(paper.abstract)}</p>`,
      why ? `<p><strong>Matched</strong>: ${escapeUTF8(why)}</p>` : '',
      `<p>${links}</p>`,
    ].join('\n'),
  );
}

/** Atom 1.0 (RFC 4287), written by the `feed` library (it escapes and splits CDATA where needed). */
export function atomFeed(meta: FeedMeta, entries: readonly FeedEntry[]): string {
  const feed = new Feed({
    id: meta.selfUrl,
    title: clean(meta.title),
    description: clean(meta.description),
    link: meta.homeUrl,
    updated: meta.updated,
    generator: 'paperboy',
    feedLinks: { atom: meta.selfUrl },
    copyright: 'Paper titles and abstracts belong to their authors',
  });
  for (const entry of entries) {
    const { paper } = entry;
    feed.addItem({
      id: entryId(paper),
      // The library writes titles and summaries as HTML: plain text must be escaped first.
      title: clean(escapeUTF8(paper.title)),
      link: entryId(paper),
      date: entry.updated,
      published: paper.publishedAt,
      description: clean(escapeUTF8(authorsLine(paper.authors))),
      content: contentHtml(entry),
      author: paper.authors.slice(0, 20).map((name) => ({ name: clean(name) })),
      category: paper.categories.map((term) => ({ term, name: term })),
    });
  }
  return feed.atom1();
}

/** JSON Feed 1.1, written by `feedsmith`; `_paperboy` carries the arXiv id and why each paper matched. */
export function jsonFeed(meta: FeedMeta, entries: readonly FeedEntry[]): string {
  const document = generateJsonFeed({
    title: meta.title,
    description: meta.description,
    home_page_url: meta.homeUrl,
    feed_url: meta.selfUrl,
    language: 'en',
    items: entries.map((entry) => {
      const { paper } = entry;
      return {
        id: entryId(paper),
        url: entryId(paper),
        title: paper.title,
        content_html: contentHtml(entry),
        summary: authorsLine(paper.authors),
        date_published: paper.publishedAt,
        date_modified: entry.updated,
        authors: paper.authors.slice(0, 20).map((name) => ({ name })),
        tags: [...paper.categories],
        ...(paper.githubRepo ? { external_url: paper.githubRepo } : {}),
        _paperboy: {
          arxiv_id: paper.arxivId,
          topic: entry.topic ?? null,
          matched: [...entry.matched],
          upvotes: paper.upvotes,
        },
      };
    }),
  });
  // feedsmith leaves out an empty list, but JSON Feed requires `items`.
  const feed = document as { items?: unknown[] };
  return JSON.stringify({ ...feed, items: feed.items ?? [] });
}

export const renderFeed = (format: FeedFormat, meta: FeedMeta, entries: readonly FeedEntry[]) =>
  format === 'atom' ? atomFeed(meta, entries) : jsonFeed(meta, entries);

/** The newest entry's time, or `fallback` for a feed with none. */
export const newestUpdate = (entries: readonly FeedEntry[], fallback: Date) =>
  entries.length === 0 ? fallback : new Date(Math.max(...entries.map((entry) => entry.updated.getTime())));
