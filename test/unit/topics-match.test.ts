import { describe, expect, it } from 'vitest';
import { generatePapers } from '../../bench/fixtures/papers.js';
import { createRandom } from '../../bench/fixtures/random.js';
import { generateTopics } from '../../bench/fixtures/topics.js';
import { rankForTopics } from '../../src/topics/engine.js';
import {
  buildPaperIndex,
  createPaperIndexBuilder,
  type MatchablePaper,
  MatchBudget,
  MatchBudgetExceeded,
  matchTopic,
  matchTopicSteps,
  type PaperIndex,
  runSteps,
  topMatchesSteps,
} from '../../src/topics/match.js';
import { parseTopic } from '../../src/topics/parse.js';
import { tokenize, unicodeTokens } from '../../src/topics/tokens.js';

const day = (n: number) => new Date(Date.UTC(2026, 2, n, 12));

function paper(fields: Partial<MatchablePaper> & { title: string }): MatchablePaper {
  return {
    abstract: 'We report experiments on standard benchmarks and discuss limitations.',
    authors: ['Ada Lovelace'],
    categories: ['cs.LG'],
    aiKeywords: [],
    upvotes: 0,
    publishedAt: day(1),
    ...fields,
  };
}

/** The titles of the papers `query` matches, best first. */
function titlesMatching(papers: readonly MatchablePaper[], query: string): string[] {
  const index = buildPaperIndex(papers);
  return matchTopic(index, parseTopic(query)).map((match) => (papers[match.paper] as MatchablePaper).title);
}

const sorted = (titles: string[]) => [...titles].sort();

