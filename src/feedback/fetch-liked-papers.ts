import type { Ctx } from '../context.js';
import { fetchArxivByIds } from '../papers/sources/arxiv-atom.js';
import { paperIdsByArxivId, upsertPapers } from '../papers/store.js';
import { likeIdsOf } from '../topics/parse.js';
import { pendingLikedIds, settleLikedPapers } from './store.js';

/** Pending liked papers asked of arXiv per round: one request. */
const perRound = 100;

/**
 * Asks arXiv for the liked papers paperboy does not have yet (the `fetch-liked-papers` job), stores
 * them, and settles every reader's row for them: `found`, or `missing` when arXiv does not know the id.
 * The papers that topics name with `like:` (`arxivIds`) are asked for first, when still unknown.
 * A paper stored this way counts as first seen when it was published, so it never shows up in anyone's
 * digest as a new paper.
 */
export async function fetchLikedPapers({
  ctx,
  input,
}: {
  ctx: Pick<Ctx, 'db' | 'clock' | 'config' | 'log'>;
  input: { arxivIds: readonly string[] };
}) {
  const { ingest } = ctx.config;
  let fetched = 0;
  let missing = 0;
  const stored = await paperIdsByArxivId(ctx.db, input.arxivIds);
  let named = input.arxivIds.filter((arxivId) => !stored.has(arxivId));
  for (;;) {
    const ids = named.length > 0 ? named : await pendingLikedIds(ctx.db, perRound);
    named = [];
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

/**
 * Asks the worker to fetch the papers these topics name with `like:` that paperboy does not have:
 * called once the topics are saved. Until they arrive, such a `like:` matches nothing.
 */
export async function fetchNamedPapers(ctx: Pick<Ctx, 'db' | 'enqueue'>, topics: readonly string[]) {
  const ids = [...new Set(topics.flatMap(likeIdsOf))];
  if (ids.length === 0) return;
  const stored = await paperIdsByArxivId(ctx.db, ids);
  const unknown = ids.filter((arxivId) => !stored.has(arxivId));
  if (unknown.length > 0) await ctx.enqueue('fetch-liked-papers', { arxivIds: unknown });
}
