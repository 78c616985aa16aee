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

/** The papers of term `t` are `papers[start[t]]` to `papers[start[t + 1] - 1]`, ascending. */
export interface PaperSets {
  start: Uint32Array;
  papers: Uint32Array;
}

/** A text field's postings: each entry (term, paper) also has its token positions, ascending. */
export interface Postings extends PaperSets {
  /** The positions of entry `e` are `positions[positionStart[e]]` to `positions[positionStart[e + 1] - 1]`. */
  positionStart: Uint32Array;
  positions: Uint32Array;
}

/**
 * The papers of one run, indexed once: per text field, stem → paper → token positions; author name
 * tokens and categories for the exact fields. Matching a topic reads only the postings it names.
 *
 * Everything is in flat typed arrays keyed by a term id (one Map from string to id), not a Map and
 * an array per term and paper: 10,000 papers take ~30 MB instead of ~430 MB, and the GC has next to
 * nothing to trace. The index keeps no paper: callers keep what they show.
 */
export interface PaperIndex {
  size: number;
  /** Every stem, author-name token and category → its id, the row in the arrays below. */
  terms: Map<string, number>;
  postings: Record<TextField, Postings>;
  lengths: Record<TextField, Uint32Array>;
  averageLength: Record<TextField, number>;
  /** Per term id: how many papers have it in any text field (for IDF). */
  documentFrequency: Uint32Array;
  /** Author-name token → the papers with an author whose name has it. */
  authorTokens: PaperSets;
  /**
   * Paper `p`'s author names are `paperStart[p]` to `paperStart[p + 1] - 1`; name `n` is the term ids
   * `tokens[nameStart[n]]` to `tokens[nameStart[n + 1] - 1]`.
   */
  authorNames: { paperStart: Uint32Array; nameStart: Uint32Array; tokens: Uint32Array };
  /** Category (lower case) and its archive (`cs`) → papers. */
  categories: PaperSets;
  upvotes: Float64Array;
  /** Paper indexes by upvotes, then newer: the digest of a subscriber without topics. */
  byUpvotes: Uint32Array;
  /** Newer first, for ties. */
  recency: Float64Array;
}

/** Whole numbers appended one at a time into a typed array that doubles when full. */
class NumberList {
  private values = new Uint32Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const larger = new Uint32Array(this.values.length * 2);
      larger.set(this.values);
      this.values = larger;
    }
    this.values[this.length++] = value;
  }

  toArray(): Uint32Array {
    return this.values.slice(0, this.length);
  }
}

/** Term ids in paper order: paper `p`'s are `terms[paperStart[p]]` to `terms[paperStart[p + 1] - 1]`. */
interface Sequence {
  paperStart: NumberList;
  terms: NumberList;
  positions?: NumberList;
}

const newSequence = (withPositions: boolean): Sequence => ({
  paperStart: new NumberList(),
  terms: new NumberList(),
  positions: withPositions ? new NumberList() : undefined,
});

/** Array elements a step of the build goes through before it yields: about a millisecond's work. */
const stepSize = 32_768;

/**
 * Turns a sequence around into postings by counting sort: a term's entries come out in paper order
 * and each entry's positions in the order they were added, so both stay ascending. Yields between
 * steps, so that a caller may build without holding the event loop (see `createPaperIndexBuilder`).
 */
