import { describe, expect, it } from 'vitest';
import { createRandom } from '../../bench/fixtures/random.js';
import type { Paper } from '../../src/db/schema.js';
import { createDigestCandidates, type GivenFeedback, pickDigestPapers } from '../../src/digests/select.js';
import {
  cosine,
  createSimilarity,
  type FeedbackVector,
  feedbackEffect,
  feedbackRule,
} from '../../src/feedback/similarity.js';
import { buildPaperIndex } from '../../src/topics/match.js';
import { makePapers, makeQuery, rankNaively } from '../support/random-topics.js';

const random = createRandom(20261128);
const now = Date.UTC(2026, 10, 28);
const papers: Paper[] = makePapers(random, 400).map((paper, at) => ({
  ...paper,
  id: 1000 + at,
  aiKeywords: paper.aiKeywords ?? null,
  arxivId: `2611.${String(at).padStart(5, '0')}`,
  firstSeenAt: new Date(now - random.int(0, 7 * 24) * 3_600_000),
})) as unknown as Paper[];
const index = buildPaperIndex(papers);
const queries = new Set<string>();
while (queries.size < 60) queries.add(makeQuery(random, papers));
const topics = [...queries];
const windowStart = new Date(now - 15 * 86_400_000);

/** Vectors made apart from the candidates' own. */
const similarity = createSimilarity(papers);

/** Re-ranking by its definition: every match, each paper's factor, sorted; no pool. */
function pickNaively(
  subscribed: readonly string[],
  feedback: readonly GivenFeedback[],
  limit: number,
  explain: number,
) {
  const matches =
    subscribed.length === 0
      ? [...index.byUpvotes].map((at) => ({
          paper: at,
          score: index.upvotes[at] as number,
          topic: undefined,
        }))
      : rankNaively(index, subscribed, { limit: 1_000_000, isOffered: () => true });
  const vectorOf = (paper: Paper) => {
    const at = papers.indexOf(paper);
    return at === -1 ? similarity.paper(paper) : similarity.candidate(at);
  };
  const given: FeedbackVector[] = feedback.map(({ kind, paper }) => ({
    kind,
    title: paper.title,
    vector: vectorOf(paper),
  }));
  return matches
    .map((match, order) => {
      const effect = feedbackEffect(similarity.candidate(match.paper), given);
      return { match, order, effect, score: match.score * effect.factor };
    })
    .sort(
      (x, y) => Number(x.effect.isSunk) - Number(y.effect.isSunk) || y.score - x.score || x.order - y.order,
    )
    .slice(0, limit)
    .map(({ match, effect, score }, i) => ({
      id: (papers[match.paper] as Paper).id,
      score,
      topic: match.topic,
      because: i < explain ? effect.because : undefined,
    }));
}

const asCompared = (picks: ReturnType<typeof pickDigestPapers>) =>
  picks.map((pick) => ({ id: pick.paper.id, score: pick.score, topic: pick.topic, because: pick.because }));

