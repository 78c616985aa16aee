import type { Ctx } from '../context.js';
import type { Frequency } from '../db/schema.js';
import { sql } from '../db/sql.js';
import { dueLocalDate, type PlanSubscriber, todayLocalDate, windowStartFor } from './plan.js';

export interface PlanResult {
  planned: number;
  /** Digest ids still `queued` from an earlier run whose job may have been lost; re-enqueued (idempotent). */
  requeued: number;
  digestIds: number[];
}

const pageSize = 1000;

/**
 * One planning tick (SPEC §7): walks active subscribers in pages by id, creates one `queued` digest
 * row per subscriber due now (unique per subscriber and local date, so concurrent or repeated ticks
 * create each row once) and queues one send job per new row, its job id derived from the row.
 * `mode: 'all'` plans today's digest for everyone regardless of the hour (`paperboy digest --all`).
 */
export async function planDigests({
  ctx,
  input,
}: {
  ctx: Pick<Ctx, 'db' | 'clock' | 'log' | 'enqueueMany'>;
  input: { mode: 'due' | 'all'; at?: Date };
}): Promise<PlanResult> {
  const now = input.at ?? ctx.clock();
  const result: PlanResult = { planned: 0, requeued: 0, digestIds: [] };
  let afterId = 0;
  for (;;) {
    const rows = await ctx.db.all<
      Omit<PlanSubscriber, 'confirmedAt' | 'lastDigestDate'> & {
        confirmedAt: number | null;
        lastDigestDate: string | null;
        lastPlannedAt: number | null;
        frequency: Frequency;
      }
    >(sql`
      select s.id, s.frequency, s.weekly_day as "weeklyDay", s.timezone, s.send_hour as "sendHour",
        s.confirmed_at as "confirmedAt",
        (select local_date from digests d where d.subscriber_id = s.id order by local_date desc limit 1)
          as "lastDigestDate",
        (select planned_at from digests d where d.subscriber_id = s.id and d.status != 'failed'
          order by local_date desc limit 1) as "lastPlannedAt"
      from subscribers s where s.status = 'active' and s.id > ${afterId} order by s.id limit ${pageSize}`);
    if (rows.length === 0) break;
    afterId = (rows.at(-1) as { id: number }).id;
    const values = rows.flatMap((row) => {
      const subscriber: PlanSubscriber = {
        ...row,
        confirmedAt: row.confirmedAt === null ? null : new Date(row.confirmedAt),
        lastDigestDate: row.lastDigestDate ?? undefined,
      };
      const date = input.mode === 'all' ? todayLocalDate(subscriber, now) : dueLocalDate(subscriber, now);
      if (!date) return [];
      const lastPlannedAt = row.lastPlannedAt === null ? undefined : new Date(row.lastPlannedAt);
      const windowStart = windowStartFor(row.frequency, lastPlannedAt, now);
      return [sql`(${row.id}, ${date}, 'queued', ${windowStart}, ${now})`];
    });
    // One row per subscriber and local date: the unique index decides, on both stores, so concurrent
    // or repeated ticks insert each row once (a second insert waits for the first, then does nothing).
    // One statement per page: on PostgreSQL one round trip and one commit, not a thousand.
    const created =
      values.length === 0
        ? []
        : await ctx.db.column<number>(sql`
            insert into digests (subscriber_id, local_date, status, window_start, planned_at)
            values ${sql.join(values)} on conflict (subscriber_id, local_date) do nothing returning id`);
    await ctx.enqueueMany(
      'send-digest',
      created.map((digestId) => ({ digestId, plannedAt: now.getTime() })),
    );
    result.planned += created.length;
    result.digestIds.push(...created);
  }

  // A crash between a commit and its enqueue leaves rows queued with no job: queue them again.
  // Job ids make this a no-op for rows whose job exists.
  const stale = await ctx.db.all<{ digestId: number; plannedAt: number }>(
    sql`select id as "digestId", planned_at as "plannedAt" from digests
        where status = 'queued' and planned_at < ${now.getTime() - 5 * 60_000}`,
  );
  await ctx.enqueueMany('send-digest', stale);
  result.requeued = stale.length;
  ctx.log.info({ planned: result.planned, requeued: result.requeued, mode: input.mode }, 'digests planned');
  return result;
}