function* invert(termCount: number, sequence: Sequence): Generator<void, Postings> {
  const paperStart = sequence.paperStart.toArray();
  const terms = sequence.terms.toArray();
  const positions = sequence.positions?.toArray();
  const paperCount = paperStart.length - 1;
  const entriesOf = new Uint32Array(termCount + 1);
  const occurrencesOf = new Uint32Array(termCount + 1);
  // 1 + the last paper counted for each term: one entry per (term, paper).
  const lastPaper = new Uint32Array(termCount);
  let stepEnd = stepSize;
  for (let paper = 0; paper < paperCount; paper++) {
    for (let i = paperStart[paper] as number; i < (paperStart[paper + 1] as number); i++) {
      const term = terms[i] as number;
      occurrencesOf[term] = (occurrencesOf[term] as number) + 1;
      if (lastPaper[term] !== paper + 1) {
        lastPaper[term] = paper + 1;
        entriesOf[term] = (entriesOf[term] as number) + 1;
      }
    }
    if ((paperStart[paper + 1] as number) >= stepEnd) {
      stepEnd = (paperStart[paper + 1] as number) + stepSize;
      yield;
    }
  }
  const start = new Uint32Array(termCount + 1);
  const positionBase = new Uint32Array(termCount + 1);
  for (let term = 0; term < termCount; term++) {
    start[term + 1] = (start[term] as number) + (entriesOf[term] as number);
    positionBase[term + 1] = (positionBase[term] as number) + (occurrencesOf[term] as number);
  }
  const entryCount = start[termCount] as number;
  const papers = new Uint32Array(entryCount);
  const positionStart = new Uint32Array(positions ? entryCount + 1 : 0);
  const sortedPositions = new Uint32Array(positions ? positions.length : 0);
  const nextEntry = start.slice(0, termCount);
  const nextPosition = positionBase.slice(0, termCount);
  lastPaper.fill(0);
  yield;
  stepEnd = stepSize;
  for (let paper = 0; paper < paperCount; paper++) {
    for (let i = paperStart[paper] as number; i < (paperStart[paper + 1] as number); i++) {
      const term = terms[i] as number;
      if (lastPaper[term] !== paper + 1) {
        lastPaper[term] = paper + 1;
        const entry = nextEntry[term] as number;
        nextEntry[term] = entry + 1;
        papers[entry] = paper;
        if (positions) positionStart[entry] = nextPosition[term] as number;
      }
      if (positions) {
        const at = nextPosition[term] as number;
        nextPosition[term] = at + 1;
        sortedPositions[at] = positions[i] as number;
      }
    }
    if ((paperStart[paper + 1] as number) >= stepEnd) {
      stepEnd = (paperStart[paper + 1] as number) + stepSize;
      yield;
    }
  }
  // A term's positions end where the next term's begin, so the last entry ends at the very end.
  if (positions) positionStart[entryCount] = positions.length;
  return { start, papers, positionStart, positions: sortedPositions };
}

export interface PaperIndexBuilder {
  /** Papers added so far; the next one added is paper `size`. */
  readonly size: number;
  /** Tokenizes and stems one paper (the costly part, about a tenth of a millisecond per abstract). */
  add(paper: MatchablePaper): void;
  /** The index, in steps: each `next()` does a few milliseconds of work at most. */
  finish(): Generator<void, PaperIndex>;
}

/**
 * Builds a `PaperIndex` a paper at a time and finishes it in steps, so that the HTTP process can
 * build one between requests; `buildPaperIndex` does it all at once.
 */
