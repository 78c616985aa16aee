import type { Ctx } from '../context.js';
import { type Db, inList } from '../db/client.js';
import {
  type DigestStatus,
  digestStatuses,
  hardBounceError,
  type SubscriberStatus,
  subscriberStatuses,
} from '../db/schema.js';
import { sql } from '../db/sql.js';

const dayMs = 24 * 3600_000;
export const ingestStatuses = ['ok', 'failed'] as const;

/** Every status present, zero when no row has it, so dashboards and alerts never see a key vanish. */
function countByStatus<S extends string>(statuses: readonly S[], rows: { status: S; count: number }[]) {
  const counts = Object.fromEntries(statuses.map((status) => [status, 0])) as Record<S, number>;
  for (const row of rows) counts[row.status] = row.count;
  return counts;
}

export async function countSubscribersByStatus(db: Db): Promise<Record<SubscriberStatus, number>> {
  const rows = await db.all<{ status: SubscriberStatus; count: number }>(
    sql`select status, count(*) as count from subscribers group by status`,
  );
  return countByStatus(subscriberStatuses, rows);
}

export async function countDigestsByStatus(db: Db): Promise<Record<DigestStatus, number>> {
  const rows = await db.all<{ status: DigestStatus; count: number }>(
    sql`select status, count(*) as count from digests group by status`,
  );
  return countByStatus(digestStatuses, rows);
}

export const digestFailureKinds = ['bounce', 'error'] as const;

/**
 * Failed digests by cause: `bounce`, the SMTP server refused the address for good (5xx); `error`,
 * anything else that outlasted every retry (relay down, a render bug).
 */
export async function countDigestFailuresByKind(
  db: Db,
): Promise<Record<(typeof digestFailureKinds)[number], number>> {
  const row = await db.get<{ bounce: number | null; total: number }>(sql`
    select count(*) as total,
      sum(case when error like ${`${hardBounceError}%`} then 1 else 0 end) as bounce
    from digests where status = 'failed'`);
  const total = Number(row?.total ?? 0);
  const bounce = Number(row?.bounce ?? 0);
  return { bounce, error: total - bounce };
}

/** When each of `sources` last ingested successfully; a source that never did is left out. */
export async function lastIngestSuccessBySource(
  db: Db,
  sources: readonly string[],
): Promise<{ source: string; finishedAt: Date; newestSubmittedAt: Date | null }[]> {
  if (sources.length === 0) return [];
  const rows = await db.all<{ source: string; finishedAt: number; newestSubmittedAt: number | null }>(sql`
    select source, max(finished_at) as "finishedAt", max(newest_submitted_at) as "newestSubmittedAt"
    from ingest_runs where status = 'ok' and source ${inList(db, sources)} group by source order by source`);
  return rows.map((row) => ({
    source: row.source,
    finishedAt: new Date(Number(row.finishedAt)),
    newestSubmittedAt: row.newestSubmittedAt === null ? null : new Date(Number(row.newestSubmittedAt)),
  }));
}

export async function countIngestRunsByStatus(
  db: Db,
): Promise<Record<(typeof ingestStatuses)[number], number>> {
  const rows = await db.all<{ status: (typeof ingestStatuses)[number]; count: number }>(
    sql`select status, count(*) as count from ingest_runs group by status`,
  );
  return countByStatus(ingestStatuses, rows);
}

/** All stored papers, or those first stored at or after `since`. */
export async function countPapers(db: Db, since = new Date(0)): Promise<number> {
  return (await db.value<number>(sql`select count(*) from papers where first_seen_at >= ${since}`)) ?? 0;
}

/** When the newest digest was planned: the last tick that planned anything. */
export async function lastPlannedAt(db: Db): Promise<Date | null> {
  const at = await db.value<number | null>(sql`select max(planned_at) from digests`);
  return at === null || at === undefined ? null : new Date(at);
}

export interface IngestRunSummary {
  source: string;
  finishedAt: Date;
  status: (typeof ingestStatuses)[number];
  inserted: number;
  updated: number;
  rejected: number;
  error: string | null;
}

export const runColumns = sql.raw(
  'source, finished_at as "finishedAt", status, inserted, updated, rejected, error',
);
export const toRunSummary = (
  row: Omit<IngestRunSummary, 'finishedAt'> & { finishedAt: number },
): IngestRunSummary => ({
  ...row,
  finishedAt: new Date(row.finishedAt),
});

