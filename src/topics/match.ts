import type { TopicNode } from './parse.js';
import { likeRule, type SimilarTo } from './similar.js';
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
export const upvoteBoost = (upvotes: number) => 1 + (0.25 * upvotes) / (upvotes + 50);

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

  /** A copy that fits, to keep. */
  toArray(): Uint32Array {
    return this.values.slice(0, this.length);
  }

  /** The values without a copy, for reading once before `release`. */
  view(): Uint32Array {
    return this.values.subarray(0, this.length);
  }

  release(): void {
    this.values = new Uint32Array(0);
    this.length = 0;
  }
}

/**
 * Term ids in paper order: paper `p`'s are `terms[paperStart[p]]` to `terms[paperStart[p + 1] - 1]`.
 * A text field's token positions are their offsets in the paper, unless they are listed (keywords
 * leave a gap between two keywords).
 */
interface Sequence {
  paperStart: NumberList;
  terms: NumberList;
  hasPositions: boolean;
  positions?: NumberList;
}

const newSequence = (positions: 'none' | 'offsets' | 'listed'): Sequence => ({
  paperStart: new NumberList(),
  terms: new NumberList(),
  hasPositions: positions !== 'none',
  positions: positions === 'listed' ? new NumberList() : undefined,
});

/** Array elements a step of the build goes through before it yields: about a millisecond's work. */
const stepSize = 32_768;

/**
 * Turns a sequence around into postings by counting sort: a term's entries come out in paper order
 * and each entry's positions in the order they were added, so both stay ascending. Yields between
 * steps, so that a caller may build without holding the event loop (see `createPaperIndexBuilder`).
 */
