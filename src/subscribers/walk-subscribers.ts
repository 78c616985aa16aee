import { getOrCreate } from '../collections.js';
import type { Db } from '../db/client.js';
import type { SubscriberStatus } from '../db/schema.js';

export interface SubscriberTopics {
  id: number;
  maxPapers: number;
  topics: string[];
}

/**
 * Subscribers of one status with their topics, in pages ordered by id, starting after `afterId`:
 * a run never holds more than one page, and can resume from the last id it finished.
 */
export function* walkSubscribers(
  db: Db,
  options: { status?: SubscriberStatus; pageSize?: number; afterId?: number } = {},
): Generator<SubscriberTopics[]> {
  const { status = 'active', pageSize = 1000 } = options;
  const page = db.$client.prepare(
    'select id, max_papers as maxPapers from subscribers where status = ? and id > ? order by id limit ?',
  );
  const topicsOf = db.$client.prepare(
    `select subscriber_id as id, query from subscriber_topics
     where subscriber_id between ? and ? order by subscriber_id, position`,
  );
  let afterId = options.afterId ?? 0;
  for (;;) {
    const rows = page.all(status, afterId, pageSize) as { id: number; maxPapers: number }[];
    if (rows.length === 0) return;
    const first = (rows[0] as { id: number }).id;
    const last = (rows.at(-1) as { id: number }).id;
    const topics = new Map<number, string[]>();
    for (const row of topicsOf.iterate(first, last) as Iterable<{ id: number; query: string }>) {
      getOrCreate(topics, row.id, () => [] as string[]).push(row.query);
    }
    yield rows.map((row) => ({ id: row.id, maxPapers: row.maxPapers, topics: topics.get(row.id) ?? [] }));
    afterId = last;
  }
}
