import { describe, expect, it } from 'vitest';
import { createRandom } from '../../bench/fixtures/random.js';
import type { Paper } from '../../src/db/schema.js';
import {
  createDigestCandidates,
  type DigestPick,
  likedTopicLabel,
  pickDigestPapers,
  withLikedShare,
} from '../../src/digests/select.js';
import { buildPaperIndex } from '../../src/topics/match.js';
import { makePapers, makeQuery, rankNaively } from '../support/random-topics.js';

describe('pickDigestPapers', () => {
  const random = createRandom(20260302);
  const day = 86_400_000;
  const now = Date.UTC(2026, 2, 8);
  // Ids not in candidate order, first-seen times over the candidates' 15 days in no particular order.
  const papers: Paper[] = makePapers(random, 400).map((paper, at) => ({
    ...paper,
    id: 1000 + ((at * 7919) % 4001),
    aiKeywords: paper.aiKeywords ?? null,
    arxivId: `2603.${String(at).padStart(5, '0')}`,
    firstSeenAt: new Date(now - random.int(0, 15 * 24) * 3_600_000),
  })) as unknown as Paper[];
  const index = buildPaperIndex(papers);
  const queries = new Set<string>(['unclosed "quote', '-survey']);
  while (queries.size < 120) queries.add(makeQuery(random, papers));
  const topics = [...queries];

  /** The definition (SPEC §7), without shortcuts: every match in the window and not sent, at its best. */
  function pickNaively(
    subscribed: readonly string[],
    since: number,
    sent: ReadonlySet<number>,
    limit: number,
  ) {
    const isOffered = (at: number) =>
      (papers[at] as Paper).firstSeenAt.getTime() >= since && !sent.has((papers[at] as Paper).id);
    if (subscribed.length === 0) {
      return [...index.byUpvotes]
        .filter(isOffered)
        .slice(0, limit)
        .map((at) => ({ paper: papers[at], score: index.upvotes[at], topic: undefined, matched: [] }));
    }
    return rankNaively(index, subscribed, { limit, isOffered }).map((pick) => ({
      ...pick,
      paper: papers[pick.paper],
    }));
  }

  it('offers only papers first seen in the window and never sent, ranked as the definition ranks them', () => {
    const candidates = createDigestCandidates(papers, index);
    let excludedBoth = 0;
    for (let subscriber = 0; subscriber < 1500; subscriber++) {
      const subscribed = Array.from({ length: random.int(0, 6) }, () => random.pick(topics));
      const since = now - random.int(1, 16) * day;
      // Sent ids: candidates' and a few that are not candidates (older papers, deleted ones).
      const sent = new Set(
        Array.from({ length: random.chance(0.5) ? random.int(1, 150) : 0 }, () =>
          random.chance(0.9) ? (random.pick(papers) as Paper).id : random.int(1, 999),
        ),
      );
      const limit = random.chance(0.5) ? 100 : random.int(1, 30);
      const picks: DigestPick[] = pickDigestPapers(
        candidates,
        { topics: subscribed },
        { windowStart: new Date(since), sent, limit },
      );
      expect(picks, JSON.stringify({ subscribed, since, limit })).toEqual(
        pickNaively(subscribed, since, sent, limit),
      );
      if (sent.size > 0 && since > now - 15 * day && picks.length > 0) excludedBoth++;
    }
    expect(excludedBoth).toBeGreaterThan(300);
  });

  it('forgets one subscriber’s sent papers before the next pick', () => {
    const candidates = createDigestCandidates(papers, index);
    const options = { windowStart: new Date(now - 16 * day), limit: 100 };
    const all = pickDigestPapers(candidates, { topics: [] }, { ...options, sent: new Set() });
    const sent = new Set(all.slice(0, 10).map((pick) => pick.paper.id));
    expect(pickDigestPapers(candidates, { topics: [] }, { ...options, sent })[0]).toEqual(all[10]);
    expect(pickDigestPapers(candidates, { topics: [] }, { ...options, sent: new Set() })).toEqual(all);
  });
});

describe('withLikedShare', () => {
  const pick = (name: string, topic: string): DigestPick =>
    ({ paper: { title: name } as DigestPick['paper'], score: 1, topic, matched: [] }) as DigestPick;
  const names = (picks: readonly DigestPick[]) => picks.map((p) => p.paper.title);
  const topic = Array.from({ length: 12 }, (_, i) => pick(`t${i}`, 'diffusion'));
  const liked = Array.from({ length: 4 }, (_, i) => pick(`l${i}`, likedTopicLabel));

  it('gives the liked section up to a third of what is shown, just above the cut, dropping nothing', () => {
    const picks = withLikedShare([...topic, ...liked], 9);
    expect(names(picks)).toEqual([
      ...['t0', 't1', 't2', 't3', 't4', 't5', 'l0', 'l1', 'l2'],
      ...['t6', 't7', 't8', 't9', 't10', 't11', 'l3'],
    ]);
  });

  it('leaves the order alone when the section already has its share, and gives at least one place', () => {
    const already = [liked[0], ...topic.slice(0, 3), liked[1], ...topic.slice(3)] as DigestPick[];
    expect(withLikedShare(already, 6)).toEqual(already);
    expect(names(withLikedShare([...topic.slice(0, 3), ...liked], 2))).toEqual([
      't0',
      'l0',
      't1',
      't2',
      'l1',
      'l2',
      'l3',
    ]);
    expect(withLikedShare(topic, 6)).toEqual(topic);
  });
});
