import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { digestEmailValues } from '../../src/email/digest-view.js';
import { renderDigestEmail, renderLifecycleEmail, textWidth, wrapText } from '../../src/email/render.js';
import {
  compileEmailTemplates,
  type EmailTemplates,
  stripIndentation,
  templatesDir,
} from '../../src/email/templates.js';
import { paperFrom } from '../support/digest.js';

const words = (text: string) => text.split(/\s+/).filter(Boolean);
const urlsIn = (text: string) => text.match(/https?:\/\/\S+/g) ?? [];
/** A line may pass the width only to hold one URL that is longer than the line by itself. */
const isWithinWidth = (line: string) => [...line].length <= textWidth || /^ *https?:\/\/\S+$/.test(line);

describe('wrapping the text part', () => {
  const summary =
    'A video model plans robot actions without any training, and it beats tuned planners on 7 of 9 tasks; the method needs no custom kernels, no reward model and no demonstrations beyond the ones in the paper, and it runs on one GPU in under a minute per task.';
  const longUrl = `https://papers.example.org/unsubscribe/u${'A'.repeat(22)}.0.${'B'.repeat(40)}`;

  it('wraps at 72 columns, keeping the indentation, without losing or moving a word', () => {
    const text = `   ${summary}\n`;
    const wrapped = wrapText(text);
    const lines = wrapped.split('\n');
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines.slice(0, -1)) {
      expect([...line].length).toBeLessThanOrEqual(72);
      expect(line.startsWith('   ') && !line.startsWith('    ')).toBe(true);
    }
    expect(words(wrapped)).toEqual(words(text));
    // Filled: no line could have taken the next line's first word.
    for (let i = 0; i + 1 < lines.length - 1; i++) {
      const next = words(lines[i + 1] as string)[0] as string;
      expect([...`${lines[i]} ${next}`].length).toBeGreaterThan(72);
    }
  });

  it('never breaks a link: a URL longer than the line gets a line of its own', () => {
    const text = `Unsubscribe: ${longUrl}\nManage: https://papers.example.org/manage/m1 and more words after the link to fill the line up`;
    const wrapped = wrapText(text);
    expect(wrapped.split('\n')).toEqual([
      'Unsubscribe:',
      longUrl,
      'Manage: https://papers.example.org/manage/m1 and more words after the',
      'link to fill the line up',
    ]);
    expect(urlsIn(wrapped)).toEqual(urlsIn(text));
  });

  it('continues a numbered paper title at the three spaces of its card', () => {
    const title = `12. ${'Scaling Sparse Mixture of Experts Models '.repeat(3).trim()}`;
    expect(wrapText(title).split('\n')).toEqual([
      '12. Scaling Sparse Mixture of Experts Models Scaling Sparse Mixture of',
      '   Experts Models Scaling Sparse Mixture of Experts Models',
    ]);
  });

  it('leaves lines that fit alone, the "-- " signature separator with its space', () => {
    const text = 'Short line.\n\n-- \nfooter';
    expect(wrapText(text)).toBe(text);
  });
});