export function createPaperIndexBuilder(): PaperIndexBuilder {
  const terms = new Map<string, number>();
  const termOf = (text: string) => {
    let id = terms.get(text);
    if (id === undefined) {
      id = terms.size;
      terms.set(text, id);
    }
    return id;
  };
  const text = { title: newSequence(true), keywords: newSequence(true), abstract: newSequence(true) };
  const lengths = { title: new NumberList(), keywords: new NumberList(), abstract: new NumberList() };
  const authorTerms = newSequence(false);
  const paperNames = new NumberList();
  const nameStart = new NumberList();
  const categories = newSequence(false);
  const upvotes: number[] = [];
  const recency: number[] = [];
  let size = 0;

  function addText(sequence: Sequence, stems: readonly string[], start: number): number {
    stems.forEach((token, offset) => {
      sequence.terms.push(termOf(token));
      sequence.positions?.push(start + offset);
    });
    return start + stems.length;
  }

  return {
    get size() {
      return size;
    },
    add(paper) {
      size++;
      for (const field of ['title', 'abstract'] as const) {
        const stems = tokenize(paper[field]).map(stem);
        text[field].paperStart.push(text[field].terms.length);
        lengths[field].push(stems.length);
        addText(text[field], stems, 0);
      }
      // One position left empty between keywords, so that a phrase never runs from one into the next.
      text.keywords.paperStart.push(text.keywords.terms.length);
      let position = 0;
      let keywordsLength = 0;
      for (const keyword of paper.aiKeywords ?? []) {
        const stems = tokenize(keyword).map(stem);
        keywordsLength += stems.length;
        position = addText(text.keywords, stems, position) + 1;
      }
      lengths.keywords.push(keywordsLength);
      authorTerms.paperStart.push(authorTerms.terms.length);
      paperNames.push(nameStart.length);
      for (const name of paper.authors) {
        nameStart.push(authorTerms.terms.length);
        for (const token of tokenize(name)) authorTerms.terms.push(termOf(token));
      }
      categories.paperStart.push(categories.terms.length);
      for (const category of paper.categories) {
        const name = category.toLowerCase();
        categories.terms.push(termOf(name));
        // `cat:cs` finds every cs.* paper, as arXiv's own search does.
        const archive = name.split('.')[0] as string;
        if (archive !== name) categories.terms.push(termOf(archive));
      }
      upvotes.push(paper.upvotes);
      recency.push(paper.publishedAt.getTime());
    },
    *finish() {
      for (const sequence of [text.title, text.keywords, text.abstract, authorTerms, categories]) {
        sequence.paperStart.push(sequence.terms.length);
      }
      paperNames.push(nameStart.length);
      nameStart.push(authorTerms.terms.length);
      const termCount = terms.size;
      const postings = {
        title: yield* invert(termCount, text.title),
        keywords: yield* invert(termCount, text.keywords),
        abstract: yield* invert(termCount, text.abstract),
      };
      const documentFrequency = new Uint32Array(termCount);
      // Per term, a paper counts once however many of the three fields have it.
      const seen = new Uint32Array(size);
      let visited = 0;
      for (let term = 0; term < termCount; term++) {
        let count = 0;
        for (const field of textFields) {
          const { start, papers } = postings[field];
          for (let entry = start[term] as number; entry < (start[term + 1] as number); entry++) {
            const paper = papers[entry] as number;
            if (seen[paper] !== term + 1) {
              seen[paper] = term + 1;
              count++;
            }
          }
        }
        documentFrequency[term] = count;
        visited += count;
        if (visited >= stepSize) {
          visited = 0;
          yield;
        }
      }
      const authorSets = yield* invert(termCount, authorTerms);
      const categorySets = yield* invert(termCount, categories);
      const finalLengths = {
        title: lengths.title.toArray(),
        keywords: lengths.keywords.toArray(),
        abstract: lengths.abstract.toArray(),
      };
      const average = (values: Uint32Array) =>
        values.length === 0 ? 1 : Math.max(1, values.reduce((a, v) => a + v, 0) / values.length);
      const byUpvotes = Array.from({ length: size }, (_, i) => i).sort(
        (x, y) =>
          (upvotes[y] as number) - (upvotes[x] as number) || (recency[y] as number) - (recency[x] as number),
      );
      return {
        size,
        terms,
        postings,
        lengths: finalLengths,
        averageLength: {
          title: average(finalLengths.title),
          keywords: average(finalLengths.keywords),
          abstract: average(finalLengths.abstract),
        },
        documentFrequency,
        authorTokens: { start: authorSets.start, papers: authorSets.papers },
        authorNames: {
          paperStart: paperNames.toArray(),
          nameStart: nameStart.toArray(),
          tokens: authorTerms.terms.toArray(),
        },
        categories: { start: categorySets.start, papers: categorySets.papers },
        upvotes: Float64Array.from(upvotes),
        byUpvotes: Uint32Array.from(byUpvotes),
        recency: Float64Array.from(recency),
      };
    },
  };
}

