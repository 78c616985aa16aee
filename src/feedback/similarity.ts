import type { FeedbackKind } from '../db/schema.js';
import { type Features, featureWeight, type SimilarityText, similarityFeatures } from '../topics/similar.js';

/** What similarity reads of a paper (`similarityFeatures`), and what it is kept by. */
export interface SimilarityPaper extends SimilarityText {
  id: number;
  /** Its text may change with an update: features are kept per id and update. */
  updatedAt?: Date;
}

/** A paper as a unit-length TF-IDF vector: feature ids ascending, and their weights. */
export interface PaperVector {
  ids: Uint32Array;
  weights: Float32Array;
}

/**
 * Features by paper (id and last update), kept across candidate sets: a reader's feedback papers and
 * the candidates of the next set are mostly the same papers, and tokenizing is the costly part.
 */
const featureCache = new Map<string, Features>();
const featureCacheSize = 5_000;

function featuresOf(paper: SimilarityPaper): Features {
  const key = `${paper.id}:${paper.updatedAt?.getTime() ?? 0}`;
  const cached = featureCache.get(key);
  if (cached) return cached;
  const features = similarityFeatures(paper);
  if (featureCache.size >= featureCacheSize) featureCache.delete(featureCache.keys().next().value as string);
  featureCache.set(key, features);
  return features;
}

/**
 * The features a vector keeps: a paper's heaviest, which say what it is about (its rare title words,
 * authors, keywords). Near-copies keep the same ones; and a cosine then costs tens of steps, not hundreds.
 */
const vectorLength = 64;
/** More features than any paper has (its place in the list is packed below its id). */
const placeRange = 2 ** 20;

/**
 * Vectors over one set of candidate papers, whose document frequencies give the IDF: candidates'
 * vectors by their place in the set, and any other paper's (a reader's feedback) by its id, each made
 * once per set. Built on first use: a run whose readers gave no feedback pays nothing.
 */
