import { getOrCreate } from '../collections.js';
import type { Db } from '../db/client.js';
import type { SubscriberStatus } from '../db/schema.js';
import { sql } from '../db/sql.js';

export interface SubscriberTopics {
  id: number;
  maxPapers: number;
  topics: string[];
}

/**
 * Subscribers of one status with their topics, in pages ordered by id, starting after `afterId`:
 * a run never holds more than one page, and can resume from the last id it finished.
 */
export async function* walkSubscribers(
  db: Db,
  options: { status?: SubscriberStatus; pageSize?: number; afterId?: number } = {},
): AsyncGenerator<SubscriberTopics[]> {
  const { status = 'active', pageSize = 1000 } = options;
  let afterId = options.afterId ?? 0;
  for (;;) {
    const rows = await db.all<{ id: number; maxPapers: number }>(sql`select id, max_papers as "maxPapers"
      from subscribers where status = ${status} and id > ${afterId} order by id limit ${pageSize}`);
    if (rows.length === 0) return;
    const first = (rows[0] as { id: number }).id;
    const last = (rows.at(-1) as { id: number }).id;
    const topics = new Map<number, string[]>();
    const topicRows = await db.all<{ id: number; query: string }>(sql`select subscriber_id as id, query
      from subscriber_topics where subscriber_id between ${first} and ${last} order by subscriber_id, position`);
    for (const row of topicRows) {
      getOrCreate(topics, row.id, () => [] as string[]).push(row.query);
    }
    yield rows.map((row) => ({ id: row.id, maxPapers: row.maxPapers, topics: topics.get(row.id) ?? [] }));
    afterId = last;
  }
}
