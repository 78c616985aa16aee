import { setImmediate as nextTurn } from 'node:timers/promises';
import { z } from 'zod';
import type { Ctx } from '../context.js';
import { AppError, ValidationError } from '../errors.js';
import { matchablePapersPage, newestPaperId, type PaperCursor, papersByArxivId } from '../papers/store.js';
import { wholeNumber } from '../query-params.js';
import {
  createPaperIndexBuilder,
  MatchBudget,
  MatchBudgetExceeded,
  type PaperIndex,
  paperIndexBytes,
  type TopicMatch,
  topMatchesSteps,
} from './match.js';
import { likeIdsIn, parseTopic, TopicSyntaxError } from './parse.js';
import { createSimilarPapers, paperNormsSteps, type Reference, type SimilarTo } from './similar.js';

const widestWindowDays = 365;

export const PreviewInput = z.strictObject({
  q: z.string({ error: 'is required' }),
  days: wholeNumber(1, widestWindowDays).optional(),
  limit: wholeNumber(1, 50).optional(),
});
export type PreviewInput = z.infer<typeof PreviewInput>;

export const previewLimits = {
  /** The index holds at most this many papers, the newest first seen in the last 365 days (~30 MB). */
  papers: 10_000,
  /**
   * Matching work one preview may do, in `MatchBudget` units (about one index entry or word position
   * read each): ~10–20 ms of CPU over 10,000 papers on the benchmark machine. Every topic the
   * benchmarks generate needs under 750,000, five of the broadest words ORed ~1.3 million; ten ORed,
   * or fourteen phrases of common words ("of the" OR "in the" OR …), need 2–4 million.
   */
  work: 2_000_000,
};

const indexLifetimeMs = 60_000;
/** A build gives the event loop back this often, so requests wait at most this long behind it. */
const sliceMs = 5;
const pageSize = 100;

/** One index over the widest window; each preview keeps the papers of its own `days`. */
export interface PreviewIndex {
  builtAt: number;
  newestId: number;
  index: PaperIndex;
  /** What an answer shows of each paper: the rows themselves (abstracts, authors) are not kept. */
  arxivIds: string[];
  titles: string[];
  firstSeenAt: Float64Array;
  /** The papers `like:` named in previews from this index, and what is like them (made on first use). */
  likes?: { references: Map<string, Reference>; similar: SimilarTo };
}

/** This index's `like:` lookups, which read the papers previews named so far. */
function likesOf(preview: PreviewIndex): NonNullable<PreviewIndex['likes']> {
  if (!preview.likes) {
    const references = new Map<string, Reference>();
    preview.likes = { references, similar: createSimilarPapers(preview.index, (id) => references.get(id)) };
  }
  return preview.likes;
}

/** Runs for `sliceMs`, then lets the event loop serve whatever is waiting. */
function createSlicer() {
  let sliceStart = performance.now();
  return {
    isDue: () => performance.now() - sliceStart >= sliceMs,
    async pause() {
      await nextTurn();
      sliceStart = performance.now();
    },
  };
}

/** Runs stepwise work to its end, giving the event loop back every `sliceMs`. */
async function runInSlices<T>(steps: Generator<void, T>): Promise<T> {
  const slicer = createSlicer();
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (slicer.isDue()) await slicer.pause();
  }
}

/**
 * Previews' matching, one at a time in arrival order and in slices: a costly topic delays the
 * previews queued behind it, never the rest of the service, and only one match's working memory
 * (a few typed arrays per term) exists at a time, however many previews are in flight.
 */
export function createMatchQueue(maxWaiting = 32) {
  let tail: Promise<unknown> = Promise.resolve();
  let waiting = 0;
  return {
    run<T>(start: () => Generator<void, T>): Promise<T> {
      // A bounded line (about a second of work at most): past it, clients from many addresses at once
      // are told to come back rather than queueing up memory and ever longer waits.
      if (waiting >= maxWaiting) {
        return Promise.reject(new AppError('rate_limited', 'Previews are busy; try again in a moment'));
      }
      waiting++;
      const result = tail.then(() => {
        waiting--;
        return runInSlices(start());
      });
      tail = result.catch(() => undefined);
      return result;
    },
    /** Matches queued, not yet started. */
    get waiting() {
      return waiting;
    },
  };
}
export type MatchQueue = ReturnType<typeof createMatchQueue>;

/**
 * The index that previews answer from: one, over the newest papers of the widest window (`days` is a
 * filter at query time, so any number of `days` values share it). It is rebuilt when new papers
 * arrive or after a minute (upvotes change), in the background and in slices of `sliceMs`, while
 * previews keep answering from the previous one; only the very first preview waits for a build.
 */