export function createSimilarity(candidates: readonly SimilarityPaper[]) {
  let built:
    | { featureIds: Map<string, number>; documentFrequency: Uint32Array; vectors: PaperVector[] }
    | undefined;
  const others = new Map<number, PaperVector>();
  const maxOthers = 20_000;

  function vectorFrom(
    features: Features,
    documentFrequency: Uint32Array,
    featureIds: Map<string, number>,
  ): PaperVector {
    const { names, raw } = features;
    const ids = new Int32Array(names.length);
    const weighted = new Float64Array(names.length);
    for (let i = 0; i < names.length; i++) {
      const id = featureIds.get(names[i] as string) ?? -1;
      ids[i] = id;
      // Rare everywhere: a feature no candidate has gets the highest IDF. It cannot be shared with a
      // candidate, but it counts in the length, so a paper is not "similar" on the little it shares.
      const df = id === -1 ? 0 : (documentFrequency[id] as number);
      weighted[i] = featureWeight(raw[i] as number, df, candidates.length);
    }
    // The heaviest features; on a tie the ones that appeared first. The cut is the weight of the last
    // one kept, found by a native sort of the weights alone.
    const cut =
      names.length <= vectorLength ? -1 : (weighted.slice().sort()[names.length - vectorLength] as number);
    let atCut = vectorLength;
    for (const weight of weighted) if (weight > cut) atCut--;
    // Kept and known features as `id · 2^20 + place`, sorted: ids ascending (exact in a double).
    const keys: number[] = [];
    let norm = 0;
    for (let i = 0; i < names.length; i++) {
      const weight = weighted[i] as number;
      if (weight > cut || (weight === cut && atCut-- > 0)) {
        norm += weight * weight;
        if ((ids[i] as number) !== -1) keys.push((ids[i] as number) * placeRange + i);
      }
    }
    const sorted = Float64Array.from(keys).sort();
    const length = Math.sqrt(norm) || 1;
    const vector = { ids: new Uint32Array(sorted.length), weights: new Float32Array(sorted.length) };
    for (let k = 0; k < sorted.length; k++) {
      const key = sorted[k] as number;
      vector.ids[k] = Math.floor(key / placeRange);
      vector.weights[k] = (weighted[key % placeRange] as number) / length;
    }
    return vector;
  }

  function build() {
    const featureIds = new Map<string, number>();
    const documentFrequency: number[] = [];
    const all = candidates.map(featuresOf);
    for (const features of all) {
      for (const feature of features.names) {
        let id = featureIds.get(feature);
        if (id === undefined) {
          id = featureIds.size;
          featureIds.set(feature, id);
          documentFrequency.push(0);
        }
        documentFrequency[id] = (documentFrequency[id] as number) + 1;
      }
    }
    const frequencies = Uint32Array.from(documentFrequency);
    const vectors = all.map((features) => vectorFrom(features, frequencies, featureIds));
    return { featureIds, documentFrequency: frequencies, vectors };
  }

  const ready = () => {
    built ??= build();
    return built;
  };
  /** The vector of the candidate at `at`. */
  const vectorOf = (at: number) => ready().vectors[at] as PaperVector;

  /** A sparse vector's weights by feature id, spread out while the pool is scored against it. */
  let spread: Float64Array | undefined;

  /** `out[i] = dot(vector of places[i], vector)`: the vector spread once, each place's features read. */
  function dots(places: readonly number[], vector: SparseVector, out: Float64Array) {
    spread ??= new Float64Array(ready().featureIds.size);
    const dense = spread;
    const { ids, weights } = vector;
    for (let k = 0; k < ids.length; k++) dense[ids[k] as number] = weights[k] as number;
    for (let i = 0; i < places.length; i++) {
      const { ids: placeIds, weights: placeWeights } = vectorOf(places[i] as number);
      let sum = 0;
      for (let k = 0; k < placeIds.length; k++) {
        sum += (placeWeights[k] as number) * (dense[placeIds[k] as number] as number);
      }
      out[i] = sum;
    }
    for (let k = 0; k < ids.length; k++) dense[ids[k] as number] = 0;
  }

  /**
   * `feedbackEffect` for many candidates at once, the same numbers: each vector is spread into a
   * dense array once and every candidate's features read from it, instead of merging pairs.
   */
  function effects(places: readonly number[], feedback: readonly FeedbackVector[]): FeedbackEffect[] {
    const count = places.length;
    const profile = profileOf(feedback);
    const toward = new Float64Array(count);
    const away = new Float64Array(count);
    if (profile.more) dots(places, profile.more, toward);
    if (profile.less) dots(places, profile.less, away);
    // The closest disliked paper, for near-copies and the reason of a paper moved down. The closest
    // liked one matters only to a near-copy's test (merged for those few) and to the reasons of the
    // picks shown (`closestLiked`), so the pool is not scored against every liked paper.
    const less = new Float64Array(count);
    const toLess = new Int32Array(count).fill(-1);
    const similarity = new Float64Array(count);
    feedback.forEach((given, f) => {
      if (given.kind !== 'less') return;
      dots(places, given.vector, similarity);
      for (let i = 0; i < count; i++) {
        if ((similarity[i] as number) > (less[i] as number)) {
          less[i] = similarity[i] as number;
          toLess[i] = f;
        }
      }
    });
    return places.map((at, i) => {
      const isNearCopy = (less[i] as number) >= feedbackRule.nearDuplicate;
      const more = isNearCopy ? (closestOf(vectorOf(at), feedback, 'more')?.similarity ?? 0) : 0;
      return effectOf(
        { toward: toward[i] as number, away: away[i] as number, more, less: less[i] as number },
        feedback[toLess[i] as number],
      );
    });
  }

  return {
    effects,
    /** The liked paper closest to the candidate at `at`: the reason a paper moved up. */
    closestLiked(at: number, feedback: readonly FeedbackVector[]) {
      return closestOf(vectorOf(at), feedback, 'more')?.given;
    },
    /** The vector of the candidate at `at`. */
    candidate: vectorOf,
    /** The vector of any paper, weighed by this set's IDF: kept by id for the rest of the run. */
    paper(paper: SimilarityPaper): PaperVector {
      let vector = others.get(paper.id);
      if (!vector) {
        const { featureIds, documentFrequency } = ready();
        // Not kept in the feature cache: a reader's papers would push out the candidates of the next set.
        vector = vectorFrom(similarityFeatures(paper), documentFrequency, featureIds);
        if (others.size >= maxOthers) others.clear();
        others.set(paper.id, vector);
      }
      return vector;
    },
  };
}

/** A sparse vector: ids ascending, and their weights. */
export interface SparseVector {
  ids: Uint32Array;
  weights: ArrayLike<number>;
}

/** Cosine of two unit vectors: the sum over the features both have. */
export function cosine(a: SparseVector, b: SparseVector): number {
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

/** The unit-length mean of some unit vectors (Rocchio's centroid); undefined for none. */
function centroidOf(vectors: readonly PaperVector[]): SparseVector | undefined {
  if (vectors.length === 0) return undefined;
  const sums = new Map<number, number>();
  for (const { ids, weights } of vectors) {
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k] as number;
      sums.set(id, (sums.get(id) ?? 0) + (weights[k] as number));
    }
  }
  const ids = Uint32Array.from(sums.keys()).sort();
  let norm = 0;
  for (const id of ids) norm += (sums.get(id) as number) ** 2;
  const length = Math.sqrt(norm) || 1;
  return { ids, weights: Float64Array.from(ids, (id) => (sums.get(id) as number) / length) };
}