describe('matchTopic', () => {
  const papers = [
    paper({
      title: 'Quantization of large language models',
      abstract: 'We reduce the memory of transformer models with 4-bit weights and no loss in accuracy.',
    }),
    paper({
      title: 'Efficient inference on edge devices',
      abstract: 'Quantized weights and pruned attention heads make small models fast on phones.',
    }),
    paper({
      title: 'Sequence modeling with state spaces',
      abstract: 'A recurrent alternative to attention that scales linearly with length.',
    }),
    paper({
      title: 'A survey of LoRA adapters',
      abstract: 'We review low-rank adaptation for large language models and its variants.',
    }),
    paper({
      title: 'Protein folding with geometric deep learning',
      abstract: 'Equivariant networks predict structures from sequences.',
      categories: ['q-bio.BM'],
    }),
  ];

  it('finds inflected forms through stemming', () => {
    const quantized = ['Efficient inference on edge devices', 'Quantization of large language models'];
    expect(sorted(titlesMatching(papers, 'quantized'))).toEqual(quantized);
    expect(sorted(titlesMatching(papers, 'quantization'))).toEqual(quantized);
    expect(titlesMatching(papers, 'modeling')).toContain('Quantization of large language models');
    expect(titlesMatching(papers, 'models')).toContain('Sequence modeling with state spaces');
  });

  it('ignores case', () => {
    expect(titlesMatching(papers, 'QUANTIZATION')).toEqual(titlesMatching(papers, 'quantization'));
    expect(titlesMatching(papers, 'lora')).toEqual(['A survey of LoRA adapters']);
    expect(titlesMatching(papers, 'LORA')).toEqual(['A survey of LoRA adapters']);
  });

  it('requires every word of an implicit or explicit AND', () => {
    expect(titlesMatching(papers, 'quantized phones')).toEqual(['Efficient inference on edge devices']);
    expect(titlesMatching(papers, 'quantized AND phones')).toEqual(['Efficient inference on edge devices']);
    expect(titlesMatching(papers, 'quantized protein')).toEqual([]);
  });

  it('matches a phrase only where its words stand together, unquoted words anywhere', () => {
    const distillation = [
      paper({
        title: 'Compressing vision models',
        abstract: 'We apply knowledge distillation from a large teacher to a small student.',
      }),
      paper({
        title: 'What do language models know?',
        abstract:
          'We probe the knowledge stored in the weights of pretrained networks across many layers and tasks, ' +
          'and find that distillation of the final layer is enough to recover it.',
      }),
      paper({ title: 'Unrelated work', abstract: 'Nothing about either word.' }),
    ];
    expect(titlesMatching(distillation, '"knowledge distillation"')).toEqual(['Compressing vision models']);
    expect(sorted(titlesMatching(distillation, 'knowledge distillation'))).toEqual([
      'Compressing vision models',
      'What do language models know?',
    ]);
  });

  it('excludes papers with -word, NOT word and -"phrase"', () => {
    const models = titlesMatching(papers, 'models');
    expect(models).toContain('A survey of LoRA adapters');
    const withoutSurveys = models.filter((title) => title !== 'A survey of LoRA adapters');
    expect(titlesMatching(papers, 'models -survey')).toEqual(withoutSurveys);
    expect(titlesMatching(papers, 'models NOT survey')).toEqual(withoutSurveys);
    expect(sorted(titlesMatching(papers, 'models -"large language"'))).toEqual([
      'Efficient inference on edge devices',
      'Sequence modeling with state spaces',
    ]);
    // The words apart do not make the phrase: "language" alone does not exclude.
    expect(titlesMatching(papers, 'attention -"language attention"')).toEqual(
      titlesMatching(papers, 'attention'),
    );
  });

  it('looks only in the title for title: and only in the abstract for abstract:', () => {
    const diffusion = [
      paper({ title: 'Diffusion models for audio', abstract: 'We generate speech from text.' }),
      paper({ title: 'Fast samplers', abstract: 'Diffusion sampling in ten steps.' }),
      paper({ title: 'Weather forecasts', abstract: 'Graph networks.', aiKeywords: ['diffusion'] }),
    ];
    expect(titlesMatching(diffusion, 'title:diffusion')).toEqual(['Diffusion models for audio']);
    expect(titlesMatching(diffusion, 'abstract:diffusion')).toEqual(['Fast samplers']);
    expect(titlesMatching(diffusion, 'title:"diffusion models"')).toEqual(['Diffusion models for audio']);
    expect(titlesMatching(diffusion, 'abstract:"diffusion models"')).toEqual([]);
    expect(titlesMatching(diffusion, 'diffusion')).toHaveLength(3);
  });

  it('matches authors without accents and by surname, in name order only', () => {
    const byAuthor = [
      paper({ title: 'Robust control', authors: ['Maria Lopez', 'Gunther Turk'] }),
      paper({ title: 'Turkish speech recognition', abstract: 'A corpus of Turk and Turkish speakers.' }),
      paper({ title: 'Graph theory', authors: ['Günther Turk'] }),
    ];
    expect(sorted(titlesMatching(byAuthor, 'author:"Günther Turk"'))).toEqual([
      'Graph theory',
      'Robust control',
    ]);
    expect(sorted(titlesMatching(byAuthor, 'author:"gunther turk"'))).toEqual([
      'Graph theory',
      'Robust control',
    ]);
    expect(sorted(titlesMatching(byAuthor, 'author:turk'))).toEqual(['Graph theory', 'Robust control']);
    expect(titlesMatching(byAuthor, 'author:"Turk Gunther"')).toEqual([]);
    expect(titlesMatching(byAuthor, 'author:"Lopez Turk"')).toEqual([]);
    // A bare word looks at authors as well as the text.
    expect(titlesMatching(byAuthor, 'turk')).toHaveLength(3);
  });

  it('matches categories exactly, by archive, and ignoring case', () => {
    const byCategory = [
      paper({ title: 'Learning', categories: ['cs.LG', 'stat.ML'] }),
      paper({ title: 'Vision', categories: ['cs.CV'] }),
      paper({ title: 'Statistics', categories: ['stat.ML'] }),
      paper({ title: 'Combinatorics', categories: ['math.CO'] }),
      paper({ title: 'Mathematical physics', categories: ['math-ph'] }),
    ];
    expect(titlesMatching(byCategory, 'cat:cs.LG')).toEqual(['Learning']);
    expect(titlesMatching(byCategory, 'cat:CS.lg')).toEqual(['Learning']);
    expect(sorted(titlesMatching(byCategory, 'cat:cs'))).toEqual(['Learning', 'Vision']);
    expect(titlesMatching(byCategory, 'cat:math')).toEqual(['Combinatorics']);
    expect(titlesMatching(byCategory, 'cat:math-ph')).toEqual(['Mathematical physics']);
    expect(sorted(titlesMatching(byCategory, 'cat:stat.ML -cat:cs'))).toEqual(['Statistics']);
    expect(titlesMatching(byCategory, 'cat:cs.L')).toEqual([]);
  });

  it('counts AI keywords, but not as one phrase across two keywords', () => {
    const keywords = [
      paper({
        title: 'Sparse routing at scale',
        abstract: 'Experts are chosen per token.',
        aiKeywords: ['mixture of experts', 'load balancing'],
      }),
      paper({
        title: 'Teacher and student',
        abstract: 'A small model imitates a large one.',
        aiKeywords: ['knowledge', 'distillation'],
      }),
    ];
    expect(titlesMatching(keywords, '"mixture of experts"')).toEqual(['Sparse routing at scale']);
    expect(titlesMatching(keywords, 'balancing')).toEqual(['Sparse routing at scale']);
    expect(titlesMatching(keywords, 'knowledge distillation')).toEqual(['Teacher and student']);
    expect(titlesMatching(keywords, '"knowledge distillation"')).toEqual([]);
    expect(titlesMatching(keywords, '"experts load"')).toEqual([]);
  });

  it('matches either side of OR, and nested groups', () => {
    expect(sorted(titlesMatching(papers, 'lora OR protein'))).toEqual([
      'A survey of LoRA adapters',
      'Protein folding with geometric deep learning',
    ]);
    expect(sorted(titlesMatching(papers, '(quantized OR recurrent) -phones'))).toEqual([
      'Quantization of large language models',
      'Sequence modeling with state spaces',
    ]);
    expect(titlesMatching(papers, '((quantized OR lora) (survey OR adapters)) OR cat:q-bio')).toEqual(
      expect.arrayContaining(['A survey of LoRA adapters', 'Protein folding with geometric deep learning']),
    );
    expect(titlesMatching(papers, '((quantized OR lora) (survey OR adapters)) OR cat:q-bio')).toHaveLength(2);
    expect(titlesMatching(papers, 'models -(survey OR phones OR recurrent)')).toEqual([
      'Quantization of large language models',
    ]);
  });

  it('lists the terms that hit, not the ones that missed or excluded', () => {
    const index = buildPaperIndex(papers);
    const matchedFor = (query: string) =>
      Object.fromEntries(
        matchTopic(index, parseTopic(query)).map((match) => [
          (papers[match.paper] as MatchablePaper).title,
          [...match.matched].sort(),
        ]),
      );
    expect(matchedFor('lora OR protein')).toEqual({
      'A survey of LoRA adapters': ['lora'],
      'Protein folding with geometric deep learning': ['protein'],
    });
    expect(matchedFor('title:quantization (weights OR accuracy) -survey')).toEqual({
      'Quantization of large language models': ['accuracy', 'title:quantization', 'weights'],
    });
    expect(matchedFor('"large language" author:lovelace')).toEqual({
      'Quantization of large language models': ['author:lovelace', 'large language'],
      'A survey of LoRA adapters': ['author:lovelace', 'large language'],
    });
  });
});