function* invert(termCount: number, sequence: Sequence): Generator<void, Postings> {
  const paperStart = sequence.paperStart.view();
  const terms = sequence.terms.view();
  const { hasPositions } = sequence;
  const listed = sequence.positions?.view();
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
  const positionStart = new Uint32Array(hasPositions ? entryCount + 1 : 0);
  const sortedPositions = new Uint32Array(hasPositions ? terms.length : 0);
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
        if (hasPositions) positionStart[entry] = nextPosition[term] as number;
      }
      if (hasPositions) {
        const at = nextPosition[term] as number;
        nextPosition[term] = at + 1;
        sortedPositions[at] = listed ? (listed[i] as number) : i - (paperStart[paper] as number);
      }
    }
    if ((paperStart[paper + 1] as number) >= stepEnd) {
      stepEnd = (paperStart[paper + 1] as number) + stepSize;
      yield;
    }
  }
  // A term's positions end where the next term's begin, so the last entry ends at the very end.
  if (hasPositions) positionStart[entryCount] = terms.length;
  for (const list of [sequence.paperStart, sequence.terms, sequence.positions]) list?.release();
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
  const text = {
    title: newSequence('offsets'),
    keywords: newSequence('listed'),
    abstract: newSequence('offsets'),
  };
  const lengths = { title: new NumberList(), keywords: new NumberList(), abstract: new NumberList() };
  const authorTerms = newSequence('none');
  const paperNames = new NumberList();
  const nameStart = new NumberList();
  const categories = newSequence('none');
  const upvotes: number[] = [];
  const recency: number[] = [];
  let size = 0;

  /** Token → the term id of its stem: one lookup per token instead of a stem lookup and a term lookup. */
  const stemTerms = new Map<string, number>();
  const stemTermOf = (token: string) => {
    let id = stemTerms.get(token);
    if (id === undefined) {
      id = termOf(stem(token));
      stemTerms.set(token, id);
    }
    return id;
  };

  /** Adds a text's stems from `start` on; returns the position after the last. */
  function addText(sequence: Sequence, text: string, start: number): number {
    const tokens = tokenize(text);
    for (let offset = 0; offset < tokens.length; offset++) {
      sequence.terms.push(stemTermOf(tokens[offset] as string));
      sequence.positions?.push(start + offset);
    }
    return start + tokens.length;
  }

  return {
    get size() {
      return size;
    },
    add(paper) {
      size++;
      for (const field of ['title', 'abstract'] as const) {
        text[field].paperStart.push(text[field].terms.length);
        lengths[field].push(addText(text[field], paper[field], 0));
      }
      // One position left empty between keywords, so that a phrase never runs from one into the next.
      text.keywords.paperStart.push(text.keywords.terms.length);
      let position = 0;
      let keywordsLength = 0;
      for (const keyword of paper.aiKeywords ?? []) {
        const end = addText(text.keywords, keyword, position);
        keywordsLength += end - position;
        position = end + 1;
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
      const authorNameTokens = authorTerms.terms.toArray();
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
          tokens: authorNameTokens,
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
  return runSteps(builder.finish());
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

/** Thrown when matching a topic would take more work than its budget allows. */
export class MatchBudgetExceeded extends Error {
  constructor(readonly max: number) {
    super(`Matching would take more than ${max} units of work`);
    this.name = 'MatchBudgetExceeded';
  }
}

/**
 * What each step of a match costs in budget units; a unit is one index entry or word position read.
 * Recording a hit, a set entry or a score does more, so it weighs more: with these weights a unit
 * is 3–12 ns of matching on the benchmark machine, whatever the topic's shape (docs/BENCHMARKS.md).
 */
const cost = { read: 1, hit: 8, setEntry: 4, check: 2, score: 10, match: 20 };
/** Units of work between two yields of a stepwise match: well under a millisecond. */
const pauseEvery = 50_000;

/**
 * The work a match may do, counted in `cost` units rather than milliseconds, so that a limit gives
 * the same answer on every machine and every run.
 */
export class MatchBudget {
  spent = 0;
  private nextPause = pauseEvery;
  constructor(readonly max: number) {}

  spend(units: number): void {
    this.spent += units;
    if (this.spent > this.max) throw new MatchBudgetExceeded(this.max);
  }

  /** True once every `pauseEvery` units: where a stepwise match yields (see `matchTopicSteps`). */
  isPauseDue(): boolean {
    if (this.spent < this.nextPause) return false;
    this.nextPause = this.spent + pauseEvery;
    return true;
  }
}

/**
 * The papers a leaf hit, densely over the index (a few typed arrays per leaf instead of a Map and an
 * object per paper): per text field how often it occurs (0 when absent), and author or category hits.
 */
class LeafHits {
  readonly has: Uint8Array;
  readonly tf: Partial<Record<TextField, Uint32Array>> = {};
  exact: Uint8Array | undefined;
  private count = 0;
  private sorted: Uint32Array | undefined;

  constructor(private readonly size: number) {
    this.has = new Uint8Array(size);
  }

  private mark(paper: number): void {
    if (this.has[paper]) return;
    this.sorted = undefined;
    this.has[paper] = 1;
    this.count++;
  }

  setCount(field: TextField, paper: number, count: number): void {
    this.tf[field] ??= new Uint32Array(this.size);
    (this.tf[field] as Uint32Array)[paper] = count;
    this.mark(paper);
  }

  setExact(paper: number): void {
    this.exact ??= new Uint8Array(this.size);
    this.exact[paper] = 1;
    this.mark(paper);
  }

  /** The papers hit, ascending. */
  papers(): Uint32Array {
    this.sorted ??= papersIn(this.has, this.count);
    return this.sorted;
  }
}

interface LeafResult {
  text: string;
  hits: LeafHits;
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
function countPhrase(
  postings: Postings,
  head: number,
  rest: Uint32Array,
  cursors: Uint32Array,
  ends: Uint32Array,
  budget: MatchBudget,
): number {
  const { positionStart, positions } = postings;
  for (let k = 0; k < rest.length; k++) {
    cursors[k] = positionStart[rest[k] as number] as number;
    ends[k] = positionStart[(rest[k] as number) + 1] as number;
  }
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
  budget.spend(read * cost.read);
  return count;
}

function* textLeaf(
  index: PaperIndex,
  hits: LeafHits,
  stems: string[],
  fields: readonly TextField[],
  budget: MatchBudget,
): Generator<void, void> {
  const terms = stems.map((token) => index.terms.get(token));
  if (terms.some((term) => term === undefined)) return;
  const [head, ...rest] = terms as number[];
  for (const field of fields) {
    const postings = index.postings[field];
    const { start, papers, positionStart } = postings;
    const from = start[head as number] as number;
    const to = start[(head as number) + 1] as number;
    if (rest.length === 0) {
      budget.spend((to - from) * (cost.read + cost.hit));
      for (let entry = from; entry < to; entry++) {
        hits.setCount(
          field,
          papers[entry] as number,
          (positionStart[entry + 1] as number) - (positionStart[entry] as number),
        );
      }
      if (budget.isPauseDue()) yield;
      continue;
    }
    // A phrase: walk the head term's papers and, alongside, each other term's.
    const cursors = Uint32Array.from(rest, (term) => start[term] as number);
    const ends = Uint32Array.from(rest, (term) => start[term + 1] as number);
    const entries = new Uint32Array(rest.length);
    const positionCursors = new Uint32Array(rest.length);
    const positionEnds = new Uint32Array(rest.length);
    heads: for (let entry = from; entry < to; entry++) {
      const paper = papers[entry] as number;
      let read = 1;
      let isInAll = true;
      for (let k = 0; k < rest.length; k++) {
        const end = ends[k] as number;
        let cursor = cursors[k] as number;
        const skipped = cursor;
        while (cursor < end && (papers[cursor] as number) < paper) cursor++;
        read += cursor - skipped;
        cursors[k] = cursor;
        if (cursor === end) {
          budget.spend(read * cost.read);
          break heads;
        }
        if (papers[cursor] !== paper) {
          isInAll = false;
          break;
        }
        entries[k] = cursor;
      }
      budget.spend(read * cost.read);
      if (budget.isPauseDue()) yield;
      if (!isInAll) continue;
      const count = countPhrase(postings, entry, entries, positionCursors, positionEnds, budget);
      if (count === 0) continue;
      budget.spend(cost.hit);
      hits.setCount(field, paper, count);
    }
  }
}

/** Papers with an author whose name tokens contain `tokens` in a row (`author:"yann lecun"`, `author:lecun`). */
function* authorLeaf(
  index: PaperIndex,
  hits: LeafHits,
  tokens: string[],
  budget: MatchBudget,
): Generator<void, void> {
  const terms = tokens.map((token) => index.terms.get(token));
  const candidates = papersOf(index, index.authorTokens, tokens[0] as string);
  // A token no author name has: no name can hold them all.
  if (candidates.length === 0 || terms.some((term) => term === undefined)) return;
  budget.spend(candidates.length * cost.read);
  const { paperStart, nameStart, tokens: nameTokens } = index.authorNames;
  for (const paper of candidates) {
    const firstName = paperStart[paper] as number;
    const lastName = paperStart[paper + 1] as number;
    budget.spend(((nameStart[lastName] as number) - (nameStart[firstName] as number)) * cost.read);
    if (budget.isPauseDue()) yield;
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
    hits.setExact(paper);
  }
}

function* evaluateLeaf(
  index: PaperIndex,
  node: Extract<TopicNode, { type: 'term' | 'phrase' }>,
  budget: MatchBudget,
): Generator<void, LeafResult> {
  const hits = new LeafHits(index.size);
  if (node.field === 'cat') {
    const papers = papersOf(index, index.categories, node.tokens[0] as string);
    budget.spend(papers.length * (cost.read + cost.hit));
    for (const paper of papers) hits.setExact(paper);
  } else if (node.field === 'author') {
    yield* authorLeaf(index, hits, node.tokens, budget);
  } else {
    const stems = node.tokens.map(stem);
    yield* textLeaf(index, hits, stems, node.field ? [node.field] : textFields, budget);
    if (!node.field) {
      // A bare word also finds authors and categories ("hinton", "cs.lg").
      yield* authorLeaf(index, hits, node.tokens, budget);
      const category = papersOf(index, index.categories, node.text.toLowerCase());
      budget.spend(category.length * (cost.read + cost.hit));
      for (const paper of category) hits.setExact(paper);
    }
  }
  const papers = hits.papers();
  let df = papers.length;
  if (node.type === 'term' && node.field !== 'cat' && node.field !== 'author') {
    const term = index.terms.get(stem(node.tokens[0] as string));
    // A word in no text field (an author's name only) counts the papers it hit.
    if (term !== undefined && index.documentFrequency[term] !== 0)
      df = index.documentFrequency[term] as number;
  }
  return { text: node.field ? `${node.field}:${node.text}` : node.text, hits, idf: idfOf(index, df) };
}

function leafScore(index: PaperIndex, leaf: LeafResult, paper: number): number {
  const { hits } = leaf;
  if (!hits.has[paper]) return 0;
  let score = hits.exact?.[paper] ? exactFieldScore : 0;
  for (const field of textFields) {
    const tf = hits.tf[field]?.[paper];
    if (!tf) continue;
    const b = lengthNormalization[field];
    const norm = 1 - b + (b * (index.lengths[field][paper] ?? 0)) / index.averageLength[field];
    score += fieldWeights[field] * leaf.idf * ((tf * (k1 + 1)) / (tf + k1 * norm));
  }
  return score;
}

/** A node evaluated over an index: which papers match, and how well. */
interface Evaluated {
  /** The matching papers, ascending. */
  papers: Uint32Array;
  /** 1 for a matching paper, by paper. */
  has: Uint8Array;
  /** Relevance and the terms that hit, for a matching paper. */
  score(paper: number, matched: string[]): number;
}

/** The papers marked in `has`, ascending. */
function papersIn(has: Uint8Array, count: number): Uint32Array {
  const papers = new Uint32Array(count);
  let next = 0;
  for (let paper = 0; paper < has.length && next < count; paper++) if (has[paper]) papers[next++] = paper;
  return papers;
}

/** What one match reads besides the index: its budget, and the papers `like:` names. */
interface MatchRun {
  budget: MatchBudget;
  similar?: SimilarTo;
  /** The arXiv ids `like:` named that `similar` does not know (yet). */
  missing: Set<string>;
}

function likeLeaf(index: PaperIndex, node: Extract<TopicNode, { type: 'like' }>, run: MatchRun): Evaluated {
  const similar = run.similar?.(node.arxivId);
  if (!similar) run.missing.add(node.arxivId);
  const papers = similar?.papers ?? noPapers;
  run.budget.spend((similar?.work ?? 0) * cost.read + papers.length * (cost.hit + cost.setEntry));
  const has = new Uint8Array(index.size);
  const scores = new Float64Array(index.size);
  papers.forEach((paper, i) => {
    has[paper] = 1;
    scores[paper] = likeRule.weight * (similar?.similarity[i] as number);
  });
  return {
    papers,
    has,
    score(paper, matched) {
      matched.push(node.text);
      return scores[paper] as number;
    },
  };
}

function* evaluate(index: PaperIndex, node: TopicNode, run: MatchRun): Generator<void, Evaluated> {
  const { budget } = run;
  switch (node.type) {
    case 'like':
      return likeLeaf(index, node, run);
    case 'term':
    case 'phrase': {
      const leaf = yield* evaluateLeaf(index, node, budget);
      const papers = leaf.hits.papers();
      budget.spend(papers.length * cost.setEntry);
      return {
        papers,
        has: leaf.hits.has,
        score(paper, matched) {
          matched.push(leaf.text);
          return leafScore(index, leaf, paper);
        },
      };
    }
    case 'and': {
      const children: { isNot: boolean; result: Evaluated }[] = [];
      for (const child of node.children) {
        children.push({ isNot: child.type === 'not', result: yield* evaluate(index, child, run) });
      }
      const positive = children.filter((child) => !child.isNot);
      const [smallest, ...rest] = [...positive].sort(
        (x, y) => x.result.papers.length - y.result.papers.length,
      );
      const candidates = smallest?.result.papers ?? noPapers;
      budget.spend(candidates.length * (children.length * cost.check + cost.setEntry));
      const has = new Uint8Array(index.size);
      let count = 0;
      for (const paper of candidates) {
        if (
          rest.every((child) => child.result.has[paper]) &&
          children.every((child) => !child.isNot || child.result.has[paper])
        ) {
          has[paper] = 1;
          count++;
        }
      }
      return {
        papers: papersIn(has, count),
        has,
        score: (paper, matched) =>
          positive.reduce((sum, child) => sum + child.result.score(paper, matched), 0),
      };
    }
    case 'or': {
      const children: Evaluated[] = [];
      for (const child of node.children) children.push(yield* evaluate(index, child, run));
      budget.spend(children.reduce((sum, child) => sum + child.papers.length, 0) * cost.setEntry);
      const has = new Uint8Array(index.size);
      let count = 0;
      for (const child of children) {
        for (const paper of child.papers) {
          if (has[paper]) continue;
          has[paper] = 1;
          count++;
        }
      }
      return {
        papers: papersIn(has, count),
        has,
        score: (paper, matched) =>
          children.reduce((sum, child) => sum + (child.has[paper] ? child.score(paper, matched) : 0), 0),
      };
    }
    case 'not': {
      // Inside an AND the parent reads this as "must not match"; `has` marks the papers to keep by
      // being the complement.
      const inner = yield* evaluate(index, node.child, run);
      budget.spend(index.size * cost.setEntry);
      const has = new Uint8Array(index.size);
      for (let paper = 0; paper < index.size; paper++) if (!inner.has[paper]) has[paper] = 1;
      return { papers: papersIn(has, index.size - inner.papers.length), has, score: () => 0 };
    }
  }
}

const leavesOf = (node: TopicNode): number =>
  node.type === 'term' || node.type === 'phrase' || node.type === 'like'
    ? 1
    : node.type === 'not'
      ? leavesOf(node.child)
      : node.children.reduce((sum, child) => sum + leavesOf(child), 0);

const byScoreThenNewer = (index: PaperIndex) => (x: TopicMatch, y: TopicMatch) =>
  y.score - x.score ||
  (index.recency[y.paper] as number) - (index.recency[x.paper] as number) ||
  x.paper - y.paper;

export interface MatchOptions {
  /** Without one, no limit. */
  budget?: MatchBudget;
  /** The papers like one arXiv id (`like:`); without it, `like:` matches nothing. */
  similar?: SimilarTo;
  /** Filled with the arXiv ids `like:` named that `similar` did not know. */
  missing?: Set<string>;
}

const runOf = (options: MatchOptions): MatchRun => ({
  budget: options.budget ?? new MatchBudget(Number.POSITIVE_INFINITY),
  similar: options.similar,
  missing: options.missing ?? new Set(),
});

/**
 * Every paper of the index that the topic matches, best first, in steps: it yields every
 * `pauseEvery` units of work, so that a server can answer other requests between them. With a
 * `budget`, throws MatchBudgetExceeded as soon as the work would pass it; without one, no limit.
 */
export function* matchTopicSteps(
  index: PaperIndex,
  ast: TopicNode,
  options: MatchOptions = {},
): Generator<void, TopicMatch[]> {
  const run = runOf(options);
  const { budget } = run;
  const result = yield* evaluate(index, ast, run);
  // Scoring a match visits every leaf of the topic; then each match is built and sorted.
  const perMatch = leavesOf(ast) * cost.score + cost.match;
  budget.spend(result.papers.length * perMatch);
  const matches: TopicMatch[] = [];
  const pauseAfter = Math.max(1, Math.floor(pauseEvery / perMatch));
  for (const paper of result.papers) {
    const matched: string[] = [];
    const relevance = result.score(paper, matched);
    matches.push({
      paper,
      score: relevance * upvoteBoost(index.upvotes[paper] as number),
      matched: [...new Set(matched)],
    });
    if (matches.length % pauseAfter === 0) yield;
  }
  return matches.sort(byScoreThenNewer(index));
}

/**
 * The `limit` best matches among the papers `isIncluded` lets through, and how many there are: the
 * same as `matchTopicSteps` filtered and cut, but the terms that hit are listed for those `limit`
 * only, so a preview allocates little however many papers match. The budget is charged as for every
 * match, so a limit does not depend on the filter.
 */
export function* topMatchesSteps(
  index: PaperIndex,
  ast: TopicNode,
  options: MatchOptions & { limit: number; isIncluded?: (paper: number) => boolean },
): Generator<void, { total: number; matches: TopicMatch[] }> {
  const run = runOf(options);
  const { budget } = run;
  const result = yield* evaluate(index, ast, run);
  const perMatch = leavesOf(ast) * cost.score + cost.match;
  budget.spend(result.papers.length * perMatch);
  const { isIncluded } = options;
  const papers = isIncluded ? result.papers.filter((paper) => isIncluded(paper)) : result.papers;
  const scores = new Float64Array(papers.length);
  const scratch: string[] = [];
  const pauseAfter = Math.max(1, Math.floor(pauseEvery / perMatch));
  for (let i = 0; i < papers.length; i++) {
    const paper = papers[i] as number;
    scratch.length = 0;
    scores[i] = result.score(paper, scratch) * upvoteBoost(index.upvotes[paper] as number);
    if (i % pauseAfter === pauseAfter - 1) yield;
  }
  // The order of `byScoreThenNewer`, over positions in `papers`.
  const order = Uint32Array.from(papers.keys()).sort(
    (x, y) =>
      (scores[y] as number) - (scores[x] as number) ||
      (index.recency[papers[y] as number] as number) - (index.recency[papers[x] as number] as number) ||
      (papers[x] as number) - (papers[y] as number),
  );
  const matches = Array.from(order.subarray(0, options.limit), (at): TopicMatch => {
    const paper = papers[at] as number;
    const matched: string[] = [];
    result.score(paper, matched);
    return { paper, score: scores[at] as number, matched: [...new Set(matched)] };
  });
  return { total: papers.length, matches };
}

/** Runs a stepwise computation to its end at once. */
export function runSteps<T>(steps: Generator<void, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** `matchTopicSteps` at once: the digest engine's way, where nothing else waits on the thread. */
export function matchTopic(index: PaperIndex, ast: TopicNode, options: MatchOptions = {}): TopicMatch[] {
  return runSteps(matchTopicSteps(index, ast, options));
}

export const compareMatches = byScoreThenNewer;
