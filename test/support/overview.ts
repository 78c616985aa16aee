import type { Db } from '../../src/db/client.js';
import type { DigestStatus, EventType, SubscriberStatus } from '../../src/db/schema.js';
import { sql } from '../../src/db/sql.js';
import { recordIngestRun } from '../../src/papers/store.js';
import { defaultPreferences } from '../../src/subscribers/preferences.js';
import { insertNewSubscriber, recordEvent, updateSubscriber } from '../../src/subscribers/store.js';
import { newTokenSalt } from '../../src/subscribers/tokens.js';

const dayMs = 24 * 3600_000;

/** A new address as `subscribe` stores it: pending row, topics, request and `subscribed` event. */
export async function joinAt(db: Db, email: string, at: Date, topics: string[] = []): Promise<number> {
  const created = await insertNewSubscriber(db, {
    email,
    preferences: { ...defaultPreferences, topics },
    tokenSalt: newTokenSalt(),
    source: 'api',
    at,
  });
  if (!created) throw new Error(`${email} exists`);
  return created.subscriberId;
}

/** A status change as the verbs write it: the row and its event, in one transaction. */
export function moveAt(db: Db, subscriberId: number, status: SubscriberStatus, type: EventType, at: Date) {
  return db.transaction(async (tx) => {
    await updateSubscriber(tx, subscriberId, { status, updatedAt: at });
    await recordEvent(tx, { subscriberId, type, source: 'link', at });
  });
}

export async function insertDigest(db: Db, subscriberId: number, localDate: string, status: DigestStatus) {
  const planned = new Date(`${localDate}T07:00:00Z`);
  await db.run(sql`
    insert into digests (subscriber_id, local_date, status, window_start, planned_at)
    values (${subscriberId}, ${localDate}, ${status}, ${new Date(planned.getTime() - dayMs)}, ${planned})`);
}

/** A run as ingestion records it, finished at `finishedAt` after 20 seconds. */
export const insertIngestRun = (db: Db, run: Omit<Parameters<typeof recordIngestRun>[1], 'startedAt'>) =>
  recordIngestRun(db, { ...run, startedAt: new Date(run.finishedAt.getTime() - 20_000) });

const topicPool = [
  'diffusion',
  'diffusion',
  'quantization',
  'cat:cs.LG',
  '"state space" models',
  'retrieval augmented generation',
  'author:"Yann LeCun"',
  'protein folding',
  'reinforcement learning from human feedback -survey',
  'title:benchmark (vision OR multimodal)',
];

/**
 * A month of plausible history ending at `now`, through the same store functions the verbs use:
 * readers joining every day (most confirm, some leave, a few bounce), their digests, hourly ingests
 * with a failure now and then. Deterministic, so screenshots of it compare.
 */
export async function seedOverviewHistory(db: Db, now: Date, days = 30): Promise<void> {
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const today = Math.floor(now.getTime() / dayMs);
  const readers: { id: number; activeFrom: number; leftOn: number | null }[] = [];
  for (let offset = days - 1; offset >= 0; offset--) {
    const day = today - offset;
    const joins = 2 + Math.floor(random() * 4);
    for (let n = 0; n < joins; n++) {
      const topics = topicPool.filter(() => random() < 0.25);
      const joined = new Date(day * dayMs + (8 + n) * 3600_000);
      const id = await joinAt(db, `reader-${day}-${n}@example.org`, joined, topics);
      if (random() < 0.2) continue; // never confirms
      const confirmed = new Date(joined.getTime() + 600_000);
      await moveAt(db, id, 'active', 'confirmed', confirmed);
      const roll = random();
      const leaves = day + 1 + Math.floor(random() * 10);
      if (roll < 0.15 && leaves <= today) {
        await moveAt(db, id, 'unsubscribed', 'unsubscribed', new Date(leaves * dayMs + 12 * 3600_000));
        readers.push({ id, activeFrom: day + 1, leftOn: leaves });
      } else if (roll < 0.2 && leaves <= today) {
        await moveAt(db, id, 'bounced', 'bounced', new Date(leaves * dayMs + 13 * 3600_000));
        readers.push({ id, activeFrom: day + 1, leftOn: leaves });
      } else {
        readers.push({ id, activeFrom: day + 1, leftOn: null });
      }
    }
    for (const reader of readers) {
      if (reader.activeFrom > day || (reader.leftOn !== null && reader.leftOn < day)) continue;
      const roll = random();
      const status: DigestStatus =
        offset === 0 && roll < 0.3 ? 'queued' : roll < 0.75 ? 'sent' : roll < 0.95 ? 'skipped' : 'failed';
      await insertDigest(db, reader.id, new Date(day * dayMs).toISOString().slice(0, 10), status);
    }
    for (const hour of [5, 11, 17, 23]) {
      const finishedAt = new Date(day * dayMs + hour * 3600_000);
      if (finishedAt > now) continue;
      const fails = random() < 0.08;
      await insertIngestRun(db, {
        source: 'hf-daily',
        finishedAt,
        status: fails ? 'failed' : 'ok',
        inserted: fails ? 0 : Math.floor(random() * 12),
        updated: fails ? 0 : Math.floor(random() * 30),
        error: fails ? 'GET https://huggingface.co/api/daily_papers: HTTP 503 after 4 attempts' : undefined,
      });
    }
    const arxivAt = new Date(day * dayMs + 6 * 3600_000);
    if (arxivAt <= now) {
      await insertIngestRun(db, {
        source: 'arxiv:cs.LG+cs.CL',
        finishedAt: arxivAt,
        status: 'ok',
        inserted: 20 + Math.floor(random() * 40),
        updated: Math.floor(random() * 5),
        rejected: random() < 0.2 ? 1 : 0,
      });
    }
  }
}
