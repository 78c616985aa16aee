import type { Db } from '../db/client.js';
import type { Paper } from '../db/schema.js';
import { sql } from '../db/sql.js';
import { papersFirstSeenSince } from '../papers/store.js';
import type { MatchingEngine } from '../topics/engine.js';
import { createMatchingEngine } from '../topics/engine.js';
import { buildPaperIndex } from '../topics/match.js';
import { parseStoredPicks } from './paper-rows.js';

/** A paper chosen for one digest, with why. */
export interface DigestPick {
  paper: Paper;
  score: number;
  topic?: string;
  matched: string[];
}

/** The web version lists every match up to this; the email shows the subscriber's `maxPapers`. */
export const digestPickLimit = 100;
/** The longest window a digest looks back (weekly, plus a missed week). */
const longestWindowMs = 15 * 86_400_000;

/** The candidates of one run: every paper first seen in the longest window, indexed once. */
export async function loadDigestCandidates(db: Db, now: Date) {
  const papers = await papersFirstSeenSince(db, new Date(now.getTime() - longestWindowMs), 50_000);
  return { papers, engine: createMatchingEngine(buildPaperIndex(papers)) };
}
export type DigestCandidates = Awaited<ReturnType<typeof loadDigestCandidates>>;

/** A margin for clocks that differ between the machines that ingest, plan and send. */
const clockSkewMs = 86_400_000;

/**
 * Ids of the papers already sent to this subscriber that could still be offered: a paper first seen at
 * or after `since` can only be in a digest sent after it, so older digests are not read.
 */
export async function sentPaperIds(db: Db, subscriberId: number, since: Date): Promise<Set<number>> {
  const lists = await db.column<string>(sql`select picks from digests
    where subscriber_id = ${subscriberId} and status = 'sent' and sent_at >= ${since.getTime() - clockSkewMs}`);
  const ids = new Set<number>();
  for (const list of lists) for (const [paperId] of parseStoredPicks(list)) ids.add(paperId);
  return ids;
}

/**
 * The papers for one subscriber's digest: first seen since `windowStart`, never sent to them before,
 * matched and ranked by their topics (SPEC §6–7), best first.
 */
export function pickDigestPapers(
  candidates: { papers: readonly Paper[]; engine: MatchingEngine },
  subscriber: { topics: readonly string[] },
  options: { windowStart: Date; sent: ReadonlySet<number>; limit?: number },
): DigestPick[] {
  const since = options.windowStart.getTime();
  const ranked = candidates.engine.rank(subscriber.topics, {
    limit: options.limit ?? digestPickLimit,
    isExcluded: (index) => {
      const paper = candidates.papers[index] as Paper;
      return paper.firstSeenAt.getTime() < since || options.sent.has(paper.id);
    },
  });
  return ranked.map((pick) => ({
    paper: candidates.papers[pick.paper] as Paper,
    score: pick.score,
    topic: pick.topic,
    matched: pick.matched,
  }));
}