/** What the reader's feedback has in common: the centroid of the papers liked, and of those disliked. */
function profileOf(feedback: readonly FeedbackVector[]) {
  const of = (kind: FeedbackKind) =>
    centroidOf(feedback.filter((given) => given.kind === kind).map((given) => given.vector));
  return { more: of('more'), less: of('less') };
}

/**
 * How feedback moves a matched paper (docs/ARCHITECTURE.md, "Feedback"), Rocchio's way: toward what
 * the papers liked have in common and away from what the disliked ones have, by the paper's cosine to
 * each centroid. Its score is multiplied by `1 + maxShift · clamp((toward − away) / fullAt, −1, 1)`:
 * within 1 ± `maxShift`. A paper that near-duplicates one disliked paper (cosine ≥ `nearDuplicate`,
 * and closer to it than to any liked one) sinks below every other pick. The card names the liked (or
 * disliked) paper closest to it when the move is at least `showFrom` of the full one. Feedback never
 * adds a paper: only what the reader's topics matched is re-ranked.
 */
export const feedbackRule = { maxShift: 0.25, fullAt: 0.15, nearDuplicate: 0.8, showFrom: 0.25 };

export interface FeedbackEffect {
  /** Multiplies the paper's score. */
  factor: number;
  /** From −1 (moved down all the way) to 1 (up all the way). */
  move: number;
  /** Below every other pick, whatever its score. */
  isSunk: boolean;
  /** The liked or disliked paper that moved it most, to tell the reader why. */
  because?: { kind: FeedbackKind; title: string };
}

const unchanged: FeedbackEffect = { factor: 1, move: 0, isSunk: false };

/** One paper's cosines: to the two centroids, and to the closest liked and disliked papers. */
interface Closeness {
  toward: number;
  away: number;
  more: number;
  less: number;
}

/** The feedback paper of one kind closest to `vector`, if any has a positive cosine. */
function closestOf(vector: PaperVector, feedback: readonly FeedbackVector[], kind: FeedbackKind) {
  let closest: { given: FeedbackVector; similarity: number } | undefined;
  for (const given of feedback) {
    if (given.kind !== kind) continue;
    const similarity = cosine(vector, given.vector);
    if (similarity > (closest?.similarity ?? 0)) closest = { given, similarity };
  }
  return closest;
}

/**
 * The rule, from a paper's cosines. The reason of a paper moved down (or sunk) is the closest disliked
 * paper; that of a paper moved up, the closest liked one, is left to the caller (`closestLiked`).
 */
function effectOf(closeness: Closeness, closestLess: FeedbackVector | undefined): FeedbackEffect {
  const { toward, away, more, less } = closeness;
  const { maxShift, fullAt, nearDuplicate, showFrom } = feedbackRule;
  if (closestLess && less >= nearDuplicate && less > more) {
    return { factor: 1, move: 0, isSunk: true, because: { kind: 'less', title: closestLess.title } };
  }
  const move = Math.max(-1, Math.min(1, (toward - away) / fullAt));
  if (move === 0) return unchanged;
  const isShown = Math.abs(move) >= showFrom;
  return {
    factor: 1 + move * maxShift,
    move,
    isSunk: false,
    because: isShown && move < 0 && closestLess ? { kind: 'less', title: closestLess.title } : undefined,
  };
}

/** Whether a paper moved up by this effect is named with the liked paper closest to it. */
export const isExplainedUp = (effect: FeedbackEffect) => effect.move >= feedbackRule.showFrom;

/** The rule for one paper, pair by pair: what `createSimilarity`'s `effects` and `closestLiked` compute for many. */
export function feedbackEffect(paper: PaperVector, feedback: readonly FeedbackVector[]): FeedbackEffect {
  const profile = profileOf(feedback);
  const closestMore = closestOf(paper, feedback, 'more');
  const closestLess = closestOf(paper, feedback, 'less');
  const effect = effectOf(
    {
      toward: profile.more ? cosine(paper, profile.more) : 0,
      away: profile.less ? cosine(paper, profile.less) : 0,
      more: closestMore?.similarity ?? 0,
      less: closestLess?.similarity ?? 0,
    },
    closestLess?.given,
  );
  if (!isExplainedUp(effect) || !closestMore) return effect;
  return { ...effect, because: { kind: 'more', title: closestMore.given.title } };
}
