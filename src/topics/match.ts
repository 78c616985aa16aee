import { getOrCreate } from '../collections.js';
import type { TopicNode } from './parse.js';
import { stem, tokenize } from './tokens.js';

/** The fields of a paper that topics look at. */
export interface MatchablePaper {
  title: string;
  abstract: string;
  authors: readonly string[];
  categories: readonly string[];
  aiKeywords?: readonly string[] | null;
  upvotes: number;
  publishedAt: Date;
}

const textFields = ['title', 'keywords', 'abstract'] as const;
type TextField = (typeof textFields)[number];

/**
 * BM25 per field. A title hit outweighs any number of abstract hits: with these weights a single
 * title occurrence scores at least 1.39× a saturated abstract (titles up to 3× the average length),
 * more than the largest upvote boost below. Titles are short, so length matters less there (b).
 */
const fieldWeights: Record<TextField, number> = { title: 4, keywords: 2, abstract: 1 };
const lengthNormalization: Record<TextField, number> = { title: 0.3, keywords: 0.3, abstract: 0.75 };
const k1 = 1.2;
/** An author or category hit is as strong as a good title hit. */
const exactFieldScore = 4;
/**
 * Upvotes scale relevance by at most 1.25× (half of that at 50 upvotes): they break near-ties and lift
 * popular papers among equals, but cannot carry an abstract-only hit over a title hit.
 */
const upvoteBoost = (upvotes: number) => 1 + (0.25 * upvotes) / (upvotes + 50);

type Postings = Map<string, Map<number, number[]>>;

/**
 * The papers of one run, indexed once: per text field, stem → paper → token positions; author name
 * tokens and categories for the exact fields. Matching a topic reads only the postings it names.
 */
export interface PaperIndex {
  size: number;
  papers: readonly MatchablePaper[];
  postings: Record<TextField, Postings>;
  lengths: Record<TextField, Uint32Array>;
  averageLength: Record<TextField, number>;
  /** Stem → number of papers with it in any text field (for IDF). */
  documentFrequency: Map<string, number>;
  authorTokens: Map<string, Set<number>>;
  authorNames: string[][][];
  categories: Map<string, Set<number>>;
  /** Paper indexes by upvotes, then newer: the digest of a subscriber without topics. */
  byUpvotes: number[];
  /** Newer first, for ties. */
  recency: Float64Array;
}

/** Adds `tokens` at positions from `start`; returns the position after the last one. */
function addTokens(postings: Postings, tokens: readonly string[], paper: number, start = 0): number {
  tokens.forEach((token, offset) => {
    getOrCreate(
      getOrCreate(postings, token, () => new Map()),
      paper,
      () => [],
    ).push(start + offset);
  });
  return start + tokens.length;
}

export function buildPaperIndex(papers: readonly MatchablePaper[]): PaperIndex {
  const size = papers.length;
  const postings = { title: new Map(), keywords: new Map(), abstract: new Map() } as Record<
    TextField,
    Postings
  >;
  const lengths = {
    title: new Uint32Array(size),
    keywords: new Uint32Array(size),
    abstract: new Uint32Array(size),
  };
  const authorTokens = new Map<string, Set<number>>();
  const categories = new Map<string, Set<number>>();
  const authorNames: string[][][] = [];
  const recency = new Float64Array(size);
  const addTo = (map: Map<string, Set<number>>, key: string, paper: number) =>
    getOrCreate(map, key, () => new Set<number>()).add(paper);

  papers.forEach((paper, i) => {
    for (const field of ['title', 'abstract'] as const) {
      const stems = tokenize(paper[field]).map(stem);
      lengths[field][i] = stems.length;
      addTokens(postings[field], stems, i);
    }
    // One position left empty between keywords, so that a phrase never runs from one into the next.
    let position = 0;
    let keywordsLength = 0;
    for (const keyword of paper.aiKeywords ?? []) {
      const stems = tokenize(keyword).map(stem);
      keywordsLength += stems.length;
      position = addTokens(postings.keywords, stems, i, position) + 1;
    }
    lengths.keywords[i] = keywordsLength;
    const names = paper.authors.map((name) => tokenize(name));
    authorNames.push(names);
    for (const token of names.flat()) addTo(authorTokens, token, i);
    for (const category of paper.categories) {
      const name = category.toLowerCase();
      addTo(categories, name, i);
      // `cat:cs` finds every cs.* paper, as arXiv's own search does.
      const archive = name.split('.')[0] as string;
      if (archive !== name) addTo(categories, archive, i);
    }
    recency[i] = paper.publishedAt.getTime();
  });

  const documentFrequency = new Map<string, number>();
  const seen = new Map<string, Set<number>>();
  for (const field of textFields) {
    for (const [token, byPaper] of postings[field]) {
      const set = getOrCreate(seen, token, () => new Set<number>());
      for (const paper of byPaper.keys()) set.add(paper);
    }
  }
  for (const [token, set] of seen) documentFrequency.set(token, set.size);

  const average = (values: Uint32Array) =>
    values.length === 0 ? 1 : Math.max(1, values.reduce((a, v) => a + v, 0) / values.length);
  const byUpvotes = papers
    .map((_, i) => i)
    .sort(
      (x, y) =>
        (papers[y] as MatchablePaper).upvotes - (papers[x] as MatchablePaper).upvotes ||
        (recency[y] as number) - (recency[x] as number),
    );

  return {
    size,
    papers,
    postings,
    lengths,
    averageLength: {
      title: average(lengths.title),
      keywords: average(lengths.keywords),
      abstract: average(lengths.abstract),
    },
    documentFrequency,
    authorTokens,
    authorNames,
    categories,
    byUpvotes,
    recency,
  };
}