describe('ranking', () => {
  it('puts a title hit above an abstract-only hit for the same word, whatever the upvotes', () => {
    const papers = [
      paper({
        title: 'Speculative decoding with draft trees',
        abstract: 'We speed up generation by verifying several drafted tokens per step of a large model.',
        upvotes: 0,
      }),
      paper({
        title: 'Serving language models at scale',
        abstract:
          'A production inference stack combining batching, paged memory and speculative decoding ' +
          'to serve many users at low latency on shared accelerators.',
        upvotes: 300,
      }),
      paper({ title: 'Image segmentation', abstract: 'Masks for every pixel.', upvotes: 1000 }),
    ];
    expect(titlesMatching(papers, 'speculative')).toEqual([
      'Speculative decoding with draft trees',
      'Serving language models at scale',
    ]);
    expect(titlesMatching(papers, '"speculative decoding"')).toEqual([
      'Speculative decoding with draft trees',
      'Serving language models at scale',
    ]);
  });

  it('keeps a title hit first against an abstract that repeats the word, on a long title, with 10,000 upvotes', () => {
    const filler = 'on the design of efficient systems for large scale learning';
    for (const repeats of [1, 3, 10, 30]) {
      const papers = [
        paper({ title: `Speculative ${filler} ${filler}`, abstract: 'Nothing about it here.', upvotes: 0 }),
        paper({
          title: 'Serving models',
          abstract: Array.from({ length: repeats }, () => 'speculative').join(' and '),
          upvotes: 10_000,
        }),
        ...Array.from({ length: 20 }, (_, i) => paper({ title: `Short title ${i}`, abstract: 'Short.' })),
      ];
      expect(titlesMatching(papers, 'speculative')[0], `${repeats} repeats`).toMatch(/^Speculative/);
    }
  });

  it('breaks near-ties by upvotes', () => {
    const twin = { title: 'Vision transformers need registers', abstract: 'Attention maps have artifacts.' };
    const papers = [
      paper({ ...twin, upvotes: 3, publishedAt: day(5) }),
      paper({ ...twin, upvotes: 40, publishedAt: day(1) }),
      paper({ ...twin, upvotes: 12, publishedAt: day(3) }),
    ];
    const index = buildPaperIndex(papers);
    const ranked = matchTopic(index, parseTopic('registers'));
    expect(ranked.map((match) => papers[match.paper]?.upvotes)).toEqual([40, 12, 3]);
  });

  it('gives exact ties to the newer paper', () => {
    const twin = { title: 'Vision transformers need registers', abstract: 'Attention maps have artifacts.' };
    const papers = [
      paper({ ...twin, upvotes: 7, publishedAt: day(2) }),
      paper({ ...twin, upvotes: 7, publishedAt: day(9) }),
      paper({ ...twin, upvotes: 7, publishedAt: day(4) }),
    ];
    const index = buildPaperIndex(papers);
    const ranked = matchTopic(index, parseTopic('registers'));
    expect(new Set(ranked.map((match) => match.score)).size).toBe(1);
    expect(ranked.map((match) => match.paper)).toEqual([1, 2, 0]);
  });

  it('gives a subscriber without topics the most upvoted papers, newest first among equals', () => {
    const papers = [
      paper({ title: 'old ten', upvotes: 10, publishedAt: day(1) }),
      paper({ title: 'fifty', upvotes: 50, publishedAt: day(2) }),
      paper({ title: 'new ten', upvotes: 10, publishedAt: day(8) }),
      paper({ title: 'zero', upvotes: 0, publishedAt: day(9) }),
      paper({ title: 'middle ten', upvotes: 10, publishedAt: day(5) }),
    ];
    const index = buildPaperIndex(papers);
    const titles = (limit: number, isExcluded?: (paper: number) => boolean) =>
      rankForTopics(index, [], { limit, isExcluded }).map((ranked) => papers[ranked.paper]?.title);
    expect(titles(10)).toEqual(['fifty', 'new ten', 'middle ten', 'old ten', 'zero']);
    expect(titles(3)).toEqual(['fifty', 'new ten', 'middle ten']);
    expect(titles(2, (i) => i === 1)).toEqual(['new ten', 'middle ten']);
  });

  it('keeps, for each paper, the best of a subscriber’s topics and the topic that gave it', () => {
    const papers = [
      paper({ title: 'Diffusion policies for robots', abstract: 'Imitation learning.' }),
      paper({ title: 'Robots', abstract: 'A diffusion policy is used as a baseline.' }),
    ];
    const index = buildPaperIndex(papers);
    const ranked = rankForTopics(index, ['abstract:policy', 'title:diffusion', 'not valid ('], { limit: 5 });
    expect(ranked.map((entry) => [papers[entry.paper]?.title, entry.topic])).toEqual([
      ['Diffusion policies for robots', 'title:diffusion'],
      ['Robots', 'abstract:policy'],
    ]);
  });
});

