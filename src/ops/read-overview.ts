import type { Ctx } from '../context.js';
import type { Db } from '../db/client.js';
import { type SubscriberStatus, subscriberStatuses } from '../db/schema.js';
import { sql } from '../db/sql.js';
import {
  countSubscribersByStatus,
  failedDatesBySource,
  type IngestRunSummary,
  runColumns,
  toRunSummary,
} from './read-stats.js';

/**
 * What the admin overview page shows, read in a few aggregate queries over a bounded window: counts
 * per UTC day come out of SQL grouped, never as rows per subscriber or digest.
 */

const dayMs = 24 * 3600_000;
export const overviewDays = 30;
export const topTopicsLimit = 10;
export const recentIngestRunsLimit = 20;

/** `YYYY-MM-DD` of a UTC day number (days since the epoch). */
const isoDay = (day: number) => new Date(day * dayMs).toISOString().slice(0, 10);
/** The SQL for an instant column's UTC day number; `cast` because SQLite's defaults can store a real. */
const utcDay = (column: string) => sql.raw(`cast(${column} / ${dayMs} as integer)`);

/** The last `days` UTC dates, oldest first, ending with today's. */
export function windowDays(now: Date, days = overviewDays): string[] {
  const today = Math.floor(now.getTime() / dayMs);
  return Array.from({ length: days }, (_, index) => isoDay(today - days + 1 + index));
}

const zeros = <K extends string>(keys: readonly K[], length: number) =>
  Object.fromEntries(keys.map((key) => [key, new Array<number>(length).fill(0)])) as Record<K, number[]>;

export const statusChanges = ['joined', 'activated', 'unsubscribed', 'bounced'] as const;
export type StatusChange = (typeof statusChanges)[number];
const changeInto: Record<SubscriberStatus, StatusChange | undefined> = {
  pending: 'joined',
  active: 'activated',
  unsubscribed: 'unsubscribed',
  bounced: 'bounced',
  complained: undefined,
};

export interface SubscriberHistory {
  days: string[];
  /** Today's counts, straight from `subscribers`. */
  current: Record<SubscriberStatus, number>;
  /** Subscribers in each status at the end of each day (the last is `current`). */
  endOfDay: Record<SubscriberStatus, number[]>;
  /** Moves into a status per day: new addresses (pending), confirmed or resubscribed (active), unsubscribed, bounced. */
  changes: Record<StatusChange, number[]>;
}

/**
 * Subscribers by status over the window, rebuilt backwards from today's exact counts: each day's
 * count is the next day's minus the moves that day made. A move is a status change the events record:
 * an address's first `subscribed` (→ pending), `confirmed` and `resubscribed` (→ active),
 * `unsubscribed`, `bounced`; its from-status is the previous move's to-status (a later `subscribed`
 * of a known address changes nothing until it is confirmed). Deleted subscribers take their events
 * with them, so they count on no day; a status no event records (`complained`) stays at today's count.
 */
