import type { Ctx } from '../context.js';
import type { FeedbackKind } from '../db/schema.js';
import { type FeedbackTarget, feedbackTarget } from './links.js';
import { deleteFeedback, upsertFeedback } from './store.js';

/**
 * A click on "More like this" or "Less like this", confirmed with the page's button (the link itself
 * changes nothing: mail scanners open every link). `undo` takes the feedback on that paper back.
 * Returns what the link names and the reader's feedback on the paper now.
 */
export async function giveFeedback({
  ctx,
  input,
}: {
  ctx: Pick<Ctx, 'db' | 'tokens' | 'clock' | 'log'>;
  input: { token: string; undo?: boolean };
}): Promise<FeedbackTarget & { now: FeedbackKind | undefined }> {
  const target = await feedbackTarget(ctx, input.token);
  const { subscriber, paper } = target;
  if (input.undo) {
    await deleteFeedback(ctx.db, subscriber.id, paper.arxivId);
  } else {
    await upsertFeedback(ctx.db, {
      subscriberId: subscriber.id,
      paperId: paper.id,
      kind: target.kind,
      digestId: target.digestId,
      at: ctx.clock(),
    });
  }
  ctx.log.info(
    { subscriberId: subscriber.id, paperId: paper.id, kind: target.kind, undo: input.undo === true },
    'feedback',
  );
  // What was just written: one row per reader and paper, so nothing else can stand.
  return { ...target, now: input.undo ? undefined : target.kind };
}
