import { z } from 'zod';
import type { Ctx } from '../context.js';
import type { Paper } from '../db/schema.js';
import { wholeNumber } from '../query-params.js';
import { hasControlCharacters } from '../text.js';
import { searchPapers } from './store.js';

export const ListPapersInput = z.strictObject({
  q: z
    .string()
    .max(200, 'at most 200 characters')
    .refine((q) => !hasControlCharacters(q), 'no control characters')
    .optional(),
  since: z
    .string()
    .regex(
      /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/,
      'must be an ISO date or time',
    )
    .refine((since) => !Number.isNaN(Date.parse(since)), 'must be a real date')
    .optional(),
  limit: wholeNumber(1, 200).optional(),
});
export type ListPapersInput = z.infer<typeof ListPapersInput>;

export function toPaperView(paper: Paper) {
  return {
    arxivId: paper.arxivId,
    title: paper.title,
    authors: paper.authors,
    categories: paper.categories,
    publishedAt: paper.publishedAt.toISOString(),
    upvotes: paper.upvotes,
    firstSeenAt: paper.firstSeenAt.toISOString(),
    abstract: paper.abstract,
    aiSummary: paper.aiSummary,
    aiKeywords: paper.aiKeywords,
    githubRepo: paper.githubRepo,
    projectPage: paper.projectPage,
    thumbnail: paper.thumbnail,
    source: paper.source,
    links: {
      abs: `https://arxiv.org/abs/${paper.arxivId}`,
      pdf: `https://arxiv.org/pdf/${paper.arxivId}`,
    },
  };
}

/** Papers newest first; `q` is a plain word search (every word must occur, stemmed). */
export async function listPapers({ ctx, input }: { ctx: Pick<Ctx, 'db'>; input: ListPapersInput }) {
  const words = input.q?.match(/[\p{L}\p{N}]+/gu) ?? [];
  const papers = await searchPapers(ctx.db, {
    words,
    since: input.since ? new Date(input.since) : undefined,
    limit: input.limit ?? 50,
  });
  return { papers: papers.map(toPaperView) };
}
