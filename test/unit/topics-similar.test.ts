import { describe, expect, it } from 'vitest';
import { generatePapers } from '../../bench/fixtures/papers.js';
import { createRandom, type Random } from '../../bench/fixtures/random.js';
import { buildPaperIndex, type MatchablePaper, MatchBudget, matchTopic } from '../../src/topics/match.js';
import { parseTopic } from '../../src/topics/parse.js';
import {
  commonLimit,
  createSimilarPapers,
  featureWeight,
  likeRule,
  type SimilarityText,
  similarityFeatures,
} from '../../src/topics/similar.js';

/**
 * `like:` the slow, obvious way: every paper's whole vector from `similarityFeatures`, document
 * frequencies counted over the papers, the reference cut to its heaviest features that 2 to
 * `commonLimit` papers have, one cosine per paper. The index's postings must give the same numbers.
 */
function naiveSimilarities(papers: readonly SimilarityText[], reference: SimilarityText): number[] {
  const features = papers.map(similarityFeatures);
  const df = new Map<string, number>();
  for (const { names } of features) for (const name of names) df.set(name, (df.get(name) ?? 0) + 1);
  const vectorOf = ({ names, raw }: ReturnType<typeof similarityFeatures>) =>
    new Map(
      names.map((name, i) => [name, featureWeight(raw[i] as number, df.get(name) ?? 0, papers.length)]),
    );
  const query = [...vectorOf(similarityFeatures(reference))]
    .filter(([name]) => (df.get(name) ?? 0) >= 2 && (df.get(name) ?? 0) <= commonLimit(papers.length))
    .sort((x, y) => y[1] - x[1])
    .slice(0, likeRule.queryFeatures);
  const queryLength = Math.sqrt(query.reduce((sum, [, weight]) => sum + weight ** 2, 0));
  return features.map((paperFeatures) => {
    const vector = vectorOf(paperFeatures);
    const length = Math.sqrt([...vector.values()].reduce((sum, weight) => sum + weight ** 2, 0));
    const dot = query.reduce((sum, [name, weight]) => sum + weight * (vector.get(name) ?? 0), 0);
    return length === 0 ? 0 : dot / (queryLength * length);
  });
}

const vocabulary = [
  'diffusion',
  'models',
  'model',
  'modeling',
  'agents',
  'the',
  'of',
  'reasoning',
  'video',
  'quantization',
  'sparse',
  'attention',
  'graph',
  'neural',
  'Schrödinger',
  'bridge',
  'robot',
  'policy',
  'as',
  'has',
];
const names = ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Wang Li', 'Li Wang', 'Günther Turk'];
const categories = ['cs.LG', 'cs.CV', 'cs.CL', 'hep-th', 'math.OC', 'stat.ML'];

/** Papers from a small vocabulary, so that features are shared, repeated and sometimes stop words. */
function randomPaper(random: Random): MatchablePaper {
  const words = (min: number, max: number) =>
    Array.from({ length: random.int(min, max) }, () => random.pick(vocabulary)).join(' ');
  return {
    title: words(0, 8),
    abstract: words(0, 60),
    aiKeywords: random.chance(0.5) ? Array.from({ length: random.int(0, 3) }, () => words(1, 2)) : null,
    authors: Array.from({ length: random.int(0, 4) }, () => random.pick(names)),
    categories: Array.from({ length: random.int(0, 3) }, () => random.pick(categories)),
    upvotes: 0,
    publishedAt: new Date(Date.UTC(2026, 10, 1)),
  };
}

