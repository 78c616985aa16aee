import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { decodeHTML } from 'entities';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Paper } from '../../src/db/schema.js';
import type { DigestPick } from '../../src/digests/select.js';
import { digestEmailValues } from '../../src/email/digest-view.js';
import { digestHtmlBudget, renderDigestEmail, renderDigestWithinBudget } from '../../src/email/render.js';
import {
  compileEmailTemplates,
  compileTemplate,
  type EmailTemplates,
  templatesDir,
} from '../../src/email/templates.js';
import { cardsOf, escapeHtml, flat, hrefsOf, paperFrom, textBlocksOf } from '../support/digest.js';

const urls = {
  web: 'https://papers.example.org/digests/d1.0.AAAAAAAAAAAAAAAAAAAAAA',
  manage: 'https://papers.example.org/manage/m1.0.BBBBBBBBBBBBBBBBBBBBBB',
  unsubscribe: 'https://papers.example.org/unsubscribe/u1.0.CCCCCCCCCCCCCCCCCCCCCC',
};
const subscriber = {
  email: 'ada@example.org',
  frequency: 'daily',
  topics: ['diffusion models', 'sparse attention'],
};

const pick = (paper: Paper, topic?: string, matched: string[] = []): DigestPick => ({
  paper,
  score: 1,
  topic,
  matched,
});

let templates: EmailTemplates;
beforeAll(async () => {
  templates = await compileEmailTemplates();
});

/** A reader's feedback links as the send path makes them: a token per paper and direction. */
const feedbackOf = (reader: string) => (pickIndex: number) => ({
  more: `https://papers.example.org/feedback/f${reader.padEnd(22, 'R')}.0.${pickIndex.toString(36)}m.${'S'.repeat(22)}`,
  less: `https://papers.example.org/feedback/f${reader.padEnd(22, 'R')}.0.${pickIndex.toString(36)}l.${'S'.repeat(22)}`,
});

function render(picks: DigestPick[], shown: number, topics = subscriber.topics, reader = 'ada') {
  const values = digestEmailValues({
    picks,
    shown,
    localDate: '2026-03-03',
    subscriber: { ...subscriber, topics },
    urls,
    feedback: feedbackOf(reader),
  });
  return renderDigestEmail(templates, values);
}

