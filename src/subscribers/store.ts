import { asc, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import {
  type EventSource,
  type EventType,
  type Subscriber,
  subscriberEvents,
  subscribers,
  subscriberTopics,
} from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import type { Preferences } from './preferences.js';
import type { TokenPurpose, Tokens } from './tokens.js';

export function findSubscriberById(db: Db, id: number): Subscriber | undefined {
  return db.select().from(subscribers).where(eq(subscribers.id, id)).get();
}

export function findSubscriberByEmail(db: Db, email: string): Subscriber | undefined {
  return db.select().from(subscribers).where(eq(subscribers.email, email)).get();
}

export function readTopics(db: Db, subscriberId: number): string[] {
  return db
    .select({ query: subscriberTopics.query })
    .from(subscriberTopics)
    .where(eq(subscriberTopics.subscriberId, subscriberId))
    .orderBy(asc(subscriberTopics.position))
    .all()
    .map((row) => row.query);
}

export function replaceTopics(db: Db, subscriberId: number, topics: readonly string[]): void {
  db.delete(subscriberTopics).where(eq(subscriberTopics.subscriberId, subscriberId)).run();
  if (topics.length === 0) return;
  db.insert(subscriberTopics)
    .values(topics.map((query, position) => ({ subscriberId, position, query })))
    .run();
}

export function recordEvent(
  db: Db,
  event: {
    subscriberId: number;
    type: EventType;
    source: EventSource;
    at: Date;
    detail?: Record<string, unknown>;
  },
): void {
  db.insert(subscriberEvents)
    .values({
      subscriberId: event.subscriberId,
      type: event.type,
      source: event.source,
      detail: event.detail,
      createdAt: event.at,
    })
    .run();
}

type TokenCtx = { db: Db; tokens: Tokens; clock: () => Date };

/** The subscriber a link token names, if the token is genuine, unexpired and of this purpose. */
export function findSubscriberForToken(ctx: TokenCtx, token: string, purpose: TokenPurpose) {
  const id = ctx.tokens.peek(token, purpose);
  const subscriber = id === undefined ? undefined : findSubscriberById(ctx.db, id);
  return ctx.tokens.verify(token, purpose, subscriber, ctx.clock()) ? subscriber : undefined;
}

/** As `findSubscriberForToken`, but anything forged, expired or of another purpose is "not found". */
export function subscriberForToken(ctx: TokenCtx, token: string, purpose: TokenPurpose): Subscriber {
  const subscriber = findSubscriberForToken(ctx, token, purpose);
  if (!subscriber) throw new NotFoundError('This link is not valid. It may have expired or been replaced.');
  return subscriber;
}

export interface SubscriberView extends Preferences {
  email: string;
  status: Subscriber['status'];
}

export function toSubscriberView(db: Db, subscriber: Subscriber): SubscriberView {
  return {
    email: subscriber.email,
    status: subscriber.status,
    topics: readTopics(db, subscriber.id),
    frequency: subscriber.frequency,
    weeklyDay: subscriber.weeklyDay,
    timezone: subscriber.timezone,
    sendHour: subscriber.sendHour,
    maxPapers: subscriber.maxPapers,
  };
}
