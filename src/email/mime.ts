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

/** What quoted-printable does with each byte: 0 writes it as is, 1 escapes it, 2 is white space (as is
 * unless a line break follows), 3 is LF, 4 is CR. */
const byteKinds = new Uint8Array(256).fill(1);
for (let byte = 33; byte <= 126; byte++) if (byte !== 61) byteKinds[byte] = 0;
byteKinds[32] = 2;
byteKinds[9] = 2;
byteKinds[10] = 3;
byteKinds[13] = 4;
const hexDigits = Buffer.from('0123456789ABCDEF');
/** Characters of content per line: 76 with the soft break's `=` (RFC 2045 §6.7). */
const lineLength = 75;

/**
 * Grown as needed and reused: the text's UTF-8 goes into `source` and the encoding into `scratch`,
 * then only what was written is copied out. (`Buffer.from(text)` of a 75 KB digest with a few
 * non-ASCII characters costs ten times `write` into a buffer that is already there.)
 */
let source = Buffer.allocUnsafe(128 * 1024);
let scratch = Buffer.allocUnsafe(512 * 1024);

/**
 * Quoted-printable with CRLF line breaks, as it goes on the wire: every LF (or CRLF) of the text is a
 * hard line break; `=`, bytes outside printable ASCII, white space before a line break and a dot that
 * starts a line (so SMTP has nothing to stuff) are escaped; lines are cut at 76 characters without
 * splitting an escape.
 */
export function quotedPrintable(text: string): Buffer {
  // A UTF-16 unit takes at most 3 bytes of UTF-8.
  if (source.length < 3 * text.length) source = Buffer.allocUnsafe(3 * text.length);
  const input = source;
  const length = source.write(text, 0, 'utf8');
  // At most: 3 bytes per input byte, a soft break per 73 bytes out, CRLF for each LF.
  const bound = 4 * length + 3 * Math.ceil((3 * length) / 73) + 8;
  if (scratch.length < bound) scratch = Buffer.allocUnsafe(bound);
  const out = scratch;
  let pos = 0;
  let column = 0;
  for (let i = 0; i < length; i++) {
    const byte = input[i] as number;
    const kind = byteKinds[byte] as number;
    if (kind === 3 || (kind === 4 && i + 1 < length && input[i + 1] === 10)) {
      if (kind === 4) i++;
      out[pos++] = 13;
      out[pos++] = 10;
      column = 0;
      continue;
    }
    const next = i + 1 < length ? (input[i + 1] as number) : 10;
    const isPlain = kind === 0 || (kind === 2 && next !== 10 && next !== 13);
    // A soft break when the byte, as is or as =XX, does not fit on this line.
    if (column + (isPlain ? 1 : 3) > lineLength) {
      out[pos++] = 61;
      out[pos++] = 13;
      out[pos++] = 10;
      column = 0;
    }
    // A dot that starts a line is escaped too.
    if (isPlain && (byte !== 46 || column !== 0)) {
      out[pos++] = byte;
      column++;
    } else {
      out[pos++] = 61;
      out[pos++] = hexDigits[byte >> 4] as number;
      out[pos++] = hexDigits[byte & 15] as number;
      column += 3;
    }
  }
  return Buffer.from(out.subarray(0, pos));
}

/**
 * A header line, its value encoded when not plain ASCII (RFC 2047) and folded at 76 columns. A line
 * break or other control character in a value becomes a space: it could otherwise end the header and
 * start another (`Bcc:`) of the value's choosing.
 */
function headerLine(name: string, value: string): string {
  const flat = value.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ');
  const encoded = /^[\x20-\x7e]*$/.test(flat) ? flat : encodeWords(flat, 'Q', 52);
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