export async function readSubscriberHistory(
  db: Db,
  now: Date,
  days = overviewDays,
): Promise<SubscriberHistory> {
  const labels = windowDays(now, days);
  const firstDay = Math.floor(now.getTime() / dayMs) - days + 1;
  const since = new Date(firstDay * dayMs);
  const statusOf = sql.raw(`case type when 'subscribed' then 'pending' when 'confirmed' then 'active'
    when 'resubscribed' then 'active' else type end`);
  const [current, moves] = await Promise.all([
    countSubscribersByStatus(db),
    db.all<{
      day: number;
      fromStatus: SubscriberStatus | null;
      toStatus: SubscriberStatus;
      count: number;
    }>(sql`
      with changes as (
        select subscriber_id, id, created_at, type,
          row_number() over (partition by subscriber_id order by created_at, id) as n
        from subscriber_events
        where type in ('subscribed', 'confirmed', 'resubscribed', 'unsubscribed', 'bounced')
          and subscriber_id in (select subscriber_id from subscriber_events where created_at >= ${since})
      ), moves as (
        select created_at, ${statusOf} as to_status,
          lag(${statusOf}) over (partition by subscriber_id order by created_at, id) as from_status
        from changes where type <> 'subscribed' or n = 1
      )
      select ${utcDay('created_at')} as day, from_status as "fromStatus", to_status as "toStatus", count(*) as count
      from moves
      where created_at >= ${since} and created_at <= ${now} and (from_status is null or from_status <> to_status)
      group by 1, 2, 3`),
  ]);

  const net = zeros(subscriberStatuses, days);
  const changes = zeros(statusChanges, days);
  for (const move of moves) {
    const index = move.day - firstDay;
    if (index < 0 || index >= days) continue;
    net[move.toStatus][index] = (net[move.toStatus][index] ?? 0) + move.count;
    if (move.fromStatus) net[move.fromStatus][index] = (net[move.fromStatus][index] ?? 0) - move.count;
    const change = changeInto[move.toStatus];
    if (change) changes[change][index] = (changes[change][index] ?? 0) + move.count;
  }
  const endOfDay = zeros(subscriberStatuses, days);
  for (const status of subscriberStatuses) {
    let count = current[status];
    for (let index = days - 1; index >= 0; index--) {
      // Never below zero: rows written without events (imports, old data) would otherwise show as negative.
      endOfDay[status][index] = Math.max(0, count);
      count -= net[status][index] ?? 0;
    }
  }
  return { days: labels, current, endOfDay, changes };
}

/** `published`: a feed-only reader's digest, put in their feed instead of an email. */
export const digestOutcomes = ['sent', 'published', 'skipped', 'failed', 'inProgress'] as const;
export type DigestOutcome = (typeof digestOutcomes)[number];

export interface DigestsPerDay {
  days: string[];
  counts: Record<DigestOutcome, number[]>;
}

/**
 * Digests per local date (the subscriber's calendar date each is for, as planned), by status; queued
 * and sending count as "in progress". Local dates run up to a day ahead of UTC, so tomorrow's column
 * appears when some reader's tomorrow has begun.
 */
export async function readDigestsPerDay(db: Db, now: Date, days = overviewDays): Promise<DigestsPerDay> {
  const labels = windowDays(now, days);
  const rows = await db.all<{ day: string; status: string; count: number }>(sql`
    select local_date as day, status, count(*) as count from digests
    where local_date >= ${labels[0]} group by local_date, status`);
  const tomorrow = isoDay(Math.floor(now.getTime() / dayMs) + 1);
  if (rows.some((row) => row.day === tomorrow)) labels.push(tomorrow);
  const counts = zeros(digestOutcomes, labels.length);
  for (const row of rows) {
    const index = labels.indexOf(row.day);
    if (index < 0) continue;
    const outcome: DigestOutcome =
      row.status === 'queued' || row.status === 'sending' ? 'inProgress' : (row.status as DigestOutcome);
    counts[outcome][index] = (counts[outcome][index] ?? 0) + row.count;
  }
  return { days: labels, counts };
}

/** One source's state: its latest run (in the window) and its last successful run (ever). */
export interface IngestSourceState {
  source: string;
  lastRun: IngestRunSummary;
  lastSuccessAt: Date | null;
  runs: number;
  failedRuns: number;
  /** Dates (hf-daily) whose latest run failed: the next run retries them. */
  failedDates: string[];
}

export interface IngestOverview {
  days: string[];
  /** Runs per UTC day (by finish time), ok and failed. */
  runsPerDay: { ok: number[]; failed: number[] };
  /** Papers new to paperboy per UTC day, summed over the day's runs. */
  insertedPerDay: number[];
  sources: IngestSourceState[];
  recent: IngestRunSummary[];
}

