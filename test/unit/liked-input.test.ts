import { describe, expect, it } from 'vitest';
import {
  type LikedEntry,
  LikedInputError,
  likedInputLimits,
  parseLikedInput,
} from '../../src/feedback/liked-input.js';

const one = (text: string): LikedEntry => {
  const { entries } = parseLikedInput(text);
  expect(entries).toHaveLength(1);
  return entries[0] as LikedEntry;
};

const thrown = (text: string): LikedInputError => {
  try {
    parseLikedInput(text);
  } catch (error) {
    expect(error).toBeInstanceOf(LikedInputError);
    return error as LikedInputError;
  }
  throw new Error('parseLikedInput did not throw');
};

/**
 * Not a speed target (those are benchmarks): a bound that only quadratic work on 2 MB, such as a regex
 * that backtracks, would cross. A linear pass takes ~0.1 s alone; the bound leaves room for a loaded machine.
 */
const linearBoundMs = 5000;

const timed = <T>(run: () => T): { result: T; ms: number } => {
  const start = performance.now();
  const result = run();
  return { result, ms: performance.now() - start };
};

describe('parseLikedInput: a list of ids and links', () => {
  it.each([
    ['2309.12345', '2309.12345'],
    ['2309.12345v2', '2309.12345'],
    ['1501.0001', '1501.0001'],
    ['1501.0001v3', '1501.0001'],
    ['arXiv:2309.12345', '2309.12345'],
    ['arxiv:2309.12345v10', '2309.12345'],
    ['hep-th/9901001', 'hep-th/9901001'],
    ['hep-th/9901001v1', 'hep-th/9901001'],
    ['math.GT/0309136', 'math.GT/0309136'],
    ['arXiv:math.GT/0309136v2', 'math.GT/0309136'],
    ['https://arxiv.org/abs/2309.12345', '2309.12345'],
    ['https://arxiv.org/abs/2309.12345v3', '2309.12345'],
    ['http://arxiv.org/abs/hep-th/9901001v1', 'hep-th/9901001'],
    ['https://arxiv.org/pdf/2309.12345', '2309.12345'],
    ['https://arxiv.org/pdf/2309.12345v1', '2309.12345'],
    ['https://arxiv.org/pdf/2309.12345v1.pdf', '2309.12345'],
    ['https://arxiv.org/pdf/2309.12345.pdf', '2309.12345'],
    ['https://export.arxiv.org/abs/2309.12345', '2309.12345'],
    ['https://www.arxiv.org/abs/2309.12345v2', '2309.12345'],
    ['arxiv.org/abs/2309.12345', '2309.12345'],
    ['https://arxiv.org/abs/2309.12345/', '2309.12345'],
    ['https://arxiv.org/abs/2309.12345?context=cs', '2309.12345'],
    ['https://arxiv.org/html/2309.12345v2', '2309.12345'],
    ['<https://arxiv.org/abs/2309.12345>', '2309.12345'],
    ['10.48550/arXiv.2309.12345', '2309.12345'],
    ['10.48550/ARXIV.2309.12345', '2309.12345'],
    ['https://doi.org/10.48550/arXiv.2309.12345', '2309.12345'],
    ['https://dx.doi.org/10.48550/arXiv.2309.12345', '2309.12345'],
    ['doi:10.48550/arXiv.2309.12345', '2309.12345'],
    ['10.48550/arXiv.hep-th/9901001', 'hep-th/9901001'],
  ])('%s → %s', (input, arxivId) => {
    expect(one(input)).toEqual({ input, kind: 'arxiv', arxivId });
  });

  it.each([
    ['10.1145/3292500.3330701', 'a DOI not on arXiv'],
    ['https://doi.org/10.1038/nature14539', 'a DOI not on arXiv'],
    ['doi:10.1000/182', 'a DOI not on arXiv'],
    ['https://example.com/paper.pdf', 'a link not on arXiv'],
    ['www.semanticscholar.org/paper/abc', 'a link not on arXiv'],
    ['https://arxiv.org/list/cs.AI/recent', 'an arXiv page that is not a paper'],
    ['https://arxiv.org', 'an arXiv page that is not a paper'],
    ['hello', 'not an arXiv id or URL'],
    ['2309.123', 'not an arXiv id or URL'],
    ['23091.2345', 'not an arXiv id or URL'],
    ['10.48550/arXiv.nonsense', 'not an arXiv id or URL'],
    ['javascript:alert(1)', 'not an arXiv id or URL'],
    ['../etc/passwd', 'not an arXiv id or URL'],
  ])('%s is reported: %s', (input, reason) => {
    expect(one(input)).toEqual({ input, kind: 'not-arxiv', reason });
  });

  it('splits on lines, commas and spaces, skips blanks and keeps the order', () => {
    const { entries, duplicates } = parseLikedInput(
      '\n 2309.12345 ,, 2309.12346\r\n\n\thello,https://arxiv.org/abs/2401.00001\n\n',
    );
    expect(duplicates).toBe(0);
    expect(entries.map((entry) => entry.input)).toEqual([
      '2309.12345',
      '2309.12346',
      'hello',
      'https://arxiv.org/abs/2401.00001',
    ]);
    expect(entries.map((entry) => entry.kind)).toEqual(['arxiv', 'arxiv', 'not-arxiv', 'arxiv']);
  });

  it('keeps the first of each arXiv id and counts the rest as duplicates', () => {
    const { entries, duplicates } = parseLikedInput(
      [
        '2309.12345v1',
        'https://arxiv.org/abs/2309.12345v2',
        '10.48550/arXiv.2309.12345',
        '2309.12346',
        'junk',
        'junk',
      ].join('\n'),
    );
    expect(duplicates).toBe(2);
    expect(entries).toEqual([
      { input: '2309.12345v1', kind: 'arxiv', arxivId: '2309.12345' },
      { input: '2309.12346', kind: 'arxiv', arxivId: '2309.12346' },
      { input: 'junk', kind: 'not-arxiv', reason: 'not an arXiv id or URL' },
      { input: 'junk', kind: 'not-arxiv', reason: 'not an arXiv id or URL' },
    ]);
  });

  it('gives nothing for empty or blank text', () => {
    expect(parseLikedInput('')).toEqual({ entries: [], duplicates: 0 });
    expect(parseLikedInput(' \n\t,, \n')).toEqual({ entries: [], duplicates: 0 });
  });

  it('shortens a long token to 200 characters for the page', () => {
    const entry = one(`https://example.com/${'a'.repeat(1000)}`);
    expect(entry.kind).toBe('not-arxiv');
    expect(entry.input.length).toBeLessThanOrEqual(200);
    expect(entry.input.startsWith('https://example.com/aaa')).toBe(true);
    expect(entry.input.endsWith('…')).toBe(true);
  });

  it('treats control characters and bidi overrides as separators, never as part of an item', () => {
    const { entries } = parseLikedInput('2309.12345\u0000\u202e2309.12346\u0007hello\u200b');
    expect(entries).toEqual([
      { input: '2309.12345', kind: 'arxiv', arxivId: '2309.12345' },
      { input: '2309.12346', kind: 'arxiv', arxivId: '2309.12346' },
      { input: 'hello', kind: 'not-arxiv', reason: 'not an arXiv id or URL' },
    ]);
  });
});

