import type { Paper } from '../src/db/schema.js';
import { createDigestCandidates, type GivenFeedback, pickDigestPapers } from '../src/digests/select.js';
import { feedbackReadLimit } from '../src/feedback/store.js';
import { buildPaperIndex, matchTopic } from '../src/topics/match.js';
import { parseTopic } from '../src/topics/parse.js';
import { createSimilarPapers, likedMatches, likeRule } from '../src/topics/similar.js';
import { isStopword, tokenize } from '../src/topics/tokens.js';
import { type ExamplePaper, generatePapers, readExamplePapers } from './fixtures/papers.js';
import { createRandom, type Random } from './fixtures/random.js';
import { type Benchmark, type BenchResult, format, median, type TargetCheck } from './harness.js';

const targets = { precisionGainAtDay10: 0.15 };
const day = 86_400_000;
const shown = 10;
/** The send path's candidates: papers first seen in the last 15 days (`longestWindowMs`). */
const candidateDays = 15;
/** Each wrong click: a "more" on a paper outside the hidden interest, or a "less" on one inside. */
const noise = 0.1;

/**
 * What the sample papers are about, by the first of these words their text has: papers of a theme
 * are generated from that theme's sample papers only, so they share its vocabulary, as real papers
 * on one subject do. A reader's hidden interest is one theme.
 */
const themeWords = ['video', 'agent', 'reason', 'code', 'diffusion'] as const;

function themesOf(examples: readonly ExamplePaper[]): ExamplePaper[][] {
  const themes = [...themeWords, 'other'].map((): ExamplePaper[] => []);
  for (const example of examples) {
    const text = `${example.title} ${example.abstract}`.toLowerCase();
    const theme = themeWords.findIndex((word) => text.includes(word));
    (themes[theme === -1 ? themeWords.length : theme] as ExamplePaper[]).push(example);
  }
  return themes;
}

/** One simulated reader: the topic they wrote, and the narrower interest they click by. */
interface Reader {
  topic: string;
  /** The theme they are after, among the papers their topic matches. */
  theme: number;
  /** The papers of the hidden interest: what a perfect digest would show first. */
  relevant: Set<number>;
  /** Papers of their theme from before the first day: the ones they cite, their "papers I like". */
  liked: Paper[];
}

/**
 * Readers as the issue describes them: each writes a broad one-word topic and is really after one
 * theme among the papers it matches (a sixth to a half of them), e.g. `reasoning` when they want the
 * papers on agents that reason. Topics are the papers' own title words.
 */
function makeReaders(
  random: Random,
  papers: readonly Paper[],
  themeOf: ReadonlyMap<number, number>,
  history: readonly Paper[][],
  count: number,
): Reader[] {
  const index = buildPaperIndex(papers);
  const words = new Map<string, number>();
  for (const paper of papers) {
    for (const word of new Set(tokenize(paper.title))) {
      if (word.length >= 5 && !isStopword(word) && /^[a-z]+$/.test(word))
        words.set(word, (words.get(word) ?? 0) + 1);
    }
  }
  const topics = [...words].filter(([, n]) => n >= 0.02 * papers.length).map(([word]) => word);
  const readers: Reader[] = [];
  for (let tries = 0; readers.length < count && tries < count * 100; tries++) {
    const topic = random.pick(topics) as string;
    const theme = random.int(0, themeWords.length - 1);
    const matched = matchTopic(index, parseTopic(topic)).map((match) => (papers[match.paper] as Paper).id);
    const relevant = new Set(matched.filter((id) => themeOf.get(id) === theme));
    if (relevant.size < matched.length / 6 || relevant.size > matched.length / 2) continue;
    const liked = random.shuffle(history[theme] as Paper[]).slice(0, likedPerReader);
    readers.push({ topic, theme, relevant, liked });
  }
  return readers;
}

/** Precision@5 and nDCG@10 of one digest against the reader's hidden interest (binary relevance). */
function scoreDigest(ids: readonly number[], relevant: ReadonlySet<number>, relevantToday: number) {
  const precision = ids.slice(0, 5).filter((id) => relevant.has(id)).length / 5;
  let dcg = 0;
  ids.slice(0, 10).forEach((id, i) => {
    if (relevant.has(id)) dcg += 1 / Math.log2(i + 2);
  });
  let ideal = 0;
  for (let i = 0; i < Math.min(10, relevantToday); i++) ideal += 1 / Math.log2(i + 2);
  return { precision, ndcg: ideal === 0 ? 0 : dcg / ideal };
}

