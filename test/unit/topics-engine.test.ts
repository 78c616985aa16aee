import { describe, expect, it } from 'vitest';
// The benchmarks' seeded generator (mulberry32), so a failure reproduces exactly.
import { createRandom } from '../../bench/fixtures/random.js';
import { createMatchingEngine, type RankOptions, rankForTopics } from '../../src/topics/engine.js';
import { buildPaperIndex } from '../../src/topics/match.js';
import { makePapers, makeQuery, rankNaively } from '../support/random-topics.js';

describe('createMatchingEngine', () => {
  const random = createRandom(20260301);
  const papers = makePapers(random, 300);
  const index = buildPaperIndex(papers);

  const queries = new Set<string>(['foo:bar', 'unclosed "quote', 'the of', '-survey']);
  while (queries.size < 200) queries.add(makeQuery(random, papers));
  const topics = [...queries];

  const subscribers = Array.from({ length: 2000 }, () => {
    const options: RankOptions = { limit: random.int(1, 50) };
    const roll = random.next();
    if (roll < 0.3) {
      const sent = new Set(
        Array.from({ length: random.int(1, 120) }, () => random.int(0, papers.length - 1)),
      );
      options.isExcluded = (paper) => sent.has(paper);
    } else if (roll < 0.45) {
      const modulus = random.int(2, 7);
      options.isExcluded = (paper) => paper % modulus === 0;
    }
    // Now and then more topics than the engine keeps room for at first (8), and the same topic twice.
    const topicCount = random.chance(0.1) ? random.int(6, 12) : random.int(0, 5);
    return { topics: Array.from({ length: topicCount }, () => random.pick(topics)), options };
  });

  it('generates topics that parse and match, so the comparison means something', () => {
    const engine = createMatchingEngine(index);
    const matching = topics.filter((topic) => engine.rank([topic], { limit: 300 }).length > 0);
    expect(matching.length).toBeGreaterThan(100);
    expect(topics.filter((topic) => /\bOR\b/.test(topic)).length).toBeGreaterThan(20);
    expect(topics.filter((topic) => /(^|\s|\()(-|NOT )/.test(topic)).length).toBeGreaterThan(20);
    expect(topics.filter((topic) => /(title|abstract|author|cat):/.test(topic)).length).toBeGreaterThan(40);
  });

  it('ranks every subscriber exactly as rankForTopics does', () => {
    const engine = createMatchingEngine(index);
    let withPapers = 0;
    let cutByLimit = 0;
    for (const { topics: subscribed, options } of subscribers) {
      const ranked = engine.rank(subscribed, options);
      expect(ranked, JSON.stringify({ subscribed, limit: options.limit })).toEqual(
        rankForTopics(index, subscribed, options),
      );
      expect(ranked.length).toBeLessThanOrEqual(options.limit);
      expect(ranked.some((entry) => options.isExcluded?.(entry.paper))).toBe(false);
      if (ranked.length > 0) withPapers++;
      if (ranked.length === options.limit) cutByLimit++;
    }
    expect(withPapers).toBeGreaterThan(1000);
    expect(cutByLimit).toBeGreaterThan(200);
  });

  it('ranks every subscriber with topics exactly as a naive merge of all their matches would', () => {
    const engine = createMatchingEngine(index);
    for (const { topics: subscribed, options } of subscribers) {
      if (subscribed.length === 0) continue;
      expect(engine.rank(subscribed, options), JSON.stringify({ subscribed, limit: options.limit })).toEqual(
        rankNaively(index, subscribed, {
          limit: options.limit,
          isOffered: options.isExcluded && ((paper: number) => !options.isExcluded?.(paper)),
        }),
      );
    }
  });

  it('parses and matches each distinct topic once, however many subscribers share it', () => {
    const engine = createMatchingEngine(index);
    const first = subscribers.map(({ topics: subscribed, options }) => engine.rank(subscribed, options));
    const distinct = new Set(subscribers.flatMap((subscriber) => subscriber.topics));
    expect(engine.distinctTopics).toBe(distinct.size);
    const again = subscribers.map(({ topics: subscribed, options }) => engine.rank(subscribed, options));
    expect(engine.distinctTopics).toBe(distinct.size);
    expect(again).toEqual(first);
  });
});