describe('the digest email for fixed papers', () => {
  const planners = paperFrom(
    {
      arxivId: '2603.01234',
      title: 'Video Diffusion Models Are Zero-Shot Planners',
      abstract: 'ABSTRACT OF THE PLANNERS PAPER. Not shown when there is an AI summary.',
      aiSummary:
        'A video model plans robot actions without any training. It beats tuned planners on 7 of 9 tasks. A third sentence the email leaves out.',
      authors: ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Edsger Dijkstra', 'Barbara Liskov'],
      upvotes: 42,
      githubRepo: 'https://github.com/example/zero-shot-planners',
      projectPage: 'https://example.github.io/planners/',
    },
    { id: 1, source: 'hf-daily' },
  );
  const sparse = paperFrom(
    {
      arxivId: '2603.04567',
      title: 'Sparse Attention at 13.4× Less Memory',
      abstract:
        'We cut attention memory by 13.4 points (i.e., most of it) without retraining. The method needs no custom kernels. Experiments cover five models.',
      authors: ['Yao Xiao', 'Reuben Tan', 'Zhen Zhu'],
    },
    { id: 2, source: 'arxiv' },
  );
  const longFirstSentence = `${'Graph transformers with learned positional encodings '.repeat(12).trim()}. Second sentence.`;
  const molecules = paperFrom(
    {
      arxivId: '2603.07777',
      title: 'Graph Transformers for Molecules',
      abstract: longFirstSentence,
      authors: ['Marie Curie'],
      upvotes: 7,
    },
    { id: 3, source: 'file' },
  );
  const beyond = paperFrom(
    { arxivId: '2603.09999', title: 'A Paper Beyond the Limit', abstract: 'Not in the email. At all.' },
    { id: 4, source: 'arxiv' },
  );
  const picks = [
    pick(planners, 'diffusion models', ['diffusion models', 'diffusion', 'video']),
    pick(sparse, 'sparse attention', ['sparse attention', 'memory']),
    // A subscriber without topics gets picks without one; the card then has no "Matched" line.
    pick(molecules),
    pick(beyond, 'diffusion models', ['diffusion']),
  ];

  it('compiles every template under strict MJML validation, with the shared head partial included', async () => {
    await expect(compileEmailTemplates()).resolves.toHaveProperty('digest');
    const { html, subject } = render(picks, 3);
    // The subject says what the reader will find: how many papers, on which of their topics.
    expect(subject).toBe('4 new papers on diffusion models and sparse attention');
    // The head partial carries the title, the inbox preview text and the dark-mode styles.
    expect(html).toContain(`<title>${escapeHtml(subject)}</title>`);
    expect(html).toContain(`${escapeHtml(sparse.title)} · ${escapeHtml(molecules.title)}`);
    expect(html).toContain('prefers-color-scheme: dark');
    expect(html).toMatch(/font-family:-apple-system/);
  });

  it('refuses a template that breaks strict MJML validation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paperboy-templates-'));
    try {
      cpSync(templatesDir, dir, { recursive: true });
      const source = readFileSync(join(dir, 'digest.mjml'), 'utf8');
      const broken = {
        'illegal-attribute': source.replace('<mj-column>', '<mj-column colour="red">'),
        'column-outside-section': source.replace(
          '<mj-section padding="20px 16px 32px 16px">',
          '<mj-column><mj-text>stray</mj-text></mj-column><mj-section padding="20px 16px 32px 16px">',
        ),
      };
      for (const [name, mjml] of Object.entries(broken)) {
        expect(mjml).not.toBe(source);
        writeFileSync(join(dir, `${name}.mjml`), mjml);
        writeFileSync(join(dir, `${name}.txt`), readFileSync(join(dir, 'digest.txt')));
        // compileTemplate resolves names inside templates/email; a relative name reaches the copy.
        await expect(compileTemplate(relative(templatesDir, join(dir, name)))).rejects.toThrow(
          /illegal|cannot be used inside/,
        );
      }
      await expect(compileTemplate(relative(templatesDir, join(dir, 'digest')))).resolves.toHaveProperty(
        'html',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows each paper with its title, authors, upvotes, matched topic and links in both parts', () => {
    const { html, text } = render(picks, 3);
    const cards = cardsOf(html);
    const blocks = textBlocksOf(text);
    expect(cards).toHaveLength(3);
    expect(blocks).toHaveLength(3);
    const expected = [
      {
        paper: planners,
        authors: 'Ada Lovelace, Grace Hopper, Alan Turing et al.',
        upvotes: '▲ 42',
        matched: { topic: 'diffusion models', terms: 'diffusion, video' },
        page: 'https://huggingface.co/papers/2603.01234',
        links: [
          ['arXiv', 'https://arxiv.org/abs/2603.01234'],
          ['PDF', 'https://arxiv.org/pdf/2603.01234'],
          ['Daily papers', 'https://huggingface.co/papers/2603.01234'],
          ['Code', 'https://github.com/example/zero-shot-planners'],
          ['Project', 'https://example.github.io/planners/'],
        ],
      },
      {
        paper: sparse,
        authors: 'Yao Xiao, Reuben Tan, Zhen Zhu',
        upvotes: undefined,
        matched: { topic: 'sparse attention', terms: 'memory' },
        page: 'https://arxiv.org/abs/2603.04567',
        links: [
          ['arXiv', 'https://arxiv.org/abs/2603.04567'],
          ['PDF', 'https://arxiv.org/pdf/2603.04567'],
        ],
      },
      {
        // Not from the daily papers feed, but upvoted there: it has a daily-papers page.
        paper: molecules,
        authors: 'Marie Curie',
        upvotes: '▲ 7',
        matched: undefined,
        page: 'https://huggingface.co/papers/2603.07777',
        links: [
          ['arXiv', 'https://arxiv.org/abs/2603.07777'],
          ['PDF', 'https://arxiv.org/pdf/2603.07777'],
          ['Daily papers', 'https://huggingface.co/papers/2603.07777'],
        ],
      },
    ];
    expected.forEach((want, i) => {
      const card = cards[i] as string;
      const block = blocks[i] as string;
      expect(card).toContain(`>${escapeHtml(want.paper.title)}</a>`);
      // Then the reader's own feedback links, named after the paper too.
      const feedback = feedbackOf('ada')(i);
      expect(hrefsOf(card)).toEqual([
        want.page,
        ...want.links.map(([, url]) => url),
        feedback.more,
        feedback.less,
      ]);
      expect(card).toContain(
        `<a href="${feedback.more}" aria-label="More like this: ${escapeHtml(want.paper.title.slice(0, 20))}`,
      );
      expect(card).toContain(
        `<a href="${feedback.less}" aria-label="Less like this: ${escapeHtml(want.paper.title.slice(0, 20))}`,
      );
      expect(flat(block)).toContain(`More like this: ${feedback.more} Less like this: ${feedback.less}`);
      for (const [label] of want.links) expect(card).toContain(`>${label}</a>`);
      expect(block.startsWith(`${i + 1}. ${want.paper.title}\n`)).toBe(true);
      expect(block.match(/^ {3}[A-Za-z ]+: https?:\/\/\S+$/gm)).toEqual(
        want.links.map(([label, url]) => `   ${label}: ${url}`),
      );
      for (const part of [card, block]) {
        expect(part).toContain(want.authors);
        if (!want.upvotes) expect(part).not.toContain('▲');
      }
      if (want.upvotes) {
        expect(block).toContain(`${want.authors} · ${want.upvotes}`);
        // In the HTML the triangle is for the eye; a screen reader hears "42 upvotes".
        const count = want.upvotes.replace('▲ ', '');
        expect(card).toContain(`${want.authors} · <span aria-hidden="true">▲</span> ${count} upvotes`);
      }
      // Each card is a heading, and each link names its paper (ten "PDF" links would read the same).
      expect(card).toContain(
        `<h2 style="margin:0;font-size:18px;line-height:1.3"><a href="${want.page}" class="paper-title"`,
      );
      for (const [label, url] of want.links) {
        expect(card).toMatch(
          new RegExp(
            `<a href="${url}" aria-label="[^"]*: ${escapeHtml(want.paper.title).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"[^>]*>${label}</a>`,
          ),
        );
      }
      if (want.matched) {
        expect(card).toContain(`Matched <b>${want.matched.topic}</b>: ${want.matched.terms}`);
        expect(block).toContain(`   Matched "${want.matched.topic}": ${want.matched.terms}\n`);
      } else {
        expect(card).not.toContain('Matched');
        expect(block).not.toContain('Matched');
      }
    });
    // The fourth and fifth authors are left to "et al.".
    expect(html).not.toContain('Dijkstra');
    expect(text).not.toContain('Dijkstra');
  });

  it('summarises with the AI summary when there is one, else the first sentences of the abstract', () => {
    const { html, text } = render(picks, 3);
    const [first, second, third] = textBlocksOf(text) as [string, string, string];
    const aiSummary =
      'A video model plans robot actions without any training. It beats tuned planners on 7 of 9 tasks.';
    expect(flat(first)).toContain(aiSummary);
    expect(html).toContain(`<p style="margin:8px 0 0">${aiSummary}</p>`);
    for (const part of [html, text]) {
      expect(part).not.toContain('ABSTRACT OF THE PLANNERS PAPER');
      expect(part).not.toContain('A third sentence');
      expect(part).not.toContain('Experiments cover five models');
    }
    // A decimal point or "i.e.," does not end a sentence: the summary starts where the abstract does.
    const sentences =
      'We cut attention memory by 13.4 points (i.e., most of it) without retraining. The method needs no custom kernels.';
    expect(flat(second)).toContain(sentences);
    expect(html).toContain(`<p style="margin:8px 0 0">${escapeHtml(sentences)}</p>`);
    // A first sentence of 600 characters is cut at a word, near 300 characters.
    // (The text part wraps it at 72 columns; the HTML keeps it whole.)
    expect(flat(third)).toContain('Graph transformers');
    const cut = decodeHTML(/<p style="margin:8px 0 0">(Graph transformers[^<]*)<\/p>/.exec(html)?.[1] ?? '');
    expect(cut.length).toBeGreaterThan(250);
    expect(cut.length).toBeLessThanOrEqual(301);
    expect(cut.endsWith('…')).toBe(true);
    expect(longFirstSentence.startsWith(`${cut.slice(0, -1)} `)).toBe(true);
  });

  it('counts the papers left out and links them to the web version', () => {
    const { html, text } = render(picks, 3);
    expect(html).toContain(
      `<a href="${urls.web}" style="font-weight:600">1 more paper in the web version →</a>`,
    );
    expect(flat(text)).toContain(`1 more paper: ${urls.web}`);
    for (const part of [html, text]) expect(part).not.toContain('A Paper Beyond the Limit');

    const all = render(picks, 10);
    expect(cardsOf(all.html)).toHaveLength(4);
    expect(all.html).not.toContain('more paper');
    // "View in browser" heads every email that has a web version.
    for (const { html: part } of [render(picks, 3), all]) {
      expect(part).toContain(`<a href="${urls.web}" style="color:#57606a">View in browser</a>`);
    }
    expect(flat(all.text.split('\n\n')[0] ?? '')).toContain(`View in your browser: ${urls.web}`);
  });

  it('heads the email with the date and topics, and ends it with manage and unsubscribe links', () => {
    const { html, text } = render(picks, 3);
    const header = 'Tuesday, 3 March 2026 · 4 new papers on diffusion models; sparse attention';
    expect(html).toContain(header);
    expect(flat(text).startsWith(flat(`paperboy · ${header}`))).toBe(true);
    expect(html).toContain(
      `<a href="${urls.manage}" style="color:#57606a">Manage your topics and schedule</a>`,
    );
    expect(html).toContain(`<a href="${urls.unsubscribe}" style="color:#57606a">Unsubscribe</a>`);
    expect(flat(text)).toContain(`Manage your topics and schedule: ${urls.manage}`);
    expect(flat(text)).toContain(`Unsubscribe: ${urls.unsubscribe}`);
    expect(text).toContain('You get this daily digest because ada@example.org subscribed to paperboy');
  });

  it('leaves no template syntax or missing value in either part', () => {
    for (const shown of [1, 3, 10]) {
      const { html, text, subject } = render(picks, shown);
      for (const part of [html, text, subject]) {
        for (const leftover of ['{{', '}}', '[object Object]', 'undefined', 'NaN']) {
          expect(part).not.toContain(leftover);
        }
      }
    }
    const empty = render([], 10, []);
    expect(empty.subject).toBe('No new papers');
    expect(empty.html).toContain('No new papers matched your topics this time.');
    for (const part of [empty.html, empty.text]) {
      expect(part).not.toMatch(/\{\{|\}\}|undefined|\[object Object\]/);
    }
  });
});

