/**
 * The shapes the API answers with, as zod schemas: the OpenAPI document is generated from them
 * (`api-description.ts`), and the tests check every JSON answer against that document. The
 * `Fits` lines below make tsc fail when a verb's answer drifts from its schema (a field renamed,
 * retyped or dropped); an added field fails the tests instead (objects are closed on output).
 */
import { z } from 'zod';
import {
  deliveries,
  digestStatuses,
  eventSources,
  eventTypes,
  frequencies,
  likedPaperStatuses,
  paperSources,
  subscriberStatuses,
} from '../db/schema.js';
import type { addLikedPapers } from '../feedback/add-liked-papers.js';
import { ingestStatuses } from '../ops/read-stats.js';
import type { listPapers } from '../papers/list-papers.js';
import { queueStates } from '../queue/counts.js';
import type { exportSubscriber } from '../subscribers/export-subscriber.js';
import type { SubscriberView as SubscriberViewType } from '../subscribers/store.js';
import type { previewTopic } from '../topics/preview.js';

const isoTime = z.iso.datetime();
const count = z.number().int().min(0);
const countsOf = <T extends string>(keys: readonly [T, ...T[]]) =>
  z.object(Object.fromEntries(keys.map((key) => [key, count])) as Record<T, typeof count>);

export const Accepted = z.object({ status: z.literal('pending_confirmation') });

export const FeedbackEntry = z.object({
  arxivId: z.string(),
  title: z.string(),
  kind: z.enum(['more', 'less']),
  at: isoTime,
});

export const LikedPaperEntry = z.object({
  arxivId: z.string(),
  title: z.string().nullable().meta({ description: 'null until arXiv has answered for a pending paper' }),
  status: z.enum(likedPaperStatuses),
  at: isoTime,
});

export const SubscriberView = z.object({
  email: z.string(),
  status: z.enum(subscriberStatuses),
  topics: z.array(z.string()),
  frequency: z.enum(frequencies),
  weeklyDay: z.number().int().min(0).max(6),
  timezone: z.string(),
  sendHour: z.number().int().min(0).max(23),
  maxPapers: z.number().int().min(1).max(50),
  delivery: z
    .enum(deliveries)
    .meta({ description: '`feed`: no digest emails; digests go to your feed only' }),
  feedback: z.array(FeedbackEntry).meta({ description: '"More / less like this", newest first' }),
  likedPapers: z.array(LikedPaperEntry).meta({ description: '"Papers I like", newest first' }),
});

/** `GET /api/me`: the view, and the address of the subscriber's own feed. */
export const Me = SubscriberView.extend({
  feedUrl: z
    .url()
    .meta({ description: 'Your own feed (Atom; `.json` for JSON Feed): the papers of your digests' }),
});

/** JSON Feed 1.1 as paperboy writes it: `_paperboy` says which arXiv paper each item is, and why. */
export const JsonFeed = z.object({
  version: z.literal('https://jsonfeed.org/version/1.1'),
  title: z.string(),
  description: z.string(),
  home_page_url: z.url(),
  feed_url: z.url(),
  language: z.string(),
  items: z.array(
    z.object({
      id: z.url().meta({ description: 'The paper’s arXiv address, the same in every feed' }),
      url: z.url(),
      title: z.string(),
      content_html: z.string().meta({ description: 'Authors, abstract, why it matched, links' }),
      summary: z.string(),
      date_published: isoTime,
      date_modified: isoTime.meta({ description: 'When the paper entered this feed' }),
      authors: z.array(z.object({ name: z.string() })),
      tags: z.array(z.string()),
      external_url: z.url().optional().meta({ description: 'The code' }),
      _paperboy: z.object({
        arxiv_id: z.string(),
        topic: z.string().nullable(),
        matched: z.array(z.string()),
        upvotes: count,
      }),
    }),
  ),
});

export const SubscriberExport = z.object({
  exportedAt: isoTime,
  subscriber: SubscriberView.extend({
    createdAt: isoTime,
    confirmedAt: isoTime.nullable(),
    unsubscribedAt: isoTime.nullable(),
  }),
  events: z.array(
    z.object({
      type: z.enum(eventTypes),
      source: z.enum(eventSources),
      at: isoTime,
      detail: z.record(z.string(), z.unknown()).nullable(),
    }),
  ),
});

