import { bigint, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * The PostgreSQL twin of `schema.ts`, for drizzle-kit only (features write SQL, see `sql.ts`). Same
 * tables, columns, nullability, keys and indexes; `test/integration/schema-parity.test.ts` holds the
 * two together. Instants are epoch milliseconds in `bigint`, lists and details JSON in `text`, as on
 * SQLite, so every query reads the same values on both. The full-text column is a custom migration.
 */

const timestamp = (name: string) => bigint(name, { mode: 'number' });
const id = () => integer('id').primaryKey().generatedByDefaultAsIdentity();

export const subscribers = pgTable(
  'subscribers',
  {
    id: id(),
    email: text('email').notNull(),
    status: text('status').notNull(),
    frequency: text('frequency').notNull().default('daily'),
    weeklyDay: integer('weekly_day').notNull().default(1),
    timezone: text('timezone').notNull().default('UTC'),
    sendHour: integer('send_hour').notNull().default(7),
    maxPapers: integer('max_papers').notNull().default(10),
    delivery: text('delivery').notNull().default('email'),
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

export const subscriberTopics = pgTable(
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

export const subscriptionRequests = pgTable(
  'subscription_requests',
  {
    id: id(),
    subscriberId: integer('subscriber_id')
      .notNull()
      .references(() => subscribers.id, { onDelete: 'cascade' }),
    preferences: text('preferences').notNull(),
    createdAt: timestamp('created_at').notNull(),
    confirmedAt: timestamp('confirmed_at'),
  },
  (table) => [index('subscription_requests_subscriber_idx').on(table.subscriberId, table.id)],
);

export const subscriberEvents = pgTable(
  'subscriber_events',
  {
    id: id(),
    subscriberId: integer('subscriber_id')
      .notNull()
      .references(() => subscribers.id, { onDelete: 'cascade' }),
    type: text('type').notNull(),
    source: text('source').notNull(),
    detail: text('detail'),
    createdAt: timestamp('created_at').notNull(),
  },
  (table) => [index('subscriber_events_subscriber_idx').on(table.subscriberId, table.id)],
);

export const papers = pgTable(
  'papers',
  {
    id: id(),
    arxivId: text('arxiv_id').notNull(),
    title: text('title').notNull(),
    abstract: text('abstract').notNull(),
    authors: text('authors').notNull(),
    categories: text('categories').notNull(),
    publishedAt: timestamp('published_at').notNull(),
    upvotes: integer('upvotes').notNull().default(0),
    aiSummary: text('ai_summary'),
    aiKeywords: text('ai_keywords'),
    githubRepo: text('github_repo'),
    projectPage: text('project_page'),
    thumbnail: text('thumbnail'),
    source: text('source').notNull(),
    firstSeenAt: timestamp('first_seen_at').notNull(),
    updatedAt: timestamp('updated_at').notNull(),
  },
  (table) => [
    uniqueIndex('papers_arxiv_id_unique').on(table.arxivId),
    index('papers_first_seen_idx').on(table.firstSeenAt),
    index('papers_published_idx').on(table.publishedAt),
  ],
);

export const ingestRuns = pgTable(
  'ingest_runs',
  {
    id: id(),
    source: text('source').notNull(),
    startedAt: timestamp('started_at').notNull(),
    finishedAt: timestamp('finished_at').notNull(),
    status: text('status').notNull(),
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

export const digests = pgTable(
  'digests',
  {
    id: id(),
    subscriberId: integer('subscriber_id')
      .notNull()
      .references(() => subscribers.id, { onDelete: 'cascade' }),
    localDate: text('local_date').notNull(),
    status: text('status').notNull().default('queued'),
    windowStart: timestamp('window_start').notNull(),
    plannedAt: timestamp('planned_at').notNull(),
    sendingAt: timestamp('sending_at'),
    dataSentAt: timestamp('data_sent_at'),
    sentAt: timestamp('sent_at'),
    messageId: text('message_id'),
    attempts: integer('attempts').notNull().default(0),
    paperCount: integer('paper_count').notNull().default(0),
    /**
     * The papers picked, best first, with why (`StoredPick` as JSON): what the web version shows and
     * what "never send twice" reads. One value per digest rather than a row per paper.
     */
    picks: text('picks'),
    error: text('error'),
  },
  (table) => [
    uniqueIndex('digests_subscriber_date_unique').on(table.subscriberId, table.localDate),
    index('digests_status_idx').on(table.status, table.id),
    // "Never send twice" reads one subscriber's recent digests: without it SQLite walks every sent one.
    index('digests_subscriber_sent_idx').on(table.subscriberId, table.sentAt),
  ],
);

export const paperFeedback = pgTable(
  'paper_feedback',
  {
    id: id(),
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

export const likedPapers = pgTable(
  'liked_papers',
  {
    id: id(),
    subscriberId: integer('subscriber_id')
      .notNull()
      .references(() => subscribers.id, { onDelete: 'cascade' }),
    arxivId: text('arxiv_id').notNull(),
    paperId: integer('paper_id').references(() => papers.id, { onDelete: 'set null' }),
    status: text('status').notNull(),
    createdAt: timestamp('created_at').notNull(),
  },
  (table) => [
    uniqueIndex('liked_papers_subscriber_arxiv_unique').on(table.subscriberId, table.arxivId),
    index('liked_papers_status_idx').on(table.status),
  ],
);
