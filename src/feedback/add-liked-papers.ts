import type { Ctx } from '../context.js';
import { ValidationError } from '../errors.js';
import { paperIdsByArxivId, papersByTitle } from '../papers/store.js';
import { LikedInputError, likedInputLimits, parseLikedInput } from './liked-input.js';
import { countLikedPapers, insertLikedPapers } from './store.js';

/** What became of one item the reader gave. */
export type LikedResult =
  | { input: string; arxivId: string; result: 'added' | 'already' | 'fetching' }
  | { input: string; result: 'not-found' | 'not-arxiv'; reason: string };

/** A reader keeps at most this many liked papers. */
export const maxLikedPapers = likedInputLimits.entries;

/**
 * "Papers I like" from arXiv ids, arXiv links or a BibTeX file (`parseLikedInput`). Each arXiv id is
 * added; one paperboy does not have yet is `pending` and the `fetch-liked-papers` job asks arXiv for it.
 * A BibTeX entry with a title only is added when a stored paper has that title. Input over the limits,
 * or more liked papers than a reader may keep, is refused whole: nothing is added.
 */
export async function addLikedPapers({
  ctx,
  input,
}: {
  ctx: Pick<Ctx, 'db' | 'clock' | 'log' | 'enqueue'>;
  input: { subscriberId: number; text: string };
}): Promise<LikedResult[]> {
  let entries: ReturnType<typeof parseLikedInput>['entries'];
  try {
    ({ entries } = parseLikedInput(input.text));
  } catch (error) {
    if (!(error instanceof LikedInputError)) throw error;
    throw new ValidationError('invalid_body', error.message, { details: { limit: error.code } });
  }
  const titles = entries.flatMap((entry) => (entry.kind === 'title' ? [entry.title] : []));
  const byTitle = await papersByTitle(ctx.db, titles);
  // Each item's arXiv id, from the item or from the stored paper with its title.
  const arxivIdOf = (entry: (typeof entries)[number]) =>
    entry.kind === 'arxiv'
      ? entry.arxivId
      : entry.kind === 'title'
        ? byTitle.get(entry.title.toLowerCase())?.arxivId
        : undefined;
  const arxivIds = [...new Set(entries.flatMap((entry) => arxivIdOf(entry) ?? []))];
  const stored = await paperIdsByArxivId(ctx.db, arxivIds);
  const kept = await countLikedPapers(ctx.db, input.subscriberId);
  if (kept + arxivIds.length > maxLikedPapers) {
    throw new ValidationError(
      'invalid_body',
      `At most ${maxLikedPapers.toLocaleString('en-US')} liked papers: you have ${kept.toLocaleString('en-US')}, and this adds up to ${arxivIds.length.toLocaleString('en-US')}`,
      { details: { limit: 'liked_papers' } },
    );
  }
  const added = await insertLikedPapers(
    ctx.db,
    input.subscriberId,
    arxivIds.map((arxivId) => ({ arxivId, paperId: stored.get(arxivId) ?? null })),
    ctx.clock(),
  );
  if (arxivIds.some((arxivId) => added.has(arxivId) && !stored.has(arxivId))) {
    await ctx.enqueue('fetch-liked-papers', {});
  }
  ctx.log.info(
    { subscriberId: input.subscriberId, items: entries.length, added: added.size },
    'liked papers added',
  );
  return entries.map((entry): LikedResult => {
    if (entry.kind === 'not-arxiv') return { input: entry.input, result: 'not-arxiv', reason: entry.reason };
    const arxivId = arxivIdOf(entry);
    if (arxivId === undefined) {
      return {
        input: entry.input,
        result: 'not-found',
        reason: 'no arXiv id, and no paper paperboy knows has this title: add its arXiv id or link',
      };
    }
    const result = !added.has(arxivId) ? 'already' : stored.has(arxivId) ? 'added' : 'fetching';
    return { input: entry.input, arxivId, result };
  });
}
