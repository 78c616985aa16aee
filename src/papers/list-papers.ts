import { z } from 'zod';
import type { Ctx } from '../context.js';
import type { Paper } from '../db/schema.js';
import { ValidationError } from '../errors.js';
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
  limit: z
    .string()
    .regex(/^\d{1,3}$/, 'must be a whole number from 1 to 200')
    .transform(Number)
    .refine((limit) => limit >= 1 && limit <= 200, 'must be a whole number from 1 to 200')
    .optional(),
});
export type ListPapersInput = z.infer<typeof ListPapersInput>;

/** Query-string input → a search, or one invalid_parameter error naming the parameter. */
export function parseListPapersInput(query: unknown): ListPapersInput {
  const result = ListPapersInput.safeParse(query);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const name =
    issue?.code === 'unrecognized_keys' ? issue.keys.join(', ') : String(issue?.path[0] ?? 'query');
  throw new ValidationError('invalid_parameter', `${name}: ${issue?.message ?? 'invalid'}`, {
    details: { parameter: name },
  });
}

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
export function listPapers({ ctx, input }: { ctx: Pick<Ctx, 'db'>; input: ListPapersInput }) {
  const words = input.q?.match(/[\p{L}\p{N}]+/gu) ?? [];
  const papers = searchPapers(ctx.db, {
    words,
    since: input.since ? new Date(input.since) : undefined,
    limit: input.limit ?? 50,
  });
  return { papers: papers.map(toPaperView) };
}
