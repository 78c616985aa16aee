import type { Ctx } from '../context.js';
import { inTransaction } from '../db/client.js';
import type { Frequency } from '../db/schema.js';
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
  const sqlite = ctx.db.$client;
  const page = sqlite.prepare(
    `select s.id, s.frequency, s.weekly_day as weeklyDay, s.timezone, s.send_hour as sendHour,
            s.confirmed_at as confirmedAt,
            (select local_date from digests d where d.subscriber_id = s.id order by local_date desc limit 1) as lastDigestDate,
            (select planned_at from digests d where d.subscriber_id = s.id and d.status != 'failed'
              order by local_date desc limit 1) as lastPlannedAt
     from subscribers s where s.status = 'active' and s.id > ? order by s.id limit ?`,
  );
  const insert = sqlite.prepare(
    `insert into digests (subscriber_id, local_date, status, window_start, planned_at)
     values (?, ?, 'queued', ?, ?) on conflict (subscriber_id, local_date) do nothing returning id`,
  );
  const result: PlanResult = { planned: 0, requeued: 0, digestIds: [] };
  let afterId = 0;
  for (;;) {
    const rows = page.all(afterId, pageSize) as (Omit<PlanSubscriber, 'confirmedAt' | 'lastDigestDate'> & {
      confirmedAt: number | null;
      lastDigestDate: string | null;
      lastPlannedAt: number | null;
      frequency: Frequency;
    })[];
    if (rows.length === 0) break;
    afterId = (rows.at(-1) as { id: number }).id;
    const created = inTransaction(ctx.db, () => {
      const ids: number[] = [];
      for (const row of rows) {
        const subscriber: PlanSubscriber = {
          ...row,
          confirmedAt: row.confirmedAt === null ? null : new Date(row.confirmedAt),
          lastDigestDate: row.lastDigestDate ?? undefined,
        };
        const date = input.mode === 'all' ? todayLocalDate(subscriber, now) : dueLocalDate(subscriber, now);
        if (!date) continue;
        const windowStart = windowStartFor(
          row.frequency,
          row.lastPlannedAt === null ? undefined : new Date(row.lastPlannedAt),
          now,
        );
        const inserted = insert.get(row.id, date, windowStart.getTime(), now.getTime()) as
          | { id: number }
          | undefined;
        if (inserted) ids.push(inserted.id);
      }
      return ids;
    });
    await ctx.enqueueMany(
      'send-digest',
      created.map((digestId) => ({ digestId })),
    );
    result.planned += created.length;
    result.digestIds.push(...created);
  }

  // A crash between a commit and its enqueue leaves rows queued with no job: queue them again.
  // Job ids make this a no-op for rows whose job exists.
  const stale = sqlite
    .prepare("select id from digests where status = 'queued' and planned_at < ?")
    .pluck()
    .all(now.getTime() - 5 * 60_000) as number[];
  await ctx.enqueueMany(
    'send-digest',
    stale.map((digestId) => ({ digestId })),
  );
  result.requeued = stale.length;
  ctx.log.info({ planned: result.planned, requeued: result.requeued, mode: input.mode }, 'digests planned');
  return result;
}