describe('the work budget of a match', () => {
  // Abstracts full of common words: the positions a phrase of them has to walk through.
  const commonWords = 'the study of the effect of a model in the data on the results to the end and the rest';
  const papers = Array.from({ length: 40 }, (_, i) =>
    paper({
      title: `Report ${i} on the state of the art`,
      abstract: Array.from({ length: 20 }, () => commonWords).join(' '),
      upvotes: i,
    }),
  );
  papers.push(paper({ title: 'Zyzzyva habitats', abstract: 'A rare word.' }));
  const index = buildPaperIndex(papers);
  const spent = (query: string) => {
    const budget = new MatchBudget(Number.POSITIVE_INFINITY);
    matchTopic(index, parseTopic(query), { budget });
    return budget.spent;
  };
  const commonPhrases = '"of the" OR "in the" OR "on the" OR "to the" OR "and the" OR "of a"';

  it('counts the same work for the same topic every time', () => {
    expect(spent(commonPhrases)).toBe(spent(commonPhrases));
    expect(spent('zyzzyva')).toBe(spent('zyzzyva'));
  });

  it('charges phrases of common words far more than a rare word, and more for each phrase', () => {
    expect(spent('zyzzyva')).toBeLessThan(100);
    expect(spent('"of the"')).toBeGreaterThan(100 * spent('zyzzyva'));
    expect(spent(commonPhrases)).toBeGreaterThan(3 * spent('"of the"'));
    // Each word position of a phrase's papers is read at least once.
    expect(spent('"of the"')).toBeGreaterThan(40 * 20 * 7);
  });

  it('stops with MatchBudgetExceeded, naming its limit, as soon as the work would pass it', () => {
    const needed = spent(commonPhrases);
    const limit = new MatchBudget(needed - 1);
    expect(() => matchTopic(index, parseTopic(commonPhrases), { budget: limit })).toThrow(
      MatchBudgetExceeded,
    );
    expect(limit.spent).toBeLessThanOrEqual(needed);
    try {
      matchTopic(index, parseTopic(commonPhrases), { budget: new MatchBudget(1000) });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MatchBudgetExceeded);
      expect((error as MatchBudgetExceeded).max).toBe(1000);
    }
  });

  it('matches in steps, yielding as the work goes, to the same answer as at once', () => {
    const large = buildPaperIndex(Array.from({ length: 25 }, () => papers).flat());
    const steps = matchTopicSteps(large, parseTopic(commonPhrases));
    let yields = 0;
    for (;;) {
      const step = steps.next();
      if (step.done) {
        expect(step.value).toEqual(matchTopic(large, parseTopic(commonPhrases)));
        break;
      }
      yields++;
    }
    expect(yields).toBeGreaterThan(2);
  });

  it('matches exactly as without a budget when the work fits', () => {
    const query = `${commonPhrases} OR zyzzyva`;
    const needed = spent(query);
    expect(matchTopic(index, parseTopic(query), { budget: new MatchBudget(needed) })).toEqual(
      matchTopic(index, parseTopic(query)),
    );
  });
});

