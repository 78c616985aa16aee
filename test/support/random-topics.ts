// Random papers and topics for comparing the engine with naive definitions. The benchmarks' seeded
// generator (mulberry32), so a failure reproduces exactly.
import type { createRandom } from '../../bench/fixtures/random.js';
import { compareMatches, type MatchablePaper, matchTopic, type PaperIndex } from '../../src/topics/match.js';
import { parseTopic } from '../../src/topics/parse.js';

type Random = ReturnType<typeof createRandom>;

// ~200 words, with inflections that stem together (model/models/modeling) and a few stopwords.
const vocabulary = `
  model models modeling modelling language languages large scale learning learned learner transformer
  transformers attention sparse dense quantization quantized quantizing pruning pruned distillation
  distilled knowledge teacher student diffusion denoising score flow matching generative generation
  generate image images video audio speech text token tokens tokenizer embedding embeddings retrieval
  retrieve augmented reasoning chain thought planning agent agents tool tools reinforcement reward
  rewards policy policies preference alignment aligned human feedback instruction instructions tuning
  tuned fine efficient efficiency inference serving latency memory cache compression compressed
  low rank adapter adapters lora mixture experts routing router expert benchmark benchmarks evaluation
  evaluating survey review dataset datasets synthetic data training pretraining scaling law laws
  optimizer optimization gradient descent stochastic convergence theory theoretical bound bounds
  graph graphs neural network networks convolutional recurrent state space mamba linear nonlinear
  kernel kernels gaussian process bayesian uncertainty calibration robust robustness adversarial attack
  attacks privacy federated differential secure safety safe jailbreak red teaming hallucination
  factual multimodal vision visual segmentation detection depth 3d point cloud robot robotics
  manipulation control navigation simulation world physics protein molecule molecular drug chemistry
  math mathematical proof theorem code program synthesis software bug repair long context window
  speculative decoding sampling search tree monte carlo causal counterfactual explanation interpretable
  interpretability circuit circuits neurons features the of a in for with on and to
`
  .trim()
  .split(/\s+/);

const categories = [
  'cs.LG',
  'cs.CL',
  'cs.CV',
  'cs.AI',
  'cs.RO',
  'cs.CR',
  'stat.ML',
  'math.OC',
  'math.ST',
  'math-ph',
  'eess.AS',
  'q-bio.BM',
  'physics.comp-ph',
];
const firstNames = [
  'Yann',
  'Günther',
  'Gunther',
  'Ada',
  'Li',
  'Wei',
  'María',
  'José',
  'Chloé',
  'Søren',
  'Anil',
];
const surnames = [
  'LeCun',
  'Turk',
  'Lovelace',
  'Zhang',
  'Wang',
  'García',
  'Müller',
  'Ng',
  'Dubois',
  'Kowalski',
];

export function makePapers(random: Random, count: number): MatchablePaper[] {
  const sentence = (min: number, max: number) =>
    Array.from({ length: random.int(min, max) }, () => random.pick(vocabulary)).join(' ');
  return Array.from({ length: count }, (_, i) => {
    const title = sentence(4, 12);
    return {
      title: random.chance(0.3) ? `${title}: ${sentence(2, 5)}` : title,
      // Now and then a paper without an abstract.
      abstract:
        i % 50 === 0 ? '' : Array.from({ length: random.int(2, 6) }, () => `${sentence(6, 20)}.`).join(' '),
      authors: Array.from(
        { length: random.int(1, 6) },
        () => `${random.pick(firstNames)} ${random.pick(surnames)}`,
      ),
      categories: [...new Set(Array.from({ length: random.int(1, 3) }, () => random.pick(categories)))],
      aiKeywords: random.chance(0.8) ? Array.from({ length: random.int(0, 5) }, () => sentence(1, 3)) : null,
      // Mostly few upvotes, some many; repeats on purpose so that ties happen.
      upvotes: Math.floor(random.next() ** 3 * (random.chance(0.1) ? 2000 : 120)),
      // Seven days of papers, on the hour: equal dates happen too.
      publishedAt: new Date(Date.UTC(2026, 2, random.int(1, 7), random.int(0, 23))),
    };
  });
}

/** A random topic from the grammar: words, phrases taken from real abstracts, OR, exclusions, fields. */
export function makeQuery(random: Random, papers: readonly MatchablePaper[]): string {
  const word = () => {
    const chosen = random.pick(vocabulary);
    return random.chance(0.15) ? chosen.toUpperCase() : chosen;
  };
  const phrase = () => {
    const words = random.pick(papers).abstract.replace(/\./g, '').split(' ').filter(Boolean);
    if (words.length < 2) return `"${word()} ${word()}"`;
    const start = random.int(0, words.length - 2);
    return `"${words.slice(start, start + 2).join(' ')}"`;
  };
  const leaf = (): string => {
    const roll = random.next();
    if (roll < 0.45) return word();
    if (roll < 0.6) return phrase();
    if (roll < 0.7) return `title:${word()}`;
    if (roll < 0.75) return `abstract:${random.chance(0.5) ? word() : phrase()}`;
    if (roll < 0.82)
      return random.chance(0.5)
        ? `author:${random.pick(surnames)}`
        : `author:"${random.pick(firstNames)} ${random.pick(surnames)}"`;
    if (roll < 0.9)
      return `cat:${random.chance(0.7) ? random.pick(categories) : random.pick(['cs', 'math', 'stat'])}`;
    return `${word()}-${word()}`;
  };
  const exclusion = () => {
    const roll = random.next();
    if (roll < 0.5) return `-${leaf()}`;
    if (roll < 0.75) return `NOT ${leaf()}`;
    return `-(${leaf()} OR ${leaf()})`;
  };
  const group = (depth: number): string => {
    const parts = Array.from({ length: random.chance(0.5) ? 1 : 2 }, () =>
      depth === 0 && random.chance(0.15) ? `(${alternatives(depth + 1)})` : leaf(),
    );
    if (random.chance(0.3)) parts.push(exclusion());
    return parts.join(random.chance(0.2) ? ' AND ' : ' ');
  };
  const alternatives = (depth: number): string =>
    Array.from({ length: random.chance(0.3) ? random.int(2, 3) : 1 }, () => group(depth)).join(' OR ');
  return alternatives(0);
}

/**
 * The ranking's definition (SPEC §7), without shortcuts: every match of every topic that is offered,
 * each paper at its best score, sorted, cut at `limit`. Topics that do not parse match nothing.
 */
export function rankNaively(
  index: PaperIndex,
  topics: readonly string[],
  options: { limit: number; isOffered?: (paper: number) => boolean },
) {
  const best = new Map<number, { paper: number; score: number; topic: string; matched: string[] }>();
  for (const topic of topics) {
    let matches: ReturnType<typeof matchTopic> = [];
    try {
      matches = matchTopic(index, parseTopic(topic));
    } catch {}
    for (const match of matches) {
      if (options.isOffered && !options.isOffered(match.paper)) continue;
      const current = best.get(match.paper);
      if (!current || match.score > current.score) best.set(match.paper, { ...match, topic });
    }
  }
  return [...best.values()].sort(compareMatches(index)).slice(0, options.limit);
}