describe('cards filled once and reused across digests', () => {
  const papers = Array.from({ length: 12 }, (_, i) =>
    paperFrom(
      {
        arxivId: `2603.${String(10_000 + i)}`,
        title: `A paper numbered ${i} whose title is long enough to be wrapped in the text part of a digest`,
        abstract: `The abstract of paper ${i}. It says little.`,
        authors: ['Ada Lovelace'],
      },
      { id: i + 1 },
    ),
  );
  const picksFor = (topic: string, matched: string[]) => papers.map((paper) => pick(paper, topic, matched));
  const renderFor = (topic: string, matched: string[], shown = 12) =>
    render(picksFor(topic, matched), shown, [topic]);

  it('gives each reader their own reason, never the one a card was first filled with', () => {
    const first = renderFor('diffusion models', ['diffusion models', 'denoising']);
    const second = renderFor('sparse attention', ['sparse attention', 'routing']);
    expect(
      cardsOf(first.html).every((card) => card.includes('Matched <b>diffusion models</b>: denoising')),
    ).toBe(true);
    expect(
      cardsOf(second.html).every((card) => card.includes('Matched <b>sparse attention</b>: routing')),
    ).toBe(true);
    expect(second.html).not.toContain('diffusion');
    expect(flat(second.text)).toContain('Matched "sparse attention": routing');
    expect(second.text).not.toContain('diffusion');
    // Filled again from the cache, the first reader's digest is what it was.
    expect(renderFor('diffusion models', ['diffusion models', 'denoising'])).toEqual(first);
  });

  it("puts each reader's own feedback links into the cards filled for another", () => {
    const first = render(picksFor('agents', ['agents']), 12, ['agents'], 'ada');
    const second = render(picksFor('agents', ['agents']), 12, ['agents'], 'grace');
    const ada = feedbackOf('ada');
    const grace = feedbackOf('grace');
    cardsOf(second.html).forEach((card, i) => {
      expect(hrefsOf(card).slice(-2)).toEqual([grace(i).more, grace(i).less]);
      expect(card).not.toContain(ada(i).more);
    });
    expect(second.text).not.toContain('fadaRR');
    expect(second.html.replaceAll('grace', 'adaRR')).toBe(first.html);
    expect(second.text.replaceAll('grace', 'adaRR')).toBe(first.text);
    // No stand-in is ever left behind.
    expect(`${first.html}${first.text}${second.html}${second.text}`).not.toContain('\u0002');
  });

  it('says which liked or disliked paper moved a card', () => {
    const [one, two] = papers as [Paper, Paper];
    const picks: DigestPick[] = [
      {
        ...pick(one, 'agents', ['agents']),
        because: { kind: 'more', title: 'Sparse Mixtures of Denoisers for Video' },
      },
      { ...pick(two, 'agents', ['agents']), because: { kind: 'less', title: 'A survey of surveys' } },
    ];
    const { html, text } = render(picks, 2, ['agents']);
    const [first, second] = cardsOf(html) as [string, string];
    expect(first).toContain(
      'Ranked higher: similar to “Sparse Mixtures of Denoisers for Video”, which you wanted more of',
    );
    expect(second).toContain('Ranked lower: similar to “A survey of surveys”, which you wanted less of');
    expect(flat(text)).toContain(
      'Ranked higher: similar to “Sparse Mixtures of Denoisers for Video”, which you wanted more of',
    );
  });

  it('numbers the cards in the text part whatever position a card was first filled at', () => {
    // Card 1 is filled at position 1 first, then shown at 10, 11 and 12 in the other orders.
    renderFor('agents', ['agents']);
    const reversed = render([...picksFor('agents', ['agents'])].reverse(), 12, ['agents']);
    const blocks = textBlocksOf(reversed.text);
    expect(blocks.map((block) => block.split('.')[0])).toEqual(papers.map((_, i) => String(i + 1)));
    expect(blocks.map((block) => /numbered (\d+)/.exec(block)?.[1])).toEqual(
      papers.map((_, i) => String(11 - i)),
    );
    // A two-digit number moves the title over by a column: its wrapped lines still fit 72 columns
    // (a URL longer than that has a line of its own).
    for (const line of reversed.text.split('\n')) {
      if (!/^ *https:\/\/\S+$/.test(line)) expect([...line].length, line).toBeLessThanOrEqual(72);
    }
  });
});