const library = String.raw`
This file was exported by a reference manager on 2026-08-01.
% A comment line with an @ sign: me@example.org

@comment{jabref-meta: databaseType:bibtex; {nested} }
@STRING{ preprint = "arXiv preprint" }
@preamble{ "\newcommand{\noopsort}[1]{}" }

@misc{vaswani2023attention,
      title={Attention Is All You Need},
      author={Ashish Vaswani and Noam Shazeer},
      year={2023},
      eprint={1706.03762v7},
      archivePrefix={arXiv},
      primaryClass={cs.CL},
}

@Article{devlin2018bert,
  title = {{BERT}: Pre-training of Deep Bidirectional Transformers},
  journal = {arXiv preprint arXiv:1810.04805},
  year = 2018,
}

@inproceedings{he2016resnet,
  author    = {Kaiming He and Xiangyu Zhang},
  title     = {Deep Residual Learning for Image Recognition},
  booktitle = {CVPR},
  url       = {https://arxiv.org/abs/1512.03385v1},
}

@article{zotero2022,
  title = {Some {Zotero} Export},
  publisher = {arXiv},
  doi = {10.48550/arXiv.2201.11903},
}

@misc{dblp:hep,
  eprinttype = {arxiv},
  eprint     = {hep-th/9901001},
}

@article{lecun2015deep,
  title = {Deep learning},
  journal = {Nature},
  volume = 521,
  doi = {10.1038/nature14539},
}

@book{knuth1984,
  title = {The {\TeX}book: {\"U}ber \emph{Typesetting} -- in $\alpha$ Steps},
  publisher = "Addison" # "-" # {Wesley},
}

@misc{nothing2020,
  author = {Nobody},
  year = {2020},
}

@misc{doionly,
  doi = {10.1145/3292500.3330701},
}

@misc{notarxiv,
  archivePrefix = {HAL},
  eprint = {2309.12345},
  title = {On HAL},
}

@misc{macro,
  journal = preprint # " arXiv:2302.00002",
}

@misc{duplicate,
  title = {Attention is all you need (again)},
  url = {https://arxiv.org/pdf/1706.03762v1.pdf},
}

@misc{sameTitle,
  title = {deep LEARNING},
}
`;