describe('the text part of a long digest', () => {
  let templates: EmailTemplates;
  beforeAll(async () => {
    templates = await compileEmailTemplates();
  });

  const papers = Array.from({ length: 3 }, (_, i) =>
    paperFrom(
      {
        arxivId: `2603.0${i}000`,
        title: `Mixture of Experts ${i}: Scaling Sparse Models to a Trillion Parameters with Simple and Efficient Sparsity Across Many Accelerators`,
        abstract: `${'Sparse models route each token to a few experts out of many, so they grow their parameters without growing their compute. '.repeat(3)}Second sentence.`,
        authors: ['William Fedus', 'Barret Zoph', 'Noam Shazeer', 'Someone Else'],
        upvotes: 12,
        githubRepo: `https://github.com/some-long-organisation-name/a-rather-long-repository-name-for-paper-${i}`,
      },
      { id: i + 1 },
    ),
  );
  const urls = {
    web: `https://papers.example.org/digests/d${'D'.repeat(22)}.0.${'E'.repeat(22)}`,
    manage: `https://papers.example.org/manage/m${'M'.repeat(22)}.0.${'N'.repeat(22)}`,
    unsubscribe: `https://papers.example.org/unsubscribe/u${'U'.repeat(22)}.0.${'V'.repeat(22)}`,
  };
  const values = () =>
    digestEmailValues({
      picks: papers.map((paper) => ({ paper, score: 1, topic: 'mixture of experts', matched: ['sparse'] })),
      shown: 2,
      localDate: '2026-03-03',
      subscriber: { email: 'ada@example.org', frequency: 'daily', topics: ['mixture of experts', 'sparse'] },
      urls,
    });
  const render = () => renderDigestEmail(templates, values());

  it('has no line over 72 columns but for a URL alone, loses nothing and keeps every link whole', () => {
    const { text } = render();
    // The same text filled without wrapping: each card's text, then the digest's around them.
    const unwrapped = templates.digest.text({
      ...values(),
      sections: values().sections.map((section) => ({
        ...section,
        cards: { text: section.papers.map((card) => `\n${templates.digestCard.text(card)}`).join('') },
      })),
    });
    expect(unwrapped.split('\n').some((line) => [...line].length > 200)).toBe(true);
    for (const line of text.split('\n'))
      expect({ line, fits: isWithinWidth(line) }).toEqual({ line, fits: true });
    expect(words(text)).toEqual(words(unwrapped));
    expect(urlsIn(text)).toEqual(urlsIn(unwrapped));
    for (const url of Object.values(urls)) expect(text.split('\n')).toContain(url);
    // Summary lines keep the card's indentation.
    const summaryStart = text.split('\n').findIndex((line) => line.startsWith('   Sparse models route'));
    expect(text.split('\n')[summaryStart + 1]).toMatch(/^ {3}\S/);
  });
});

describe('the text templates', () => {
  const texts = readdirSync(templatesDir).filter((name) => name.endsWith('.txt'));

  it('separate the signature with "-- " (dash dash space), never a bare "--"', () => {
    expect(texts.sort()).toEqual(['confirmation.txt', 'digest.txt', 'manage.txt', 'welcome.txt']);
    for (const name of texts) {
      const lines = readFileSync(join(templatesDir, name), 'utf8').split('\n');
      expect({ name, separators: lines.filter((line) => /^--\s*$/.test(line)) }).toEqual({
        name,
        separators: ['-- '],
      });
    }
  });
});

describe('stripping the compiled HTML', () => {
  it('drops indentation but keeps a line break, and leaves <pre> and <textarea> as they are', () => {
    const html =
      '<div>\n    <p>one\n      two</p>   \n  <pre>\n  keep   this\n    indented</pre>\n  <textarea>\n  a\n</textarea>\n</div>';
    expect(stripIndentation(html)).toBe(
      '<div>\n<p>one\ntwo</p>\n<pre>\n  keep   this\n    indented</pre>\n<textarea>\n  a\n</textarea>\n</div>',
    );
  });
});

describe('the text part of the lifecycle emails', () => {
  it('is wrapped at 72 columns too, links whole, and the notes in the templates stay out of the HTML', async () => {
    const templates = await compileEmailTemplates();
    const values = {
      email: 'someone.with.a.long.address@example.org',
      frequency: 'weekly',
      scheduleLine: 'weekly on Mondays at 07:00 (America/Argentina/Buenos_Aires), up to 50 papers',
      topicsLine: '"retrieval augmented generation" -survey; cat:cs.LG quantization; diffusion models',
      confirmUrl: `https://papers.example.org/confirm/c${'A'.repeat(22)}.t5abc.${'B'.repeat(22)}`,
      manageUrl: `https://papers.example.org/manage/m${'A'.repeat(22)}.t5abc.${'B'.repeat(22)}`,
    };
    for (const kind of ['confirmation', 'manage', 'welcome'] as const) {
      const { text, html } = renderLifecycleEmail(templates, kind, values);
      for (const line of text.split('\n'))
        expect({ kind, line, fits: isWithinWidth(line) }).toMatchObject({ fits: true });
      for (const url of urlsIn(text)) expect(Object.values(values)).toContain(url);
      expect(words(text).join(' ')).toContain(values.email);
      // Only Word's conditional comments go out; our notes to ourselves do not.
      expect(html).toContain('<!--[if mso]>');
      expect(html).not.toContain('The inbox preview line');
      expect(html).not.toContain('Apple Mail and the Outlook apps keep');
    }
  });
});
