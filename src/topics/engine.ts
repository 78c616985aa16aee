import { matchTopic, type PaperIndex, type TopicMatch } from './match.js';
import { parseTopic, type TopicNode } from './parse.js';
import type { SimilarTo } from './similar.js';

/**
 * A topic the reader wrote, or one matched for them (the papers like the ones they like): its label is
 * what a pick names as its topic.
 */
export type TopicEntry = string | { label: string; matches: readonly TopicMatch[] };

const labelOf = (topic: TopicEntry) => (typeof topic === 'string' ? topic : topic.label);

/** One paper picked for a subscriber: its best score, the topic that gave it, the terms that hit. */
export interface RankedPaper {
  paper: number;
  score: number;
  /** The subscriber's topic that scored best; undefined for a subscriber without topics. */
  topic?: string;
  /** Shared with the engine's cache and the subscriber's other picks: read, never change. */
  matched: string[];
}

export interface RankOptions {
  limit: number;
  /** Papers not to offer (already sent, too old for this subscriber). Asked at most once per paper and topic. */
  isExcluded?: (paper: number) => boolean;
}

/** Makes the caller's object for one pick, so that a pick is allocated once, in its final shape. */
export type BuildPick<T> = (paper: number, score: number, topic: string | undefined, matched: string[]) => T;

const toRankedPaper: BuildPick<RankedPaper> = (paper, score, topic, matched) => ({
  paper,
  score,
  topic,
  matched,
});

/** One topic's matches, best first, as parallel arrays: what the merge reads per subscriber. */
interface TopicMatches {
  papers: Uint32Array;
  scores: Float64Array;
  matched: string[][];
}

const noMatches: TopicMatches = { papers: new Uint32Array(0), scores: new Float64Array(0), matched: [] };

function toTopicMatches(matches: readonly TopicMatch[]): TopicMatches {
  if (matches.length === 0) return noMatches;
  return {
    papers: Uint32Array.from(matches, (match) => match.paper),
    scores: Float64Array.from(matches, (match) => match.score),
    matched: matches.map((match) => match.matched),
  };
}

/**
 * One topic's matches, and whether they are final: not when `like:` named a paper `similar` does not
 * know yet, which may be there the next time.
 */
function matchEntry(
  index: PaperIndex,
  topic: TopicEntry,
  similar: SimilarTo | undefined,
): { matches: TopicMatches; isFinal: boolean } {
  if (typeof topic !== 'string') return { matches: toTopicMatches(topic.matches), isFinal: false };
  let node: TopicNode;
  try {
    node = parseTopic(topic);
  } catch {
    // A stored topic that no longer parses matches nothing rather than failing the run.
    return { matches: noMatches, isFinal: true };
  }
  const missing = new Set<string>();
  const matches = toTopicMatches(matchTopic(index, node, { similar, missing }));
  return { matches, isFinal: missing.size === 0 };
}

/** A subscriber without topics gets the most upvoted papers, newer first among equals. */
function rankByUpvotes<T>(index: PaperIndex, options: RankOptions, build: BuildPick<T>): T[] {
  const ranked: T[] = [];
  for (const paper of index.byUpvotes) {
    if (ranked.length >= options.limit) break;
    if (options.isExcluded?.(paper)) continue;
    ranked.push(build(paper, index.upvotes[paper] ?? 0, undefined, []));
  }
  return ranked;
}

/**
 * Merges one subscriber's per-topic lists, each best first, into the union in the same order, each
 * paper at its best score (the earlier topic on a tie), and stops at `limit`. A k-way merge over the
 * lists' heads: a paper's first appearance is its best, and later ones are dropped by a stamp per
 * paper. Nothing is sorted or collected per subscriber, and the cost follows the picks times the
 * topics, not the lists' lengths.
 */
