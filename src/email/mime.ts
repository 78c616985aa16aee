import { randomBytes, randomUUID } from 'node:crypto';
import { encodeWords, foldLines } from 'nodemailer/lib/mime-funcs';

/**
 * A message as paperboy sends it: one text and one HTML part, both quoted-printable, composed into
 * one buffer in a single pass per part. nodemailer's composer streams each part through a chain of
 * transforms (encode, wrap, line endings), which cost a worker more than rendering the digest did.
 */
export interface MimeMessage {
  /** Header lines for From and Reply-To, already encoded (see `addressHeaderLines`). */
  addressLines: string;
  to: string;
  subject: string;
  /** With angle brackets. */
  messageId: string;
  date: Date;
  headers: Record<string, string>;
  text: string;
  /** The HTML part, encoded (`quotedPrintable`): the digest's size budget already encoded it. */
  html: Buffer;
}

const isLiteral = new Uint8Array(256);
for (let byte = 33; byte <= 126; byte++) isLiteral[byte] = byte === 61 ? 0 : 1;
const hexDigits = Buffer.from('0123456789ABCDEF');
/** Characters of content per line: 76 with the soft break's `=` (RFC 2045 §6.7). */
const lineLength = 75;

/** Grown as needed and reused: each encoding writes here first, then copies out what it wrote. */
let scratch = Buffer.allocUnsafe(256 * 1024);

/**
 * Quoted-printable with CRLF line breaks, as it goes on the wire: every LF (or CRLF) of the text is a
 * hard line break; `=`, bytes outside printable ASCII, white space before a line break and a dot that
 * starts a line (so SMTP has nothing to stuff) are escaped; lines are cut at 76 characters without
 * splitting an escape.
 */
export function quotedPrintable(text: string): Buffer {
  const input = Buffer.from(text, 'utf8');
  const { length } = input;
  // At most: 3 bytes per input byte, a soft break per 73 bytes out, CRLF for each LF.
  const bound = 4 * length + 3 * Math.ceil((3 * length) / 73) + 8;
  if (scratch.length < bound) scratch = Buffer.allocUnsafe(bound);
  const out = scratch;
  let pos = 0;
  let column = 0;
  for (let i = 0; i < length; i++) {
    const byte = input[i] as number;
    if (byte === 10 || (byte === 13 && input[i + 1] === 10)) {
      if (byte === 13) i++;
      out[pos++] = 13;
      out[pos++] = 10;
      column = 0;
      continue;
    }
    let isPlain = isLiteral[byte] === 1;
    if (byte === 32 || byte === 9) {
      const next = input[i + 1];
      isPlain = next !== undefined && next !== 10 && next !== 13;
    }
    const width = isPlain ? 1 : 3;
    if (column + width > lineLength) {
      out[pos++] = 61;
      out[pos++] = 13;
      out[pos++] = 10;
      column = 0;
    }
    if (isPlain && !(byte === 46 && column === 0)) {
      out[pos++] = byte;
      column += 1;
    } else {
      out[pos++] = 61;
      out[pos++] = hexDigits[byte >> 4] as number;
      out[pos++] = hexDigits[byte & 15] as number;
      column += 3;
    }
  }
  return Buffer.from(out.subarray(0, pos));
}

/** A header line, its value encoded when not plain ASCII (RFC 2047) and folded at 76 columns. */
function headerLine(name: string, value: string): string {
  const encoded = /^[\x20-\x7e]*$/.test(value) ? value : encodeWords(value, 'Q', 52);
  return `${foldLines(`${name}: ${encoded}`, 76)}\r\n`;
}

/** RFC 5322 date, as nodemailer writes it. */
const headerDate = (date: Date) => date.toUTCString().replace(/GMT/, '+0000');

/** A random Message-ID at the sender's domain, for mail that has no stable one. */
export const randomMessageId = (fromAddress: string) =>
  `<${randomUUID()}@${fromAddress.split('@')[1] ?? 'localhost'}>`;

/**
 * The message, ready for SMTP (CRLF line breaks). The boundary holds `=_`, which quoted-printable
 * never writes, so no part can contain it.
 */
export function composeMessage(message: MimeMessage): Buffer {
  const boundary = `=_paperboy_${randomBytes(12).toString('hex')}`;
  let head = message.addressLines;
  head += `To: ${message.to}\r\n`;
  head += headerLine('Subject', message.subject);
  head += `Message-ID: ${message.messageId}\r\n`;
  head += `Date: ${headerDate(message.date)}\r\n`;
  head += 'MIME-Version: 1.0\r\n';
  for (const [name, value] of Object.entries(message.headers)) head += headerLine(name, value);
  head += `Content-Type: multipart/alternative; boundary="${boundary}"\r\n\r\n`;
  const part = (type: string) =>
    `--${boundary}\r\nContent-Type: ${type}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n`;
  return Buffer.concat([
    Buffer.from(head + part('text/plain')),
    quotedPrintable(message.text),
    Buffer.from(`\r\n${part('text/html')}`),
    message.html,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}
