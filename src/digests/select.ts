import type { Db } from '../db/client.js';
import type { FeedbackKind, Paper } from '../db/schema.js';
import { sql } from '../db/sql.js';
import {
  createSimilarity,
  type FeedbackEffect,
  feedbackRule,
  isExplainedUp,
} from '../feedback/similarity.js';
import { papersByArxivId, papersFirstSeenSince } from '../papers/store.js';
import { shortened } from '../text.js';
import { type BuildPick, createMatchingEngine, type TopicEntry } from '../topics/engine.js';
import { buildPaperIndex } from '../topics/match.js';
import { likeIdsOf } from '../topics/parse.js';
import { createSimilarPapers, likedMatches } from '../topics/similar.js';
import { parseStoredPicks } from './paper-rows.js';

/** A paper chosen for one digest, with why. */
export interface DigestPick {
  paper: Paper;
  score: number;
  topic?: string;
  matched: string[];
  /** The reader's liked or disliked paper that moved this one up or down, if any. */
  because?: FeedbackEffect['because'];
}

/** The web version lists every match up to this; the email shows the subscriber's `maxPapers`. */
export const digestPickLimit = 100;
/** The longest window a digest looks back (weekly, plus a missed week). */
const longestWindowMs = 15 * 86_400_000;

/**
 * The candidates of one run, indexed once, and how one subscriber's papers are picked from them. The
 * exclusions read typed arrays by paper index (first seen; a bitset of the papers already sent), so a
 * pick touches no Paper object and no Date, and nothing is made per subscriber but the picks.
 */
export function createDigestCandidates(papers: readonly Paper[], index = buildPaperIndex(papers)) {
  const indexOfId = new Map(papers.map((paper, at) => [paper.id, at]));
  // The papers `like:` names and the reader likes, of the pick under way.
  let references: ReadonlyMap<string, Paper> = new Map();
  const similar = createSimilarPapers(index, (arxivId) => {
    const paper = references.get(arxivId);
    return paper && { paper, place: indexOfId.get(paper.id) };
  });
  const engine = createMatchingEngine(index, similar);
  const firstSeenAt = Float64Array.from(papers, (paper) => paper.firstSeenAt.getTime());
  const sentBits = new Uint32Array((papers.length + 31) >>> 5);
  // The pick under way (a pick runs to its end synchronously): read by the closures made once below.
  let since = 0;
  let hasSent = false;
  const isExcluded = (at: number) =>
    (firstSeenAt[at] as number) < since ||
    (hasSent && ((sentBits[at >>> 5] as number) & (1 << (at & 31))) !== 0);
  const toPick: BuildPick<DigestPick> = (at, score, topic, matched) => ({
    paper: papers[at] as Paper,
    score,
    topic,
    matched,
  });
  const similarity = createSimilarity(papers);
  const toPlace = (at: number, score: number, topic: string | undefined, matched: string[]) => ({
    at,
    score,
    topic,
    matched,
  });

  /**
   * Re-ranks what the topics matched by the reader's feedback (`feedbackEffect`): never a paper no
   * topic matched. The top `limit` after re-ranking can hold papers from below the top `limit` before
   * it, so the engine is asked for a wider pool, and for a wider one still until no paper outside it
   * could rise into the top (at most `1 + maxShift` times the lowest score in the pool): the result
   * is the same as re-ranking every match.
   */
  function rerank(topics: readonly TopicEntry[], options: PickOptions, feedback: readonly GivenFeedback[]) {
    const limit = options.limit ?? digestPickLimit;
    const given = feedback.map(({ kind, paper }) => {
      const at = indexOfId.get(paper.id);
      return {
        kind,
        title: paper.title,
        vector: at === undefined ? similarity.paper(paper) : similarity.candidate(at),
      };
    });
    const effects = new Map<number, FeedbackEffect>();
    for (let poolSize = 2 * limit; ; poolSize *= 4) {
      const pool = engine.rankWith(topics, { limit: poolSize, isExcluded }, toPlace);
      const fresh = pool.map((place) => place.at).filter((at) => !effects.has(at));
      similarity.effects(fresh, given).forEach((effect, i) => {
        effects.set(fresh[i] as number, effect);
      });
      const ranked = pool.map((place, order) => {
        const effect = effects.get(place.at) as FeedbackEffect;
        return { place, order, effect, score: place.score * effect.factor };
      });
      // Sunk last; otherwise by the adjusted score; ties keep the engine's order (newer first).
      ranked.sort(
        (x, y) => Number(x.effect.isSunk) - Number(y.effect.isSunk) || y.score - x.score || x.order - y.order,
      );
      const last = ranked[limit - 1];
      const lowest = pool.at(-1)?.score ?? 0;
      const isWholePool = pool.length < poolSize;
      if (isWholePool || (last && !last.effect.isSunk && last.score > lowest * (1 + feedbackRule.maxShift))) {
        const explained = options.explain ?? limit;
        return ranked.slice(0, limit).map(({ place, effect, score }, i) => {
          const pick: DigestPick = toPick(place.at, score, place.topic, place.matched);
          if (i >= explained) return pick;
          const liked = isExplainedUp(effect) ? similarity.closestLiked(place.at, given) : undefined;
          pick.because = liked ? { kind: 'more', title: liked.title } : effect.because;
          return pick;
        });
      }
    }
  }

  return {
    papers,
    engine,
    pick(written: readonly string[], options: PickOptions): DigestPick[] {
      const liked = options.liked ?? [];
      references = new Map([
        ...(options.references ?? []),
        ...liked.map((paper) => [paper.arxivId, paper] as const),
      ]);
      const topics: TopicEntry[] = [...written];
      if (liked.length > 0) {
        const likes = liked.map((paper) => ({
          arxivId: paper.arxivId,
          text: `similar to “${shortened(paper.title, 60)}”`,
        }));
        topics.push({ label: likedTopicLabel, matches: likedMatches(index, similar, likes) });
      }
      since = options.windowStart.getTime();
      hasSent = false;
      for (const paperId of options.sent) {
        const at = indexOfId.get(paperId);
        if (at === undefined) continue;
        sentBits[at >>> 5] = (sentBits[at >>> 5] as number) | (1 << (at & 31));
        hasSent = true;
      }
      try {
        const picks =
          options.feedback && options.feedback.length > 0
            ? rerank(topics, options, options.feedback)
            : engine.rankWith(topics, { limit: options.limit ?? digestPickLimit, isExcluded }, toPick);
        return liked.length > 0 && options.shown ? withLikedShare(picks, options.shown) : picks;
      } finally {
        if (hasSent) sentBits.fill(0);
        references = new Map();
      }
    },
  };
}
export type DigestCandidates = ReturnType<typeof createDigestCandidates>;

