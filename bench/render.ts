import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import mjml2html from 'mjml';
import { z } from 'zod';
import type { DigestPick } from '../src/digests/select.js';
import { type DigestEmailValues, digestEmailValues } from '../src/email/digest-view.js';
import { digestHtmlBudget, renderDigestEmail } from '../src/email/render.js';
import { compileEmailTemplates, templatesDir } from '../src/email/templates.js';
import { paperFrom } from '../test/support/digest.js';
import { createRandom } from './fixtures/random.js';
import { readerTopics } from './fixtures/topics.js';
import {
  type Benchmark,
  type BenchResult,
  collectGarbage,
  contendedCpuShare,
  format,
  median,
  repeat,
  startRssSampler,
  summarize,
  type TargetCheck,
} from './harness.js';

const targets = { perRecipientMs: 0.5, speedup: 50 };
type CompileOptions = Parameters<typeof Handlebars.compile>[1];
const paperCount = 30;
/** The morning after the sample feed's newest paper, so every paper is from the past. */
const sampleDay = new Date('2026-08-01T08:00:00Z');

/** Each recipient gets 1–3 of these. */
const topicPool = readerTopics;

const ExamplePaper = z.object({
  arxivId: z.string(),
  title: z.string(),
  abstract: z.string(),
  authors: z.array(z.string()),
  categories: z.array(z.string()).optional(),
  publishedAt: z.string(),
  upvotes: z.number().optional(),
  aiSummary: z.string().nullish(),
  aiKeywords: z.array(z.string()).nullish(),
  githubRepo: z.string().nullish(),
  projectPage: z.string().nullish(),
});

/** The first 30 papers of the sample feed, stored as ingestion stores them, ranked by upvotes. */
function samplePicks(): DigestPick[] {
  const file = new URL('../examples/papers.json', import.meta.url);
  const examples = z.array(ExamplePaper).parse(JSON.parse(readFileSync(file, 'utf8')));
  return examples.slice(0, paperCount).map((example, i): DigestPick => {
    const paper = paperFrom(
      {
        ...example,
        aiSummary: example.aiSummary ?? undefined,
        aiKeywords: example.aiKeywords ?? undefined,
        githubRepo: example.githubRepo ?? undefined,
        projectPage: example.projectPage ?? undefined,
      },
      { id: i + 1, now: sampleDay },
    );
    const words = paper.title.split(/\s+/).filter((word) => /^[A-Za-z]{5,}$/.test(word));
    return { paper, score: paperCount - i, matched: words.slice(0, 2).map((word) => word.toLowerCase()) };
  });
}

interface Recipient {
  email: string;
  frequency: string;
  topics: string[];
  urls: { web: string; manage: string; unsubscribe: string };
}

/** Distinct addresses, topics and token URLs, so no two recipients fill the same values. */
function makeRecipients(seed: number, count: number): Recipient[] {
  const random = createRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const token = `${i.toString(36)}.${Math.floor(random.next() * 2 ** 48).toString(36)}`;
    return {
      email: `reader.${i}.${random.int(1000, 9999)}@example.org`,
      frequency: random.chance(0.8) ? 'daily' : 'weekly',
      topics: random.shuffle(topicPool).slice(0, random.int(1, 3)),
      urls: {
        web: `https://paperboy.example.org/digests/${token}`,
        manage: `https://paperboy.example.org/manage/${token}`,
        unsubscribe: `https://paperboy.example.org/unsubscribe/${token}`,
      },
    };
  });
}

/** Each pick credited to one of the recipient's topics, as the engine would report it. */
const valuesFor = (picks: readonly DigestPick[], recipient: Recipient): DigestEmailValues =>
  digestEmailValues({
    picks: picks.map((pick, i) => ({ ...pick, topic: recipient.topics[i % recipient.topics.length] })),
    shown: picks.length,
    localDate: sampleDay.toISOString().slice(0, 10),
    subscriber: { email: recipient.email, frequency: recipient.frequency, topics: recipient.topics },
    urls: recipient.urls,
  });