export const LikedPapersAdded = z.object({
  results: z
    .array(
      z.union([
        z.object({
          input: z.string(),
          arxivId: z.string(),
          result: z.enum(['added', 'already', 'fetching']),
        }),
        z.object({ input: z.string(), result: z.enum(['not-found', 'not-arxiv']), reason: z.string() }),
      ]),
    )
    .meta({ description: 'What became of each item given, in order' }),
});

export const PaperView = z.object({
  arxivId: z.string(),
  title: z.string(),
  authors: z.array(z.string()),
  categories: z.array(z.string()),
  publishedAt: isoTime,
  upvotes: count,
  firstSeenAt: isoTime,
  abstract: z.string(),
  aiSummary: z.string().nullable(),
  aiKeywords: z.array(z.string()).nullable(),
  githubRepo: z.string().nullable(),
  projectPage: z.string().nullable(),
  thumbnail: z.string().nullable(),
  source: z.enum(paperSources),
  links: z.object({ abs: z.url(), pdf: z.url() }),
});

export const PapersList = z.object({ papers: z.array(PaperView).meta({ description: 'Newest first' }) });

export const IngestResult = z.object({
  inserted: count,
  updated: count,
  rejected: z.array(z.object({ index: count, reason: z.string() })),
});

export const TopicPreview = z.object({
  query: z.string(),
  total: count.meta({ description: 'Papers the topic matches in the window; `matches` holds the best' }),
  likes: z
    .array(z.object({ arxivId: z.string(), title: z.string().nullable() }))
    .meta({ description: 'Each paper `like:` names; title null while paperboy does not have it' }),
  matches: z.array(
    z.object({
      arxivId: z.string(),
      title: z.string(),
      score: z.number(),
      matched: z.array(z.string()).meta({ description: 'The topic terms this paper matched' }),
      upvotes: count,
    }),
  ),
});

const ingestRun = z.object({
  source: z.string(),
  finishedAt: isoTime,
  status: z.enum(ingestStatuses),
  inserted: count,
  updated: count,
  rejected: count,
  error: z.string().nullable(),
});

export const AdminStats = z.object({
  subscribers: countsOf(subscriberStatuses),
  papers: z.object({ total: count, firstSeenLast24h: count }),
  digests: countsOf(digestStatuses),
  lastIngest: ingestRun.nullable(),
  ingestSources: z
    .array(
      z.object({
        source: z.string(),
        lastSuccessAt: isoTime.nullable().meta({ description: 'null until the source first succeeds' }),
        failedDates: z.array(z.iso.date()).meta({
          description: 'Dates (hf-daily) whose latest run failed, oldest first; the next run retries them',
        }),
        newestSubmissionAt: isoTime.nullable().meta({
          description:
            'arxiv: sources: the newest submission read; the next run pages back to it. null otherwise',
        }),
      }),
    )
    .meta({ description: 'Each configured source and each that ran in the last 7 days' }),
  lastTick: z.object({ plannedAt: isoTime }).nullable(),
  queues: z
    .record(z.string(), countsOf(queueStates))
    .nullable()
    .meta({ description: 'Jobs per queue by state; null while Redis does not answer' }),
});

export const Health = z.object({ status: z.literal('ok') });

export const Readiness = z.object({
  status: z.enum(['ready', 'unavailable']),
  checks: z.object({ database: z.boolean(), redis: z.boolean() }),
});

/** The document itself, as far as a client needs to know. */
export const ApiDocumentShape = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});

// Compile-time checks: each verb's answer has its schema's shape.
type Fits<Actual, Expected> = [Actual] extends [Expected] ? true : false;
true satisfies Fits<SubscriberViewType, z.output<typeof SubscriberView>>;
true satisfies Fits<Awaited<ReturnType<typeof exportSubscriber>>, z.output<typeof SubscriberExport>>;
true satisfies Fits<Awaited<ReturnType<typeof addLikedPapers>>, z.output<typeof LikedPapersAdded>['results']>;
true satisfies Fits<Awaited<ReturnType<typeof listPapers>>, z.output<typeof PapersList>>;
true satisfies Fits<Awaited<ReturnType<typeof previewTopic>>, z.output<typeof TopicPreview>>;
