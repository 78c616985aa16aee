import { compareMatches, type PaperIndex, runSteps, type TopicMatch, upvoteBoost } from './match.js';
import { isStopStem, stem, tokenize } from './tokens.js';

/** What similarity reads of a paper: the fields topics match, tokenized and stemmed the same way. */
export interface SimilarityText {
  title: string;
  abstract: string;
  authors: readonly string[];
  categories: readonly string[];
  aiKeywords?: readonly string[] | null;
}

/**
 * Feature weights per occurrence. A title word says more about a paper than an abstract word, as in
 * ranking (match.ts); an author's name is a strong sign of the same line of work, a category a weak
 * one (most papers share cs.LG or cs.CV), which IDF weighs down further.
 */
export const similarityWeights = { title: 3, keywords: 2, abstract: 1, author: 2, category: 0.5 };

/** A paper's features and their raw weights (summed occurrences), in order of appearance. */
export interface Features {
  names: string[];
  raw: number[];
}

/** A token's feature (`t:` and its stem), or null for a stop word: made once per distinct token. */
const textFeatures = new Map<string, string | null>();

function textFeatureOf(token: string): string | null {
  let feature = textFeatures.get(token);
  if (feature === undefined) {
    const stemmed = stem(token);
    feature = isStopStem(stemmed) ? null : `t:${stemmed}`;
    if (textFeatures.size >= 200_000) textFeatures.clear();
    textFeatures.set(token, feature);
  }
  return feature;
}

/**
 * What a paper is about, as features: `t:` and each stem of its title, keywords and abstract (stop
 * words left out), `a:` and each token of its authors' names, `c:` and each category and archive.
 * An author token or a category counts once per paper. The one definition that re-ranking by feedback
 * (feedback/similarity.ts) and `like:` (below) both use.
 */
export function similarityFeatures(paper: SimilarityText): Features {
  const at = new Map<string, number>();
  const features: Features = { names: [], raw: [] };
  const add = (feature: string, weight: number, once = false) => {
    const i = at.get(feature);
    if (i === undefined) {
      at.set(feature, features.names.length);
      features.names.push(feature);
      features.raw.push(weight);
    } else if (!once) {
      features.raw[i] = (features.raw[i] as number) + weight;
    }
  };
  const addText = (text: string, weight: number) => {
    for (const token of tokenize(text)) {
      const feature = textFeatureOf(token);
      if (feature !== null) add(feature, weight);
    }
  };
  addText(paper.title, similarityWeights.title);
  for (const keyword of paper.aiKeywords ?? []) addText(keyword, similarityWeights.keywords);
  addText(paper.abstract, similarityWeights.abstract);
  for (const author of paper.authors) {
    for (const token of tokenize(author)) add(`a:${token}`, similarityWeights.author, true);
  }
  for (const category of paper.categories) {
    const name = category.toLowerCase();
    add(`c:${name}`, similarityWeights.category, true);
    add(`c:${name.split('.')[0] as string}`, similarityWeights.category, true);
  }
  return features;
}

/** A feature's rarity among `papers`. */
const idf = (documentFrequency: number, papers: number) => Math.log(1 + papers / (1 + documentFrequency));

/** A feature's weight in a vector: its raw weight dampened, times its rarity among `papers`. */
export const featureWeight = (raw: number, documentFrequency: number, papers: number) =>
  (1 + Math.log(raw)) * idf(documentFrequency, papers);

/**
 * `like:` (SPEC §6). A paper is like the reference when the cosine of their TF-IDF vectors, over the
 * features above with IDF from the papers indexed, is at least `threshold`. The reference is cut to
 * its `queryFeatures` heaviest features (its rare title words, authors, keywords) among those fewer
 * than `commonShare` of the papers have (`commonLimit`), as "more like this" searches do: a lookup then reads a few
 * short postings lists, not most of the index for words like "model". A match scores `weight` × the
 * cosine: a close paper (0.5) as much as a good title hit.
 */
export const likeRule = { queryFeatures: 32, commonShare: 0.1, threshold: 0.08, weight: 30 };

/** The papers a feature may be in to be among the reference's: `commonShare` of them, and at least 100. */
export const commonLimit = (papers: number) => Math.max(100, likeRule.commonShare * papers);

/** The papers of an index similar to one paper, ascending, with their cosines. */
export interface SimilarPapers {
  papers: Uint32Array;
  similarity: Float64Array;
  /** Index entries read to find them: what a match's budget is charged. */
  work: number;
}