describe('parseLikedInput: BibTeX', () => {
  it('reads a realistic library, entry by entry, skipping @comment, @string and @preamble', () => {
    const { entries, duplicates } = parseLikedInput(library);
    expect(entries).toEqual([
      { input: 'vaswani2023attention', kind: 'arxiv', arxivId: '1706.03762' },
      { input: 'devlin2018bert', kind: 'arxiv', arxivId: '1810.04805' },
      { input: 'he2016resnet', kind: 'arxiv', arxivId: '1512.03385' },
      { input: 'zotero2022', kind: 'arxiv', arxivId: '2201.11903' },
      { input: 'dblp:hep', kind: 'arxiv', arxivId: 'hep-th/9901001' },
      { input: 'lecun2015deep', kind: 'title', title: 'Deep learning' },
      { input: 'knuth1984', kind: 'title', title: 'The TeXbook: Über Typesetting – in α Steps' },
      { input: 'nothing2020', kind: 'not-arxiv', reason: 'no arXiv id, URL, DOI or title' },
      { input: 'doionly', kind: 'not-arxiv', reason: 'a DOI not on arXiv' },
      { input: 'notarxiv', kind: 'title', title: 'On HAL' },
      { input: 'macro', kind: 'arxiv', arxivId: '2302.00002' },
    ]);
    expect(duplicates).toBe(2);
  });

  it('cleans LaTeX out of titles', () => {
    const title = (tex: string) => {
      const entry = one(`@misc{k, title = {${tex}}}`);
      return entry.kind === 'title' ? entry.title : entry;
    };
    expect(title('{Attention} Is All You {N}eed')).toBe('Attention Is All You Need');
    expect(title('\\emph{x} and \\textbf{y}')).toBe('x and y');
    expect(title('Sch\\"on and {\\"o} and \\\'{E}cole')).toBe('Schön and ö and École');
    expect(title('A -- B --- C')).toBe('A – B — C');
    expect(title('R\\&D at 50\\% for \\$5')).toBe('R&D at 50% for $5');
    expect(title('$O(n \\log n)$ sorting~now')).toBe('O(n log n) sorting now');
    expect(title('  many\n   lines\n  here ')).toBe('many lines here');
  });

  it('reads "quoted" values, ( ) entries, bare numbers and any case of entry type', () => {
    const { entries } = parseLikedInput(
      '@ARTICLE(a, title = "Quoted {Title}", year = 2020)\n@MiSc{b, eprint = 2309.12345}',
    );
    expect(entries).toEqual([
      { input: 'a', kind: 'title', title: 'Quoted Title' },
      { input: 'b', kind: 'arxiv', arxivId: '2309.12345' },
    ]);
  });

  it('finds arXiv references in url, howpublished, note and journal', () => {
    const { entries } = parseLikedInput(String.raw`
@misc{a, howpublished = {\url{http://export.arxiv.org/abs/2309.00001v2}}}
@misc{b, note = {Preprint, arXiv:2309.00002 [cs.LG]}}
@misc{c, note = {see https://doi.org/10.48550/arXiv.2309.00003}}
@misc{d, journal = {arXiv preprint 2309.00004}}
@misc{e, url = {https://arxiv.org/pdf/math.GT/0309136v1}}
@misc{f, arxivId = {2309.00006}}
`);
    expect(entries.map((entry) => (entry.kind === 'arxiv' ? entry.arxivId : entry.kind))).toEqual([
      '2309.00001',
      '2309.00002',
      '2309.00003',
      '2309.00004',
      'math.GT/0309136',
      '2309.00006',
    ]);
  });

  it('collapses entries with the same arXiv id or the same title in any case', () => {
    const { entries, duplicates } = parseLikedInput(`
@misc{a, eprint = {2309.12345}}
@misc{b, url = {https://arxiv.org/abs/2309.12345v3}}
@misc{c, title = {A Title}}
@misc{d, title = {a {TITLE}}}
@misc{e, title = {Another title}}
`);
    expect(duplicates).toBe(2);
    expect(entries.map((entry) => entry.input)).toEqual(['a', 'c', 'e']);
  });

  it('cuts a long title to the limit', () => {
    const entry = one(`@misc{k, title = {${'word '.repeat(300)}}}`);
    expect(entry.kind).toBe('title');
    if (entry.kind === 'title') {
      expect(entry.title.length).toBeLessThanOrEqual(likedInputLimits.titleLength);
      expect(entry.title.startsWith('word word')).toBe(true);
    }
  });

  it('returns hostile titles and keys as plain data, without control characters or bidi overrides', () => {
    const { entries } = parseLikedInput(
      '@misc{evil\u0000key\u202e, title = {<script>alert(1)</script>\u0007 Title\u202e\u2066 &lt;b&gt;\u0000}}',
    );
    expect(entries).toEqual([
      { input: 'evil key', kind: 'title', title: '<script>alert(1)</script> Title <b>' },
    ]);
  });
});