/** One paper a topic matched: its score (relevance scaled by upvotes) and the terms that hit. */
export interface TopicMatch {
  paper: number;
  score: number;
  matched: string[];
}

/** paper → occurrences of the leaf in a text field (0 when absent). */
type Hit = Partial<Record<TextField, number>> & { exact?: boolean };
type Hits = Map<number, Hit>;

interface LeafResult {
  text: string;
  hits: Hits;
  idf: number;
}

const idfOf = (index: PaperIndex, df: number) => Math.log(1 + (index.size - df + 0.5) / (df + 0.5));

/** Positions in `positionLists[0]` where every following list continues the run one step further. */
function countPhrase(positionLists: (number[] | undefined)[]): number {
  const [first, ...rest] = positionLists;
  if (!first || rest.some((list) => !list)) return 0;
  const restSets = rest.map((list) => new Set(list));
  return first.filter((start) => restSets.every((set, offset) => set.has(start + offset + 1))).length;
}

function textLeaf(index: PaperIndex, stems: string[], fields: readonly TextField[]): Hits {
  const hits: Hits = new Map();
  for (const field of fields) {
    const lists = stems.map((token) => index.postings[field].get(token));
    const [head, ...others] = lists;
    if (!head || others.some((list) => !list)) continue;
    for (const [paper, positions] of head) {
      const count =
        stems.length === 1
          ? positions.length
          : countPhrase([positions, ...others.map((list) => list?.get(paper))]);
      if (count === 0) continue;
      getOrCreate(hits, paper, (): Hit => ({}))[field] = count;
    }
  }
  return hits;
}

/** Papers with an author whose name tokens contain `tokens` in a row (`author:"yann lecun"`, `author:lecun`). */
function authorLeaf(index: PaperIndex, tokens: string[]): Hits {
  const hits: Hits = new Map();
  const candidates = index.authorTokens.get(tokens[0] as string);
  if (!candidates) return hits;
  for (const paper of candidates) {
    const isMatch = (index.authorNames[paper] ?? []).some((name) =>
      name.some((_, start) => tokens.every((token, offset) => name[start + offset] === token)),
    );
    if (isMatch) hits.set(paper, { exact: true });
  }
  return hits;
}