/** Sources whose latest run is older than this drop out of the per-source view (old one-off files). */
const ingestSourceHorizonMs = 7 * dayMs;

/** The latest run of each source that ran in the last week, by source name. */
export async function latestIngestRunsBySource(ctx: Pick<Ctx, 'db' | 'clock'>): Promise<IngestRunSummary[]> {
  const since = new Date(ctx.clock().getTime() - ingestSourceHorizonMs);
  const rows = await ctx.db.all<Parameters<typeof toRunSummary>[0]>(sql`
    select ${runColumns} from ingest_runs where id in (
      select max(id) from ingest_runs where finished_at >= ${since} group by source)
    order by source`);
  return rows.map(toRunSummary);
}

/** Dated runs (hf-daily) older than this are not reported as failed: no catch-up reaches them. */
const failedDatesHorizonDays = 60;

export interface IngestSourceHealth {
  source: string;
  /** When the source last ingested successfully; null if it never did. */
  lastSuccessAt: Date | null;
  /** Dates of a dated source whose latest run failed (no success since), oldest first. */
  failedDates: string[];
  /** `arxiv:` sources: the newest submission read, where the next run stops paging back; else null. */
  newestSubmissionAt: Date | null;
}

/**
 * Each configured source, and each that ran in the last week: its last success and the dates still
 * missing. A date that failed and then succeeded is not listed.
 */
export async function readIngestSourceHealth(
  ctx: Pick<Ctx, 'db' | 'clock' | 'config'>,
): Promise<IngestSourceHealth[]> {
  const { db } = ctx;
  const now = ctx.clock().getTime();
  const recent = await db.column<string>(
    sql`select distinct source from ingest_runs where finished_at >= ${new Date(now - ingestSourceHorizonMs)}`,
  );
  const sources = [...new Set([...ctx.config.ingest.sources, ...recent])].sort();
  const [successes, failed] = await Promise.all([
    lastIngestSuccessBySource(db, sources),
    failedDatesBySource(db, sources, ctx.clock()),
  ]);
  return sources.map((source) => {
    const success = successes.find((run) => run.source === source);
    return {
      source,
      lastSuccessAt: success?.finishedAt ?? null,
      failedDates: failed.get(source) ?? [],
      newestSubmissionAt: success?.newestSubmittedAt ?? null,
    };
  });
}

/** For each of `sources`, the recent dates whose latest run failed, oldest first (absent: none). */
export async function failedDatesBySource(
  db: Db,
  sources: readonly string[],
  now: Date,
): Promise<Map<string, string[]>> {
  const since = new Date(now.getTime() - failedDatesHorizonDays * dayMs).toISOString().slice(0, 10);
  const rows = await db.all<{ source: string; date: string }>(sql`
    select source, date from ingest_runs where status = 'failed' and id in (
      select max(id) from ingest_runs where date >= ${since} and source ${inList(db, sources)}
      group by source, date)
    order by source, date`);
  const bySource = new Map<string, string[]>();
  for (const row of rows) bySource.set(row.source, [...(bySource.get(row.source) ?? []), row.date]);
  return bySource;
}

export interface DatabaseStats {
  subscribers: Record<SubscriberStatus, number>;
  papers: { total: number; firstSeenLast24h: number };
  digests: Record<DigestStatus, number>;
  lastIngest: IngestRunSummary | null;
  ingestSources: IngestSourceHealth[];
  lastTick: { plannedAt: Date } | null;
}

/** What an operator looks at first: counts by state, the latest ingestion and the latest planning. */
export async function readDatabaseStats(ctx: Pick<Ctx, 'db' | 'clock' | 'config'>): Promise<DatabaseStats> {
  const { db } = ctx;
  const [lastIngest, plannedAt, subscribers, total, firstSeenLast24h, digests, ingestSources] =
    await Promise.all([
      db.get<Parameters<typeof toRunSummary>[0]>(
        sql`select ${runColumns} from ingest_runs order by id desc limit 1`,
      ),
      lastPlannedAt(db),
      countSubscribersByStatus(db),
      countPapers(db),
      countPapers(db, new Date(ctx.clock().getTime() - dayMs)),
      countDigestsByStatus(db),
      readIngestSourceHealth(ctx),
    ]);
  return {
    subscribers,
    papers: { total, firstSeenLast24h },
    digests,
    lastIngest: lastIngest ? toRunSummary(lastIngest) : null,
    ingestSources,
    lastTick: plannedAt ? { plannedAt } : null,
  };
}