export function buildPaperIndex(papers: readonly MatchablePaper[]): PaperIndex {
  const builder = createPaperIndexBuilder();
  for (const paper of papers) builder.add(paper);
  const steps = builder.finish();
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Bytes the index's arrays take, plus an estimate for its term map: what a cache of it holds. */
export function paperIndexBytes(index: PaperIndex): number {
  const arrays = [
    ...textFields.flatMap((field) => Object.values(index.postings[field])),
    ...Object.values(index.lengths),
    index.documentFrequency,
    index.authorTokens.start,
    index.authorTokens.papers,
    ...Object.values(index.authorNames),
    index.categories.start,
    index.categories.papers,
    index.upvotes,
    index.byUpvotes,
    index.recency,
  ] as ArrayBufferView[];
  let bytes = arrays.reduce((sum, array) => sum + array.byteLength, 0);
  // A Map entry and a short one-byte string: roughly 40 bytes besides the characters.
  for (const term of index.terms.keys()) bytes += 40 + term.length;
  return bytes;
}

/** One paper a topic matched: its score (relevance scaled by upvotes) and the terms that hit. */
export interface TopicMatch {
  paper: number;
  score: number;
  matched: string[];
}

/** Thrown when matching a topic would read more of the index than its budget allows. */
export class MatchBudgetExceeded extends Error {
  constructor(readonly max: number) {
    super(`Matching would read more than ${max} index entries`);
    this.name = 'MatchBudgetExceeded';
  }
}

/**
 * What each step of a match costs in budget units; a unit is one index entry or word position read
 * (~10–30 ns). Building a hit, a set entry or a score allocates and hashes, so it weighs more: with
 * these weights a unit is ~20–40 ns of matching whatever the topic's shape (bench/preview.ts).
 */
const cost = { read: 1, hit: 8, setEntry: 4, check: 2, score: 10, match: 20 };

/**
 * The work a match may do, counted in `cost` units rather than milliseconds, so that a limit gives
 * the same answer on every machine and every run.
 */
export class MatchBudget {
  spent = 0;
  constructor(readonly max: number) {}

  spend(units: number): void {
    this.spent += units;
    if (this.spent > this.max) throw new MatchBudgetExceeded(this.max);
  }
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

const noPapers = new Uint32Array(0);

/** The papers of `sets` under `key`, ascending. */
function papersOf(index: PaperIndex, sets: PaperSets, key: string): Uint32Array {
  const term = index.terms.get(key);
  if (term === undefined) return noPapers;
  return sets.papers.subarray(sets.start[term], sets.start[term + 1]);
}

/**
 * Starts of the head entry's positions where each following entry continues the run one step
 * further. All lists are ascending, so one forward walk over each does.
 */
function countPhrase(postings: Postings, head: number, rest: readonly number[], budget: MatchBudget): number {
  const { positionStart, positions } = postings;
  const cursors = rest.map((entry) => positionStart[entry] as number);
  const ends = rest.map((entry) => positionStart[entry + 1] as number);
  let count = 0;
  let read = 0;
  const headEnd = positionStart[head + 1] as number;
  starts: for (let i = positionStart[head] as number; i < headEnd; i++) {
    read++;
    const start = positions[i] as number;
    for (let k = 0; k < rest.length; k++) {
      const target = start + k + 1;
      const end = ends[k] as number;
      let cursor = cursors[k] as number;
      while (cursor < end && (positions[cursor] as number) < target) {
        cursor++;
        read++;
      }
      cursors[k] = cursor;
      if (cursor === end) break starts;
      if (positions[cursor] !== target) continue starts;
    }
    count++;
  }
  budget.spend(read);
  return count;
}

function textLeaf(
  index: PaperIndex,
  stems: string[],
  fields: readonly TextField[],
  budget: MatchBudget,
): Hits {
  const hits: Hits = new Map();
  const terms = stems.map((token) => index.terms.get(token));
  if (terms.some((term) => term === undefined)) return hits;
  const [head, ...rest] = terms as number[];
  for (const field of fields) {
    const postings = index.postings[field];
    const { start, papers, positionStart } = postings;
    const from = start[head as number] as number;
    const to = start[(head as number) + 1] as number;
    if (rest.length === 0) {
      budget.spend((to - from) * (cost.read + cost.hit));
      for (let entry = from; entry < to; entry++) {
        getOrCreate(hits, papers[entry] as number, (): Hit => ({}))[field] =
          (positionStart[entry + 1] as number) - (positionStart[entry] as number);
      }
      continue;
    }
    // A phrase: walk the head term's papers and, alongside, each other term's.
    const cursors = rest.map((term) => start[term] as number);
    const ends = rest.map((term) => start[term + 1] as number);
    const entries: number[] = [];
    heads: for (let entry = from; entry < to; entry++) {
      const paper = papers[entry] as number;
      budget.spend(1);
      entries.length = 0;
      for (let k = 0; k < rest.length; k++) {
        const end = ends[k] as number;
        let cursor = cursors[k] as number;
        const skipped = cursor;
        while (cursor < end && (papers[cursor] as number) < paper) cursor++;
        budget.spend(cursor - skipped);
        cursors[k] = cursor;
        if (cursor === end) break heads;
        if (papers[cursor] !== paper) continue heads;
        entries.push(cursor);
      }
      const count = countPhrase(postings, entry, entries, budget);
      if (count === 0) continue;
      budget.spend(cost.hit);
      getOrCreate(hits, paper, (): Hit => ({}))[field] = count;
    }
  }
  return hits;
}

/** Papers with an author whose name tokens contain `tokens` in a row (`author:"yann lecun"`, `author:lecun`). */
function authorLeaf(index: PaperIndex, tokens: string[], budget: MatchBudget): Hits {
  const hits: Hits = new Map();
  const terms = tokens.map((token) => index.terms.get(token));
  const candidates = papersOf(index, index.authorTokens, tokens[0] as string);
  // A token no author name has: no name can hold them all.
  if (candidates.length === 0 || terms.some((term) => term === undefined)) return hits;
  budget.spend(candidates.length);
  const { paperStart, nameStart, tokens: nameTokens } = index.authorNames;
  for (const paper of candidates) {
    const firstName = paperStart[paper] as number;
    const lastName = paperStart[paper + 1] as number;
    budget.spend((nameStart[lastName] as number) - (nameStart[firstName] as number));
    let isMatch = false;
    names: for (let name = firstName; name < lastName; name++) {
      const end = nameStart[name + 1] as number;
      for (let at = nameStart[name] as number; at + terms.length <= end; at++) {
        if (terms.every((term, offset) => nameTokens[at + offset] === term)) {
          isMatch = true;
          break names;
        }
      }
    }
    if (!isMatch) continue;
    budget.spend(cost.hit);
    hits.set(paper, { exact: true });
  }
  return hits;
}

function evaluateLeaf(
  index: PaperIndex,
  node: Extract<TopicNode, { type: 'term' | 'phrase' }>,
  budget: MatchBudget,
): LeafResult {
  let hits: Hits;
  if (node.field === 'cat') {
    const papers = papersOf(index, index.categories, node.tokens[0] as string);
    budget.spend(papers.length * (cost.read + cost.hit));
    hits = new Map(Array.from(papers, (paper): [number, Hit] => [paper, { exact: true }]));
  } else if (node.field === 'author') {
    hits = authorLeaf(index, node.tokens, budget);
  } else {
    const stems = node.tokens.map(stem);
    hits = textLeaf(index, stems, node.field ? [node.field] : textFields, budget);
    if (!node.field) {
      // A bare word also finds authors and categories ("hinton", "cs.lg").
      const authors = authorLeaf(index, node.tokens, budget);
      budget.spend(authors.size * cost.hit);
      for (const paper of authors.keys()) hits.set(paper, { ...hits.get(paper), exact: true });
      const category = papersOf(index, index.categories, node.text.toLowerCase());
      budget.spend(category.length * (cost.read + cost.hit));
      for (const paper of category) hits.set(paper, { ...hits.get(paper), exact: true });
    }
  }
  let df = hits.size;
  if (node.type === 'term' && node.field !== 'cat' && node.field !== 'author') {
    const term = index.terms.get(stem(node.tokens[0] as string));
    // A word in no text field (an author's name only) counts the papers it hit.
    if (term !== undefined && index.documentFrequency[term] !== 0)
      df = index.documentFrequency[term] as number;
  }
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

function evaluate(index: PaperIndex, node: TopicNode, budget: MatchBudget): Evaluated {
  switch (node.type) {
    case 'term':
    case 'phrase': {
      const leaf = evaluateLeaf(index, node, budget);
      budget.spend(leaf.hits.size * cost.setEntry);
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
        result: evaluate(index, child, budget),
      }));
      const positive = children.filter((child) => !child.isNot);
      const [smallest, ...rest] = [...positive].sort((x, y) => x.result.matches.size - y.result.matches.size);
      budget.spend((smallest?.result.matches.size ?? 0) * (children.length * cost.check + cost.setEntry));
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
      const children = node.children.map((child) => evaluate(index, child, budget));
      budget.spend(children.reduce((sum, child) => sum + child.matches.size, 0) * cost.setEntry);
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
      const inner = evaluate(index, node.child, budget);
      budget.spend(index.size * cost.setEntry);
      const matches = new Set<number>();
      for (let paper = 0; paper < index.size; paper++) if (!inner.matches.has(paper)) matches.add(paper);
      return { matches, score: () => 0 };
    }
  }
}