export async function readIngestOverview(db: Db, now: Date, days = overviewDays): Promise<IngestOverview> {
  const labels = windowDays(now, days);
  const firstDay = Math.floor(now.getTime() / dayMs) - days + 1;
  const since = new Date(firstDay * dayMs);
  const [perDay, sources, recent] = await Promise.all([
    db.all<{ day: number; status: 'ok' | 'failed'; runs: number; inserted: number }>(sql`
      select ${utcDay('finished_at')} as day, status, count(*) as runs, coalesce(sum(inserted), 0) as inserted
      from ingest_runs where finished_at >= ${since} group by 1, 2`),
    db.all<
      Parameters<typeof toRunSummary>[0] & { lastSuccessAt: number | null; runs: number; failedRuns: number }
    >(sql`
      select ${runColumns},
        (select max(ok.finished_at) from ingest_runs ok where ok.source = latest.source and ok.status = 'ok')
          as "lastSuccessAt",
        (select count(*) from ingest_runs w where w.source = latest.source and w.finished_at >= ${since}) as runs,
        (select count(*) from ingest_runs w where w.source = latest.source and w.finished_at >= ${since}
          and w.status = 'failed') as "failedRuns"
      from ingest_runs latest
      where id in (select max(id) from ingest_runs where finished_at >= ${since} group by source)
      order by source`),
    db.all<Parameters<typeof toRunSummary>[0]>(
      sql`select ${runColumns} from ingest_runs order by id desc limit ${recentIngestRunsLimit}`,
    ),
  ]);
  const failedDates = await failedDatesBySource(
    db,
    sources.map((row) => row.source),
    now,
  );
  const runsPerDay = zeros(['ok', 'failed'] as const, days);
  const insertedPerDay = new Array<number>(days).fill(0);
  for (const row of perDay) {
    const index = row.day - firstDay;
    if (index < 0 || index >= days) continue;
    runsPerDay[row.status][index] = row.runs;
    insertedPerDay[index] = (insertedPerDay[index] ?? 0) + row.inserted;
  }
  return {
    days: labels,
    runsPerDay,
    insertedPerDay,
    sources: sources.map(({ lastSuccessAt, runs, failedRuns, ...run }) => ({
      source: run.source,
      lastRun: toRunSummary(run),
      lastSuccessAt: lastSuccessAt === null ? null : new Date(lastSuccessAt),
      runs,
      failedRuns,
      failedDates: failedDates.get(run.source) ?? [],
    })),
    recent: recent.map(toRunSummary),
  };
}

export interface TopicsOverview {
  /** The most common topic texts among active subscribers, as written, with how many have each. */
  top: { query: string; subscribers: number }[];
  /** Active subscribers with no topic (they get the most upvoted papers). */
  activeWithoutTopics: number;
}

export async function readTopTopics(db: Db, limit = topTopicsLimit): Promise<TopicsOverview> {
  const [top, activeWithoutTopics] = await Promise.all([
    db.all<{ query: string; subscribers: number }>(sql`
      select t.query as query, count(distinct t.subscriber_id) as subscribers
      from subscriber_topics t join subscribers s on s.id = t.subscriber_id
      where s.status = 'active'
      group by t.query order by 2 desc, 1 limit ${limit}`),
    db.value<number>(sql`
      select count(*) from subscribers s where s.status = 'active'
        and not exists (select 1 from subscriber_topics t where t.subscriber_id = s.id)`),
  ]);
  return { top, activeWithoutTopics: activeWithoutTopics ?? 0 };
}

export interface Overview {
  generatedAt: Date;
  subscribers: SubscriberHistory;
  digests: DigestsPerDay;
  ingest: IngestOverview;
  topics: TopicsOverview;
}

/** Everything the overview page shows, as of the context's clock. */
export async function readOverview(ctx: Pick<Ctx, 'db' | 'clock'>): Promise<Overview> {
  const now = ctx.clock();
  const [subscribers, digests, ingest, topics] = await Promise.all([
    readSubscriberHistory(ctx.db, now),
    readDigestsPerDay(ctx.db, now),
    readIngestOverview(ctx.db, now),
    readTopTopics(ctx.db),
  ]);
  return { generatedAt: now, subscribers, digests, ingest, topics };
}
