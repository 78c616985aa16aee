import { pathToFileURL } from 'node:url';
import type { Db } from '../src/db/client.js';
import { createDigestCandidates, type DigestCandidates, pickDigestPapers } from '../src/digests/select.js';
import { papersFirstSeenSince } from '../src/papers/store.js';
import { type SubscriberTopics, walkSubscribers } from '../src/subscribers/walk-subscribers.js';
import { createMatchingEngine, type MatchingEngine } from '../src/topics/engine.js';
import { buildPaperIndex } from '../src/topics/match.js';
import { openBenchDatabase } from './database.js';
import { collectGarbage, processMaxRss, startRssSampler } from './harness.js';

/**
 * Calls `visit` for each of the first `count` active subscribers, walked as production walks them,
 * and `halfway` (if given) before visiting subscriber `count / 2`.
 */
async function forFirstSubscribers(
  db: Db,
  count: number,
  visit: (subscriber: SubscriberTopics) => void,
  halfway?: () => void,
): Promise<number> {
  let subscribers = 0;
  const half = Math.floor(count / 2);
  walk: for await (const page of walkSubscribers(db, { pageSize: 1000 })) {
    for (const subscriber of page) {
      if (subscribers >= count) break walk;
      if (subscribers === half) halfway?.();
      subscribers++;
      visit(subscriber);
    }
  }
  return subscribers;
}

/**
 * The digest run of issue 4: a new engine over the day's index, subscribers walked a page at a
 * time, each ranked with their own topics and max papers.
 */
export async function digestPass(db: Db, engine: MatchingEngine, count: number, halfway?: () => void) {
  let picked = 0;
  let emptyDigests = 0;
  const subscribers = await forFirstSubscribers(
    db,
    count,
    (subscriber) => {
      const ranked = engine.rank(subscriber.topics, { limit: subscriber.maxPapers });
      picked += ranked.length;
      if (ranked.length === 0) emptyDigests++;
    },
    halfway,
  );
  return { subscribers, picked, emptyDigests, distinctTopics: engine.distinctTopics };
}

/**
 * The same walk, each subscriber's papers picked as the send job picks them (`pickDigestPapers`):
 * up to 100 for the web version, with the window and already-sent exclusions asked per paper. The
 * sent set is empty here; reading it is one query per digest, which belongs to delivery.
 */
export async function sendJobPass(
  db: Db,
  candidates: DigestCandidates,
  count: number,
  windowStart: Date,
  halfway?: () => void,
) {
  const sent = new Set<number>();
  let picked = 0;
  const subscribers = await forFirstSubscribers(
    db,
    count,
    (subscriber) => {
      picked += pickDigestPapers(candidates, subscriber, { windowStart, sent }).length;
    },
    halfway,
  );
  return { subscribers, picked };
}

/** The floor under the pass: the same walk over the database, without ranking anyone. */
export async function walkOnly(db: Db, count: number) {
  let topics = 0;
  const subscribers = await forFirstSubscribers(db, count, (subscriber) => {
    topics += subscriber.topics.length;
  });
  return { subscribers, topics };
}

/** A digest pass as the batch engine ranks (`digest`: max papers, no exclusions) or as send jobs pick (`send`). */
export type PassMode = 'digest' | 'send';

export interface FreshPassResult {
  mode: PassMode;
  subscribers: number;
  /** Papers picked over all subscribers: the same for the same database and mode, whatever the code. */
  picked: number;
  loadMs: number;
  indexMs: number;
  passMs: number;
  /** CPU time over wall time of the pass (see `contendedCpuShare`). */
  passCpuShare: number;
  /**
   * CPU time of the second half of the subscribers: by then every topic is matched and the code is
   * optimized, so this is the steady cost per subscriber that a larger run would add.
   */
  secondHalfCpuMs: number;
  /** RSS after the index is built (and a GC), the peak during the pass, the process's peak overall. */
  rssBeforePass: number;
  peakRssDuringPass: number;
  processPeakRss: number;
  /**
   * Live heap after the pass minus before it, both after a GC, with the engine still held: what the
   * pass keeps (the topic cache), as opposed to garbage not yet collected.
   */
  liveHeapGrowth: number;
  distinctTopics: number;
}

/**
 * One digest run in a process of its own, as a worker would do it once a day: nothing warmed up,
 * and no benchmark set-up garbage inflating the heap. Prints a FreshPassResult as JSON. In `send`
 * mode the candidates are built as send jobs build them (`createDigestCandidates`), and each
 * subscriber's window starts at `windowStart`.
 */
async function runFreshPass(
  databaseUrl: string,
  count: number,
  paperCount: number,
  mode: PassMode,
  windowStart: Date,
) {
  const sampler = await startRssSampler();
  const db = await openBenchDatabase(databaseUrl);
  let start = performance.now();
  const papers = await papersFirstSeenSince(db, new Date(0), paperCount);
  const loadMs = performance.now() - start;
  start = performance.now();
  const index = buildPaperIndex(papers);
  const candidates = mode === 'send' ? createDigestCandidates(papers, index) : undefined;
  const indexMs = performance.now() - start;
  collectGarbage();
  const heapBeforePass = process.memoryUsage().heapUsed;
  const rssBeforePass = sampler.reset();
  const cpuStart = process.cpuUsage();
  start = performance.now();
  const engine = candidates?.engine ?? createMatchingEngine(index);
  let cpuHalfway = cpuStart;
  const halfway = () => {
    cpuHalfway = process.cpuUsage();
  };
  const pass = candidates
    ? await sendJobPass(db, candidates, count, windowStart, halfway)
    : await digestPass(db, engine, count, halfway);
  const passMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  const secondHalf = process.cpuUsage(cpuHalfway);
  const peakRssDuringPass = sampler.peak();
  collectGarbage();
  const liveHeapGrowth = process.memoryUsage().heapUsed - heapBeforePass;
  const result: FreshPassResult = {
    mode,
    subscribers: pass.subscribers,
    picked: pass.picked,
    loadMs,
    indexMs,
    passMs,
    passCpuShare: (cpu.user + cpu.system) / 1000 / passMs,
    secondHalfCpuMs: (secondHalf.user + secondHalf.system) / 1000,
    rssBeforePass,
    peakRssDuringPass,
    processPeakRss: processMaxRss(),
    liveHeapGrowth,
    // Read after the heap is measured, so the engine and its topic cache are alive then.
    distinctTopics: engine.distinctTopics,
  };
  await db.close();
  await sampler.stop();
  console.log(JSON.stringify(result));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [databaseUrl, count, paperCount, mode = 'digest', windowStart = '0'] = process.argv.slice(2);
  if (!databaseUrl || !count || !paperCount || (mode !== 'digest' && mode !== 'send')) {
    console.error(
      'usage: node --import tsx bench/matching-pass.ts <database URL> <subscribers> <papers> [digest|send] [window start, ms]',
    );
    process.exit(2);
  }
  await runFreshPass(databaseUrl, Number(count), Number(paperCount), mode, new Date(Number(windowStart)));
}