describe('building the index', () => {
  it('keeps no paper: only typed arrays, numbers and one map from term to id', () => {
    const index = buildPaperIndex([paper({ title: 'Quantization of language models' })]);
    const kinds = new Set<string>();
    const walk = (value: unknown): void => {
      if (ArrayBuffer.isView(value) || typeof value === 'number') return;
      if (value instanceof Map) {
        for (const [key, id] of value) kinds.add(`${typeof key} → ${typeof id}`);
      } else if (value && typeof value === 'object' && !Array.isArray(value)) {
        for (const inner of Object.values(value)) walk(inner);
      } else {
        kinds.add(Array.isArray(value) ? 'array' : typeof value);
      }
    };
    walk(index);
    expect([...kinds]).toEqual(['string → number']);
  });

  it('finishes in steps, each a bounded slice of the work, into the same index as at once', () => {
    const papers = Array.from({ length: 2000 }, (_, i) =>
      paper({
        title: `Paper ${i} on quantization`,
        abstract: Array.from({ length: 60 }, (_, j) => `word${(i * 7 + j) % 500}`).join(' '),
        authors: [`Author ${i % 17}`],
        categories: [i % 2 ? 'cs.LG' : 'cs.CL'],
      }),
    );
    const builder = createPaperIndexBuilder();
    for (const one of papers) builder.add(one);
    expect(builder.size).toBe(2000);
    const steps = builder.finish();
    let yields = 0;
    let built: PaperIndex | undefined;
    for (;;) {
      const step = steps.next();
      if (step.done) {
        built = step.value;
        break;
      }
      yields++;
    }
    // 120,000 abstract words: the inversion alone comes back several times per pass.
    expect(yields).toBeGreaterThan(10);
    const whole = buildPaperIndex(papers);
    for (const query of ['quantization', 'word42', '"word1 word2"', 'author:"author 3"', 'cat:cs']) {
      expect(matchTopic(built, parseTopic(query))).toEqual(matchTopic(whole, parseTopic(query)));
    }
  });
});

