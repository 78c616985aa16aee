import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { createMatchQueue } from '../../src/topics/preview.js';

/** A match that takes a few slices of work and then answers `value`. */
function* slowMatch(value: number): Generator<void, number> {
  for (let i = 0; i < 3; i++) {
    const until = performance.now() + 15;
    while (performance.now() < until) {} // one slice's worth of work
    yield;
  }
  return value;
}

describe('preview match queue', () => {
  it('runs matches one at a time in arrival order', async () => {
    const queue = createMatchQueue();
    const finished: number[] = [];
    await Promise.all([1, 2, 3].map((n) => queue.run(() => slowMatch(n)).then((v) => finished.push(v))));
    expect(finished).toEqual([1, 2, 3]);
  });

  it('turns away what would wait past its bound with rate_limited, and takes work again once it drains', async () => {
    const queue = createMatchQueue(2);
    const runs = [1, 2, 3, 4].map((n) => queue.run(() => slowMatch(n)));
    const outcomes = await Promise.allSettled(runs);
    // Two are in line (not yet started) when the others arrive: those are refused at once.
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'rejected',
    ]);
    const refused = outcomes[2];
    const reason = refused?.status === 'rejected' ? (refused.reason as AppError) : undefined;
    expect(reason).toBeInstanceOf(AppError);
    expect(reason?.code).toBe('rate_limited');
    expect(await queue.run(() => slowMatch(5))).toBe(5);
  });
});