/** How the arms' figures of one day are kept: a sum per arm, and the per-reader differences. */
interface DayFigures {
  precision: Record<string, number>;
  ndcg: Record<string, number>;
  /** Per reader: precision@5 with feedback minus without. */
  differences: number[];
}

const arms = ['topics only', 'topics + feedback', 'topics + liked papers', 'liked papers only'] as const;
type Arm = (typeof arms)[number];
/** Short column names, in the order of `arms`. */
const armHeaders = ['topics', '+fb', '+liked', 'liked'];
/** Papers each reader likes, of their theme, from the month before the first day. */
const likedPerReader = 8;

/**
 * What liked papers cost on their own: looking each one up in a fresh set (the first reader to like
 * it in a run pays this), then a reader's section from papers already looked up.
 */
function lookupNote(candidatePapers: readonly Paper[], readers: readonly Reader[]): string {
  const index = buildPaperIndex(candidatePapers);
  const byId = new Map(readers.flatMap((reader) => reader.liked.map((paper) => [paper.arxivId, paper])));
  const similar = createSimilarPapers(index, (arxivId) => {
    const paper = byId.get(arxivId);
    return paper && { paper };
  });
  const likes = (reader: Reader) =>
    reader.liked.map((paper) => ({ arxivId: paper.arxivId, text: paper.title }));
  similar(byId.keys().next().value as string);
  const first = performance.now();
  let work = 0;
  for (const arxivId of byId.keys()) work += similar(arxivId)?.work ?? 0;
  const lookupUs = ((performance.now() - first) * 1000) / byId.size;
  const again = performance.now();
  for (const reader of readers) likedMatches(index, similar, likes(reader));
  const sectionUs = ((performance.now() - again) * 1000) / readers.length;
  return `"Similar to papers you liked" over ${format.count(index.size)} candidates: ${format.us(lookupUs)} to look up one liked paper the first time in a set (its ${likeRule.queryFeatures} heaviest features' postings: ${format.count(work / byId.size)} entries), then ${format.us(sectionUs)} per reader to make their section of ${likedPerReader} liked papers`;
}