describe('parseLikedInput: malformed BibTeX', () => {
  it('closes an entry missing its last brace at the end of the file', () => {
    const { entries } = parseLikedInput('@article{last,\n  eprint = {2309.12345},\n  title = {T}');
    expect(entries).toEqual([{ input: 'last', kind: 'arxiv', arxivId: '2309.12345' }]);
  });

  it('ends an entry left open at the next entry on a new line', () => {
    const { entries } = parseLikedInput(
      '@article{open,\n  title = {Left open},\n\n@article{next, eprint = {2309.12346}}',
    );
    expect(entries).toEqual([
      { input: 'open', kind: 'title', title: 'Left open' },
      { input: 'next', kind: 'arxiv', arxivId: '2309.12346' },
    ]);
  });

  it('recovers after a value with unbalanced braces at the next line that looks like a field', () => {
    const { entries } = parseLikedInput(
      '@article{broken,\n  title = {Attention {Is All,\n  eprint = {1706.03762}\n}\n' +
        '@article{brokenTitleOnly,\n  title = {Never {closed,\n  year = 2017\n}\n' +
        '@misc{after, title = {Still read}}',
    );
    expect(entries).toEqual([
      { input: 'broken', kind: 'arxiv', arxivId: '1706.03762' },
      { input: 'brokenTitleOnly', kind: 'not-arxiv', reason: 'could not be read' },
      { input: 'after', kind: 'title', title: 'Still read' },
    ]);
  });

  it('reports an entry with no key by its type and line, and an empty one as unreadable', () => {
    const { entries } = parseLikedInput(
      '@misc{ok, eprint = {2309.00001}}\n\n@article{title = {No key here}}\n@article{, eprint = {2309.00002}}\n@misc{',
    );
    expect(entries).toEqual([
      { input: 'ok', kind: 'arxiv', arxivId: '2309.00001' },
      { input: '@article on line 3', kind: 'title', title: 'No key here' },
      { input: '@article on line 4', kind: 'arxiv', arxivId: '2309.00002' },
      { input: '@misc on line 5', kind: 'not-arxiv', reason: 'could not be read' },
    ]);
  });

  it('skips garbage between entries and reports text that is not a field', () => {
    const { entries } = parseLikedInput(`
}}} stray braces {{ and "quotes" and an address me@example.org
@misc{a, eprint = {2309.00001}}
random words in between, 2309.99999 (not read: this is BibTeX)
@misc{b, this is not a field, other junk}
@misc{c title = {Missing comma after the key}}
@misc{d, title = {Extra close}}}, eprint = {2309.00004}}
`);
    expect(entries).toEqual([
      { input: 'a', kind: 'arxiv', arxivId: '2309.00001' },
      { input: 'b', kind: 'not-arxiv', reason: 'could not be read' },
      { input: 'c', kind: 'title', title: 'Missing comma after the key' },
      { input: 'd', kind: 'title', title: 'Extra close' },
    ]);
  });

  it('survives a 100,000-deep brace nesting, balanced or not', () => {
    const balanced = `@misc{deep, title = {${'{'.repeat(100_000)}Deep${'}'.repeat(100_000)}}}`;
    const { result, ms } = timed(() => parseLikedInput(balanced));
    expect(result.entries).toEqual([{ input: 'deep', kind: 'title', title: 'Deep' }]);
    expect(ms).toBeLessThan(linearBoundMs);

    const unbalanced = `@misc{open, title = {${'{'.repeat(100_000)}\n}\n@misc{next, eprint = {2309.12345}}`;
    const second = timed(() => parseLikedInput(unbalanced));
    expect(second.result.entries).toEqual([
      { input: 'open', kind: 'not-arxiv', reason: 'could not be read' },
      { input: 'next', kind: 'arxiv', arxivId: '2309.12345' },
    ]);
    expect(second.ms).toBeLessThan(linearBoundMs);
  });

  it('reads a 2 MB BibTeX with one huge field quickly', () => {
    const note = 'arXiv and more words '.repeat(Math.floor((likedInputLimits.bytes - 200) / 21));
    const text = `@misc{huge, note = {${note}}, title = {Big}}\n@misc{small, eprint = {2309.12345}}`;
    expect(Buffer.byteLength(text)).toBeGreaterThan(likedInputLimits.bytes - 250);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(likedInputLimits.bytes);
    const { result, ms } = timed(() => parseLikedInput(text));
    expect(result.entries).toEqual([
      { input: 'huge', kind: 'title', title: 'Big' },
      { input: 'small', kind: 'arxiv', arxivId: '2309.12345' },
    ]);
    expect(ms).toBeLessThan(linearBoundMs);
  });

  it('reads a 2 MB value left open, and a 2 MB title, without hanging', () => {
    const size = likedInputLimits.bytes - 100;
    const open = timed(() => parseLikedInput(`@misc{k, note = "${'{'.repeat(size)}`));
    expect(open.result.entries).toEqual([{ input: 'k', kind: 'not-arxiv', reason: 'could not be read' }]);
    expect(open.ms).toBeLessThan(linearBoundMs);

    const title = timed(() => parseLikedInput(`@misc{k, title = {${'x '.repeat(size / 2)}}}`));
    const entry = title.result.entries[0];
    expect(entry?.kind).toBe('title');
    if (entry?.kind === 'title') {
      expect(entry.title.length).toBeLessThanOrEqual(likedInputLimits.titleLength);
      expect(entry.title.length).toBeGreaterThan(likedInputLimits.titleLength - 10);
    }
    expect(title.ms).toBeLessThan(linearBoundMs);
  });

  it('reads a 2 MB file of ordinary entries in well under a second', () => {
    const entry = (index: number) =>
      `@article{key${index},\n  title = {A study of things, part ${index}},\n  author = {${'Someone and '.repeat(24)}Else},\n  eprint = {2401.${String(10_000 + index)}}, archivePrefix = {arXiv}\n}\n`;
    const text = Array.from({ length: 4_900 }, (_, index) => entry(index)).join('');
    expect(Buffer.byteLength(text)).toBeGreaterThan(1.9 * 1024 * 1024);
    const { result, ms } = timed(() => parseLikedInput(text));
    expect(result.entries).toHaveLength(4_900);
    expect(result.entries[4_899]).toEqual({ input: 'key4899', kind: 'arxiv', arxivId: '2401.14899' });
    expect(ms).toBeLessThan(linearBoundMs);
  });
});

