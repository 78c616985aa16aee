import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodedBodyBytes, encodedBodyBytesAtMost } from '../../src/email/mailer.js';

describe('the encoded size of a body', () => {
  it('is never more than the cheap bound, and the bound is within 10 % for an email-like body', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string({ unit: 'binary' }),
            fc.constantFrom('=', ' \n', '\t\r\n', 'é', '—', '🧪', '\n'),
          ),
          {
            maxLength: 400,
          },
        ),
        (parts) => {
          const body = parts.join('');
          expect(encodedBodyBytes(body)).toBeLessThanOrEqual(encodedBodyBytesAtMost(body));
        },
      ),
    );
    const html = `<p style="margin:0">${'A card with a title — and an “abstract”. '.repeat(2000)}</p>\n`;
    expect(encodedBodyBytesAtMost(html) / encodedBodyBytes(html)).toBeLessThan(1.1);
  });
});