describe('the best matches alone (what a preview shows)', () => {
  it('are the first of all matches among the papers let through, with the same scores and terms', () => {
    const random = createRandom(3);
    const generated = generatePapers(random, 600, new Date('2026-08-01T00:00:00Z'));
    const index = buildPaperIndex(
      generated.records.map((record) => ({
        ...record,
        categories: record.categories ?? [],
        upvotes: record.upvotes ?? 0,
      })),
    );
    const topics = generateTopics(random, generated.records, generated.prolificAuthors, 150);
    let compared = 0;
    for (const topic of topics) {
      const ast = parseTopic(topic);
      const all = matchTopic(index, ast);
      for (const [limit, isIncluded] of [
        [5, undefined],
        [20, (paper: number) => paper % 3 !== 0],
        [1, (paper: number) => paper > 300],
      ] as const) {
        const kept = isIncluded ? all.filter((match) => isIncluded(match.paper)) : all;
        const top = runSteps(topMatchesSteps(index, ast, { limit, isIncluded }));
        expect(top, topic).toEqual({ total: kept.length, matches: kept.slice(0, limit) });
        if (kept.length > limit) compared++;
      }
    }
    expect(compared).toBeGreaterThan(50);
  });
});

describe('tokenize', () => {
  it('gives ASCII text the same tokens on its fast path as the Unicode path gives', () => {
    const random = createRandom(7);
    const alphabet = 'abcXYZ019 -_.,;:!?()[]{}"\'/\\@#$%^&*+=<>|~`\t\n';
    for (let i = 0; i < 500; i++) {
      const text = Array.from(
        { length: random.int(0, 80) },
        () => alphabet[random.int(0, alphabet.length - 1)],
      ).join('');
      expect({ text, tokens: tokenize(text) }).toEqual({ text, tokens: unicodeTokens(text) });
    }
    const abstract = generatePapers(random, 3, new Date('2026-03-01T00:00:00Z')).records.map(
      (paper) => paper.abstract,
    );
    for (const text of abstract) expect(tokenize(text)).toEqual(unicodeTokens(text));
  });

  it('gives mixed text, word by word, the tokens the Unicode path gives the whole of it', () => {
    const random = createRandom(11);
    // Accents precomposed and combining, a final sigma, ligatures and compatibility forms that
    // decompose to letters (ﬁ, ㎏, ½), spaces that are not ASCII (NBSP, U+2003, U+FEFF, which is
    // case-ignorable), dotted İ, ß, other scripts, and ASCII white space and punctuation between.
    const pieces = [
      'a',
      'Z',
      '7',
      ' ',
      ' ',
      '\t',
      '\n',
      '-',
      "'",
      '.',
      'é',
      'É',
      'e\u0301',
      '\u0301',
      'Σ',
      'σ',
      'ΟΔΟΣ',
      'Ω',
      'ﬁ',
      '㎏',
      '½',
      '\u00a0',
      '\u2003',
      '\ufeff',
      'İ',
      'ß',
      'デ',
      'й',
      '·',
      'Günther',
      'naïve',
    ];
    for (let i = 0; i < 2000; i++) {
      const text = Array.from(
        { length: random.int(0, 24) },
        () => pieces[random.int(0, pieces.length - 1)],
      ).join('');
      expect({ text, tokens: tokenize(text) }).toEqual({ text, tokens: unicodeTokens(text) });
    }
  });

  it('folds accents and keeps other scripts whole off the fast path', () => {
    expect(tokenize('Günther’s LLaMA-2 naïve Ωmega')).toEqual([
      'gunther',
      's',
      'llama',
      '2',
      'naive',
      'ωmega',
    ]);
    expect(tokenize('デジタル 123')).toEqual(['デジタル', '123']);
  });
});