describe('parseLikedInput: limits', () => {
  const ids = (count: number) =>
    Array.from({ length: count }, (_, index) => `2401.${String(10_000 + index)}`).join('\n');
  const bibtex = (count: number) =>
    [
      '@comment{not counted}',
      '@string{x = "not counted"}',
      ...Array.from({ length: count }, (_, index) => `@misc{k${index}, eprint = {2401.${10_000 + index}}}`),
    ].join('\n');

  it('takes exactly 5,000 ids and refuses 5,001', () => {
    expect(parseLikedInput(ids(5_000)).entries).toHaveLength(5_000);
    const error = thrown(ids(5_001));
    expect(error.code).toBe('too_many_entries');
    expect(error.message).toBe('At most 5,000 papers at once (this has 5,001)');
  });

  it('takes exactly 5,000 BibTeX entries (not counting @comment or @string) and refuses 5,001', () => {
    expect(parseLikedInput(bibtex(5_000)).entries).toHaveLength(5_000);
    const error = thrown(bibtex(5_001));
    expect(error.code).toBe('too_many_entries');
    expect(error.message).toContain('(this has 5,001)');
  });

  it('counts repeated and unreadable items too', () => {
    const error = thrown('junk '.repeat(5_001));
    expect(error.code).toBe('too_many_entries');
  });

  it('refuses a text just over 2 MB, counting UTF-8 bytes, before reading it', () => {
    const justOver = `2309.12345 ${'x'.repeat(likedInputLimits.bytes)}`;
    const error = thrown(justOver);
    expect(error.code).toBe('too_large');
    expect(error.message).toBe('At most 2 MB (this is 2.1 MB)');

    // 700,000 three-byte characters: under 2 M characters, over 2 MB.
    expect(thrown('€'.repeat(700_000)).code).toBe('too_large');
    expect(() => parseLikedInput('x'.repeat(likedInputLimits.bytes))).not.toThrow();
  });
});
