import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const subscriberStatuses = ['pending', 'active', 'unsubscribed', 'bounced', 'complained'] as const;
export type SubscriberStatus = (typeof subscriberStatuses)[number];

export const frequencies = ['daily', 'weekly'] as const;
export type Frequency = (typeof frequencies)[number];

/** Where a reader's digests go: by email, or only to their personal feed (no digest emails). */
export const deliveries = ['email', 'feed'] as const;
export type Delivery = (typeof deliveries)[number];

const timestamp = (name: string) => integer(name, { mode: 'timestamp_ms' });

export const subscribers = sqliteTable(
  'subscribers',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    email: text('email').notNull(),
    status: text('status', { enum: subscriberStatuses }).notNull(),
    frequency: text('frequency', { enum: frequencies }).notNull().default('daily'),
    weeklyDay: integer('weekly_day').notNull().default(1),
    timezone: text('timezone').notNull().default('UTC'),
    sendHour: integer('send_hour').notNull().default(7),
    maxPapers: integer('max_papers').notNull().default(10),
    delivery: text('delivery', { enum: deliveries }).notNull().default('email'),
    /** Mixed into every token's signature: deleting the row (or rotating this) kills all its links. */
    tokenSalt: text('token_salt').notNull(),
    createdAt: timestamp('created_at').notNull(),
    updatedAt: timestamp('updated_at').notNull(),
    confirmedAt: timestamp('confirmed_at'),
    unsubscribedAt: timestamp('unsubscribed_at'),
  },
  (table) => [
    uniqueIndex('subscribers_email_unique').on(table.email),
    index('subscribers_status_idx').on(table.status, table.id),
  ],
);

/** Topic queries as the subscriber wrote them, in their order. */
export const subscriberTopics = sqliteTable(
  'subscriber_topics',
  {
    subscriberId: integer('subscriber_id')
      .notNull()
      .references(() => subscribers.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    query: text('query').notNull(),
  },
  (table) => [uniqueIndex('subscriber_topics_pk').on(table.subscriberId, table.position)],
);

/**
 * One subscription request, with the preferences it asked for. Its confirmation link activates exactly
 * these (the email and the confirm page show them), so a later request for the same address, by
 * anyone, cannot change what an earlier link turns on, and nothing changes before the inbox confirms.
 */
export const subscriptionRequests = sqliteTable(
  'subscription_requests',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    subscriberId: integer('subscriber_id')
      .notNull()
      .references(() => subscribers.id, { onDelete: 'cascade' }),
    preferences: text('preferences', { mode: 'json' }).notNull().$type<RequestedPreferences>(),
    createdAt: timestamp('created_at').notNull(),
    confirmedAt: timestamp('confirmed_at'),
  },
  (table) => [index('subscription_requests_subscriber_idx').on(table.subscriberId, table.id)],
);

/** What a request asks for: every preference, so the confirm page can show all of it. */
export interface RequestedPreferences {
  topics: string[];
  frequency: Frequency;
  weeklyDay: number;
  timezone: string;
  sendHour: number;
  maxPapers: number;
  /** Requests stored before feeds existed lack it: they are read as email. */
  delivery: Delivery;
}

export type SubscriptionRequest = typeof subscriptionRequests.$inferSelect;

export const eventTypes = [
  'subscribed',
  'confirmed',
  'preferences_changed',
  'unsubscribed',
  'resubscribed',
  'bounced',
] as const;
export type EventType = (typeof eventTypes)[number];

export const eventSources = ['form', 'api', 'link', 'one-click', 'manage', 'delivery'] as const;
export type EventSource = (typeof eventSources)[number];

export const subscriberEvents = sqliteTable(
  'subscriber_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    subscriberId: integer('subscriber_id')
      .notNull()
      .references(() => subscribers.id, { onDelete: 'cascade' }),
    type: text('type', { enum: eventTypes }).notNull(),
    source: text('source', { enum: eventSources }).notNull(),
    detail: text('detail', { mode: 'json' }).$type<Record<string, unknown>>(),
    createdAt: timestamp('created_at').notNull().default(sql`(unixepoch('subsec') * 1000)`),
  },
  (table) => [index('subscriber_events_subscriber_idx').on(table.subscriberId, table.id)],
);

export type Subscriber = typeof subscribers.$inferSelect;
export type SubscriberEvent = typeof subscriberEvents.$inferSelect;

export const paperSources = ['hf-daily', 'arxiv', 'file', 'api'] as const;
export type PaperSource = (typeof paperSources)[number];

/**
 * One arXiv paper, keyed by its id without version. `first_seen_at` is set once, when paperboy first
 * stores the paper, and is what "new since the last digest" means. The full-text index
 * `papers_fts` (FTS5, a custom migration: drizzle has no virtual tables) is kept in step by triggers.
 */
export const papers = sqliteTable(
  'papers',
  {
    // An integer key keeps rowids stable for the FTS index (a VACUUM may renumber implicit rowids).
    id: integer('id').primaryKey({ autoIncrement: true }),
    arxivId: text('arxiv_id').notNull(),
    title: text('title').notNull(),
    abstract: text('abstract').notNull(),
    authors: text('authors', { mode: 'json' }).$type<string[]>().notNull(),
    categories: text('categories', { mode: 'json' }).$type<string[]>().notNull(),
    publishedAt: timestamp('published_at').notNull(),
    upvotes: integer('upvotes').notNull().default(0),
    aiSummary: text('ai_summary'),
    aiKeywords: text('ai_keywords', { mode: 'json' }).$type<string[]>(),
    githubRepo: text('github_repo'),
    projectPage: text('project_page'),
    thumbnail: text('thumbnail'),
    source: text('source', { enum: paperSources }).notNull(),
    firstSeenAt: timestamp('first_seen_at').notNull(),
    updatedAt: timestamp('updated_at').notNull(),
  },
  (table) => [
    uniqueIndex('papers_arxiv_id_unique').on(table.arxivId),
    index('papers_first_seen_idx').on(table.firstSeenAt),
    index('papers_published_idx').on(table.publishedAt),
  ],
);

