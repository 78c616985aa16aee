import { createRequire } from 'node:module';
import { parseFeed } from '@rowanmanning/feed-parser';
import { Ajv } from 'ajv';
import formats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { atomFeed, type FeedEntry, type FeedMeta, jsonFeed } from '../../src/feeds/feed-document.js';
import { createTopicFeedCache } from '../../src/feeds/topic-feed.js';
import { paperFrom } from '../support/digest.js';

const require = createRequire(import.meta.url);
const jsonFeedSchema = require('jsonfeed-schema/schema-v1.1.json');
const ajv = new Ajv({ allErrors: true, strict: false });
// ajv-formats is CommonJS: its function is the default export's default.
(formats as unknown as typeof formats.default)(ajv);
const isJsonFeed11 = ajv.compile(jsonFeedSchema);

const meta: FeedMeta = {
  title: 'paperboy: diffusion & "models" <b>',
  description: 'New papers',
  selfUrl: 'https://papers.example.org/feeds/topic.atom?q=diffusion&days=7',
  homeUrl: 'https://papers.example.org/',
  updated: new Date('2026-11-20T10:00:00Z'),
};

// Built as ingestion stores papers, then given what a broken source or store could still hold.
const hostile = {
  ...paperFrom(
    {
      arxivId: '2611.00001',
      title: 'placeholder',
      abstract: 'placeholder',
      authors: ['Ada <Lovelace>', 'Émile Borel', 'Q & A'],
      categories: ['cs.LG', 'stat.ML'],
      githubRepo: 'https://github.com/example/repo?x=1&y=2',
    },
    { id: 1 },
  ),
  title: 'Breaking ]]> CDATA <script>alert(1)</script> & "quotes" \u0001\uFFFE bell',
  abstract: 'An abstract with <img src=x onerror=alert(1)> and ]]> and emoji 🧪 and a tab\tand 1 < 2.',
};
const plain = paperFrom(
  { arxivId: 'hep-th/9901001', title: 'An old-style id', abstract: 'Old.', authors: [] },
  { id: 2 },
);

const entries: FeedEntry[] = [
  { paper: hostile, updated: new Date('2026-11-20T09:00:00Z'), topic: 'diffusion', matched: ['diffusion'] },
  { paper: plain, updated: new Date('2026-11-19T09:00:00Z'), matched: [] },
];

describe('Atom feeds', () => {
  const xml = atomFeed(meta, entries);
  const parsed = parseFeed(xml);

  it('parse with an independent feed parser, titles and text exactly as stored', () => {
    expect(parsed.meta.type).toBe('atom');
    expect(parsed.title).toBe('paperboy: diffusion & "models" <b>');
    expect(parsed.items).toHaveLength(2);
    const [first, second] = parsed.items;
    // XML forbids U+0001 and U+FFFE: they are dropped, everything else arrives as written.
    expect(first?.title).toBe('Breaking ]]> CDATA <script>alert(1)</script> & "quotes"  bell');
    expect(first?.id).toBe('https://arxiv.org/abs/2611.00001');
    expect(first?.url).toBe('https://arxiv.org/abs/2611.00001');
    expect(first?.authors.map((author) => author.name)).toEqual(['Ada <Lovelace>', 'Émile Borel', 'Q & A']);
    expect(first?.categories.map((category) => category.term)).toEqual(['cs.LG', 'stat.ML']);
    expect(first?.updated?.toISOString()).toBe('2026-11-20T09:00:00.000Z');
    expect(first?.published?.toISOString()).toBe(hostile.publishedAt.toISOString());
    expect(second?.id).toBe('https://arxiv.org/abs/hep-th/9901001');
  });

  it('carry the abstract, why the paper matched and its links, with markup from papers escaped', () => {
    // The parser decodes entities in HTML content, so escaping is checked in the document itself.
    expect(xml).toContain('An abstract with &lt;img src=x onerror=alert(1)&gt; and ]]');
    expect(xml).not.toMatch(/<img|<script/);
    const content = parsed.items[0]?.content ?? '';
    expect(content).toContain('<strong>Matched</strong>: diffusion: diffusion');
    expect(content).toContain('href="https://arxiv.org/pdf/2611.00001"');
    expect(xml).toContain('href="https://github.com/example/repo?x=1&amp;y=2"');
  });

  it('name themselves and say when they changed', () => {
    expect(parsed.url).toBe('https://papers.example.org/');
    expect(parsed.self).toBe(meta.selfUrl);
    expect(parsed.updated?.toISOString()).toBe('2026-11-20T10:00:00.000Z');
  });

  it('are well-formed with no entries at all', () => {
    const empty = parseFeed(atomFeed(meta, []));
    expect(empty.items).toEqual([]);
    expect(empty.title).toBe(meta.title);
  });
});

describe('JSON Feed 1.1', () => {
  const document = JSON.parse(jsonFeed(meta, entries));

  it('passes the JSON Feed 1.1 schema', () => {
    const isValid = isJsonFeed11(document);
    expect(isJsonFeed11.errors ?? []).toEqual([]);
    expect(isValid).toBe(true);
    expect(document.version).toBe('https://jsonfeed.org/version/1.1');
  });

  it('keeps text as text and says why each paper is there', () => {
    const [first, second] = document.items;
    expect(first.id).toBe('https://arxiv.org/abs/2611.00001');
    expect(first.title).toBe(hostile.title);
    expect(first.authors).toEqual([{ name: 'Ada <Lovelace>' }, { name: 'Émile Borel' }, { name: 'Q & A' }]);
    expect(first.content_html).not.toContain('<img');
    expect(first.external_url).toBe('https://github.com/example/repo?x=1&y=2');
    expect(first._paperboy).toEqual({
      arxiv_id: '2611.00001',
      topic: 'diffusion',
      matched: ['diffusion'],
      upvotes: hostile.upvotes,
    });
    expect(second._paperboy.topic).toBeNull();
  });

  it('passes the schema with no items', () => {
    expect(isJsonFeed11(JSON.parse(jsonFeed(meta, [])))).toBe(true);
  });
});

describe('the topic feed cache', () => {
  const feed = (chars: number) => ({ body: 'x'.repeat(chars), updated: new Date(0) });

  it('keeps a feed for its lifetime, then forgets it', () => {
    let now = 0;
    const cache = createTopicFeedCache(() => new Date(now), { ttlMs: 1000, maxChars: 100 });
    cache.set('a', feed(10));
    now = 999;
    expect(cache.get('a')?.body).toHaveLength(10);
    now = 1000;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('drops the least recently used feeds past its size, and never keeps one larger than all of it', () => {
    const cache = createTopicFeedCache(() => new Date(0), { ttlMs: 1000, maxChars: 30 });
    cache.set('a', feed(10));
    cache.set('b', feed(10));
    cache.set('c', feed(10));
    cache.get('a'); // now b is the least recently used
    cache.set('d', feed(10));
    expect(['a', 'b', 'c', 'd'].filter((key) => cache.get(key))).toEqual(['a', 'c', 'd']);
    cache.set('huge', feed(31));
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.size).toBe(3);
  });

  it('replaces a feed stored again under the same key, counting its size once', () => {
    const cache = createTopicFeedCache(() => new Date(0), { ttlMs: 1000, maxChars: 20 });
    cache.set('a', feed(15));
    cache.set('a', feed(15));
    cache.set('b', feed(5));
    expect(cache.get('a')?.body).toHaveLength(15);
    expect(cache.get('b')?.body).toHaveLength(5);
  });
});