/** A paper `like:` names: its text, and its place in the index when it is there (not its own match). */
export interface Reference {
  paper: SimilarityText;
  place?: number;
}

const textFields = ['title', 'keywords', 'abstract'] as const;

/** A feature of the reference, found in the index: where to read the papers that have it. */
/** Where a feature's papers are in the index, and how many there are (its document frequency). */
function locate(index: PaperIndex, name: string) {
  const term = index.terms.get(name.slice(2));
  if (term === undefined) return undefined;
  if (name.startsWith('t:')) {
    const df = index.documentFrequency[term] as number;
    return df === 0 ? undefined : { kind: 'text' as const, term, df };
  }
  const sets = name.startsWith('a:') ? index.authorTokens : index.categories;
  const df = (sets.start[term + 1] as number) - (sets.start[term] as number);
  const rawWeight = name.startsWith('a:') ? similarityWeights.author : similarityWeights.category;
  return df === 0 ? undefined : { kind: 'set' as const, sets, term, df, rawWeight };
}

const norms = new WeakMap<PaperIndex, Float64Array>();

/**
 * The length of every paper's vector (all its features), computed once per index, in steps (it reads
 * every postings list once: ~50 ms for 10,000 papers), so a server can do it between requests.
 */
export function* paperNormsSteps(index: PaperIndex): Generator<void, Float64Array> {
  const cached = norms.get(index);
  if (cached) return cached;
  const { size } = index;
  const squares = new Float64Array(size);
  const raw = new Float64Array(size);
  const touched = new Uint32Array(size);
  const isStop = new Uint8Array(index.documentFrequency.length);
  for (const [name, term] of index.terms) if (isStopStem(name)) isStop[term] = 1;
  for (let term = 0; term < index.documentFrequency.length; term++) {
    if (term % 2048 === 2047) yield;
    const df = index.documentFrequency[term] as number;
    if (df > 0 && !isStop[term]) {
      const count = rawWeights(index, term, raw, touched);
      for (let i = 0; i < count; i++) {
        const paper = touched[i] as number;
        squares[paper] = (squares[paper] as number) + featureWeight(raw[paper] as number, df, size) ** 2;
        raw[paper] = 0;
      }
    }
    for (const [sets, rawWeight] of [
      [index.authorTokens, similarityWeights.author],
      [index.categories, similarityWeights.category],
    ] as const) {
      const from = sets.start[term] as number;
      const to = sets.start[term + 1] as number;
      if (from === to) continue;
      const weight = featureWeight(rawWeight, to - from, size) ** 2;
      for (let entry = from; entry < to; entry++) {
        const paper = sets.papers[entry] as number;
        squares[paper] = (squares[paper] as number) + weight;
      }
    }
  }
  const lengths = squares.map(Math.sqrt);
  norms.set(index, lengths);
  return lengths;
}

const paperNorms = (index: PaperIndex) => runSteps(paperNormsSteps(index));

/**
 * A text term's raw weight in each paper that has it (its occurrences in each field times the field's
 * weight), added into `raw`; the papers are listed in `touched`. Returns how many.
 */
function rawWeights(index: PaperIndex, term: number, raw: Float64Array, touched: Uint32Array): number {
  let count = 0;
  for (const field of textFields) {
    const { start, papers, positionStart } = index.postings[field];
    const weight = similarityWeights[field];
    for (let entry = start[term] as number; entry < (start[term + 1] as number); entry++) {
      const paper = papers[entry] as number;
      if (raw[paper] === 0) touched[count++] = paper;
      raw[paper] =
        (raw[paper] as number) +
        weight * ((positionStart[entry + 1] as number) - (positionStart[entry] as number));
    }
  }
  return count;
}

/** The reference's heaviest features that the index has, and the length of the vector they make. */
function queryOf(index: PaperIndex, paper: SimilarityText) {
  const { names, raw } = similarityFeatures(paper);
  const common = commonLimit(index.size);
  const weighted = names.flatMap((name, i) => {
    const found = locate(index, name);
    // A feature no other paper has cannot find one; one that most have finds too many.
    if (!found || found.df < 2 || found.df > common) return [];
    return [{ ...found, weight: featureWeight(raw[i] as number, found.df, index.size) }];
  });
  // Heaviest first; a stable sort keeps the order of appearance among equals.
  const features = weighted.sort((x, y) => y.weight - x.weight).slice(0, likeRule.queryFeatures);
  const length = Math.sqrt(features.reduce((sum, feature) => sum + feature.weight ** 2, 0)) || 1;
  return { features, length };
}

