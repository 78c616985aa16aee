import { compareMatches, matchTopic, type PaperIndex, type TopicMatch } from './match.js';
import { parseTopic } from './parse.js';

/** One paper picked for a subscriber: its best score, the topic that gave it, the terms that hit. */
export interface RankedPaper {
  paper: number;
  score: number;
  /** The subscriber's topic that scored best; undefined for a subscriber without topics. */
  topic?: string;
  matched: string[];
}

export interface RankOptions {
  limit: number;
  /** Papers not to offer (already sent, too old for this subscriber). */
  isExcluded?: (paper: number) => boolean;
}

/** A subscriber without topics gets the most upvoted papers, newer first among equals. */
function rankByUpvotes(index: PaperIndex, options: RankOptions): RankedPaper[] {
  const ranked: RankedPaper[] = [];
  for (const paper of index.byUpvotes) {
    if (ranked.length >= options.limit) break;
    if (options.isExcluded?.(paper)) continue;
    ranked.push({ paper, score: index.upvotes[paper] ?? 0, matched: [] });
  }
  return ranked;
}

/** Merges per-topic match lists (each best first): a paper keeps the best of its scores. */
function mergeTopicMatches(
  index: PaperIndex,
  perTopic: { topic: string; matches: readonly TopicMatch[] }[],
  options: RankOptions,
): RankedPaper[] {
  // Each list is already in final order, so only its first `limit` offerable entries can reach the
  // top `limit` of the union: read no further (the cost then follows the limit, not topic breadth).
  const prefixes = perTopic.map(({ topic, matches }) => {
    const prefix: RankedPaper[] = [];
    for (const match of matches) {
      if (prefix.length >= options.limit) break;
      if (options.isExcluded?.(match.paper)) continue;
      prefix.push({ paper: match.paper, score: match.score, topic, matched: match.matched });
    }
    return prefix;
  });
  if (prefixes.length === 1) return prefixes[0] as RankedPaper[];
  const best = new Map<number, RankedPaper>();
  for (const prefix of prefixes) {
    for (const pick of prefix) {
      const current = best.get(pick.paper);
      if (!current || pick.score > current.score) best.set(pick.paper, pick);
    }
  }
  return [...best.values()].sort(compareMatches(index)).slice(0, options.limit);
}

/** One subscriber alone: parse and match each topic now. Topics that no longer parse are skipped. */
export function rankForTopics(
  index: PaperIndex,
  topics: readonly string[],
  options: RankOptions,
): RankedPaper[] {
  if (topics.length === 0) return rankByUpvotes(index, options);
  const perTopic = topics.flatMap((topic) => {
    try {
      return [{ topic, matches: matchTopic(index, parseTopic(topic)) }];
    } catch {
      return [];
    }
  });
  return mergeTopicMatches(index, perTopic, options);
}

/**
 * The batch engine for a digest run: the papers are indexed once by the caller, and each distinct
 * topic is parsed and matched once, however many subscribers share it. Per subscriber only the
 * (short) match lists of their topics are merged, so the cost per subscriber does not grow with the
 * number of papers, and memory grows with distinct topics, not with subscribers.
 */
export function createMatchingEngine(index: PaperIndex) {
  const cache = new Map<string, readonly TopicMatch[]>();
  const matchesFor = (topic: string) => {
    let matches = cache.get(topic);
    if (!matches) {
      try {
        matches = matchTopic(index, parseTopic(topic));
      } catch {
        matches = [];
      }
      cache.set(topic, matches);
    }
    return matches;
  };
  return {
    index,
    rank(topics: readonly string[], options: RankOptions): RankedPaper[] {
      if (topics.length === 0) return rankByUpvotes(index, options);
      return mergeTopicMatches(
        index,
        topics.map((topic) => ({ topic, matches: matchesFor(topic) })),
        options,
      );
    },
    get distinctTopics() {
      return cache.size;
    },
  };
}

export type MatchingEngine = ReturnType<typeof createMatchingEngine>;