export function createPreviewIndexes(ctx: Pick<Ctx, 'db' | 'clock' | 'log'>) {
  let current: PreviewIndex | undefined;
  let building: Promise<PreviewIndex> | undefined;
  let builds = 0;

  async function build(): Promise<PreviewIndex> {
    // Not on the caller's turn: a request that starts a rebuild is answered first.
    await nextTurn();
    const slicer = createSlicer();
    const builtAt = ctx.clock().getTime();
    const newestId = await newestPaperId(ctx.db);
    const builder = createPaperIndexBuilder();
    const arxivIds: string[] = [];
    const titles: string[] = [];
    const firstSeenAt: number[] = [];
    const since = new Date(builtAt - widestWindowDays * 86_400_000);
    let cursor: PaperCursor | undefined;
    for (;;) {
      const limit = Math.min(pageSize, previewLimits.papers - builder.size);
      if (limit <= 0) break;
      if (slicer.isDue()) await slicer.pause();
      const papers = await matchablePapersPage(ctx.db, since, cursor, limit);
      for (const paper of papers) {
        builder.add(paper);
        arxivIds.push(paper.arxivId);
        titles.push(paper.title);
        firstSeenAt.push(paper.firstSeenAt);
        if (slicer.isDue()) await slicer.pause();
      }
      const last = papers.at(-1);
      if (!last || papers.length < limit) break;
      cursor = { firstSeenAt: last.firstSeenAt, id: last.id };
    }
    const index = await runInSlices(builder.finish());
    return { builtAt, newestId, index, arxivIds, titles, firstSeenAt: Float64Array.from(firstSeenAt) };
  }

  function rebuild(): Promise<PreviewIndex> {
    if (!building) {
      building = build()
        .then((built) => {
          current = built;
          builds++;
          return built;
        })
        .finally(() => {
          building = undefined;
        });
      building.catch((error: unknown) => ctx.log.error({ err: error }, 'building the preview index failed'));
    }
    return building;
  }

  return {
    /** The index to answer from now; stale ones are answered from while their successor is built. */
    async get(): Promise<PreviewIndex> {
      if (!current) return rebuild();
      const isStale =
        current.newestId !== (await newestPaperId(ctx.db)) ||
        ctx.clock().getTime() - current.builtAt > indexLifetimeMs;
      if (isStale) void rebuild().catch(() => {}); // logged in rebuild
      return current;
    },
    /** How many indexes were built, and the one held: memory is this one (and one being built). */
    stats() {
      return {
        builds,
        isBuilding: building !== undefined,
        papers: current?.index.size ?? 0,
        bytes: current ? paperIndexBytes(current.index) : 0,
      };
    },
  };
}
export type PreviewIndexes = ReturnType<typeof createPreviewIndexes>;

/** What a topic would catch among recent papers, best first, with the terms that matched. */
export async function previewTopic({
  ctx,
  input,
  indexes,
  queue,
}: {
  ctx: Pick<Ctx, 'clock' | 'db'>;
  input: PreviewInput;
  indexes: PreviewIndexes;
  queue: MatchQueue;
}) {
  let ast: ReturnType<typeof parseTopic>;
  try {
    ast = parseTopic(input.q);
  } catch (error) {
    if (!(error instanceof TopicSyntaxError)) throw error;
    throw new ValidationError('invalid_topic', error.message, { details: { position: error.position } });
  }
  const preview = await indexes.get();
  // The papers `like:` names, read from the store: the index keeps no abstracts.
  const likeIds = [...new Set(likeIdsIn(ast))];
  const named = likeIds.length === 0 ? new Map() : await papersByArxivId(ctx.db, likeIds);
  const likes = likeIds.length === 0 ? undefined : likesOf(preview);
  if (likes) {
    for (const [arxivId, paper] of named) {
      const place = preview.arxivIds.indexOf(arxivId);
      likes.references.set(arxivId, { paper, place: place === -1 ? undefined : place });
    }
    await queue.run(() => paperNormsSteps(preview.index));
  }
  const since = ctx.clock().getTime() - (input.days ?? 30) * 86_400_000;
  let top: { total: number; matches: TopicMatch[] };
  try {
    const budget = new MatchBudget(previewLimits.work);
    top = await queue.run(() =>
      topMatchesSteps(preview.index, ast, {
        budget,
        limit: input.limit ?? 20,
        isIncluded: (paper) => (preview.firstSeenAt[paper] as number) >= since,
        similar: likes?.similar,
      }),
    );
  } catch (error) {
    if (!(error instanceof MatchBudgetExceeded)) throw error;
    throw new AppError(
      'topic_too_expensive',
      `This topic is too expensive to preview: matching it would take more than ${error.max.toLocaleString('en-US')} units of work (index entries and word positions read), the limit per preview. Use fewer or rarer words, or fewer phrases of common words such as "of the"`,
      { details: { limit: 'matchWork', max: error.max } },
    );
  }
  return {
    query: input.q,
    total: top.total,
    // Each paper `like:` names: its title, or null while paperboy does not have it (saving the topic
    // asks arXiv for it; until then it matches nothing).
    likes: likeIds.map((arxivId) => ({ arxivId, title: (named.get(arxivId)?.title as string) ?? null })),
    matches: top.matches.map((match) => ({
      arxivId: preview.arxivIds[match.paper] as string,
      title: preview.titles[match.paper] as string,
      score: Math.round(match.score * 1000) / 1000,
      matched: match.matched,
      upvotes: preview.index.upvotes[match.paper] as number,
    })),
  };
}
