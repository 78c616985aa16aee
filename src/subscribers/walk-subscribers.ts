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
    // Rows as arrays: a walk of every subscriber makes a million of them, and objects cost more.
    const rows = await db.tuples<[id: number, maxPapers: number]>(sql`select id, max_papers
      from subscribers where status = ${status} and id > ${afterId} order by id limit ${pageSize}`);
    if (rows.length === 0) return;
    const first = (rows[0] as [number, number])[0];
    const last = (rows.at(-1) as [number, number])[0];
    const topics = new Map<number, string[]>();
    const topicRows = await db.tuples<[id: number, query: string]>(sql`select subscriber_id, query
      from subscriber_topics where subscriber_id between ${first} and ${last} order by subscriber_id, position`);
    for (const [id, query] of topicRows) getOrCreate(topics, id, () => [] as string[]).push(query);
    yield rows.map(([id, maxPapers]) => ({ id, maxPapers, topics: topics.get(id) ?? [] }));
    afterId = last;
  }
}
