import type { FeedbackKind } from '../db/schema.js';
import { isStopword, stem, tokenize } from '../topics/tokens.js';

/** What similarity reads of a paper: the engine's own fields, stemmed as topics stem them. */
export interface SimilarityPaper {
  id: number;
  title: string;
  abstract: string;
  authors: readonly string[];
  categories: readonly string[];
  aiKeywords?: readonly string[] | null;
}

/** A paper as a unit-length TF-IDF vector: feature ids ascending, and their weights. */
export interface PaperVector {
  ids: Uint32Array;
  weights: Float32Array;
}

/**
 * Feature weights per occurrence. A title word says more about a paper than an abstract word, as in
 * ranking (match.ts); a shared author is a strong sign of the same line of work, a shared category a
 * weak one (most candidates share cs.LG or cs.CV), which IDF weighs down further.
 */
const weights = { title: 3, keywords: 2, abstract: 1, author: 2, category: 0.5 };

/** Each feature of a paper and its raw weight (summed occurrences), before IDF. */
function featuresOf(paper: SimilarityPaper): Map<string, number> {
  const features = new Map<string, number>();
  const add = (feature: string, weight: number) =>
    features.set(feature, (features.get(feature) ?? 0) + weight);
  const addText = (text: string, weight: number) => {
    for (const token of tokenize(text)) if (!isStopword(token)) add(`t:${stem(token)}`, weight);
  };
  addText(paper.title, weights.title);
  for (const keyword of paper.aiKeywords ?? []) addText(keyword, weights.keywords);
  addText(paper.abstract, weights.abstract);
  for (const author of paper.authors) add(`a:${tokenize(author).join(' ')}`, weights.author);
  for (const category of paper.categories) add(`c:${category.toLowerCase()}`, weights.category);
  return features;
}

/**
 * The features a vector keeps: a paper's heaviest, which say what it is about (its rare title words,
 * authors, keywords). Near-copies keep the same ones; and a cosine then costs tens of steps, not hundreds.
 */
const vectorLength = 32;

/**
 * Vectors over one set of candidate papers, whose document frequencies give the IDF: candidates'
 * vectors by their place in the set, and any other paper's (a reader's feedback) by its id, each made
 * once per set. Built on first use: a run whose readers gave no feedback pays nothing.
 */
export function createSimilarity(candidates: readonly SimilarityPaper[]) {
  let built:
    | { featureIds: Map<string, number>; documentFrequency: number[]; vectors: PaperVector[] }
    | undefined;
  const others = new Map<number, PaperVector>();
  const maxOthers = 20_000;

  function vectorFrom(
    features: Map<string, number>,
    featureIds: Map<string, number>,
    df: readonly number[],
  ): PaperVector {
    const count = candidates.length;
    const weighted: { feature: string; id: number | undefined; weight: number }[] = [];
    for (const [feature, raw] of features) {
      const id = featureIds.get(feature);
      // Rare everywhere: a feature no candidate has gets the highest IDF. It cannot be shared with a
      // candidate, but it counts in the length, so a paper is not "similar" on the little it shares.
      const idf = Math.log(1 + count / (1 + (id === undefined ? 0 : (df[id] as number))));
      weighted.push({ feature, id, weight: (1 + Math.log(raw)) * idf });
    }
    weighted.sort((x, y) => y.weight - x.weight || (x.feature < y.feature ? -1 : 1));
    const kept = weighted.slice(0, vectorLength);
    let norm = 0;
    for (const { weight } of kept) norm += weight * weight;
    const length = Math.sqrt(norm) || 1;
    const entries = kept
      .filter((entry) => entry.id !== undefined)
      .sort((x, y) => (x.id as number) - (y.id as number));
    return {
      ids: Uint32Array.from(entries, (entry) => entry.id as number),
      weights: Float32Array.from(entries, (entry) => entry.weight / length),
    };
  }

  function build() {
    const featureIds = new Map<string, number>();
    const documentFrequency: number[] = [];
    const all = candidates.map(featuresOf);
    for (const features of all) {
      for (const feature of features.keys()) {
        let id = featureIds.get(feature);
        if (id === undefined) {
          id = featureIds.size;
          featureIds.set(feature, id);
          documentFrequency.push(0);
        }
        documentFrequency[id] = (documentFrequency[id] as number) + 1;
      }
    }
    const vectors = all.map((features) => vectorFrom(features, featureIds, documentFrequency));
    return { featureIds, documentFrequency, vectors };
  }

  const ready = () => {
    built ??= build();
    return built;
  };

  /** One feedback paper's weights by feature id, spread out while the pool is scored against it. */
  let spread: Float32Array | undefined;

  /**
   * `feedbackEffect` for many candidates at once, the same numbers: each feedback vector is spread
   * into a dense array once and every candidate's features read from it, instead of merging each
   * pair of vectors.
   */
  function effects(places: readonly number[], feedback: readonly FeedbackVector[]): FeedbackEffect[] {
    const { featureIds } = ready();
    spread ??= new Float32Array(featureIds.size);
    const dense = spread;
    const closest = places.map(() => ({ more: 0, less: 0, toMore: -1, toLess: -1 }));
    feedback.forEach((given, f) => {
      const { ids, weights } = given.vector;
      for (let k = 0; k < ids.length; k++) dense[ids[k] as number] = weights[k] as number;
      places.forEach((at, i) => {
        const { ids: cIds, weights: cWeights } = ready().vectors[at] as PaperVector;
        let sum = 0;
        for (let k = 0; k < cIds.length; k++)
          sum += (cWeights[k] as number) * (dense[cIds[k] as number] as number);
        const best = closest[i] as (typeof closest)[number];
        if (given.kind === 'more' && sum > best.more) {
          best.more = sum;
          best.toMore = f;
        } else if (given.kind === 'less' && sum > best.less) {
          best.less = sum;
          best.toLess = f;
        }
      });
      for (let k = 0; k < ids.length; k++) dense[ids[k] as number] = 0;
    });
    return closest.map((best) =>
      effectOf(best.more, best.less, feedback[best.toMore], feedback[best.toLess]),
    );
  }

  return {
    effects,
    /** The vector of the candidate at `at`. */
    candidate(at: number): PaperVector {
      return ready().vectors[at] as PaperVector;
    },
    /** The vector of any paper, weighed by this set's IDF: kept by id for the rest of the run. */
    paper(paper: SimilarityPaper): PaperVector {
      let vector = others.get(paper.id);
      if (!vector) {
        const { featureIds, documentFrequency } = ready();
        vector = vectorFrom(featuresOf(paper), featureIds, documentFrequency);
        if (others.size >= maxOthers) others.clear();
        others.set(paper.id, vector);
      }
      return vector;
    },
  };
}
export type Similarity = ReturnType<typeof createSimilarity>;

