import { count, desc, gte, inArray, max } from 'drizzle-orm';
import type { Ctx } from '../context.js';
import type { Db } from '../db/client.js';
import {
  type DigestStatus,
  digestStatuses,
  digests,
  ingestRuns,
  papers,
  type SubscriberStatus,
  subscriberStatuses,
  subscribers,
} from '../db/schema.js';

const dayMs = 24 * 3600_000;
export const ingestStatuses = ['ok', 'failed'] as const;

/** Every status present, zero when no row has it, so dashboards and alerts never see a key vanish. */
function countByStatus<S extends string>(statuses: readonly S[], rows: { status: S; count: number }[]) {
  const counts = Object.fromEntries(statuses.map((status) => [status, 0])) as Record<S, number>;
  for (const row of rows) counts[row.status] = row.count;
  return counts;
}

export function countSubscribersByStatus(db: Db): Record<SubscriberStatus, number> {
  const rows = db
    .select({ status: subscribers.status, count: count() })
    .from(subscribers)
    .groupBy(subscribers.status)
    .all();
  return countByStatus(subscriberStatuses, rows);
}

export function countDigestsByStatus(db: Db): Record<DigestStatus, number> {
  const rows = db
    .select({ status: digests.status, count: count() })
    .from(digests)
    .groupBy(digests.status)
    .all();
  return countByStatus(digestStatuses, rows);
}

export function countIngestRunsByStatus(db: Db): Record<(typeof ingestStatuses)[number], number> {
  const rows = db
    .select({ status: ingestRuns.status, count: count() })
    .from(ingestRuns)
    .groupBy(ingestRuns.status)
    .all();
  return countByStatus(ingestStatuses, rows);
}

/** All stored papers, or those first stored at or after `since`. */
export function countPapers(db: Db, since?: Date): number {
  const query = db.select({ count: count() }).from(papers);
  return (since ? query.where(gte(papers.firstSeenAt, since)) : query).get()?.count ?? 0;
}

/** When the newest digest was planned: the last tick that planned anything. */
export function lastPlannedAt(db: Db): Date | null {
  return (
    db
      .select({ at: max(digests.plannedAt) })
      .from(digests)
      .get()?.at ?? null
  );
}

const runFields = {
  source: ingestRuns.source,
  finishedAt: ingestRuns.finishedAt,
  status: ingestRuns.status,
  inserted: ingestRuns.inserted,
  updated: ingestRuns.updated,
  rejected: ingestRuns.rejected,
  error: ingestRuns.error,
};

/** Sources whose latest run is older than this drop out of the per-source view (old one-off files). */
const ingestSourceHorizonMs = 7 * dayMs;

/** The latest run of each source that ran in the last week, by source name. */
export function latestIngestRunsBySource(ctx: Pick<Ctx, 'db' | 'clock'>) {
  const since = new Date(ctx.clock().getTime() - ingestSourceHorizonMs);
  const latestIds = ctx.db
    .select({ id: max(ingestRuns.id) })
    .from(ingestRuns)
    .where(gte(ingestRuns.finishedAt, since))
    .groupBy(ingestRuns.source);
  return ctx.db
    .select(runFields)
    .from(ingestRuns)
    .where(inArray(ingestRuns.id, latestIds))
    .orderBy(ingestRuns.source)
    .all();
}

export type IngestRunSummary = ReturnType<typeof latestIngestRunsBySource>[number];

export interface DatabaseStats {
  subscribers: Record<SubscriberStatus, number>;
  papers: { total: number; firstSeenLast24h: number };
  digests: Record<DigestStatus, number>;
  lastIngest: IngestRunSummary | null;
  lastTick: { plannedAt: Date } | null;
}

/** What an operator looks at first: counts by state, the latest ingestion and the latest planning. */
export function readDatabaseStats(ctx: Pick<Ctx, 'db' | 'clock'>): DatabaseStats {
  const { db } = ctx;
  const lastIngest = db.select(runFields).from(ingestRuns).orderBy(desc(ingestRuns.id)).limit(1).get();
  const plannedAt = lastPlannedAt(db);
  return {
    subscribers: countSubscribersByStatus(db),
    papers: {
      total: countPapers(db),
      firstSeenLast24h: countPapers(db, new Date(ctx.clock().getTime() - dayMs)),
    },
    digests: countDigestsByStatus(db),
    lastIngest: lastIngest ?? null,
    lastTick: plannedAt ? { plannedAt } : null,
  };
}
