import fc from 'fast-check';
import { decode } from 'libqp';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { composeMessage, quotedPrintable } from '../../src/email/mime.js';

/** Text as it reads after the trip: line breaks are CRLF on the wire and LF in the source. */
const crlf = (text: string) => text.replace(/\r?\n/g, '\r\n');

const awkward = fc.constantFrom(
  '=',
  ' \n',
  '\t\r\n',
  ' ',
  '\t',
  '.',
  '\n.',
  'é',
  '—',
  '🧪',
  '\n',
  '\r',
  '=\n',
);

describe('quotedPrintable', () => {
  it('decodes back to the text with a maintained decoder, in lines of at most 76 printable characters', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ unit: 'binary' }), awkward), { maxLength: 300 }), (parts) => {
        const text = parts.join('');
        const encoded = quotedPrintable(text);
        expect(decode(encoded.toString('latin1')).toString('utf8')).toBe(crlf(text));
        const lines = encoded.toString('latin1').split('\r\n');
        for (const line of lines) {
          expect(line.length).toBeLessThanOrEqual(76);
          expect(line).toMatch(/^[\x21-\x7e]*(?:[ \t]+[\x21-\x7e]+)*$/); // printable, never white space at the end
          expect(line.startsWith('.')).toBe(false); // nothing for SMTP to dot-stuff
        }
        expect(encoded.toString('latin1')).not.toMatch(/\r(?!\n)|(?<!\r)\n/); // CRLF only
      }),
      { numRuns: 300 },
    );
  });

  it('cuts long lines without splitting an escape, and keeps short ones whole', () => {
    const long = `${'a'.repeat(74)}é${'b'.repeat(200)}`;
    const lines = quotedPrintable(long).toString('latin1').split('\r\n');
    expect(lines[0]).toBe(`${'a'.repeat(74)}=`);
    expect(lines[1]?.startsWith('=C3=A9')).toBe(true);
    expect(quotedPrintable('<p>short</p>\n').toString()).toBe('<p>short</p>\r\n');
    expect(quotedPrintable('').length).toBe(0);
  });

  it('encodes what must be: = always, white space before a line break or at the end, a lone CR', () => {
    expect(quotedPrintable('a=b').toString()).toBe('a=3Db');
    expect(quotedPrintable('end \nnext\t').toString()).toBe('end=20\r\nnext=09');
    expect(quotedPrintable('a\rb').toString()).toBe('a=0Db');
    expect(quotedPrintable('.\n.x').toString()).toBe('=2E\r\n=2Ex');
  });
});

describe('composeMessage', () => {
  const message = (overrides: Partial<Parameters<typeof composeMessage>[0]> = {}) =>
    composeMessage({
      addressLines: 'From: =?UTF-8?Q?P=C3=A0per?= <digest@example.org>\r\nReply-To: replies@example.org\r\n',
      to: 'reader@example.org',
      subject: 'Your digest: 3 papers on «diffusion» — ünïcödé',
      messageId: '<digest.abc@example.org>',
      date: new Date('2026-11-28T06:00:00Z'),
      headers: {
        'List-Unsubscribe': `<https://paperboy.example/unsubscribe/${'t'.repeat(300)}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
      text: 'Hello\n\n1. A paper — with a dash\n   https://arxiv.org/abs/2511.00001\n',
      html: quotedPrintable('<!doctype html><p>Hello — <a href="https://x.example/?a=1&b=2">link</a></p>\n'),
      ...overrides,
    });

  it('reads back, header by header and part by part, in a maintained parser', async () => {
    const parsed = await simpleParser(message());
    expect(parsed.from?.value).toEqual([{ name: 'Pàper', address: 'digest@example.org' }]);
    expect(parsed.replyTo?.value).toEqual([{ name: '', address: 'replies@example.org' }]);
    expect(parsed.to).toMatchObject({ value: [{ address: 'reader@example.org' }] });
    expect(parsed.subject).toBe('Your digest: 3 papers on «diffusion» — ünïcödé');
    expect(parsed.messageId).toBe('<digest.abc@example.org>');
    expect(parsed.date?.toISOString()).toBe('2026-11-28T06:00:00.000Z');
    const headerLine = (key: string) =>
      parsed.headerLines.find((line) => line.key === key)?.line.replace(/\r\n[ \t]+/g, ' ');
    expect(headerLine('list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(headerLine('list-unsubscribe')).toBe(
      `List-Unsubscribe: <https://paperboy.example/unsubscribe/${'t'.repeat(300)}>`,
    );
    expect(parsed.text).toBe('Hello\n\n1. A paper — with a dash\n   https://arxiv.org/abs/2511.00001\n');
    expect(parsed.html).toBe('<!doctype html><p>Hello — <a href="https://x.example/?a=1&b=2">link</a></p>\n');
  });

  it('keeps every header line within 998 characters and the whole message in CRLF lines', () => {
    const raw = message({ subject: 'é'.repeat(400) }).toString('latin1');
    expect(raw).not.toMatch(/\r(?!\n)|(?<!\r)\n/);
    const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
    for (const line of head.split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
  });

  it('never lets a line break in a value start a header of its own', async () => {
    const parsed = await simpleParser(
      message({ subject: 'Papers on x\r\nBcc: victim@example.org', headers: { 'X-Note': 'a\nb' } }),
    );
    expect(parsed.headers.has('bcc')).toBe(false);
    expect(parsed.subject).toBe('Papers on x Bcc: victim@example.org');
    expect(parsed.headers.get('x-note')).toBe('a b');
    expect(parsed.headerLines.map((line) => line.key)).not.toContain('b');
  });

  it('uses a new boundary per message that no part can contain', () => {
    const boundaryOf = (raw: Buffer) => /boundary="([^"]+)"/.exec(raw.toString())?.[1] as string;
    const first = message({ text: '--=_paperboy_ =_ tries to look like a boundary' });
    const boundary = boundaryOf(first);
    expect(boundary).toMatch(/^=_paperboy_[0-9a-f]{24}$/);
    expect(boundaryOf(message())).not.toBe(boundary);
    expect(first.toString().split(`--${boundary}`)).toHaveLength(4); // two parts and the closing line
  });
});