export const feedback: Benchmark = {
  name: 'feedback',
  description:
    'simulated readers over 30 days: precision@5 and nDCG@10 of their digests against a hidden interest, with and without their "more / less like this" clicks',
  sizes: {
    readers: { default: 200, description: 'simulated readers' },
    days: { default: 30, description: 'days of papers, a digest each' },
    papersPerDay: { default: 300, description: 'new papers a day' },
  },
  stores: [],
  async run({ seed, sizes, log }): Promise<BenchResult> {
    const random = createRandom(seed);
    const days = sizes.days as number;
    const perDay = sizes.papersPerDay as number;
    const start = Date.UTC(2026, 10, 1, 6);
    log(
      `generating ${format.count(days * perDay)} papers over ${days} days, in ${themeWords.length + 1} themes`,
    );
    const themes = themesOf(readExamplePapers());
    const total = themes.reduce((sum, theme) => sum + theme.length, 0);
    const themeOf = new Map<number, number>();
    const papers: Paper[] = [];
    /** A day's papers of every theme; `history` days are before the first digest, never offered. */
    const generateDay = (at: number, perDayCount: number, into: Paper[][] | undefined) =>
      themes.flatMap((examples, theme) => {
        const count = Math.round((perDayCount * examples.length) / total);
        return generatePapers(random, count, new Date(at), examples).records.map((record) => {
          const paper = {
            ...record,
            id: themeOf.size + 1,
            categories: record.categories ?? [],
            upvotes: record.upvotes ?? 0,
            aiSummary: null,
            aiKeywords: record.aiKeywords ?? null,
            githubRepo: null,
            projectPage: null,
            thumbnail: null,
            source: 'file',
            firstSeenAt: new Date(at),
            updatedAt: new Date(start),
          } as Paper;
          themeOf.set(paper.id, theme);
          into?.[theme]?.push(paper);
          return paper;
        });
      });
    const history = themes.map((): Paper[] => []);
    for (let d = 1; d <= 30; d++) generateDay(start - d * day, perDay / 3, history);
    for (let d = 0; d < days; d++) papers.push(...generateDay(start + d * day, perDay, undefined));
    const byDay = Array.from({ length: days }, (_, d) =>
      papers.filter((paper) => paper.firstSeenAt.getTime() === start + d * day),
    );
    const readers = makeReaders(random, papers, themeOf, history, sizes.readers as number);
    log(
      `${readers.length} readers, ${likedPerReader} liked papers each; ${days} digests each, in ${arms.length} ways`,
    );
    let likedThemePrecision = 0;
    const likedIds = new Set(readers.flatMap((reader) => reader.liked.map((paper) => paper.id)));
    const given = readers.map((): GivenFeedback[] => []);
    const figures: DayFigures[] = [];
    let clicks = 0;
    const costs = Object.fromEntries(arms.map((arm) => [arm, { ms: 0, picks: 0 }])) as Record<
      Arm,
      { ms: number; picks: number }
    >;
    const buildMs: number[] = [];
    const setSizes: number[] = [];
    for (let d = 0; d < days; d++) {
      const today = byDay[d] as Paper[];
      // As a worker holds them: every paper first seen in the longest window; today's are offered.
      const candidates = createDigestCandidates(
        byDay.slice(Math.max(0, d - candidateDays + 1), d + 1).flat(),
      );
      const windowStart = new Date(start + d * day);
      // The candidates' vectors, made once per set and worker (on the first pick with feedback).
      const building = performance.now();
      pickDigestPapers(
        candidates,
        { topics: [] },
        {
          windowStart,
          sent: new Set(),
          limit: 1,
          feedback: [{ kind: 'more', paper: today[0] as Paper }],
        },
      );
      buildMs.push(performance.now() - building);
      setSizes.push(candidates.papers.length);
      const figuresToday: DayFigures = { precision: {}, ndcg: {}, differences: [] };
      readers.forEach((reader, r) => {
        const relevantToday = today.filter((paper) => reader.relevant.has(paper.id)).length;
        // As the send path reads them (`readerRanking`): the newest clicks, then the liked papers as "more".
        const likedAsMore = reader.liked.map((paper) => ({ kind: 'more' as const, paper }));
        const options: Record<Arm, { topics: string[]; feedback: GivenFeedback[]; liked: Paper[] }> = {
          'topics only': { topics: [reader.topic], feedback: [], liked: [] },
          'topics + feedback': {
            topics: [reader.topic],
            feedback: (given[r] as GivenFeedback[]).slice(0, feedbackReadLimit),
            liked: [],
          },
          'topics + liked papers': { topics: [reader.topic], feedback: likedAsMore, liked: reader.liked },
          'liked papers only': { topics: [], feedback: likedAsMore, liked: reader.liked },
        };
        const scored = {} as Record<Arm, ReturnType<typeof scoreDigest>>;
        let withFeedback: Paper[] = [];
        for (const arm of arms) {
          const began = performance.now();
          const digest = pickDigestPapers(
            candidates,
            { topics: options[arm].topics },
            {
              windowStart,
              sent: new Set(),
              limit: 100,
              feedback: options[arm].feedback,
              liked: options[arm].liked,
              explain: shown,
              shown,
            },
          ).map((pick) => pick.paper);
          costs[arm].ms += performance.now() - began;
          costs[arm].picks++;
          if (arm === 'topics + feedback') withFeedback = digest;
          scored[arm] = scoreDigest(
            digest.map((paper) => paper.id),
            reader.relevant,
            relevantToday,
          );
          figuresToday.precision[arm] = (figuresToday.precision[arm] ?? 0) + scored[arm].precision;
          if (arm === 'liked papers only') {
            // Against the reader's whole theme too, which liked papers are about, whatever the topic.
            const inTheme = digest.slice(0, 5).filter((paper) => themeOf.get(paper.id) === reader.theme);
            likedThemePrecision += inTheme.length / 5;
          }
          figuresToday.ndcg[arm] = (figuresToday.ndcg[arm] ?? 0) + scored[arm].ndcg;
        }
        figuresToday.differences.push(
          scored['topics + feedback'].precision - scored['topics only'].precision,
        );
        // The reader reads the digest they got (with feedback) and clicks on some of what it shows.
        for (const paper of withFeedback.slice(0, shown)) {
          const isRelevant = reader.relevant.has(paper.id) !== random.chance(noise);
          if (random.chance(isRelevant ? 0.5 : 0.3)) {
            (given[r] as GivenFeedback[]).unshift({ kind: isRelevant ? 'more' : 'less', paper });
            clicks++;
          }
        }
      });
      figures.push(figuresToday);
    }

    const n = readers.length;
    const mean = (values: readonly number[]) =>
      values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length);
    const standardError = (values: readonly number[]) => {
      const m = mean(values);
      return Math.sqrt(
        values.reduce((sum, v) => sum + (v - m) ** 2, 0) /
          Math.max(1, values.length - 1) /
          Math.max(1, values.length),
      );
    };
    const rows = figures.map((f, d) => ({
      day: String(d + 1),
      ...Object.fromEntries(
        arms.flatMap((arm, a) => [
          [`p${a}`, ((f.precision[arm] as number) / n).toFixed(3)],
          [`n${a}`, ((f.ndcg[arm] as number) / n).toFixed(3)],
        ]),
      ),
      gain: `${(mean(f.differences) * 100).toFixed(1)} ± ${(2 * standardError(f.differences) * 100).toFixed(1)}`,
    }));
    const day10 = figures[Math.min(9, figures.length - 1)] as DayFigures;
    const gain10 = mean(day10.differences);
    const worstDay = figures
      .map((f, d) => ({ d, upper: mean(f.differences) + 2 * standardError(f.differences) }))
      .sort((x, y) => x.upper - y.upper)[0];
    const checks: TargetCheck[] = [
      {
        name: 'precision@5, topics + feedback minus topics only, day 10 (points)',
        target: `≥ ${targets.precisionGainAtDay10 * 100}`,
        measured: (gain10 * 100).toFixed(1),
        isMet: gain10 >= targets.precisionGainAtDay10,
      },
      {
        name: 'no day worse than topics only by more than noise (mean difference + 2 standard errors ≥ 0)',
        target: 'every day',
        measured: worstDay
          ? `worst: day ${worstDay.d + 1}, ${(worstDay.upper * 100).toFixed(1)} points`
          : '–',
        isMet: !worstDay || worstDay.upper >= 0,
      },
    ];
    return {
      tables: [
        {
          title: `precision@5 and nDCG@10 against the hidden interest, mean of ${format.count(n)} readers (gain: points, ± 2 standard errors)`,
          columns: [
            { key: 'day', header: 'day' },
            ...armHeaders.map((header, a) => ({ key: `p${a}`, header: `p@5 ${header}` })),
            { key: 'gain', header: 'gain (fb)' },
            ...armHeaders.map((header, a) => ({ key: `n${a}`, header: `nDCG ${header}` })),
          ],
          rows,
        },
      ],
      targets: checks,
      notes: [
        `papers in ${themeWords.length + 1} themes (${themeWords.join(', ')}, other), each generated from its own sample papers; each reader writes a broad topic and clicks by one theme among its matches (e.g. "${readers[0]?.topic ?? ''}", wanting ${themeWords[readers[0]?.theme ?? 0]}); of the ${shown} papers shown they click "more" on half of those in it and "less" on 30 % of the others, ${noise * 100} % of clicks the wrong way (${format.count(clicks)} clicks in all)`,
        `cost per digest (limit 100, reasons for the ${shown} shown): ${arms.map((arm) => `${arm} ${format.us((costs[arm].ms * 1000) / Math.max(1, costs[arm].picks))}`).join(', ')}; with feedback, a reader's newest ${feedbackReadLimit} clicks (${format.count(clicks / Math.max(1, n))} on average by the end); liked papers are looked up once per set and paper (${format.count(likedIds.size)} distinct here); the candidates' vectors, once per set and worker: ${format.ms(median(buildMs))} for ${format.count(median(setSizes))} papers (median of the days)`,
        `mean over the ${days} days, p@5: ${arms.map((arm, a) => `${arm} ${mean(rows.map((row) => Number(row[`p${a}` as keyof typeof row]))).toFixed(3)}`).join(', ')}`,
        `relevant = the reader's theme among what their topic matches, so "liked papers only", which is not limited by the topic, is scored against that narrower interest too; against the whole theme its p@5 is ${(likedThemePrecision / (n * days)).toFixed(3)} (mean of the days)`,
        lookupNote(byDay.slice(-candidateDays).flat(), readers),
      ],
      data: {
        figures: rows,
        gain10,
        clicks,
        costUs: Object.fromEntries(
          arms.map((arm) => [arm, (costs[arm].ms * 1000) / Math.max(1, costs[arm].picks)]),
        ),
        vectorsMs: median(buildMs),
      },
    };
  },
};
