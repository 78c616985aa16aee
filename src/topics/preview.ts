import { z } from 'zod';
import type { Ctx } from '../context.js';
import type { Paper } from '../db/schema.js';
import { ValidationError } from '../errors.js';
import { papersFirstSeenSince } from '../papers/store.js';
import { wholeNumber } from '../query-params.js';
import { buildPaperIndex, matchTopic, type PaperIndex } from './match.js';
import { parseTopic, TopicSyntaxError } from './parse.js';

export const PreviewInput = z.strictObject({
  q: z.string({ error: 'is required' }),
  days: wholeNumber(1, 365).optional(),
  limit: wholeNumber(1, 50).optional(),
});
export type PreviewInput = z.infer<typeof PreviewInput>;

/** At most this many of the newest papers are previewed against. */
const previewPaperLimit = 5000;
const indexLifetimeMs = 60_000;

/**
 * Indexes of recent papers for previews, per `days` value, rebuilt when new papers arrive or after a
 * minute (upvotes change, the window slides): a preview is typed letter by letter, and re-reading
 * thousands of papers per keystroke would not scale.
 */
export function createPreviewIndexes(ctx: Pick<Ctx, 'db' | 'clock'>) {
  const cache = new Map<number, { builtAt: number; newestId: number; papers: Paper[]; index: PaperIndex }>();
  const newestPaper = ctx.db.$client.prepare('select coalesce(max(id), 0) from papers').pluck();
  return (days: number) => {
    const now = ctx.clock().getTime();
    const newestId = newestPaper.get() as number;
    let entry = cache.get(days);
    if (!entry || entry.newestId !== newestId || now - entry.builtAt > indexLifetimeMs) {
      const papers = papersFirstSeenSince(ctx.db, new Date(now - days * 86_400_000), previewPaperLimit);
      entry = { builtAt: now, newestId, papers, index: buildPaperIndex(papers) };
      cache.set(days, entry);
    }
    return entry;
  };
}
export type PreviewIndexes = ReturnType<typeof createPreviewIndexes>;

/** What a topic would catch among recent papers, best first, with the terms that matched. */
export function previewTopic({ input, indexes }: { input: PreviewInput; indexes: PreviewIndexes }) {
  let ast: ReturnType<typeof parseTopic>;
  try {
    ast = parseTopic(input.q);
  } catch (error) {
    if (!(error instanceof TopicSyntaxError)) throw error;
    throw new ValidationError('invalid_topic', error.message, { details: { position: error.position } });
  }
  const { papers, index } = indexes(input.days ?? 30);
  const matches = matchTopic(index, ast);
  return {
    query: input.q,
    total: matches.length,
    matches: matches.slice(0, input.limit ?? 20).map((match) => {
      const paper = papers[match.paper] as Paper;
      return {
        arxivId: paper.arxivId,
        title: paper.title,
        score: Math.round(match.score * 1000) / 1000,
        matched: match.matched,
        upvotes: paper.upvotes,
      };
    }),
  };
}