describe('feedback re-ranking', () => {
  it('gives each pick what re-ranking every match gives it, and only papers the topics matched', () => {
    const candidates = createDigestCandidates(papers, index);
    let moved = 0;
    for (let reader = 0; reader < 200; reader++) {
      const subscribed = Array.from({ length: random.int(0, 4) }, () => random.pick(topics));
      const feedback: GivenFeedback[] = Array.from({ length: random.int(1, 8) }, () => ({
        kind: random.chance(0.6) ? ('more' as const) : ('less' as const),
        // Now and then a paper that is not a candidate (an older one), with another's words.
        paper: random.chance(0.8)
          ? (random.pick(papers) as Paper)
          : ({ ...(random.pick(papers) as Paper), id: 90_000 + reader } as Paper),
      }));
      const limit = random.chance(0.5) ? 100 : random.int(1, 20);
      // The reasons, for the cards an email shows, or for every pick.
      const explain = random.chance(0.5) ? random.int(0, 12) : limit;
      const picks = pickDigestPapers(
        candidates,
        { topics: subscribed },
        { windowStart, sent: new Set(), limit, feedback, explain },
      );
      expect(asCompared(picks)).toEqual(pickNaively(subscribed, feedback, limit, explain));

      const plain = pickDigestPapers(
        candidates,
        { topics: subscribed },
        { windowStart, sent: new Set(), limit: 1_000_000 },
      );
      const matched = new Map(plain.map((pick) => [pick.paper.id, pick.score]));
      for (const pick of picks) {
        const before = matched.get(pick.paper.id);
        expect(before).toBeDefined(); // never a paper no topic matched
        const factor = pick.score / (before as number);
        if (before) expect(Math.abs(factor - 1)).toBeLessThanOrEqual(feedbackRule.maxShift + 1e-9);
        if (pick.because) moved++;
      }
    }
    expect(moved).toBeGreaterThan(50);
  });

  it('lifts a paper like one the reader liked, sinks a near-copy of one they disliked, and says why', () => {
    // Two pairs of near-copies: the reader gave feedback on the first of each (already sent).
    const [liked, likedTwin, disliked, dislikedTwin] = [0, 1, 2, 3].map((i) => papers[i] as Paper) as [
      Paper,
      Paper,
      Paper,
      Paper,
    ];
    const twins = papers.map((paper) => {
      // Same authors, categories and words, another id: a paper posted again, or its sequel.
      // (A changed text comes with a new update time, as ingestion stores it.)
      const updatedAt = new Date(now + 1);
      if (paper === likedTwin)
        return { ...liked, id: paper.id, updatedAt, title: `${liked.title} revisited` };
      if (paper === dislikedTwin)
        return { ...disliked, id: paper.id, updatedAt, abstract: `${disliked.abstract} Code is available.` };
      return paper;
    });
    const candidates = createDigestCandidates(twins);
    const sent = new Set([liked.id, disliked.id]);
    const options = { windowStart, sent, limit: 1000 };
    const plain = pickDigestPapers(candidates, { topics: [] }, options).map((pick) => pick.paper.id);
    const picks = pickDigestPapers(
      candidates,
      { topics: [] },
      {
        ...options,
        feedback: [
          { kind: 'more', paper: liked },
          { kind: 'less', paper: disliked },
        ],
      },
    );
    const ids = picks.map((pick) => pick.paper.id);
    expect(new Set(ids)).toEqual(new Set(plain));
    expect(ids.at(-1)).toBe(dislikedTwin.id);
    expect(picks.at(-1)?.because).toEqual({ kind: 'less', title: disliked.title });
    const twin = picks.find((pick) => pick.paper.id === likedTwin.id);
    expect(twin?.because).toEqual({ kind: 'more', title: liked.title });
    expect(twin?.score).toBeCloseTo((twin?.paper.upvotes ?? 0) * (1 + feedbackRule.maxShift), 9);
    expect(ids.indexOf(likedTwin.id)).toBeLessThanOrEqual(plain.indexOf(likedTwin.id));
  });

  it('moves a score by at most a quarter: one click cannot bury a strong match under a weak one', () => {
    const vectors = papers.map((_, at) => similarity.candidate(at));
    expect(cosine(vectors[0] as never, vectors[0] as never)).toBeCloseTo(1, 5);
    for (let i = 0; i < 2000; i++) {
      const given: FeedbackVector[] = Array.from({ length: random.int(1, 5) }, () => ({
        kind: random.chance(0.5) ? 'more' : 'less',
        title: 't',
        vector: random.pick(vectors) as never,
      }));
      const effect = feedbackEffect(random.pick(vectors) as never, given);
      expect(effect.factor).toBeGreaterThanOrEqual(1 - feedbackRule.maxShift);
      expect(effect.factor).toBeLessThanOrEqual(1 + feedbackRule.maxShift);
      if (effect.isSunk) expect(effect.because?.kind).toBe('less');
    }
    expect(feedbackEffect(vectors[5] as never, [])).toEqual({ factor: 1, move: 0, isSunk: false });
  });
});