/** The candidates of one run: every paper first seen in the longest window. */
export async function loadDigestCandidates(db: Db, now: Date): Promise<DigestCandidates> {
  return createDigestCandidates(
    await papersFirstSeenSince(db, new Date(now.getTime() - longestWindowMs), 50_000),
  );
}

/** The section of a digest that the reader's liked papers find, and the topic it names. */
export const likedTopicLabel = 'Similar to papers you liked';

/**
 * The email shows the first `shown` picks. Papers like the reader's liked ones score by a cosine,
 * which a strong title hit of a topic can outweigh every day: so the section gets up to a third of
 * what is shown (at least one), its best papers moved up to just above the cut, in place of the
 * lowest others, which move down below it. Nothing is added or dropped.
 */
export function withLikedShare(picks: readonly DigestPick[], shown: number): DigestPick[] {
  const isLiked = (pick: DigestPick) => pick.topic === likedTopicLabel;
  const share = Math.max(1, Math.floor(shown / 3));
  const inView = picks.slice(0, shown);
  const missing = Math.min(share - inView.filter(isLiked).length, picks.slice(shown).filter(isLiked).length);
  if (missing <= 0) return [...picks];
  const promoted = picks.slice(shown).filter(isLiked).slice(0, missing);
  // The lowest of the others in view make room, keeping their order.
  let room = missing;
  const kept: DigestPick[] = [];
  const demoted: DigestPick[] = [];
  for (let i = inView.length - 1; i >= 0; i--) {
    const pick = inView[i] as DigestPick;
    if (room > 0 && !isLiked(pick)) {
      demoted.unshift(pick);
      room--;
    } else kept.unshift(pick);
  }
  const rest = picks.slice(shown).filter((pick) => !promoted.includes(pick));
  return [...kept, ...promoted, ...demoted, ...rest];
}

/** A paper the reader said "more like this" or "less like this" about. */
export interface GivenFeedback {
  kind: FeedbackKind;
  paper: Paper;
}

export interface PickOptions {
  /** Papers first seen before this are not offered. */
  windowStart: Date;
  /** Ids of the papers already sent to this subscriber. */
  sent: ReadonlySet<number>;
  limit?: number;
  /** The reader's feedback, newest first: re-ranks what their topics match. */
  feedback?: readonly GivenFeedback[];
  /** How many of the first picks say which feedback moved them (the cards an email shows); all by default. */
  explain?: number;
  /** The papers the topics name with `like:`, by arXiv id; one not here matches nothing. */
  references?: ReadonlyMap<string, Paper>;
  /** The reader's liked papers, newest first: a topic of their own, "Similar to papers you liked". */
  liked?: readonly Paper[];
  /** How many of the first picks the email shows: the liked papers' section gets its share of them. */
  shown?: number;
}

/** The stored papers that the topics name with `like:`, by arXiv id (`PickOptions.references`). */
export async function likeReferences(db: Db, topics: readonly string[]): Promise<Map<string, Paper>> {
  const ids = [...new Set(topics.flatMap(likeIdsOf))];
  return ids.length === 0 ? new Map() : papersByArxivId(db, ids);
}

/** A margin for clocks that differ between the machines that ingest, plan and send. */
const clockSkewMs = 86_400_000;

/**
 * Ids of the papers already sent to this subscriber (by email or to their feed) that could still be
 * offered: a paper first seen at or after `since` can only be in a digest sent after it, so older
 * digests are not read.
 */
export async function sentPaperIds(db: Db, subscriberId: number, since: Date): Promise<Set<number>> {
  const lists = await db.column<string>(sql`select picks from digests
    where subscriber_id = ${subscriberId} and status in ('sent', 'published')
      and sent_at >= ${since.getTime() - clockSkewMs}`);
  const ids = new Set<number>();
  for (const list of lists) for (const [paperId] of parseStoredPicks(list)) ids.add(paperId);
  return ids;
}

/**
 * The papers for one subscriber's digest: first seen since `windowStart`, never sent to them before,
 * matched and ranked by their topics (SPEC §6–7), best first.
 */
export function pickDigestPapers(
  candidates: DigestCandidates,
  subscriber: { topics: readonly string[] },
  options: PickOptions,
): DigestPick[] {
  return candidates.pick(subscriber.topics, options);
}