const leavesOf = (node: TopicNode): number =>
  node.type === 'term' || node.type === 'phrase'
    ? 1
    : node.type === 'not'
      ? leavesOf(node.child)
      : node.children.reduce((sum, child) => sum + leavesOf(child), 0);

const byScoreThenNewer = (index: PaperIndex) => (x: TopicMatch, y: TopicMatch) =>
  y.score - x.score ||
  (index.recency[y.paper] as number) - (index.recency[x.paper] as number) ||
  x.paper - y.paper;

/**
 * Every paper of the index that the topic matches, best first. With a `budget`, throws
 * MatchBudgetExceeded as soon as the work passes it; without one, there is no limit.
 */
export function matchTopic(
  index: PaperIndex,
  ast: TopicNode,
  options: { budget?: MatchBudget } = {},
): TopicMatch[] {
  const budget = options.budget ?? new MatchBudget(Number.POSITIVE_INFINITY);
  const result = evaluate(index, ast, budget);
  // Scoring a match visits every leaf of the topic; then each match is built and sorted.
  budget.spend(result.matches.size * (leavesOf(ast) * cost.score + cost.match));
  const matches: TopicMatch[] = [];
  for (const paper of result.matches) {
    const matched: string[] = [];
    const relevance = result.score(paper, matched);
    matches.push({
      paper,
      score: relevance * upvoteBoost(index.upvotes[paper] as number),
      matched: [...new Set(matched)],
    });
  }
  return matches.sort(byScoreThenNewer(index));
}

export const compareMatches = byScoreThenNewer;