export type Paper = typeof papers.$inferSelect;

/** One ingestion of one source: what came in, or why the feed failed. */
export const ingestRuns = sqliteTable(
  'ingest_runs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    source: text('source').notNull(),
    startedAt: timestamp('started_at').notNull(),
    finishedAt: timestamp('finished_at').notNull(),
    status: text('status', { enum: ['ok', 'failed'] }).notNull(),
    inserted: integer('inserted').notNull().default(0),
    updated: integer('updated').notNull().default(0),
    rejected: integer('rejected').notNull().default(0),
    error: text('error'),
    /** The day a dated source (hf-daily) was asked for, YYYY-MM-DD; null for undated sources. */
    date: text('date'),
    /** `arxiv:` sources: the newest submission the run read, where the next run stops paging back. */
    newestSubmittedAt: timestamp('newest_submitted_at'),
  },
  (table) => [index('ingest_runs_finished_idx').on(table.finishedAt)],
);

/** `published`: a feed-only reader's digest, put in their feed instead of an email. */
export const digestStatuses = ['queued', 'sending', 'sent', 'published', 'failed', 'skipped'] as const;
export type DigestStatus = (typeof digestStatuses)[number];
/** How `digests.error` begins when the SMTP server refused the address for good (5xx): a bounce. */
export const hardBounceError = 'hard bounce: ';

/**
 * One digest: one subscriber, one local date. The unique index is what makes planning idempotent;
 * the status moves queued → sending → sent | failed | skipped, and a sent row is never sent again.
 */
export const digests = sqliteTable(
  'digests',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    subscriberId: integer('subscriber_id')
      .notNull()
      .references(() => subscribers.id, { onDelete: 'cascade' }),
    /** The subscriber's local calendar date the digest is for, `YYYY-MM-DD`. */
    localDate: text('local_date').notNull(),
    status: text('status', { enum: digestStatuses }).notNull().default('queued'),
    /** Papers first seen at or after this instant are new for this digest. */
    windowStart: timestamp('window_start').notNull(),
    plannedAt: timestamp('planned_at').notNull(),
    sendingAt: timestamp('sending_at'),
    /** Set just before the final dot of SMTP DATA: after a crash, set means "the server may have it". */
    dataSentAt: timestamp('data_sent_at'),
    sentAt: timestamp('sent_at'),
    messageId: text('message_id'),
    attempts: integer('attempts').notNull().default(0),
    paperCount: integer('paper_count').notNull().default(0),
    /**
     * The papers picked, best first, with why (`StoredPick` as JSON): what the web version shows and
     * what "never send twice" reads. One value per digest rather than a row per paper.
     */
    picks: text('picks', { mode: 'json' }).$type<StoredPick[]>(),
    error: text('error'),
  },
  (table) => [
    uniqueIndex('digests_subscriber_date_unique').on(table.subscriberId, table.localDate),
    index('digests_status_idx').on(table.status, table.id),
    // "Never send twice" reads one subscriber's recent digests: without it SQLite walks every sent one.
    index('digests_subscriber_sent_idx').on(table.subscriberId, table.sentAt),
  ],
);

/** "More / less like this" values: one per reader and paper, the latest click. */
export const feedbackValues = { more: 1, less: -1 } as const;
export type FeedbackKind = keyof typeof feedbackValues;

/**
 * A reader's "more like this" (1) or "less like this" (-1) on one paper: re-ranks what their topics
 * match (docs/ARCHITECTURE.md, "Feedback"). The digest it came from is kept while that row exists.
 */
export const paperFeedback = sqliteTable(
  'paper_feedback',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    subscriberId: integer('subscriber_id')
      .notNull()
      .references(() => subscribers.id, { onDelete: 'cascade' }),
    paperId: integer('paper_id')
      .notNull()
      .references(() => papers.id, { onDelete: 'cascade' }),
    value: integer('value').notNull(),
    digestId: integer('digest_id').references(() => digests.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at').notNull(),
  },
  (table) => [uniqueIndex('paper_feedback_subscriber_paper_unique').on(table.subscriberId, table.paperId)],
);

/** Where a reader's liked paper stands: in the papers table, waiting for arXiv, or unknown there. */
export const likedPaperStatuses = ['found', 'pending', 'missing'] as const;
export type LikedPaperStatus = (typeof likedPaperStatuses)[number];

/**
 * "Papers I like": arXiv papers a reader added (ids, links or a BibTeX file). They rank papers like
 * them higher, as "more like this" does. One not in `papers` yet is `pending` until a worker has asked
 * arXiv for it.
 */
export const likedPapers = sqliteTable(
  'liked_papers',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    subscriberId: integer('subscriber_id')
      .notNull()
      .references(() => subscribers.id, { onDelete: 'cascade' }),
    arxivId: text('arxiv_id').notNull(),
    paperId: integer('paper_id').references(() => papers.id, { onDelete: 'set null' }),
    status: text('status', { enum: likedPaperStatuses }).notNull(),
    createdAt: timestamp('created_at').notNull(),
  },
  (table) => [
    uniqueIndex('liked_papers_subscriber_arxiv_unique').on(table.subscriberId, table.arxivId),
    index('liked_papers_status_idx').on(table.status),
  ],
);

/** One picked paper as stored with its digest: paper id, score, the topic that gave it, the terms that hit. */
export type StoredPick = [paperId: number, score: number, topic: string | null, matched: string[]];

export type Digest = typeof digests.$inferSelect;