function evaluateLeaf(index: PaperIndex, node: Extract<TopicNode, { type: 'term' | 'phrase' }>): LeafResult {
  let hits: Hits;
  if (node.field === 'cat') {
    hits = new Map(
      [...(index.categories.get(node.tokens[0] as string) ?? [])].map((paper) => [paper, { exact: true }]),
    );
  } else if (node.field === 'author') {
    hits = authorLeaf(index, node.tokens);
  } else {
    const stems = node.tokens.map(stem);
    hits = textLeaf(index, stems, node.field ? [node.field] : textFields);
    if (!node.field) {
      // A bare word also finds authors and categories ("hinton", "cs.lg").
      for (const paper of authorLeaf(index, node.tokens).keys()) {
        hits.set(paper, { ...hits.get(paper), exact: true });
      }
      const category = index.categories.get(node.text.toLowerCase());
      for (const paper of category ?? []) hits.set(paper, { ...hits.get(paper), exact: true });
    }
  }
  const df =
    node.type === 'term' && node.field !== 'cat' && node.field !== 'author'
      ? (index.documentFrequency.get(stem(node.tokens[0] as string)) ?? hits.size)
      : hits.size;
  return { text: node.field ? `${node.field}:${node.text}` : node.text, hits, idf: idfOf(index, df) };
}

function leafScore(index: PaperIndex, leaf: LeafResult, paper: number): number {
  const hit = leaf.hits.get(paper);
  if (!hit) return 0;
  let score = hit.exact ? exactFieldScore : 0;
  for (const field of textFields) {
    const tf = hit[field];
    if (!tf) continue;
    const b = lengthNormalization[field];
    const norm = 1 - b + (b * (index.lengths[field][paper] ?? 0)) / index.averageLength[field];
    score += fieldWeights[field] * leaf.idf * ((tf * (k1 + 1)) / (tf + k1 * norm));
  }
  return score;
}

/** A node evaluated over an index: which papers match, and how well. */
interface Evaluated {
  matches: Set<number>;
  /** Relevance and the terms that hit, for a paper in `matches`. */
  score(paper: number, matched: string[]): number;
}

function evaluate(index: PaperIndex, node: TopicNode): Evaluated {
  switch (node.type) {
    case 'term':
    case 'phrase': {
      const leaf = evaluateLeaf(index, node);
      return {
        matches: new Set(leaf.hits.keys()),
        score(paper, matched) {
          matched.push(leaf.text);
          return leafScore(index, leaf, paper);
        },
      };
    }
    case 'and': {
      const children = node.children.map((child) => ({
        isNot: child.type === 'not',
        result: evaluate(index, child),
      }));
      const positive = children.filter((child) => !child.isNot);
      const [smallest, ...rest] = [...positive].sort((x, y) => x.result.matches.size - y.result.matches.size);
      const matches = new Set<number>();
      for (const paper of smallest?.result.matches ?? []) {
        if (
          rest.every((child) => child.result.matches.has(paper)) &&
          children.every((child) => !child.isNot || child.result.matches.has(paper))
        ) {
          matches.add(paper);
        }
      }
      return {
        matches,
        score: (paper, matched) =>
          positive.reduce((sum, child) => sum + child.result.score(paper, matched), 0),
      };
    }
    case 'or': {
      const children = node.children.map((child) => evaluate(index, child));
      const matches = new Set<number>();
      for (const child of children) for (const paper of child.matches) matches.add(paper);
      return {
        matches,
        score: (paper, matched) =>
          children.reduce(
            (sum, child) => sum + (child.matches.has(paper) ? child.score(paper, matched) : 0),
            0,
          ),
      };
    }
    case 'not': {
      // Inside an AND the parent reads this as "must not match"; the set holds the papers to exclude
      // by being the complement.
      const inner = evaluate(index, node.child);
      const matches = new Set<number>();
      for (let paper = 0; paper < index.size; paper++) if (!inner.matches.has(paper)) matches.add(paper);
      return { matches, score: () => 0 };
    }
  }
}

const byScoreThenNewer = (index: PaperIndex) => (x: TopicMatch, y: TopicMatch) =>
  y.score - x.score ||
  (index.recency[y.paper] as number) - (index.recency[x.paper] as number) ||
  x.paper - y.paper;

/** Every paper of the index that the topic matches, best first. */
export function matchTopic(index: PaperIndex, ast: TopicNode): TopicMatch[] {
  const result = evaluate(index, ast);
  const matches: TopicMatch[] = [];
  for (const paper of result.matches) {
    const matched: string[] = [];
    const relevance = result.score(paper, matched);
    const upvotes = (index.papers[paper] as MatchablePaper).upvotes;
    matches.push({
      paper,
      score: relevance * upvoteBoost(upvotes),
      matched: [...new Set(matched)],
    });
  }
  return matches.sort(byScoreThenNewer(index));
}

export const compareMatches = byScoreThenNewer;
