import type { Ctx } from '../context.js';
import { deleteFeedback } from './store.js';

/** Takes back the reader's feedback on one paper (`arxivId`), or all of it; how many entries went. */
export async function undoFeedback({
  ctx,
  input,
}: {
  ctx: Pick<Ctx, 'db' | 'log'>;
  input: { subscriberId: number; arxivId?: string };
}): Promise<number> {
  const { subscriberId, arxivId } = input;
  const removed = await deleteFeedback(ctx.db, subscriberId, arxivId);
  ctx.log.info(
    { subscriberId, arxivId, removed },
    arxivId === undefined ? 'feedback cleared' : 'feedback undone',
  );
  return removed;
}