/**
 * The papers of `index` like each reference `lookup` finds (by arXiv id), kept per id for the index's
 * life: many readers name the same papers, and the reference's text does not change within a run.
 * An id `lookup` does not know gives undefined, and is asked again next time.
 */
export function createSimilarPapers(index: PaperIndex, lookup: (arxivId: string) => Reference | undefined) {
  const cache = new Map<string, SimilarPapers>();
  const { size } = index;
  const dot = new Float64Array(size);
  const raw = new Float64Array(size);
  const touched = new Uint32Array(size);
  const inDot = new Uint32Array(size);

  function compute(reference: Reference): SimilarPapers {
    const lengths = paperNorms(index);
    const query = queryOf(index, reference.paper);
    let work = 0;
    let count = 0;
    for (const feature of query.features) {
      if (feature.kind === 'text') {
        // The paper's weight is (1 + ln raw) · idf: the idf and the query's weight are the same for all.
        const scale = feature.weight * idf(feature.df, size);
        const hits = rawWeights(index, feature.term, raw, touched);
        work += hits;
        for (let i = 0; i < hits; i++) {
          const paper = touched[i] as number;
          if (dot[paper] === 0) inDot[count++] = paper;
          dot[paper] = (dot[paper] as number) + scale * (1 + Math.log(raw[paper] as number));
          raw[paper] = 0;
        }
      } else {
        const { sets, term } = feature;
        const from = sets.start[term] as number;
        const to = sets.start[term + 1] as number;
        const weight = feature.weight * featureWeight(feature.rawWeight, feature.df, size);
        work += to - from;
        for (let entry = from; entry < to; entry++) {
          const paper = sets.papers[entry] as number;
          if (dot[paper] === 0) inDot[count++] = paper;
          dot[paper] = (dot[paper] as number) + weight;
        }
      }
    }
    let kept = 0;
    for (let i = 0; i < count; i++) {
      const paper = inDot[i] as number;
      const similarity = (dot[paper] as number) / (query.length * (lengths[paper] as number));
      dot[paper] = 0;
      if (similarity >= likeRule.threshold && paper !== reference.place) {
        inDot[kept++] = paper;
        raw[paper] = similarity;
      }
    }
    const papers = inDot.slice(0, kept).sort();
    const similarity = Float64Array.from(papers, (paper) => raw[paper] as number);
    for (const paper of papers) raw[paper] = 0;
    return { papers, similarity, work: work + count };
  }

  return (arxivId: string): SimilarPapers | undefined => {
    let similar = cache.get(arxivId);
    if (!similar) {
      const reference = lookup(arxivId);
      if (!reference) return undefined;
      similar = compute(reference);
      if (cache.size >= 20_000) cache.clear();
      cache.set(arxivId, similar);
    }
    return similar;
  };
}

export type SimilarTo = ReturnType<typeof createSimilarPapers>;

/**
 * The papers like any of the reader's liked papers ("Similar to papers you liked"), each scored as
 * `like:` scores it, by the liked paper closest to it, not by how many it is like: a reader who likes
 * fifty papers on three subjects gets the best of each subject, not only the biggest. A match lists
 * the liked papers it is like, closest first. Liked papers `similar` does not know are left out.
 */
export function likedMatches(
  index: PaperIndex,
  similar: SimilarTo,
  liked: readonly { arxivId: string; text: string }[],
): TopicMatch[] {
  const closest = new Map<number, { similarity: number; to: { text: string; similarity: number }[] }>();
  for (const { arxivId, text } of liked) {
    const found = similar(arxivId);
    if (!found) continue;
    found.papers.forEach((paper, i) => {
      const similarity = found.similarity[i] as number;
      const entry = closest.get(paper);
      if (!entry) closest.set(paper, { similarity, to: [{ text, similarity }] });
      else {
        entry.similarity = Math.max(entry.similarity, similarity);
        entry.to.push({ text, similarity });
      }
    });
  }
  const matches = Array.from(closest, ([paper, { similarity, to }]) => ({
    paper,
    score: likeRule.weight * similarity * upvoteBoost(index.upvotes[paper] as number),
    matched: to.sort((x, y) => y.similarity - x.similarity).map((liked) => liked.text),
  }));
  return matches.sort(compareMatches(index));
}
