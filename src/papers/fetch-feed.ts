/** A whole feed could not be read: nothing from it is stored. */
export class FeedError extends Error {}

export interface FetchOptions {
  timeoutMs?: number;
  /** Retries after the first attempt, on network errors, timeouts, 429 and 5xx. */
  retries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Seconds or an HTTP date → milliseconds to wait, if the header says anything usable. */
function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * GET a feed as text with a timeout covering the whole body, retrying transient failures with
 * exponential backoff (honouring Retry-After, capped at `maxDelayMs`). 4xx other than 429 is final.
 */
export async function fetchFeed(url: string, options: FetchOptions = {}): Promise<string> {
  const {
    timeoutMs = 30_000,
    retries = 3,
    baseDelayMs = 1000,
    maxDelayMs = 60_000,
    sleep = defaultSleep,
  } = options;
  let lastProblem = '';
  for (let attempt = 0; attempt <= retries; attempt++) {
    let waitMs = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
    try {
      const response = await fetch(url, {
        signal: AbortSignal.timeout(timeoutMs),
        headers: {
          'user-agent': 'paperboy (self-hosted paper digest)',
          accept: 'application/json, application/atom+xml',
        },
      });
      if (response.ok) return await response.text();
      lastProblem = `HTTP ${response.status}`;
      if (response.status !== 429 && response.status < 500)
        throw new FeedError(`${url} answered ${lastProblem}`);
      waitMs = Math.min(maxDelayMs, retryAfterMs(response.headers.get('retry-after')) ?? waitMs);
      await response.body?.cancel();
    } catch (error) {
      if (error instanceof FeedError) throw error;
      const name = (error as Error).name;
      lastProblem = name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (error as Error).message;
    }
    if (attempt < retries) await sleep(waitMs);
  }
  throw new FeedError(`${url} failed after ${retries + 1} attempts: ${lastProblem}`);
}
