import { and, asc, eq, lt, ne } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import {
  type EventSource,
  type EventType,
  type Subscriber,
  type SubscriptionRequest,
  subscriberEvents,
  subscribers,
  subscriberTopics,
  subscriptionRequests,
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

const invalidLink =
  'This link is not valid: it may have expired or been replaced by a newer one. For a fresh link to your preferences, enter your address on the home page and we will email you one.';

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
  if (!subscriber) throw new NotFoundError(invalidLink);
  return subscriber;
}

/** An open request is kept as long as its link lives. */
const requestLifetimeMs = 7 * 24 * 60 * 60 * 1000;

/**
 * Stores a request. Only requests whose email went are kept (`subscribe` deletes the others), so the
 * mail throttle bounds them, five a day per mailbox; the ones past their link's lifetime go here.
 * (Keeping only the newest few instead would let a burst of concurrent posts push out the one whose
 * email went.)
 */
export function insertRequest(db: Db, subscriberId: number, preferences: Preferences, at: Date): number {
  db.delete(subscriptionRequests)
    .where(
      and(
        eq(subscriptionRequests.subscriberId, subscriberId),
        lt(subscriptionRequests.createdAt, new Date(at.getTime() - requestLifetimeMs)),
      ),
    )
    .run();
  return db
    .insert(subscriptionRequests)
    .values({ subscriberId, preferences, createdAt: at })
    .returning({ id: subscriptionRequests.id })
    .get().id;
}

export function findRequestById(db: Db, id: number): SubscriptionRequest | undefined {
  return db.select().from(subscriptionRequests).where(eq(subscriptionRequests.id, id)).get();
}

export function deleteRequest(db: Db, id: number): void {
  db.delete(subscriptionRequests).where(eq(subscriptionRequests.id, id)).run();
}

/** Marks a request confirmed and drops the subscriber's other requests: their links stop working. */
export function closeRequests(db: Db, confirmed: SubscriptionRequest, at: Date): void {
  db.delete(subscriptionRequests)
    .where(
      and(
        eq(subscriptionRequests.subscriberId, confirmed.subscriberId),
        ne(subscriptionRequests.id, confirmed.id),
      ),
    )
    .run();
  db.update(subscriptionRequests)
    .set({ confirmedAt: at })
    .where(eq(subscriptionRequests.id, confirmed.id))
    .run();
}

/** The request a confirmation token names, and its subscriber, if the token is genuine and unexpired. */
export function requestForToken(ctx: TokenCtx, token: string) {
  const id = ctx.tokens.peek(token, 'confirm');
  const request = id === undefined ? undefined : findRequestById(ctx.db, id);
  const subscriber = request && findSubscriberById(ctx.db, request.subscriberId);
  const subject = request && subscriber && { id: request.id, tokenSalt: subscriber.tokenSalt };
  if (!request || !subscriber || !ctx.tokens.verify(token, 'confirm', subject, ctx.clock())) {
    throw new NotFoundError(invalidLink);
  }
  return { request, subscriber };
}

export function preferencesOf(db: Db, subscriber: Subscriber): Preferences {
  return {
    topics: readTopics(db, subscriber.id),
    frequency: subscriber.frequency,
    weeklyDay: subscriber.weeklyDay,
    timezone: subscriber.timezone,
    sendHour: subscriber.sendHour,
    maxPapers: subscriber.maxPapers,
  };
}

export interface SubscriberView extends Preferences {
  email: string;
  status: Subscriber['status'];
}

export function toSubscriberView(db: Db, subscriber: Subscriber): SubscriberView {
  return { email: subscriber.email, status: subscriber.status, ...preferencesOf(db, subscriber) };
}
