import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const subscriberStatuses = ['pending', 'active', 'unsubscribed', 'bounced', 'complained'] as const;
export type SubscriberStatus = (typeof subscriberStatuses)[number];

export const frequencies = ['daily', 'weekly'] as const;
export type Frequency = (typeof frequencies)[number];

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

export const eventTypes = [
  'subscribed',
  'confirmed',
  'preferences_changed',
  'unsubscribed',
  'resubscribed',
] as const;
export type EventType = (typeof eventTypes)[number];

export const eventSources = ['form', 'api', 'link', 'one-click', 'manage'] as const;
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