describe('hostile text in a digest', () => {
  const script = '<script>alert(1)</script>';
  const quotes = `"quotes" & 'apostrophes'`;
  const hostileTitle = `${script} ${quotes} {{handlebars}} }} \u202Egnp.exe 🧪`;
  const hostileAuthors = ['<img src=x onerror=alert(1)>', quotes, '{{author}} }}', '\u202Eevil Mallory 🦊'];
  const hostileTopic = `${script} "quoted phrase"`;
  const hostileTerms = [quotes, '{{handlebars}}', '}}', '\u202Eterm'];
  const papers = [
    paperFrom(
      {
        arxivId: '2603.06666',
        title: hostileTitle,
        abstract: `${script} breaks ${quotes}. {{handlebars}} and }} 🧪 \u202Ehere. Third.`,
        authors: hostileAuthors,
        upvotes: 3,
        githubRepo: 'javascript:alert(1)',
        projectPage: ' JaVaScRiPt:alert(document.cookie)',
      },
      { id: 1 },
    ),
    paperFrom(
      {
        arxivId: '2603.06667',
        title: 'A second paper with hostile links',
        abstract: 'Plain abstract.',
        githubRepo: 'https://github.com/a/b"onmouseover="alert(1)',
        projectPage: 'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
        thumbnail: 'vbscript:msgbox(1)',
      },
      { id: 2 },
    ),
  ];
  const picks = papers.map((paper) => pick(paper, hostileTopic, hostileTerms));
  const hostileTopics = [hostileTopic, `{{subject}} ${quotes}`];

  // Ingestion strips bidi overrides from feed text (they could reorder what is around them); topics
  // and terms are the subscriber's own and are only escaped.
  const stripBidi = (text: string) => text.replace(/[\u202a-\u202e\u2066-\u2069]/g, '');
  const storedTitle = stripBidi(hostileTitle);
  const storedAuthors = hostileAuthors.map(stripBidi);

  it('writes hostile titles, abstracts, authors, topics and terms into the HTML as escaped text', () => {
    const { html } = render(picks, 10, hostileTopics);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/\sonerror\s*=/i);
    expect(html).toContain(escapeHtml(storedTitle));
    expect(html).toContain(
      '&lt;script&gt;alert(1)&lt;/script&gt; &quot;quotes&quot; &amp; &#x27;apostrophes&#x27;',
    );
    expect(html).toContain(`${escapeHtml(script)} breaks ${escapeHtml(quotes)}. {{handlebars}} and }} 🧪`);
    expect(html).toContain(storedAuthors.slice(0, 3).map(escapeHtml).join(', '));
    expect(html).toContain(
      `Matched <b>${escapeHtml(hostileTopic)}</b>: ${hostileTerms.map(escapeHtml).join(', ')}`,
    );
    expect(html).toContain(`on ${hostileTopics.map(escapeHtml).join('; ')}`);
    // Data that looks like a template is shown, not evaluated: the subject is not pulled in twice.
    expect(html).toContain(escapeHtml(`{{subject}} ${quotes}`));
    expect(html).toContain(`<title>${escapeHtml(`2 new papers on ${hostileTopic}`)}</title>`);
    expect(html).toContain('\u202E');
    expect(html).toContain('🧪');
  });

  it('keeps the same text plain in the text part', () => {
    const { text, subject } = render(picks, 10, hostileTopics);
    expect(subject).toBe(`2 new papers on ${hostileTopic}`);
    expect(flat(text)).toContain(flat(`1. ${storedTitle} `));
    expect(flat(text)).toContain(flat(`${storedAuthors.slice(0, 3).join(', ')} et al. · ▲ 3`));
    expect(flat(text)).toContain(flat(`${script} breaks ${quotes}. {{handlebars}} and }} 🧪 here.`));
    expect(flat(text)).toContain(flat(`Matched "${hostileTopic}": ${hostileTerms.join(', ')}`));
    expect(flat(text)).toContain(flat(` on ${hostileTopics.join('; ')}`));
    expect(text).not.toContain('&lt;');
    expect(text).not.toContain('&amp;');
  });

  it('drops non-http links at ingestion, so no hostile URL becomes a link', () => {
    const [first, second] = papers as [Paper, Paper];
    expect(first.githubRepo).toBeNull();
    expect(first.projectPage).toBeNull();
    expect(second.projectPage).toBeNull();
    expect(second.thumbnail).toBeNull();
    // The quote is percent-encoded by URL parsing, so it cannot close the attribute.
    expect(second.githubRepo).toBe('https://github.com/a/b%22onmouseover=%22alert(1)');

    const { html, text } = render(picks, 10, hostileTopics);
    const hrefs = hrefsOf(html);
    expect(hrefs.length).toBeGreaterThan(0);
    for (const href of hrefs) expect(href).toMatch(/^https?:\/\/[^\s"<>]+$/);
    expect(hrefs).toContain('https://github.com/a/b%22onmouseover&#x3D;%22alert(1)');
    for (const part of [html, text]) {
      expect(part).not.toMatch(/javascript:|vbscript:|data:text/i);
    }
    expect(html).not.toMatch(/\sonmouseover\s*=/i);
  });
});

describe('the size of a long digest', () => {
  const sample = JSON.parse(readFileSync(new URL('../../examples/papers.json', import.meta.url), 'utf8')) as {
    title: string;
    abstract: string;
  }[];
  const at = (i: number) => sample[i % sample.length] as { title: string; abstract: string };
  const authors = Array.from(
    { length: 20 },
    (_, i) =>
      `Maximiliane-Alexandra ${['Oyelaran-Vasquez', 'Tchakounté-Nguyen', 'Søndergaard-Ishikawa'][i % 3]} ${i}`,
  );
  const topics = Array.from(
    { length: 20 },
    (_, i) =>
      `"retrieval augmented generation" OR "long context language models" OR "mixture of experts" OR "speculative decoding" OR "state space models" cat:cs.CL -survey topic${i}`,
  );
  const papers = Array.from({ length: 30 }, (_, i) =>
    paperFrom(
      {
        arxivId: `2603.${String(10000 + i)}`,
        // Long titles and realistic 1500-character abstracts, no AI summary: the abstract is summarised.
        title: `${at(i).title}: ${at(i + 1).title}`.slice(0, 240),
        abstract: `${at(i).abstract} ${at(i + 2).abstract} ${at(i + 4).abstract}`.slice(0, 1500),
        authors,
        upvotes: 100 + i,
        githubRepo: `https://github.com/some-long-organisation-name/a-rather-long-repository-name-${i}`,
        projectPage: `https://some-long-organisation-name.github.io/a-rather-long-project-page-${i}/`,
      },
      { id: i + 1 },
    ),
  );
  const picks = papers.map((paper, i) =>
    pick(paper, topics[i % topics.length], [
      'retrieval augmented generation',
      'long context language models',
      'mixture of experts',
      'cs.CL',
    ]),
  );

  it('stays under the 102 KB at which Gmail clips a message, with 30 papers shown', () => {
    expect(papers.every((paper) => paper.abstract.length >= 1490 && paper.aiSummary === null)).toBe(true);
    const { html, text } = render(picks, 30, topics);
    expect(cardsOf(html)).toHaveLength(30);
    const bytes = Buffer.byteLength(html);
    console.log(
      `30-paper digest: HTML ${(bytes / 1024).toFixed(1)} KB, text ${(Buffer.byteLength(text) / 1024).toFixed(1)} KB`,
    );
    expect(bytes).toBeLessThan(102 * 1024);
    // The abstracts are summarised, not sent whole.
    const summaries = [...html.matchAll(/<p style="margin:8px 0 0">([^<]*)<\/p>/g)].map((match) =>
      decodeHTML(match[1] ?? ''),
    );
    expect(summaries).toHaveLength(30);
    for (const summary of summaries) expect(summary.trim().length).toBeLessThanOrEqual(301);
    // The text part carries the same summaries, wrapped at 72 columns.
    for (const summary of summaries) expect(flat(text)).toContain(flat(summary));
  });

  it('shows fewer cards rather than pass the budget when a subscriber allows 50 long papers', () => {
    const fifty = [
      ...picks,
      ...picks.slice(0, 20).map((p, i) => ({ ...p, paper: { ...p.paper, id: 100 + i } })),
    ];
    const valuesFor = (shown: number) =>
      digestEmailValues({
        picks: fifty,
        shown,
        localDate: '2026-03-03',
        subscriber: { ...subscriber, topics },
        urls,
      });
    expect(Buffer.byteLength(renderDigestEmail(templates, valuesFor(50)).html)).toBeGreaterThan(
      digestHtmlBudget,
    );
    const { html, text } = renderDigestWithinBudget(templates, valuesFor, 50);
    expect(Buffer.byteLength(html)).toBeLessThanOrEqual(digestHtmlBudget);
    const shown = cardsOf(html).length;
    expect(shown).toBeGreaterThanOrEqual(30);
    expect(flat(text)).toContain(`${50 - shown} more papers: ${urls.web}`);
  });
});