function createMerger(index: PaperIndex) {
  const { recency } = index;
  // seen[paper] === stamp: picked, or found excluded, in the current merge.
  const seen = new Uint32Array(index.size);
  let stamp = 0;
  // Per list: where its head is, and the head's paper (-1 when the list is used up) and score.
  let cursors = new Uint32Array(8);
  let heads = new Int32Array(8);
  let headScores = new Float64Array(8);
  // The merge under way: read by `advance`, which is made once rather than per subscriber.
  let merging: readonly TopicMatches[] = [];
  let isExcludedNow: RankOptions['isExcluded'];
  /** Moves list `list`'s head to its next entry from `from` on that is neither picked nor excluded. */
  function advance(list: number, from: number) {
    const { papers, scores } = merging[list] as TopicMatches;
    let at = from;
    while (at < papers.length) {
      const paper = papers[at] as number;
      if (seen[paper] !== stamp) {
        if (!isExcludedNow?.(paper)) break;
        seen[paper] = stamp;
      }
      at++;
    }
    cursors[list] = at;
    heads[list] = at < papers.length ? (papers[at] as number) : -1;
    headScores[list] = at < papers.length ? (scores[at] as number) : 0;
  }
  return function merge<T>(
    topics: readonly TopicEntry[],
    lists: readonly TopicMatches[],
    options: RankOptions,
    build: BuildPick<T>,
  ): T[] {
    const { limit, isExcluded } = options;
    const ranked: T[] = [];
    const count = lists.length;
    if (count === 1) {
      const { papers, scores, matched } = lists[0] as TopicMatches;
      for (let at = 0; at < papers.length && ranked.length < limit; at++) {
        const paper = papers[at] as number;
        if (isExcluded?.(paper)) continue;
        ranked.push(
          build(paper, scores[at] as number, labelOf(topics[0] as TopicEntry), matched[at] as string[]),
        );
      }
      return ranked;
    }
    if (stamp === 0xffff_ffff) {
      seen.fill(0);
      stamp = 0;
    }
    stamp++;
    if (cursors.length < count) {
      cursors = new Uint32Array(count * 2);
      heads = new Int32Array(count * 2);
      headScores = new Float64Array(count * 2);
    }
    merging = lists;
    isExcludedNow = isExcluded;
    for (let list = 0; list < count; list++) advance(list, 0);
    while (ranked.length < limit) {
      let best = -1;
      let bestPaper = 0;
      let bestScore = 0;
      for (let list = 0; list < count; list++) {
        const paper = heads[list] as number;
        if (paper < 0) continue;
        const score = headScores[list] as number;
        // The order of `compareMatches`: score, then newer, then paper index; an earlier list wins ties.
        if (
          best === -1 ||
          score > bestScore ||
          (score === bestScore &&
            ((recency[paper] as number) > (recency[bestPaper] as number) ||
              (recency[paper] === recency[bestPaper] && paper < bestPaper)))
        ) {
          best = list;
          bestPaper = paper;
          bestScore = score;
        }
      }
      if (best === -1) break;
      const at = cursors[best] as number;
      // Another list's head may be a paper picked since it became head: it is dropped when it surfaces.
      if (seen[bestPaper] !== stamp) {
        seen[bestPaper] = stamp;
        ranked.push(
          build(
            bestPaper,
            bestScore,
            labelOf(topics[best] as TopicEntry),
            (lists[best] as TopicMatches).matched[at] as string[],
          ),
        );
      }
      advance(best, at + 1);
    }
    merging = [];
    isExcludedNow = undefined;
    return ranked;
  };
}

/** One subscriber alone: parse and match each topic now. Topics that no longer parse are skipped. */
export function rankForTopics(
  index: PaperIndex,
  topics: readonly TopicEntry[],
  options: RankOptions,
  similar?: SimilarTo,
): RankedPaper[] {
  if (topics.length === 0) return rankByUpvotes(index, options, toRankedPaper);
  const lists = topics.map((topic) => matchEntry(index, topic, similar).matches);
  return createMerger(index)(topics, lists, options, toRankedPaper);
}

/**
 * The batch engine for a digest run: the papers are indexed once by the caller, and each distinct
 * topic is parsed and matched once, however many subscribers share it. Per subscriber only the
 * heads of their topics' match lists are merged, so the cost per subscriber follows the papers
 * picked, not the number of papers, and memory grows with distinct topics, not with subscribers.
 * Not reentrant (one merge at a time, as JavaScript runs it anyway).
 */
export function createMatchingEngine(index: PaperIndex, similar?: SimilarTo) {
  const cache = new Map<string, TopicMatches>();
  const merge = createMerger(index);
  // A topic matched for one reader comes with its matches; only the reader's own are cached.
  const listsOf = (topics: readonly TopicEntry[]) =>
    topics.map((topic) => {
      if (typeof topic !== 'string') return matchEntry(index, topic, similar).matches;
      let matches = cache.get(topic);
      if (!matches) {
        const matched = matchEntry(index, topic, similar);
        matches = matched.matches;
        if (matched.isFinal) cache.set(topic, matches);
      }
      return matches;
    });
  /** The picks, each made by `build`, best first. */
  function rankWith<T>(topics: readonly TopicEntry[], options: RankOptions, build: BuildPick<T>): T[] {
    if (topics.length === 0) return rankByUpvotes(index, options, build);
    return merge(topics, listsOf(topics), options, build);
  }
  return {
    index,
    rankWith,
    rank: (topics: readonly TopicEntry[], options: RankOptions): RankedPaper[] =>
      rankWith(topics, options, toRankedPaper),
    get distinctTopics() {
      return cache.size;
    },
  };
}

export type MatchingEngine = ReturnType<typeof createMatchingEngine>;
