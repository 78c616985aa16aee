import type { Ctx } from '../context.js';
import { fetchArxivByIds } from '../papers/sources/arxiv-atom.js';
import { upsertPapers } from '../papers/store.js';
import { pendingLikedIds, settleLikedPapers } from './store.js';

/** Pending liked papers asked of arXiv per round: one request. */
const perRound = 100;

/**
 * Asks arXiv for the liked papers paperboy does not have yet (the `fetch-liked-papers` job), stores
 * them, and settles every reader's row for them: `found`, or `missing` when arXiv does not know the id.
 * A paper stored this way counts as first seen when it was published, so it never shows up in anyone's
 * digest as a new paper.
 */
export async function fetchLikedPapers({ ctx }: { ctx: Pick<Ctx, 'db' | 'clock' | 'config' | 'log'> }) {
  const { ingest } = ctx.config;
  let fetched = 0;
  let missing = 0;
  for (;;) {
    const ids = await pendingLikedIds(ctx.db, perRound);
    if (ids.length === 0) break;
    const now = ctx.clock();
    const batch = await fetchArxivByIds({
      apiUrl: ingest.arxivApiUrl,
      ids,
      now,
      pageDelayMs: ingest.arxivPageDelayMs,
      fetch: { timeoutMs: ingest.timeoutMs, retries: ingest.retries },
    });
    const asked = new Set(ids);
    const answered = batch.records.filter((record) => asked.has(record.arxivId));
    for (const record of answered) {
      const firstSeen = new Date(Math.min(record.publishedAt.getTime(), now.getTime()));
      await upsertPapers(ctx.db, [record], 'arxiv', firstSeen);
    }
    fetched += answered.length;
    missing += ids.length - answered.length;
    // Every pending row of these ids is settled now (found or missing), so the loop moves on.
    await settleLikedPapers(ctx.db, ids);
    // arXiv asks API clients to wait between requests.
    if (ids.length === perRound && ingest.arxivPageDelayMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, ingest.arxivPageDelayMs));
    }
  }
  ctx.log.info({ fetched, missing }, 'liked papers fetched from arXiv');
  return { fetched, missing };
}