/** Cosine of two unit vectors: the sum over the features both have. */
export function cosine(a: PaperVector, b: PaperVector): number {
  let sum = 0;
  let i = 0;
  let j = 0;
  while (i < a.ids.length && j < b.ids.length) {
    const x = a.ids[i] as number;
    const y = b.ids[j] as number;
    if (x === y) sum += (a.weights[i++] as number) * (b.weights[j++] as number);
    else if (x < y) i++;
    else j++;
  }
  return sum;
}

/** One paper the reader gave feedback on, as re-ranking reads it. */
export interface FeedbackVector {
  kind: FeedbackKind;
  title: string;
  vector: PaperVector;
}

/**
 * How feedback moves a matched paper (docs/ARCHITECTURE.md, "Feedback"): its score is multiplied by a
 * factor within 1 ± `maxShift`, toward papers liked and away from papers disliked, by the cosine of
 * the closest of each (a cosine of `fullAt` or more moves it all the way). A paper that near-duplicates
 * a disliked one (cosine ≥ `nearDuplicate`, and closer to it than to any liked one) sinks below every
 * other pick. Feedback never adds a paper: only what the reader's topics matched is re-ranked.
 */
export const feedbackRule = { maxShift: 0.25, fullAt: 0.35, nearDuplicate: 0.8, showFrom: 0.1 };

export interface FeedbackEffect {
  /** Multiplies the paper's score. */
  factor: number;
  /** Below every other pick, whatever its score. */
  isSunk: boolean;
  /** The liked or disliked paper that moved it most, to tell the reader why. */
  because?: { kind: FeedbackKind; title: string };
}

const unchanged: FeedbackEffect = { factor: 1, isSunk: false };

/** The effect of the closest liked and disliked papers (`undefined`: none with a positive cosine). */
function effectOf(
  more: number,
  less: number,
  closestMore: FeedbackVector | undefined,
  closestLess: FeedbackVector | undefined,
): FeedbackEffect {
  if (!closestMore && !closestLess) return unchanged;
  const { maxShift, fullAt, nearDuplicate, showFrom } = feedbackRule;
  if (closestLess && less >= nearDuplicate && less > more) {
    return { factor: 1, isSunk: true, because: { kind: 'less', title: closestLess.title } };
  }
  const shift = Math.max(-1, Math.min(1, (more - less) / fullAt)) * maxShift;
  const closest = more >= less ? closestMore : closestLess;
  const isShown = closest !== undefined && Math.max(more, less) >= showFrom && shift !== 0;
  return {
    factor: 1 + shift,
    isSunk: false,
    because: isShown ? { kind: closest === closestMore ? 'more' : 'less', title: closest.title } : undefined,
  };
}

/** The rule for one paper, pair by pair: what `Similarity.effects` computes for many at once. */
export function feedbackEffect(paper: PaperVector, feedback: readonly FeedbackVector[]): FeedbackEffect {
  let more = 0;
  let less = 0;
  let closestMore: FeedbackVector | undefined;
  let closestLess: FeedbackVector | undefined;
  for (const given of feedback) {
    const similarity = cosine(paper, given.vector);
    if (given.kind === 'more' && similarity > more) {
      more = similarity;
      closestMore = given;
    } else if (given.kind === 'less' && similarity > less) {
      less = similarity;
      closestLess = given;
    }
  }
  return effectOf(more, less, closestMore, closestLess);
}