describe('like: similarity over the index', () => {
  it('equals the naive cosine on random papers, references inside and outside the index', () => {
    const random = createRandom(14);
    let compared = 0;
    for (let round = 0; round < 30; round++) {
      // The last round is large enough that common features are left out of the reference.
      const count = round === 29 ? 1_500 : random.int(1, 80);
      const papers = Array.from({ length: count }, () => randomPaper(random));
      const index = buildPaperIndex(papers);
      const inside = random.int(0, papers.length - 1);
      const references = new Map([
        ['2511.00001', { paper: papers[inside] as MatchablePaper, place: inside }],
        ['2511.00002', { paper: randomPaper(random) }],
      ]);
      const similar = createSimilarPapers(index, (arxivId) => references.get(arxivId));
      for (const [arxivId, reference] of references) {
        const expected = naiveSimilarities(papers, reference.paper);
        const found = similar(arxivId);
        expect(found).toBeDefined();
        const byPaper = new Map(
          Array.from(found?.papers ?? [], (paper, i) => [paper, found?.similarity[i] as number]),
        );
        expected.forEach((cosine, paper) => {
          const isOwnPlace = 'place' in reference && reference.place === paper;
          if (!isOwnPlace && cosine >= likeRule.threshold + 1e-9) {
            expect(byPaper.get(paper)).toBeCloseTo(cosine, 9);
            compared++;
          } else if (isOwnPlace || cosine <= likeRule.threshold - 1e-9) {
            expect(byPaper.has(paper)).toBe(false);
          }
        });
        expect([...(found?.papers ?? [])]).toStrictEqual([...byPaper.keys()].sort((x, y) => x - y));
      }
    }
    expect(compared).toBeGreaterThan(200);
  });

  it('finds a paper on the same subject and not one on another, among generated papers', () => {
    const random = createRandom(3);
    const papers = generatePapers(random, 400, new Date(Date.UTC(2026, 10, 1))).records.map(
      (record): MatchablePaper => ({
        ...record,
        categories: record.categories ?? [],
        upvotes: 0,
        aiKeywords: record.aiKeywords ?? null,
      }),
    );
    const index = buildPaperIndex(papers);
    const reference = papers[0] as MatchablePaper;
    // A copy with another title word order and one more author: very close, but not the paper itself.
    const twin = {
      ...reference,
      title: reference.title.split(' ').reverse().join(' '),
      authors: [...reference.authors, 'Someone Else'],
    };
    const twinIndex = buildPaperIndex([...papers, twin]);
    const similar = createSimilarPapers(twinIndex, () => ({ paper: reference, place: 0 }))('2511.00001');
    const twinAt = similar?.papers.indexOf(papers.length) ?? -1;
    expect(twinAt).toBeGreaterThanOrEqual(0);
    expect(similar?.similarity[twinAt]).toBeGreaterThan(0.5);
    expect(similar?.papers.includes(0)).toBe(false);
    expect(
      Math.max(
        ...Array.from(similar?.similarity ?? [], (value, i) =>
          similar?.papers[i] === papers.length ? 0 : value,
        ),
      ),
    ).toBeLessThan(similar?.similarity[twinAt] as number);
    // Nothing at all is like a paper on words no paper has.
    const stranger = {
      title: 'Zymurgy of quokkas',
      abstract: 'Brewing with marsupials.',
      authors: [],
      categories: [],
    };
    expect(createSimilarPapers(index, () => ({ paper: stranger }))('x')?.papers.length).toBe(0);
  });
});

describe('like: in a topic', () => {
  const paper = (title: string, category: string, author = 'Ada Lovelace'): MatchablePaper => ({
    title,
    abstract: `${title}.`,
    authors: [author],
    categories: [category],
    upvotes: 0,
    publishedAt: new Date(Date.UTC(2026, 10, 1)),
  });
  const papers = [
    paper('Sparse attention for long video diffusion', 'cs.CV'),
    paper('Sparse attention for long video generation', 'cs.LG'),
    paper('Robot policy learning from play', 'cs.RO', 'Alan Turing'),
    paper('Graph neural networks for molecules', 'cs.LG', 'Grace Hopper'),
  ];
  const index = buildPaperIndex(papers);
  const references = new Map([
    ['2511.00001', { paper: paper('Sparse attention in video diffusion models', 'cs.CV') }],
  ]);
  const similar = createSimilarPapers(index, (arxivId) => references.get(arxivId));
  const titles = (query: string, missing = new Set<string>()) =>
    matchTopic(index, parseTopic(query), { similar, missing }).map(
      (match) => (papers[match.paper] as MatchablePaper).title,
    );

  it('matches the papers like the one named, combined with the rest of the topic', () => {
    expect(titles('like:2511.00001').sort()).toStrictEqual([
      'Sparse attention for long video diffusion',
      'Sparse attention for long video generation',
    ]);
    expect(titles('like:2511.00001 cat:cs.LG')).toStrictEqual(['Sparse attention for long video generation']);
    expect(titles('graph OR like:2511.00001')).toHaveLength(3);
    expect(titles('sparse -like:2511.00001')).toStrictEqual([]);
    const match = matchTopic(index, parseTopic('like:2511.00001'), { similar })[0];
    expect(match?.matched).toStrictEqual(['like:2511.00001']);
  });

  it('matches nothing for a paper it does not know, and says which', () => {
    const missing = new Set<string>();
    expect(titles('like:2511.99999 OR graph', missing)).toStrictEqual([
      'Graph neural networks for molecules',
    ]);
    expect([...missing]).toStrictEqual(['2511.99999']);
    expect(matchTopic(index, parseTopic('like:2511.00001'))).toStrictEqual([]);
  });

  it('charges its work to the budget', () => {
    const budget = new MatchBudget(Number.POSITIVE_INFINITY);
    matchTopic(index, parseTopic('like:2511.00001'), { similar, budget });
    expect(budget.spent).toBeGreaterThan(0);
    expect(() =>
      matchTopic(index, parseTopic('like:2511.00001'), { similar, budget: new MatchBudget(5) }),
    ).toThrow(/more than 5 units/);
  });
});