export const render: Benchmark = {
  name: 'render',
  description: `Digest email rendering (issue 5): ${paperCount}-paper digest, render-once path against mjml2html per recipient`,
  stores: [],
  sizes: {
    recipients: { default: 2_000, description: 'recipients rendered per run on the render-once path' },
    fullRecipients: { default: 30, description: 'recipients rendered per run with a full mjml2html each' },
  },
  async run({ warmup, runs, seed, sizes, log }): Promise<BenchResult> {
    const recipientCount = sizes.recipients as number;
    const fullCount = sizes.fullRecipients as number;
    const sampler = await startRssSampler();
    try {
      const picks = samplePicks();
      const recipients = makeRecipients(seed, Math.max(recipientCount, fullCount));

      log('compiling the email templates (MJML → HTML once, then Handlebars)');
      let start = performance.now();
      const templates = await compileEmailTemplates();
      const compileMs = performance.now() - start;

      // What a send job does per recipient: build the view values, fill HTML and text.
      log(`render-once path: ${format.count(recipientCount)} recipients (${warmup} warm-up + ${runs} runs)`);
      const onceRuns = repeat(sampler, { warmup, runs }, () => {
        let bytes = 0;
        for (let i = 0; i < recipientCount; i++) {
          const email = renderDigestEmail(templates, valuesFor(picks, recipients[i] as Recipient));
          bytes += email.html.length + email.text.length;
        }
        return bytes;
      });
      const once = summarize(onceRuns);
      const onceUs = (once.medianMs * 1000) / recipientCount;

      // Where the per-recipient time goes: the view values, then each Handlebars fill on its own.
      log('render-once path, split into its steps');
      const allValues = recipients.slice(0, recipientCount).map((recipient) => valuesFor(picks, recipient));
      const stepUs = (fn: (values: DigestEmailValues) => number, useValues = true) =>
        (summarize(
          repeat(sampler, { warmup, runs }, () => {
            let n = 0;
            for (let i = 0; i < recipientCount; i++) {
              n += useValues
                ? fn(allValues[i] as DigestEmailValues)
                : valuesFor(picks, recipients[i] as Recipient).papers.length;
            }
            return n;
          }),
        ).medianMs *
          1000) /
        recipientCount;
      const steps = [
        { step: 'digestEmailValues (view values)', us: stepUs(() => 0, false) },
        {
          step: 'renderDigestEmail (cards filled once, HTML and text filled, text wrapped)',
          us: stepUs((values) => renderDigestEmail(templates, values).html.length),
        },
      ];

      const sample = renderDigestEmail(templates, valuesFor(picks, recipients[0] as Recipient));
      const htmlBytes = Buffer.byteLength(sample.html);
      const textBytes = Buffer.byteLength(sample.text);

      // The path render-once replaced: fill the MJML source (every card too), then run the whole
      // MJML compiler.
      const mjmlPath = join(templatesDir, 'digest.mjml');
      const compileFile = (path: string, options?: CompileOptions) =>
        Handlebars.compile(readFileSync(path, 'utf8').replace(/\n$/, ''), options);
      const fillMjml = compileFile(mjmlPath);
      const fillText = compileFile(join(templatesDir, 'digest.txt'), { noEscape: true });
      const fillCardHtml = compileFile(join(templatesDir, 'partials/digest-card.hbs'));
      const fillCardText = compileFile(join(templatesDir, 'partials/digest-card.txt'), { noEscape: true });
      // Every card filled for every recipient, joined per section as renderDigestEmail joins them.
      const withCards = (values: DigestEmailValues) => ({
        ...values,
        sections: values.sections.map((section) => ({
          ...section,
          cards: {
            html: section.papers.map((card) => `\n${fillCardHtml(card)}`).join(''),
            text: section.papers.map((card) => `\n${fillCardText(card)}`).join(''),
          },
        })),
      });
      const cardCount = (html: string) => html.split('class="card"').length - 1;
      log(
        `full path: mjml2html for ${format.count(fullCount)} recipients (${warmup} warm-up + ${runs} runs)`,
      );
      const fullRunMs: number[] = [];
      const fullCpuShares: number[] = [];
      let fullHtmlBytes = 0;
      for (let run = 0; run < warmup + runs; run++) {
        collectGarbage();
        const cpuStart = process.cpuUsage();
        start = performance.now();
        for (let i = 0; i < fullCount; i++) {
          const values = withCards(valuesFor(picks, recipients[i] as Recipient));
          const result = await mjml2html(fillMjml(values), {
            filePath: mjmlPath,
            ignoreIncludes: false,
            validationLevel: 'skip',
            fonts: {},
          });
          fullHtmlBytes = Buffer.byteLength(result.html) + Buffer.byteLength(fillText(values));
          // Both paths must show the whole digest, or the comparison means nothing.
          if (cardCount(result.html) !== cardCount(sample.html))
            throw new Error(
              `the full path shows ${cardCount(result.html)} cards, render once ${cardCount(sample.html)}`,
            );
        }
        const ms = performance.now() - start;
        const cpu = process.cpuUsage(cpuStart);
        fullRunMs.push(ms);
        fullCpuShares.push((cpu.user + cpu.system) / 1000 / ms);
      }
      const fullMeasured = fullRunMs.slice(warmup);
      const fullMedianMs = median(fullMeasured);
      const fullPerRecipientMs = fullMedianMs / fullCount;
      const speedup = (fullPerRecipientMs * 1000) / onceUs;
      const lowestCpuShare = Math.min(once.lowestCpuShare, ...fullCpuShares);

      const checks: TargetCheck[] = [
        {
          name: 'render-once: per recipient (median)',
          target: `< ${format.ms(targets.perRecipientMs)}`,
          measured: format.us(onceUs),
          isMet: onceUs / 1000 < targets.perRecipientMs,
        },
        {
          name: 'render-once against full mjml2html per recipient',
          target: `≥ ${targets.speedup}×`,
          measured: `${speedup.toFixed(0)}×`,
          isMet: speedup >= targets.speedup,
        },
      ];

      return {
        tables: [
          {
            title: `Rendering a ${paperCount}-paper digest (${warmup} warm-up + ${runs} runs; cold = first run, median over the runs)`,
            columns: [
              { key: 'path', header: 'path', align: 'left' },
              { key: 'n', header: 'recipients/run' },
              { key: 'cold', header: 'cold run' },
              { key: 'median', header: 'median run' },
              { key: 'perRecipient', header: 'per recipient' },
              { key: 'rate', header: 'recipients/s' },
            ],
            rows: [
              {
                path: 'render once (digestEmailValues + renderDigestEmail)',
                n: format.count(recipientCount),
                cold: format.ms(once.coldMs),
                median: format.ms(once.medianMs),
                perRecipient: format.us(onceUs),
                rate: format.perSecond(recipientCount / (once.medianMs / 1000)),
              },
              {
                path: 'full (Handlebars on MJML, then mjml2html)',
                n: format.count(fullCount),
                cold: format.ms(fullRunMs[0] ?? Number.NaN),
                median: format.ms(fullMedianMs),
                perRecipient: format.ms(fullPerRecipientMs),
                rate: format.perSecond(fullCount / (fullMedianMs / 1000)),
              },
            ],
          },
          {
            title: 'Render-once path by step (median per recipient, each step timed alone)',
            columns: [
              { key: 'step', header: 'step', align: 'left' },
              { key: 'us', header: 'per recipient' },
              { key: 'share', header: 'share of the sum' },
            ],
            rows: steps.map(({ step, us }) => ({
              step,
              us: format.us(us),
              share: `${((100 * us) / steps.reduce((sum, s) => sum + s.us, 0)).toFixed(0)}%`,
            })),
          },
          {
            title: 'The rendered digest',
            columns: [
              { key: 'what', header: 'what', align: 'left' },
              { key: 'value', header: 'value' },
            ],
            rows: [
              { what: 'papers shown', value: String(cardCount(sample.html)) },
              {
                what: 'HTML part (render once)',
                value: `${(htmlBytes / 1024).toFixed(1)} KiB of ${(digestHtmlBudget / 1024).toFixed(0)} KiB budget`,
              },
              { what: 'text part', value: `${(textBytes / 1024).toFixed(1)} KiB` },
              {
                what: 'HTML + text, full path (last recipient)',
                value: `${(fullHtmlBytes / 1024).toFixed(1)} KiB`,
              },
              { what: 'compileEmailTemplates (all, once at start)', value: format.ms(compileMs) },
              { what: 'speed-up of render once', value: `${speedup.toFixed(0)}×` },
            ],
          },
        ],
        targets: checks,
        notes: [
          ...(lowestCpuShare < contendedCpuShare
            ? [
                `WARNING: some runs had only ${format.share(lowestCpuShare)} of a CPU: another process was busy, so those times are inflated`,
              ]
            : []),
          'per recipient = median run / recipients; both paths include digestEmailValues and fill the HTML and text parts, each recipient with its own address, topics and token URLs',
          `the full path compiles the Handlebars template of digest.mjml once and runs mjml2html per recipient with validationLevel 'skip' (the service validates 'strict', once); the render-once path fills the HTML compiled at start`,
          `sample papers: the first ${paperCount} of examples/papers.json, normalised as ingestion does`,
        ],
        data: {
          papers: paperCount,
          recipients: recipientCount,
          fullRecipients: fullCount,
          compileMs,
          renderOnce: { ...once, perRecipientUs: onceUs },
          stepsUs: Object.fromEntries(steps.map(({ step, us }) => [step, us])),
          full: {
            runs: fullMeasured,
            coldMs: fullRunMs[0],
            medianMs: fullMedianMs,
            perRecipientMs: fullPerRecipientMs,
          },
          speedup,
          htmlBytes,
          textBytes,
          fullHtmlAndTextBytes: fullHtmlBytes,
          lowestCpuShare,
        },
      };
    } finally {
      await sampler.stop();
    }
  },
};
